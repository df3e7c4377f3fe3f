"""bot.language.templates: sandboxed rendering and the static checks run by validate."""

from __future__ import annotations

from typing import Any

import pytest

from bot.language.settings import load_settings
from bot.language.templates import TemplateProblem, check_template, evaluate, render


def context(**answers: str) -> dict[str, Any]:
    return {
        "org": load_settings(None).template_org(),
        "user": {"id": "u1", "name": "Sam Example", "first_name": "Sam", "manager_name": None, "roles": []},
        "answers": answers,
        "score": 2,
        "score_total": 3,
    }


def issues(source: str, *, expression: bool = False, answered: list[str] | None = None) -> list[tuple[str, int]]:
    found = check_template(
        source,
        expression=expression,
        org_keys=list(load_settings(None).template_org()),
        rule_keys=["personal_use_on_council_it", "welsh_language_standards"],
        answer_keys=["where", "still_up"],
        contact_keys=["line_manager", "comms", "legal", "hr", "safeguarding"],
        answered=answered,
    )
    return [(i.message, i.line_offset) for i in found]


# --- rendering ---------------------------------------------------------------------------------


def test_render_fills_in_org_user_answers_and_score() -> None:
    text = render(
        "{{ user.first_name }}: tell {{ user.manager_name or 'your line manager' }} and {{ org.contacts.comms }}. "
        "You said {{ answers.where }}; score {{ score }}/{{ score_total }}.",
        context(where="On a council page"),
    )
    assert text == ("Sam: tell your line manager and the Communications team. You said On a council page; score 2/3.")


def test_plain_text_is_returned_stripped() -> None:
    assert render("  Just words.\n", context()) == "Just words."


def test_branch_conditions_evaluate_to_true_or_false() -> None:
    assert evaluate("org.rules.personal_use_on_council_it == 'breaks_only'", context()) is True
    assert evaluate("org.rules.welsh_language_standards", context()) is False
    assert evaluate("answers.where == 'x'", context(where="x")) is True


@pytest.mark.parametrize(
    "source",
    [
        "{{ ().__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ org.name|attr('__class__') }}",
        "{{ '{0.__class__}'.format(org) }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ org.rules.update({'welsh_language_standards': true}) }}",
    ],
)
def test_the_sandbox_refuses_python_internals_at_render_time(source: str) -> None:
    ctx = context()
    with pytest.raises(TemplateProblem) as caught:
        render(source, ctx)
    # refused by the sandbox, or earlier: lipsum and cycler do not exist, and the attr filter is not offered
    assert str(caught.value).startswith(
        ("the text tries to reach something it may not", "the text uses something that is not defined")
    ) or "No filter named 'attr'" in str(caught.value)
    assert ctx["org"]["rules"]["welsh_language_standards"] is False


def test_a_private_name_is_refused_at_render_time() -> None:
    with pytest.raises(TemplateProblem) as caught:
        render("{{ org._secret }}", context())
    assert "_secret" in str(caught.value)


def test_an_undefined_name_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(TemplateProblem) as caught:
        render("Hello {{ answers.where }}", context())
    assert str(caught.value) == "the text uses something that is not defined: 'dict object' has no attribute 'where'"
    with pytest.raises(TemplateProblem):
        evaluate("answers.where == 'x'", context())


@pytest.mark.parametrize(
    "source", ["{{ score / 0 }}", "{{ org.name + 1 }}", "{% for i in score %}{% endfor %}", "{{ oops }"]
)
def test_other_failures_are_template_problems_not_crashes(source: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        render(source, context())
    assert str(caught.value).startswith("the text could not be filled in: ")


@pytest.mark.parametrize("condition", ["score / 0", "org.rules) or (true", ""])
def test_a_failing_condition_is_a_template_problem(condition: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        evaluate(condition, context())
    assert str(caught.value).startswith("the condition could not be worked out: ")


# --- static checks ---------------------------------------------------------------------------


def test_a_clean_template_has_no_issues() -> None:
    assert (
        issues("Tell {{ org.contacts.legal }} about {{ answers.where }} ({{ org.rules.welsh_language_standards }})")
        == []
    )
    assert issues("Plain words with a { brace } are fine") == []


def test_names_that_do_not_exist() -> None:
    assert issues("{{ usr.name }}\n{{ org.nme }}\n{{ user.nmae }}\n{{ answers.were }}") == [
        (
            "the template uses 'usr', which does not exist; "
            "templates can use answers, escalation, org, score, score_total, user",
            0,
        ),
        ("'org.nme' does not exist (did you mean 'name'?)", 1),
        ("'user.nmae' does not exist (did you mean 'name'?)", 2),
        ("'answers.were' does not exist (did you mean 'where'?)", 3),
    ]


def test_unknown_rules_and_contacts_with_did_you_mean() -> None:
    assert issues("{{ org.rules.personal_use }} {{ org.contacts.comm }} {{ org['rules']['welsh_language'] }}") == [
        ("'org.rules.personal_use' does not exist (did you mean 'personal_use_on_council_it'?)", 0),
        ("'org.contacts.comm' does not exist (did you mean 'comms'?)", 0),
        ("'org.rules.welsh_language' does not exist (did you mean 'welsh_language_standards'?)", 0),
    ]


def test_python_internals_are_flagged_without_rendering() -> None:
    internals = "reaches into Python internals, which templates may not do"
    assert sorted(issues("{{ ().__class__.__mro__ }}")) == [
        (f"'__class__' {internals}", 0),
        (f"'__mro__' {internals}", 0),
    ]
    assert issues("x\n{{ org._secret }}") == [(f"'_secret' {internals}", 1)]
    assert issues("{{ org['__class__'] }}") == [(f"'__class__' {internals}", 0)]
    assert issues("{{ org.name|attr('__class__') }}") == [(f"'__class__' {internals}", 0)]
    assert issues("{{ 'x{}'.format(1) }}") == [(f"'format' {internals}", 0)]


def test_syntax_errors_give_the_line_within_the_template() -> None:
    assert issues("one\ntwo {{ oops }\nthree") == [("the template does not parse: unexpected '}'", 1)]
    assert issues("{% if org.name %}unclosed") == [
        (
            "the template does not parse: Unexpected end of template. Jinja was looking for the following tags: "
            "'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.",
            0,
        )
    ]


def test_conditions_are_checked_as_what_evaluate_compiles() -> None:
    assert issues("org.rules.welsh_language_standards", expression=True) == []
    assert issues("org.rules.welsh) or (true", expression=True) == [("the template does not parse: unexpected ')'", 0)]
    assert issues("", expression=True) == [("the template does not parse: unexpected 'end of template'", 0)]


def test_answers_that_may_not_be_given_yet() -> None:
    unsure = (
        "'answers.still_up' may have no answer here: some ways to this point do not ask 'still_up' first "
        "(check with 'answers.still_up is defined', or move the text)"
    )
    assert issues("{{ answers.where }} {{ answers.still_up }}", answered=["where"]) == [(unsure, 0)]
    assert issues("{{ answers.still_up }}", answered=None) == []  # no path information: not checked
    guarded = [
        "{% if answers.still_up is defined %}{{ answers.still_up }}{% endif %}",
        "{% if 'still_up' in answers %}{{ answers.still_up }}{% endif %}",
        "{{ answers.still_up if answers.still_up is defined else 'no answer' }}",
        "{{ answers.still_up|default('no answer') }}",
    ]
    for source in guarded:
        assert issues(source, answered=["where"]) == [], source
    assert issues("answers.still_up is defined and answers.still_up == 'Yes'", expression=True, answered=[]) == []
    # a use outside the guarded part is still reported
    assert issues(
        "{% if answers.still_up is defined %}ok{% else %}{{ answers.still_up }}{% endif %}", answered=["where"]
    ) == [(unsure, 0)]


def test_including_or_importing_other_files_is_flagged_and_fails_at_render() -> None:
    message = "templates may not include, import or extend other files"
    assert issues("{% include 'x.txt' %}") == [(message, 0)]
    assert issues("a\n{% import 'macros' as m %}") == [(message, 1)]
    assert issues("{% from 'm' import x %}") == [(message, 0)]
    assert issues("{% extends 'base' %}") == [(message, 0)]
    with pytest.raises(TemplateProblem):
        render("{% include '/etc/passwd' %}", context())


def test_the_render_clock_leaves_out_garbage_collection() -> None:
    """A full collection lands in whichever thread allocates at that moment; on a big heap it can
    take longer than a render may (CI saw a one-word condition refused). The render clock
    (bot.language.render_clock) takes the collection's time off."""
    import gc
    import time

    from bot.language.render_clock import collection_time, work_time

    heap = [[n] for n in range(1_000_000)]  # a million tracked objects: a full collection has work to do
    cpu, work, collecting = time.thread_time(), work_time(), collection_time()
    gc.collect()
    cpu, work, collecting = time.thread_time() - cpu, work_time() - work, collection_time() - collecting
    assert collecting > 0 and collecting <= cpu  # the collection was seen, and ran in this thread
    assert work < cpu - collecting * 0.9  # and it is not on the render clock
    assert len(heap) == 1_000_000
