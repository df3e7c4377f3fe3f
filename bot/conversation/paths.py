"""Every way through a flow, from its start to each outcome it can reach.

Branches on the organisation settings are decided with the settings given (the example org by
default), so the paths are the ones that organisation's employees can take. Used by
``policybot paths`` (a contract other tools rely on) and by the path-length report in docs/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.conversation.escalation import NoDirectory, escalation_context
from bot.conversation.events import Actor
from bot.conversation.machine import CompiledFlow
from bot.language.flow_model import BRANCH, OUTCOME, Flow
from bot.language.settings import Settings
from bot.language.templates import evaluate, render

EXAMPLE_ACTOR = Actor(user_id="example", display_name="Sam Example", email="sam@example.org")


@dataclass(frozen=True)
class Step:
    state: str
    question: str
    answer: str


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]
    outcome: str


def _context(settings: Settings, answers: dict[str, str], escalate_to: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "org": settings.template_org(),
        "user": NoDirectory().describe(EXAMPLE_ACTOR),
        "answers": answers,
        "score": 0,
        "score_total": 0,
        # no directory here: a target is named as the settings name it
        "escalation": escalation_context(list(dict.fromkeys(settings.target_name(t) for t in escalate_to))),
    }


def all_paths(flow: Flow, settings: Settings) -> list[Path]:
    """Depth-first, options in order; a state is not revisited on one path (loops back are skipped)."""
    found: list[Path] = []

    def visit(name: str, steps: tuple[Step, ...], on_path: frozenset[str]) -> None:
        state = flow.states[name]
        answers = {s.state: s.answer for s in steps}
        if state.kind == OUTCOME:
            found.append(Path(steps, name))
            return
        if state.kind == BRANCH:
            rule = next(
                r for r in state.branch if r.condition is None or evaluate(r.condition, _context(settings, answers))
            )
            if rule.next not in on_path:
                visit(rule.next, steps, on_path | {name})
            return
        question = render(state.ask or "", _context(settings, answers))
        for option in state.options:
            if option.next in on_path:
                continue
            label = render(option.label, _context(settings, answers))
            visit(option.next, (*steps, Step(name, question, label)), on_path | {name})

    visit(flow.start, (), frozenset())
    return found


def paths_json(compiled: CompiledFlow, settings: Settings) -> list[dict[str, Any]]:
    """The ``policybot paths FLOW --json`` contract (see ../shared/DESIGN.md)."""
    flow = compiled.flow
    result = []
    for path in all_paths(flow, settings):
        state = flow.states[path.outcome]
        answers = {s.state: s.answer for s in path.steps}
        escalate = state.escalate.all_targets if state.escalate else []
        result.append(
            {
                "answers": [{"state": s.state, "question": s.question, "answer": s.answer} for s in path.steps],
                "outcome": {
                    "state": state.name,
                    "verdict": state.verdict.value if state.verdict else None,
                    "text": render(
                        state.say or "", _context(settings, answers, state.escalate.to if state.escalate else ())
                    ),
                    "escalate": escalate,
                    "cite": list(state.cite),
                },
            }
        )
    return result
