// policybot studio: the only script. Everything works without it; with it, the editor checks the
// draft a moment after you stop typing (the same check as the Check button).
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form) { return; }
  var source = document.getElementById("source");
  var out = document.getElementById("live-problems");
  var url = form.getAttribute("data-check");
  var token = form.querySelector("input[name=csrf]").value;
  var timer = null;
  function show(problems) {
    out.textContent = "";
    out.className = problems.length ? "live" : "live clean";
    var head = document.createElement("p");
    head.textContent = problems.length ? problems.length + " problem(s) as you type:" : "No problems found as you type.";
    out.appendChild(head);
    if (!problems.length) { return; }
    var list = document.createElement("ul");
    list.className = "problems";
    problems.slice(0, 20).forEach(function (p) {
      var item = document.createElement("li");
      item.textContent = "line " + p.line + ": " + p.message;
      list.appendChild(item);
    });
    out.appendChild(list);
  }
  function check() {
    var body = new URLSearchParams();
    body.set("source", source.value);
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRF-Token": token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data.problems); } })
      .catch(function () { /* the Check button still works */ });
  }
  source.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 800);
  });
})();
