"""Advice that gathers conditions from several answers: ``cite_if`` on an outcome, checklist items
that an ``{% if %}`` leaves empty, and the quiz ending (its score in ``policybot paths`` and its
headline).

A flow such as can-i-post asks about each risk in turn and gives one answer listing every
condition that applies. These tests walk small flows through the real engine, the real
``paths`` code and the real validator, so the person sees only the conditions (and the cited
paragraphs) that apply to their answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.paths import paths_json
from bot.conversation.replies import QUIZ_FINISHED, Outcome, Question, Reply
from bot.language.citations import load_registry
from bot.language.coverage import build_report
from bot.language.flow_checks import check_flow
from bot.language.flow_loader import load_flow_file
from bot.language.settings import load_settings
from tests.core.flowkit import QUIZ_FLOW, library, sqlite_store, write_flows

GATHER_FLOW = """\
id: gather
title: Can I post this photo?
start: people
states:
  people:
    ask: Does it show other people?
    options:
      - {label: "No", next: politics}
      - {label: "Yes, and they agreed", next: politics}
  politics:
    ask: Is it political?
    options:
      - {label: "No", next: done}
      - {label: "Yes", next: done}
  done:
    verdict: care
    say: You can post it.
    checklist:
      - Check your privacy settings.
      - "{% if answers.people != 'No' %}Take it down if anyone changes their mind.{% endif %}"
      - "{% if answers.politics == 'Yes' %}Keep your job out of it.{% endif %}"
    cite: [dcc-1-privacy-settings]
    cite_if:
      - if: "answers.people != 'No'"
        cite: [appb-personal-colleague-photos]
      - if: "answers.politics == 'Yes'"
        cite: [notts-21f, dcc-1-privacy-settings]
      - if: "org.rules.personal_use_on_council_it == 'never'"
        cite: [appb-personal-no-council-it]
"""

ALICE = Actor(user_id="console:alice", display_name="Alice Smith")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    return write_flows(tmp_path / "flows", {"gather": GATHER_FLOW, "quiz": QUIZ_FLOW})


def walk(engine: Engine, flow_id: str, options: list[int]) -> Outcome:
    replies: list[Reply] = engine.handle(ALICE, Start(flow_id=flow_id))
    for option in options:
        q = replies[-1]
        assert isinstance(q, Question)
        replies = engine.handle(ALICE, Choose(q.conversation_id, q.state, option, q.turn))
    result = replies[-1]
    assert isinstance(result, Outcome)
    return result


@pytest.mark.parametrize(
    ("options", "items", "cited"),
    [
        ([0, 0], ["Check your privacy settings."], ["dcc-1-privacy-settings"]),
        (
            [1, 0],
            ["Check your privacy settings.", "Take it down if anyone changes their mind."],
            ["dcc-1-privacy-settings", "appb-personal-colleague-photos"],
        ),
        (
            [1, 1],
            ["Check your privacy settings.", "Take it down if anyone changes their mind.", "Keep your job out of it."],
            ["dcc-1-privacy-settings", "appb-personal-colleague-photos", "notts-21f"],  # each id once
        ),
    ],
)
def test_the_outcome_lists_and_cites_only_what_the_answers_call_for(
    tmp_path: Path, flows_dir: Path, options: list[int], items: list[str], cited: list[str]
) -> None:
    outcome = walk(Engine(library(flows_dir), sqlite_store(tmp_path)), "gather", options)
    assert outcome.checklist == items
    assert [c.id for c in outcome.citations] == cited


def test_a_cite_if_can_follow_the_organisation_settings(tmp_path: Path, flows_dir: Path) -> None:
    strict = load_settings(None).with_overrides({"rules": {"personal_use_on_council_it": "never"}})
    outcome = walk(Engine(library(flows_dir, strict), sqlite_store(tmp_path)), "gather", [0, 0])
    assert [c.id for c in outcome.citations] == ["dcc-1-privacy-settings", "appb-personal-no-council-it"]


def test_paths_json_cites_what_each_path_calls_for(flows_dir: Path) -> None:
    lib = library(flows_dir)
    paths = paths_json(lib.compiled(lib.get("gather")), lib.settings)
    assert [p["outcome"]["cite"] for p in paths] == [
        ["dcc-1-privacy-settings"],
        ["dcc-1-privacy-settings", "notts-21f"],
        ["dcc-1-privacy-settings", "appb-personal-colleague-photos"],
        ["dcc-1-privacy-settings", "appb-personal-colleague-photos", "notts-21f"],
    ]


def test_paths_json_gives_each_quiz_ending_the_score_of_its_own_answers(flows_dir: Path) -> None:
    lib = library(flows_dir)
    texts = [p["outcome"]["text"] for p in paths_json(lib.compiled(lib.get("quiz")), lib.settings)]
    assert texts == [
        "Only in your breaks. You scored 2 of 2.",
        "Only in your breaks. You scored 1 of 2.",
        "Only in your breaks. You scored 1 of 2.",
        "Only in your breaks. You scored 0 of 2.",
    ]


def test_a_quiz_ending_is_headed_finished_not_with_a_verdict(tmp_path: Path, flows_dir: Path) -> None:
    engine = Engine(library(flows_dir), sqlite_store(tmp_path))
    quiz = walk(engine, "quiz", [0, 0])
    assert quiz.score is not None and quiz.headline == QUIZ_FINISHED
    advice = walk(engine, "gather", [0, 0])
    assert advice.score is None and advice.headline == "Go ahead, with care"


def test_validate_reports_a_bad_cite_if_at_its_own_line(tmp_path: Path) -> None:
    broken = GATHER_FLOW.replace("cite: [notts-21f, dcc-1-privacy-settings]", "cite: [notts-21z]").replace(
        "if: \"answers.people != 'No'\"", "if: \"answers.peeple != 'No'\""
    )
    folder = write_flows(tmp_path / "flows", {"gather": broken})
    flow = load_flow_file(folder / "gather.yaml")
    problems = check_flow(flow, load_registry(folder / "citations.yaml"), load_settings(None))
    lines = broken.splitlines()
    messages = {(p.line, p.message.split(";")[0]) for p in problems}
    cite_line = next(i for i, text in enumerate(lines, 1) if "notts-21z" in text)
    if_line = next(i for i, text in enumerate(lines, 1) if "answers.peeple" in text)
    assert any(line == cite_line and "'notts-21z' is not in the citation registry" in m for line, m in messages)
    assert any(line == if_line and "answers.peeple" in m for line, m in messages)


def test_coverage_counts_the_clauses_a_cite_if_names(flows_dir: Path) -> None:
    registry = load_registry(flows_dir / "citations.yaml")
    report = build_report([load_flow_file(flows_dir / "gather.yaml")], registry)
    cited = {c.id for c in report.clauses if c.cited_by}
    assert {"appb-personal-colleague-photos", "notts-21f", "appb-personal-no-council-it"} <= cited
