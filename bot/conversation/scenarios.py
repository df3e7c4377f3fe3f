"""Scenario tests written in YAML next to the flows: given these answers, expect this outcome.

``policybot test`` runs every ``<flow>.test.yaml`` through the real engine on an in-memory
store, so a scenario exercises exactly what an employee would get, and reports which outcomes
of each flow no scenario reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.library import FlowLibrary
from bot.conversation.replies import Notice, NoticeKind, Outcome, Question, without_switch
from bot.errors import FileProblems, Problem
from bot.language.schema_check import schema_problems
from bot.language.settings import Settings
from bot.language.yamlload import LineDict, load_yaml_file
from bot.store import Store

SCENARIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["flow", "scenarios"],
    "properties": {
        "flow": {"type": "string"},
        "scenarios": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "answers", "expect"],
                "properties": {
                    "name": {"type": "string"},
                    "org": {"type": "object"},
                    "user": {"type": "object"},
                    "answers": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "expect": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "state": {"type": "string"},
                            "verdict": {"enum": ["go", "care", "stop", "act"]},
                            "escalate": {"type": "array", "items": {"type": "string"}},
                            "cite": {"type": "array", "items": {"type": "string"}},
                            "says": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "phrases the advice or checklist must contain",
                            },
                            "score": {"type": "integer"},
                        },
                    },
                },
            },
        },
    },
}


@dataclass
class ScenarioResult:
    file: str
    line: int
    flow_id: str
    name: str
    failures: list[str]
    reached: str | None

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Report:
    results: list[ScenarioResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    coverage: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)  # flow -> (reached, all outcomes)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.passed for r in self.results)


def scenario_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.test.yaml")))
        elif path.name.endswith(".test.yaml"):
            found.append(path)
    return found


def run_scenarios(library: FlowLibrary, files: list[Path]) -> Report:
    report = Report()
    for flow in library.all():
        report.coverage[flow.id] = (set(), {s.name for s in flow.outcomes})
    for path in files:
        try:
            data = load_yaml_file(path)
        except FileProblems as err:
            report.problems.extend(err.problems)
            continue
        problems = (
            schema_problems(data, SCENARIO_SCHEMA, str(path))
            if isinstance(data, LineDict)
            else [Problem(str(path), 1, "a scenario file must be a mapping with flow and scenarios")]
        )
        if problems:
            report.problems.extend(problems)
            continue
        if data["flow"] not in library:
            report.problems.append(Problem(str(path), data.line_of("flow"), f"no flow called '{data['flow']}'"))
            continue
        for index, scenario in enumerate(data["scenarios"]):
            result = _run_one(library, data["flow"], scenario, str(path), data["scenarios"].line_of(index))
            report.results.append(result)
            if result.reached:
                report.coverage[data["flow"]][0].add(result.reached)
    return report


def _run_one(library: FlowLibrary, flow_id: str, scenario: dict[str, Any], file: str, line: int) -> ScenarioResult:
    settings: Settings = library.settings.with_overrides(scenario.get("org") or {})
    scoped = FlowLibrary(library.all(), library.registry, settings)
    store = Store("sqlite://")
    try:
        engine = Engine(scoped, store, people=_FixedPeople(scenario.get("user") or {}))
        # Scenarios are written in English: they run in English whatever languages the council
        # offers (a Welsh walk of every path is tests/languages), and the switch is not a step.
        actor = Actor(user_id="scenario", display_name="Sam Example", email="sam@example.org", locale="en")
        replies = without_switch(engine.handle(actor, Start(flow_id=flow_id)))
        failures: list[str] = []
        for answer in scenario["answers"]:
            last = replies[-1]
            if not isinstance(last, Question):
                failures.append(f"answer {answer!r} given, but the flow had already finished")
                break
            replies = without_switch(engine.handle(actor, FreeText(str(answer), last.conversation_id)))
            if not isinstance(replies[-1], Question | Outcome) or any(
                isinstance(r, Notice) and r.kind is NoticeKind.INVALID for r in replies
            ):
                failures.append(
                    f"answer {answer!r} is not an option of '{last.state}': {', '.join(o.label for o in last.options)}"
                )
                break
    finally:
        store.close()
    outcome = replies[-1] if isinstance(replies[-1], Outcome) else None
    if outcome is None and not failures:
        failures.append(f"the answers stop at question '{getattr(replies[-1], 'state', '?')}', not at an outcome")
    if outcome is not None:
        failures += _compare(scenario["expect"], outcome)
    return ScenarioResult(file, line, flow_id, scenario["name"], failures, outcome.state if outcome else None)


def _compare(expect: dict[str, Any], outcome: Outcome) -> list[str]:
    failures = []
    if "state" in expect and expect["state"] != outcome.state:
        failures.append(f"expected outcome '{expect['state']}', got '{outcome.state}'")
    if "verdict" in expect and expect["verdict"] != outcome.verdict.value:
        failures.append(f"expected verdict {expect['verdict']}, got {outcome.verdict.value}")
    if "escalate" in expect:
        got = [*outcome.escalation.targets, *outcome.escalation.then] if outcome.escalation else []
        if list(dict.fromkeys(got)) != list(expect["escalate"]):
            failures.append(f"expected escalation to {expect['escalate']}, got {list(dict.fromkeys(got))}")
    if "cite" in expect and sorted(expect["cite"]) != sorted(c.id for c in outcome.citations):
        failures.append(f"expected citations {expect['cite']}, got {[c.id for c in outcome.citations]}")
    text = " ".join([outcome.text, *outcome.checklist]).casefold()
    for phrase in expect.get("says", []):
        if phrase.casefold() not in text:
            failures.append(f"expected the advice to say '{phrase}'")
    if "score" in expect and (outcome.score is None or outcome.score.correct != expect["score"]):
        failures.append(
            f"expected a score of {expect['score']}, got {outcome.score.correct if outcome.score else None}"
        )
    return failures


class _FixedPeople:
    """A scenario's ``user:`` block on top of the example person."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = dict(overrides)

    def describe(self, actor: Actor) -> dict[str, Any]:
        from bot.conversation.escalation import NoDirectory

        return {**NoDirectory().describe(actor), **self.overrides}
