"""issue 14, "Not all at once": one flow holding every kind of mistake gets every one of them
reported in one run of ``policybot validate``, each at its own line, and then the count."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli
from tests.core.fixtures.flowfiles import FIXTURE_FLOWS

EVERY_MISTAKE = """\
id: every-mistakes
title: Every kind of mistake
title: Written twice
triggrs: [a typo]
start: where
states:
  where:
    ask: Where was it, {{ user.nmae }}?
    colour: red
    options:
      - {label: Here, next: still_up}
      - {label: here, next: gone}
      - {label: There, next: elsewere}
  still_up:
    ask: "Is it still up? {{ oops }"
    options:
      - {label: "Yes", next: council_it}
      - {label: "No", next: stuck}
  council_it:
    branch:
      - if: org.rules.personal_use_on_council_it == 'never'
        next: take_down
  take_down:
    verdict: act
    say: "Take it down, {{ user.name|center(80) }}. {{ 'a' * 10**9 }} {{ ().__class__ }} {{ org.rules.no_such_rule }}"
    cite: [nots-27]
    escalate: {to: [legl]}
  gone:
    verdict: maybe
    say: "You said {{ answers.still_up }}. {{ range(3) }}"
  elsewhere:
    verdict: go
    say: Fine.
    checklist: Remove it
    cite: [notts-27]
  stuck:
    ask: Into the circle?
    options:
      - {label: In, next: loop_a}
  loop_a:
    ask: Round?
    options:
      - {label: Again, next: loop_b}
  loop_b:
    ask: And round?
    options:
      - {label: Again, next: loop_a}
  spin_a:
    branch:
      - if: org.rules.welsh_language_standards
        next: spin_b
      - else: elsewhere
  spin_b:
    branch:
      - else: spin_a
  orphan:
    verdict: go
"""

TARGETS = "line_manager, comms, legal, hr, safeguarding"
FILTERS = "capitalize, d, default, first, join, last, length, lower, title, trim, upper"
NAMES = "answers, escalation, org, score, score_total, user"
NO_CITATION = "cites no policy paragraph; add cite: [id] from flows/citations.yaml"

# (line, message), in the order validate prints them (by line); the comment says which kind.
EXPECTED = [
    (1, "the flow id 'every-mistakes' should match the file name 'every-mistake.yaml'"),  # file name
    (3, "the key 'title' appears twice here; keep one"),  # key written twice: no longer stops the file
    (4, "unknown key 'triggrs' (did you mean 'triggers'?)"),  # unknown top-level key
    (7, "'user.nmae' does not exist (did you mean 'name'?)"),  # a template in a state with an unknown key
    (9, "unknown key 'colour'"),  # unknown state key
    (11, "question 'where' has two options labelled 'Here'; a typed answer could not tell them apart"),
    (12, "question 'where' has two options labelled 'here'; a typed answer could not tell them apart"),
    (13, "'where' goes next to 'elsewere', which is not a state (did you mean 'elsewhere'?)"),  # missing link
    (14, "the template does not parse: unexpected '}'"),
    (21, "branch 'council_it' must end with an 'else' so every organisation gets an answer"),
    (23, "'__class__' reaches into Python internals, which templates may not do"),
    (23, f"'legl' is not an escalation target; use one of {TARGETS} (did you mean 'legal'?)"),
    (23, "'org.rules.no_such_rule' does not exist"),  # a setting that does not exist
    (23, "citation 'nots-27' is not in the citation registry (did you mean 'notts-27'?)"),
    (23, f"the filter 'center' is not available; templates can use {FILTERS}"),
    (23, "this makes a text longer than 10,000 characters, more than any message can show"),  # a limit
    (
        28,
        "'answers.still_up' may have no answer here: some ways to this point do not ask 'still_up' first "
        "(check with 'answers.still_up is defined', or move the text)",
    ),
    (28, f"outcome 'gone' {NO_CITATION}"),  # read from a state whose verdict is wrong
    (28, f"the template uses 'range', which does not exist; templates can use {NAMES}"),
    (29, "'verdict' is 'maybe' but must be one of: go, care, stop, act"),  # a value not allowed
    (31, "state 'elsewhere' can never be reached from 'where'"),  # reachability, despite the missing link
    (34, "'checklist' should be a list, not text"),  # wrong type
    (36, "state 'stuck' has no way on to an outcome"),
    (40, "these states go round in a circle with no way out to an outcome: loop_a -> loop_b -> loop_a"),
    (48, "state 'spin_a' can never be reached from 'where'"),
    (
        48,
        "these branches lead back to each other without a question in between, so a conversation can be "
        "stuck in them: spin_a -> spin_b -> spin_a",
    ),
    (53, "state 'spin_b' can never be reached from 'where'"),
    (56, f"outcome 'orphan' {NO_CITATION}"),
    (56, "state 'orphan' can never be reached from 'where'"),
    (57, "'say' is missing here"),  # a required key missing
]


def test_every_kind_of_mistake_in_one_flow_is_reported_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "every-mistake.yaml"
    path.write_text(EVERY_MISTAKE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--flows", str(FIXTURE_FLOWS), "validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    found = []
    for line in result.stdout.splitlines():
        file, number, message = line.split(":", 2)
        assert file == str(path)
        found.append((int(number), message.strip()))
    assert found == EXPECTED
    assert result.stderr == f"{len(EXPECTED)} problems found.\n"


def test_one_problem_is_counted_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("id: one\ntitle: T\nstart: a\nstates:\n  a: {verdict: go, say: Fine}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--flows", str(FIXTURE_FLOWS), "validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout == f"{path}:5: outcome 'a' {NO_CITATION}\n"
    assert result.stderr == "1 problem found.\n"
