"""The Policies page: import a policy as ``policybot policy import`` does, browse it, cite from it."""

from __future__ import annotations

import requests

from adapters.studio.security import COOKIE
from bot.language.policy_docs.readers import read_document
from bot.store.policy_sources import PolicySources

QUOTE = "you have a duty to report these concerns and follow the appropriate safeguarding procedures"
V1 = (
    "# Safeguarding\n\n"
    f"33. If something you see online worries you about a child, {QUOTE}.\n\n"
    "34. Keep your work phone locked when you are not using it, and never lend it to anyone else.\n"
)
V2 = V1.replace(QUOTE, "you have a duty to tell your manager and follow the safeguarding procedures")


def _upload(client, name: str, data: bytes, source_id: str = "notts"):
    client.get("/policies")
    files = {"file": (name, data, "text/plain")}
    headers = {"Cookie": f"{COOKIE}={client.cookie}"}  # a multipart form, as the browser sends it
    response = requests.post(
        client.base + "/policies/import", data={"csrf": client.csrf, "id": source_id}, files=files, headers=headers,
        timeout=180,
    )  # fmt: skip
    return response


def test_importing_a_policy_then_a_new_version_lists_the_advice_it_affects(
    start_studio, client_for, provider, tmp_path
):
    studio = start_studio(authoring={"authors": ["ana"], "reviewers": ["raj"]})
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    first = _upload(ana, "notts.txt", V1.encode())
    assert first.status_code == 200, first.text
    assert "Imported policy 'notts' as version 1" in first.text
    with studio.runtime.store.transaction() as conn:
        stored = PolicySources().current(conn, "notts")
    (tmp_path / "notts.txt").write_text(V1)
    assert stored is not None and stored.document == read_document(tmp_path / "notts.txt")  # the CLI's reader
    again = _upload(ana, "notts.txt", V1.encode())
    assert "is unchanged" in again.text
    second = _upload(ana, "notts.txt", V2.encode())
    assert "is now version 2 (was 1)" in second.text
    assert "cited as notts-33 by" in second.text and "negative-comment / remove_safeguarding" in second.text
    assert "the quote of citation notts-33" in second.text  # no longer word for word in the policy


def test_a_file_policybot_cannot_read_gets_one_plain_sentence(start_studio, client_for, provider):
    studio = start_studio(authoring={"authors": ["ana"], "reviewers": ["raj"]})
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    doc = _upload(ana, "policy.doc", b"\xd0\xcf\x11\xe0 old word file")
    assert doc.status_code == 422 and "save it as .docx first" in doc.text and "Traceback" not in doc.text
    empty = _upload(ana, "policy.txt", b"")
    assert empty.status_code == 422 and "policy.txt is empty" in empty.text
    bad_id = _upload(ana, "policy.txt", V1.encode(), source_id="Not An Id")
    assert bad_id.status_code == 422 and "cannot be a policy id" in bad_id.text
    with studio.runtime.store.transaction() as conn:
        assert PolicySources().all_current(conn) == []


def test_browsing_clauses_uncited_ones_and_verifying_a_quote(start_studio, client_for, provider):
    studio = start_studio(authoring={"authors": ["ana"], "reviewers": ["raj"]})
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    _upload(ana, "notts.txt", V1.encode())
    page = ana.get("/policies/notts").text
    assert "paragraph 33" in page and "notts-33" in page and "negative-comment / remove_safeguarding" in page
    uncited = ana.get("/policies/notts?show=uncited").text
    assert "paragraph 34" in uncited and "notts-33" not in uncited
    good = ana.post("/policies/notts/cite", {"clause": "paragraph 34", "quote": "never lend it  to anyone else",
                                              "citation": "notts-34-phone"})  # fmt: skip
    assert good.status_code == 200 and "Quote verified word for word in paragraph 34" in good.text
    assert "notts-34-phone:" in good.text and "quote: never lend it to anyone else" in good.text
    wrong = ana.post("/policies/notts/cite", {"clause": "paragraph 34", "quote": "never lend it to anybody"})
    assert wrong.status_code == 422 and "not in the policy exactly as written" in wrong.text
    elsewhere = ana.post("/policies/notts/cite", {"clause": "paragraph 34", "quote": "report these concerns"})
    assert elsewhere.status_code == 422 and "in paragraph 33, not in paragraph 34" in elsewhere.text
