"""bot.language.flow_loader: flow files into the flow model; structural problems at their exact lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation.replies import Verdict
from bot.errors import FileProblems, Problem
from bot.language.flow_loader import FlowProblems, flow_files, load_flow_file, parse_flow
from bot.language.flow_model import BRANCH, OUTCOME, QUESTION, Duration
from tests.core.fixtures.flowfiles import FIXTURE_FLOWS, flow_text, line_of


def problems_in(text: str, filename: str = "f.yaml") -> list[Problem]:
    with pytest.raises(FileProblems) as caught:
        parse_flow(flow_text(text), filename)
    assert all(p.file == filename for p in caught.value.problems)
    return caught.value.problems


def pairs(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in problems]


# --- the fixture flows parse into the model -------------------------------------------------


def test_a_valid_flow_becomes_the_model_with_lines() -> None:
    path = FIXTURE_FLOWS / "quick-post.yaml"
    text = path.read_text(encoding="utf-8")
    flow = load_flow_file(path)
    assert flow.id == "quick-post"
    assert flow.title == "Can I post this on my own account?"
    assert flow.triggers == ("can I post this", "tweet about my job")
    assert flow.cite == ("dcc-1-personally-responsible",)
    assert flow.start == "mentions_work"
    assert {name: s.kind for name, s in flow.states.items()} == {
        "mentions_work": QUESTION,
        "on_council_it": QUESTION,
        "explain_it": QUESTION,
        "it_rule": BRANCH,
        "fine": OUTCOME,
        "careful": OUTCOME,
        "breaks_only": OUTCOME,
        "not_on_council_it": OUTCOME,
    }
    question = flow.states["on_council_it"]
    assert question.line == line_of(text, "  on_council_it:")
    assert [o.label for o in question.options] == [
        "Yes: from council equipment",
        "No, from my own phone",
        "What counts as council equipment?",
    ]
    assert [o.line for o in question.options] == [
        line_of(text, "Yes: from council equipment"),
        line_of(text, "No, from my own phone"),
        line_of(text, "What counts as council equipment?"),
    ]
    branch = flow.states["it_rule"]
    assert [(r.condition, r.next) for r in branch.branch] == [
        ('org.rules.personal_use_on_council_it == "never"', "not_on_council_it"),
        (None, "breaks_only"),
    ]
    assert flow.states["careful"].verdict is Verdict.CARE
    assert flow.states["careful"].checklist == ("Add the disclaimer to your profile.",)
    assert flow.source == text
    assert len(flow.version) == 16
    assert flow.lines["start"] == line_of(text, "start: mentions_work")


def test_an_escalation_is_parsed_with_its_deadline() -> None:
    flow = load_flow_file(FIXTURE_FLOWS / "threat.yaml")
    escalation = flow.states["take_down"].escalate
    assert escalation is not None
    assert escalation.to == ("line_manager",)
    assert escalation.then == ("comms", "legal")
    assert escalation.unacknowledged_after == Duration(seconds=4 * 3600, working_hours=True)
    assert escalation.required is True
    assert escalation.urgency == "urgent"
    assert escalation.summary is not None and "{{ user.name }}" in escalation.summary
    # targets are listed once each even when 'then' repeats one of 'to'
    other = flow.states["keep_down"].escalate
    assert other is not None and other.all_targets == ["line_manager", "comms", "legal"]
    assert other.required is False and other.urgency == "normal" and other.unacknowledged_after is None


def test_the_version_changes_with_the_text() -> None:
    text = (FIXTURE_FLOWS / "threat.yaml").read_text(encoding="utf-8")
    assert parse_flow(text, "threat.yaml").version == parse_flow(text, "threat.yaml").version
    assert parse_flow(text + "\n# edited\n", "threat.yaml").version != parse_flow(text, "threat.yaml").version


# --- structural problems ----------------------------------------------------------------------

UNKNOWN_KEYS = """
    id: f
    titel: Misspelt title
    start: a
    states:
      a:
        aks: What happened?
        options:
          - {label: One, nxt: b}
          - label: Two
            next: b
            feedbak: hmm
      b:
        verdict: go
        say: Fine
        cite: [notts-27]
        escalte: {to: [comms]}
"""


def test_every_unknown_key_is_reported_at_its_line_with_did_you_mean() -> None:
    problems = pairs(problems_in(UNKNOWN_KEYS))
    assert (line_of(UNKNOWN_KEYS, "titel:"), "unknown key 'titel' (did you mean 'title'?)") in problems
    assert (line_of(UNKNOWN_KEYS, "aks:"), "unknown key 'aks' (did you mean 'ask'?)") in problems
    assert (line_of(UNKNOWN_KEYS, "nxt:"), "unknown key 'nxt' (did you mean 'next'?)") in problems
    assert (line_of(UNKNOWN_KEYS, "feedbak:"), "unknown key 'feedbak' (did you mean 'feedback'?)") in problems
    assert (line_of(UNKNOWN_KEYS, "escalte:"), "unknown key 'escalte' (did you mean 'escalate'?)") in problems
    # and what the misspelling leaves missing
    assert (1, "'title' is missing here") in problems
    assert (line_of(UNKNOWN_KEYS, "aks:"), "'ask' is missing here") in problems
    assert (line_of(UNKNOWN_KEYS, "nxt:"), "'next' is missing here") in problems


def test_two_unknown_keys_in_one_mapping_are_each_reported_on_their_own_line() -> None:
    text = """
        id: f
        title: T
        start: a
        colour: blue
        owner: comms
        states:
          a: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert pairs(problems_in(text)) == [
        (line_of(text, "colour:"), "unknown key 'colour'"),
        (line_of(text, "owner:"), "unknown key 'owner'"),
    ]


def test_a_state_of_no_known_kind_names_its_misspelt_keys() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            verdit: go
            sya: Fine
    """
    assert pairs(problems_in(text)) == [
        (
            line_of(text, "  a:"),
            "state 'a' is neither a question (ask + options), a branch (branch) nor an outcome (verdict + say)",
        ),
        (line_of(text, "verdit:"), "unknown key 'verdit' (did you mean 'verdict'?)"),
        (line_of(text, "sya:"), "unknown key 'sya' (did you mean 'say'?)"),
    ]


def test_an_unknown_verdict_lists_the_four_with_did_you_mean() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            verdict: stpo
            say: No.
            cite: [notts-27]
    """
    assert pairs(problems_in(text)) == [
        (
            line_of(text, "verdict: stpo"),
            "'verdict' is 'stpo' but must be one of: go, care, stop, act (did you mean 'stop'?)",
        )
    ]


def test_unquoted_yes_and_numbers_as_labels_explain_the_quotes() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: Is it up?
            options:
              - {label: Yes, next: b}
              - {label: 2024, next: b}
              - {label: "No", next: b}
          b: {verdict: go, say: Fine, cite: [notts-27]}
    """
    problems = pairs(problems_in(text))
    assert problems == [
        (
            line_of(text, "label: Yes"),
            "'label' should be text, not true or false (YAML reads Yes, No, On and Off as true or false; "
            'put the text in quotes, like "Yes")',
        ),
        (line_of(text, "label: 2024"), "'label' should be text, not a whole number (put it in quotes to make it text)"),
    ]


def test_a_colon_in_an_unquoted_checklist_item_explains_the_quotes() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            verdict: care
            say: Careful.
            cite: [notts-27]
            checklist:
              - Check the facts first
              - Then do this: post it
    """
    assert pairs(problems_in(text)) == [
        (
            line_of(text, "Then do this"),
            "this value should be text, not a mapping (a ': ' inside the text made YAML read it as 'key: value'; "
            "put the whole text in quotes)",
        )
    ]


def test_wrong_shapes_are_each_reported() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: What?
            options: []
          b: [1, 2]
          c:
            verdict: go
            say: Fine
            cite: notts-27
            escalate:
              to: []
              unacknowledged_after: 2 hours
              urgency: high
              required: yes please
          Bad-Name: {verdict: go, say: x, cite: [notts-27]}
    """
    assert pairs(problems_in(text)) == [
        (line_of(text, "options: []"), "'options' must not be empty"),
        (line_of(text, "b: [1, 2]"), "state 'b' should be a mapping of keys"),
        (line_of(text, "cite: notts-27"), "'cite' should be a list, not text"),
        (line_of(text, "to: []"), "'to' must not be empty"),
        (
            line_of(text, "unacknowledged_after"),
            "'unacknowledged_after' '2 hours' is not in the expected form "
            "(e.g. 30m, 2h, 1d; 'wh' counts working hours only.)",
        ),
        (line_of(text, "urgency: high"), "'urgency' is 'high' but must be one of: normal, urgent"),
        (line_of(text, "required: yes please"), "'required' should be true or false, not text"),
        (
            line_of(text, "Bad-Name:"),
            "the name 'Bad-Name' is not allowed here; use lowercase letters, digits and _ only, starting with a letter",
        ),
    ]


def test_a_branch_rule_with_both_if_and_else_or_neither_is_reported() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            branch:
              - {if: org.rules.welsh_language_standards, next: b, else: b}
              - {nxt: b}
          b: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert pairs(problems_in(text)) == [
        (line_of(text, "if: org.rules"), "unknown key 'else'"),
        (line_of(text, "nxt: b"), "unknown key 'nxt' (did you mean 'next'?)"),
    ]


def test_the_flow_id_must_match_the_file_name_and_is_reported_with_the_other_problems() -> None:
    text = """
        id: something-else
        title: T
        start: a
        states:
          a: {verdict: go, say: Fine, cite: [notts-27], colour: red}
    """
    assert pairs(problems_in(text, "wrongid.yaml")) == [
        (1, "the flow id 'something-else' should match the file name 'wrongid.yaml'"),
        (line_of(text, "colour: red"), "unknown key 'colour'"),
    ]


def test_a_stored_version_is_reloaded_without_the_file_name_check() -> None:
    text = flow_text("""
        id: report
        title: T
        start: a
        states:
          a: {verdict: go, say: Fine, cite: [notts-27]}
    """)
    assert parse_flow(text, "report.yaml (stored version 1)", check_file_name=False).id == "report"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a flow file must be a mapping with id, title, start and states"),
        ("just some words\n", "a flow file must be a mapping with id, title, start and states"),
        ("- a\n- b\n", "a flow file must be a mapping with id, title, start and states"),
    ],
)
def test_a_file_that_is_not_a_mapping(text: str, message: str) -> None:
    assert pairs(problems_in(text)) == [(1, message)]


def test_a_yaml_syntax_error_in_a_flow_names_the_line() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: "unclosed
            options: []
    """
    [(line, message)] = pairs(problems_in(text))
    assert line == line_of(text, 'ask: "unclosed')
    assert message.startswith("YAML syntax error: the quoted text that starts on this line is never closed")


def test_structural_problems_carry_the_parts_that_did_parse() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: What?
            options:
              - {label: One, next: b}
          b:
            verdict: maybe
            say: Fine
          c: {verdict: go, say: Fine, cite: [nots-27]}
    """
    with pytest.raises(FlowProblems) as caught:
        parse_flow(flow_text(text), "f.yaml")
    partial = caught.value.partial
    assert partial is not None
    # 'b' is kept as far as it could be read (its say, not its verdict), marked loose
    assert set(partial.states) == {"a", "b", "c"}
    assert [name for name, s in partial.states.items() if s.loose] == ["b"]
    assert (partial.states["b"].say, partial.states["b"].verdict) == ("Fine", None)
    assert caught.value.unparsed == {}
    assert partial.states["c"].cite == ("nots-27",)


# --- which files are flows ------------------------------------------------------------------


def test_flow_files_skip_scenarios_and_settings_but_report_yml(tmp_path: Path) -> None:
    for name in ["a.yaml", "b.test.yaml", "citations.yaml", "policybot.example.yaml", "c.yml", "d.test.yml", "e.txt"]:
        (tmp_path / name).write_text("id: x\n", encoding="utf-8")
    assert [p.name for p in flow_files([tmp_path])] == ["a.yaml", "c.yml"]
    with pytest.raises(FileProblems) as caught:
        load_flow_file(tmp_path / "c.yml")
    assert caught.value.problems == [
        Problem(str(tmp_path / "c.yml"), 1, "flow files must end in .yaml; rename this file to c.yaml")
    ]


def test_a_named_file_is_taken_as_it_is(tmp_path: Path) -> None:
    named = tmp_path / "anything.yaml"
    assert flow_files([named]) == [named]
    with pytest.raises(FileProblems) as caught:
        load_flow_file(named)
    assert caught.value.problems == [Problem(str(named), 1, "file not found")]


def test_a_state_with_every_value_of_the_wrong_type_is_read_loosely_without_a_crash() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: [not, text]
            intro: {a: b}
            cite: {a: b}
            options: 5
          b:
            verdict: [go]
            say: 3
            checklist: {a: b}
            cite_if: 7
            escalate: [line_manager]
          c:
            branch: {if: x}
    """
    with pytest.raises(FlowProblems) as caught:
        parse_flow(flow_text(text), "f.yaml")
    states = caught.value.partial.states if caught.value.partial else {}
    assert [(name, s.loose) for name, s in states.items()] == [("a", True), ("b", True), ("c", True)]
    assert (states["a"].ask, states["a"].options, states["b"].verdict, states["b"].escalate) == (None, (), None, None)
    assert states["c"].branch == ()
