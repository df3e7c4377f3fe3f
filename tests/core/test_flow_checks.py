"""bot.language.flow_checks: what a flow means, checked, each problem at the exact line of its cause."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.library import check_files
from bot.language.citations import check_quotes
from bot.language.flow_checks import answered_before, check_flow
from bot.language.flow_loader import parse_flow
from bot.language.settings import Settings, load_settings
from tests.core.fixtures.flowfiles import FIXTURE_FLOWS, flow_text, line_of, registry, write
from tests.shared_inputs import policy_texts


def problems_of(text: str, settings: Settings | None = None) -> list[tuple[int, str]]:
    flow = parse_flow(flow_text(text), "f.yaml")
    problems = check_flow(flow, registry(), settings or load_settings(None))
    assert all(p.file == "f.yaml" for p in problems)
    return sorted((p.line, p.message) for p in problems)


def test_the_fixture_registry_quotes_are_verbatim_from_the_policies() -> None:
    assert check_quotes(registry(), policy_texts()) == []


def test_the_fixture_flows_are_clean() -> None:
    flows, problems = check_files([FIXTURE_FLOWS], registry(), load_settings(None))
    assert problems == []
    assert sorted(f.id for f in flows) == ["quick-post", "threat"]


# --- links and the shape of the graph -------------------------------------------------------


def test_a_next_that_names_no_state_with_did_you_mean() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: What?
            options:
              - {label: One, next: outcom}
              - {label: Two, next: outcome}
          outcome: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert problems_of(text) == [
        (line_of(text, "next: outcom}"), "'a' goes next to 'outcom', which is not a state (did you mean 'outcome'?)")
    ]


def test_a_start_that_names_no_state() -> None:
    text = """
        id: f
        title: T
        start: frist
        states:
          first: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert problems_of(text) == [
        (line_of(text, "start: frist"), "start names 'frist', which is not a state (did you mean 'first'?)")
    ]


GRAPH = """
    id: f
    title: T
    start: a
    states:
      a:
        ask: What?
        options:
          - {label: One, next: loop1}
          - {label: Two, next: done}
          - {label: Three, next: stuck}
      loop1:
        ask: Round?
        options:
          - {label: Again, next: loop2}
      loop2:
        ask: And round?
        options:
          - {label: Again, next: loop1}
      stuck:
        ask: Into the circle?
        options:
          - {label: In, next: loop1}
      orphan:
        ask: Nobody comes here
        options:
          - {label: Ok, next: done}
      done: {verdict: go, say: Fine, cite: [notts-27]}
"""


def test_unreachable_states_dead_ends_and_circles_without_exit() -> None:
    assert problems_of(GRAPH) == [
        (
            line_of(GRAPH, "  loop1:"),
            "these states go round in a circle with no way out to an outcome: loop1 -> loop2 -> loop1",
        ),
        # the circle is reported once, not again from loop2
        (line_of(GRAPH, "  stuck:"), "state 'stuck' has no way on to an outcome"),
        (line_of(GRAPH, "  orphan:"), "state 'orphan' can never be reached from 'a'"),
    ]


def test_a_circle_with_a_way_out_is_fine() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: Ready?
            options:
              - {label: Tell me more, next: more}
              - {label: Go on, next: done}
          more:
            ask: More words. Back?
            options:
              - {label: Back, next: a}
          done: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert problems_of(text) == []


def test_a_branch_must_end_with_else_and_have_nothing_after_it() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: Which?
            options:
              - {label: One, next: no_else}
              - {label: Two, next: else_early}
          no_else:
            branch:
              - if: org.rules.welsh_language_standards
                next: done
          else_early:
            branch:
              - else: done
              - if: org.rules.welsh_language_standards
                next: done
          done: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert problems_of(text) == [
        (
            line_of(text, "- if: org.rules", 1),
            "branch 'no_else' must end with an 'else' so every organisation gets an answer",
        ),
        (
            line_of(text, "- if: org.rules", 2),
            "branch 'else_early' has rules after its 'else', which are never used; make the 'else' the last rule",
        ),
    ]


def test_duplicate_option_labels_ignore_case_and_spaces() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: What?
            options:
              - {label: Yes please, next: done}
              - {label: " yes PLEASE", next: done}
          done: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert [line for line, _ in problems_of(text)] == [line_of(text, "{label: Yes please"), line_of(text, "PLEASE")]
    assert all("two options labelled" in message for _, message in problems_of(text))


# --- citations and escalation targets -------------------------------------------------------


def test_an_outcome_without_a_citation_and_ids_missing_from_the_registry() -> None:
    text = """
        id: f
        title: T
        cite: [notts-27, dcc-1-personaly-responsible]
        start: a
        states:
          a:
            ask: What?
            cite:
              - notts-27
              - nots-18
            options:
              - {label: One, next: uncited}
              - {label: Two, next: done}
          uncited:
            verdict: go
            say: Fine
          done: {verdict: go, say: Fine, cite: [notts-99]}
    """
    assert problems_of(text) == [
        (
            line_of(text, "cite: [notts-27, dcc"),
            "citation 'dcc-1-personaly-responsible' is not in the citation registry "
            "(did you mean 'dcc-1-personally-responsible'?)",
        ),
        (
            line_of(text, "- nots-18"),
            "citation 'nots-18' is not in the citation registry (did you mean 'notts-18'?)",
        ),
        (
            line_of(text, "  uncited:"),
            "outcome 'uncited' cites no policy paragraph; add cite: [id] from flows/citations.yaml",
        ),
        (
            line_of(text, "notts-99"),
            "citation 'notts-99' is not in the citation registry (did you mean 'notts-27'?)",
        ),
    ]


def test_unknown_escalation_targets_in_to_and_then() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            verdict: act
            say: Do it.
            cite: [notts-27]
            escalate:
              to:
                - line_manager
                - legl
              then: [manager]
    """
    allowed = "line_manager, comms, legal, hr, safeguarding"
    assert problems_of(text) == [
        (line_of(text, "- legl"), f"'legl' is not an escalation target; use one of {allowed} (did you mean 'legal'?)"),
        (
            line_of(text, "then: [manager]"),
            f"'manager' is not an escalation target; use one of {allowed} (did you mean 'line_manager'?)",
        ),
    ]


def test_targets_added_by_the_organisation_are_allowed(tmp_path: Path) -> None:
    settings_file = write(tmp_path, "policybot.yaml", "escalation:\n  data_protection: {name: The DPO}\n")
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            verdict: act
            say: Tell {{ org.contacts.data_protection }}.
            cite: [notts-27]
            escalate: {to: [data_protection]}
    """
    assert problems_of(text, load_settings(settings_file)) == []
    assert [m for _, m in problems_of(text)] == [
        "'org.contacts.data_protection' does not exist",
        "'data_protection' is not an escalation target; use one of line_manager, comms, legal, hr, safeguarding",
    ]


# --- templates --------------------------------------------------------------------------------

TEMPLATES = """
    id: f
    title: T
    start: a
    states:
      a:
        intro: Hello {{ usr.name }}
        ask: >-
          Does {{ org.nme }} follow
          {{ org.rules.welsh_standards }}?
        options:
          - {label: One, next: b}
          - label: Two
            next: b
            feedback: "Noted, {{ answers.a }} and {{ answers.zz }}"
      b:
        verdict: act
        say: |
          Line one is fine.
          Tell {{ org.contacts.comm }}.
          Line three: {{ score / score_totl }}
        checklist:
          - Ring {{ org.contacts.legal }}
          - "Then {{ oops }"
        cite: [notts-27]
        escalate:
          to: [comms]
          summary: "{{ user.nmae }} needs help"
"""


def test_template_problems_are_reported_at_the_line_of_the_text() -> None:
    assert problems_of(TEMPLATES) == [
        (
            line_of(TEMPLATES, "intro: Hello"),
            "the template uses 'usr', which does not exist; "
            "templates can use answers, escalation, org, score, score_total, user",
        ),
        (line_of(TEMPLATES, "Does {{ org.nme }}"), "'org.nme' does not exist (did you mean 'name'?)"),
        # a folded (>-) text is one line to Jinja: reported where the text begins
        (
            line_of(TEMPLATES, "Does {{ org.nme }}"),
            "'org.rules.welsh_standards' does not exist (did you mean 'welsh_language_standards'?)",
        ),
        (line_of(TEMPLATES, "answers.zz"), "'answers.zz' does not exist"),
        # a literal (|) text keeps its lines: line two and three of the say
        (
            line_of(TEMPLATES, "Tell {{ org.contacts.comm }}"),
            "'org.contacts.comm' does not exist (did you mean 'comms'?)",
        ),
        (
            line_of(TEMPLATES, "score_totl"),
            "the template uses 'score_totl', which does not exist; "
            "templates can use answers, escalation, org, score, score_total, user",
        ),
        (line_of(TEMPLATES, "{{ oops }"), "the template does not parse: unexpected '}'"),
        (line_of(TEMPLATES, "user.nmae"), "'user.nmae' does not exist (did you mean 'name'?)"),
    ]


def test_reaching_python_internals_from_a_template_is_flagged() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            ask: "{{ ().__class__.__mro__ }}"
            options:
              - {label: "{{ org._secret }}", next: b}
          b:
            verdict: go
            say: |
              Fine.
              {{ org.name|attr('__class__') }} {{ '{0.__class__}'.format(org) }}
            cite: [notts-27]
    """
    internals = "reaches into Python internals, which templates may not do"
    assert problems_of(text) == [
        (line_of(text, "__mro__"), f"'__class__' {internals}"),
        (line_of(text, "__mro__"), f"'__mro__' {internals}"),
        (line_of(text, "_secret"), f"'_secret' {internals}"),
        (line_of(text, "attr('__class__')"), f"'__class__' {internals}"),
        (line_of(text, "attr('__class__')"), f"'format' {internals}"),
    ]


def test_a_branch_condition_that_only_parses_when_wrapped_is_refused() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            branch:
              - if: org.rules.welsh_language_standards) or (true
                next: b
              - if: ""
                next: b
              - else: b
          b: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert problems_of(text) == [
        (line_of(text, "or (true"), "the template does not parse: unexpected ')'"),
        (line_of(text, 'if: ""'), "the template does not parse: unexpected 'end of template'"),
    ]


ANSWERS = """
    id: f
    title: T
    start: where
    states:
      where:
        ask: Where?
        options:
          - {label: Council page, next: still_up}
          - {label: My own account, next: done}
      still_up:
        ask: Still up? (you said {{ answers.where }})
        options:
          - {label: "Yes", next: done, feedback: "{{ answers.still_up }} noted"}
          - {label: "No", next: check}
      check:
        branch:
          - if: answers.still_up == "No"
            next: done
          - else: done
      done:
        verdict: care
        say: |
          You said {{ answers.where }}.
          It is {{ answers.still_up }}.
          {% if answers.still_up is defined %}Up: {{ answers.still_up }}{% endif %}
        cite: [notts-27]
"""


def test_an_answer_that_some_ways_to_a_text_never_ask_for_is_flagged() -> None:
    assert problems_of(ANSWERS) == [
        (
            line_of(ANSWERS, "It is {{ answers.still_up }}"),
            "'answers.still_up' may have no answer here: some ways to this point do not ask 'still_up' first "
            "(check with 'answers.still_up is defined', or move the text)",
        )
    ]


def test_answered_before_is_what_every_way_in_has_asked() -> None:
    flow = parse_flow(flow_text(ANSWERS), "f.yaml")
    assert answered_before(flow) == {
        "where": frozenset(),
        "still_up": frozenset({"where"}),
        "check": frozenset({"where", "still_up"}),
        "done": frozenset({"where"}),
    }


# --- every problem at once ----------------------------------------------------------------------


def test_structural_and_meaning_problems_in_one_file_come_out_together(tmp_path: Path) -> None:
    text = """
        id: mixed
        title: T
        start: a
        states:
          a:
            ask: Hello {{ org.nme }}
            colour: red
            options:
              - {label: One, next: b}
          b:
            verdict: maybe
            say: Fine
          c:
            verdict: act
            say: Tell {{ org.contacts.comms }}.
            cite: [nots-27]
            escalate: {to: [legl]}
    """
    path = write(tmp_path, "mixed.yaml", text)
    _, problems = check_files([path], registry(), load_settings(None))
    assert sorted((p.line, p.message) for p in problems) == [
        # the state with an unknown key is still read, so its template is checked in the same run
        (line_of(text, "ask: Hello {{ org.nme }}"), "'org.nme' does not exist (did you mean 'name'?)"),
        (line_of(text, "colour: red"), "unknown key 'colour'"),
        # 'b' is read as far as it can be: its bad verdict, and its missing citation, in one run
        (line_of(text, "  b:"), "outcome 'b' cites no policy paragraph; add cite: [id] from flows/citations.yaml"),
        (line_of(text, "verdict: maybe"), "'verdict' is 'maybe' but must be one of: go, care, stop, act"),
        # reachability runs over the states that exist
        (line_of(text, "  c:"), "state 'c' can never be reached from 'a'"),
        (
            line_of(text, "cite: [nots-27]"),
            "citation 'nots-27' is not in the citation registry (did you mean 'notts-27'?)",
        ),
        (
            line_of(text, "to: [legl]"),
            "'legl' is not an escalation target; use one of line_manager, comms, legal, hr, safeguarding "
            "(did you mean 'legal'?)",
        ),
    ]
    # 'b' with its bad verdict is not reported again as a dead end, nor the link to it as missing
    assert all("goes next to" not in p.message and "no way on" not in p.message for p in problems)


def test_several_problems_in_several_files_are_all_reported(tmp_path: Path) -> None:
    good = (FIXTURE_FLOWS / "threat.yaml").read_text(encoding="utf-8")
    (tmp_path / "threat.yaml").write_text(good, encoding="utf-8")
    write(tmp_path, "one.yaml", "id: one\ntitle: T\nstart: a\nstates:\n  a: {verdict: go, say: Fine}\n")
    write(tmp_path, "two.yaml", "id: two\ntitle: T\nstart: b\nstates:\n  a: {verdict: go, say: x, cite: [notts-27]}\n")
    write(tmp_path, "three.yaml", "id: three\ntitle: [T\n")
    flows, problems = check_files([tmp_path], registry(), load_settings(None))
    assert [f.id for f in flows] == ["threat"]
    assert sorted((Path(p.file).name, p.line, p.message.split(";")[0]) for p in problems) == [
        ("one.yaml", 5, "outcome 'a' cites no policy paragraph"),
        (
            "three.yaml",
            2,
            "YAML syntax error: the '[' opened on this line is not closed, or a comma is missing "
            "(did not find expected ',' or ']')",
        ),
        # the unreachable 'a' waits until start names a state: there is nowhere to walk from
        ("two.yaml", 3, "start names 'b', which is not a state"),
    ]


def test_branches_that_lead_back_to_each_other_are_flagged_even_with_a_way_out() -> None:
    text = """
        id: f
        title: T
        start: a
        states:
          a:
            branch:
              - if: org.rules.welsh_language_standards
                next: b
              - else: done
          b:
            branch:
              - else: a
          done: {verdict: go, say: Fine, cite: [notts-27]}
    """
    assert problems_of(text) == [
        (
            line_of(text, "  a:"),
            "these branches lead back to each other without a question in between, so a conversation can be "
            "stuck in them: a -> b -> a",
        )
    ]


def test_a_state_may_be_called_yes_or_no() -> None:
    text = """
        id: f
        title: T
        start: start
        states:
          start:
            ask: Is it up?
            options:
              - {label: "Yes", next: "yes"}
              - {label: "No", next: "no"}
          yes: {verdict: act, say: Take it down., cite: [notts-27]}
          no: {verdict: go, say: Fine., cite: [notts-27]}
    """
    flow = parse_flow(flow_text(text), "f.yaml")
    assert set(flow.states) == {"start", "yes", "no"}
    assert problems_of(text) == []
