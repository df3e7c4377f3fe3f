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
    option: int = 0  # which option (from 0) was taken, for the quiz score


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]
    outcome: str


def _context(
    settings: Settings, flow: Flow, steps: tuple[Step, ...], escalate_to: tuple[str, ...] = ()
) -> dict[str, Any]:
    correct, total = _score(flow, steps)
    return {
        "org": settings.template_org(),
        "user": NoDirectory().describe(EXAMPLE_ACTOR),
        "answers": {s.state: s.answer for s in steps},
        "score": correct,
        "score_total": total,
        # no directory here: each target is named as the settings name it
        "escalation": escalation_context(list(dict.fromkeys(settings.target_name(t) for t in escalate_to))),
    }


def _score(flow: Flow, steps: tuple[Step, ...]) -> tuple[int, int]:
    """(correct, scored) for the quiz answers taken on this path, as the engine counts them, so a
    quiz's ending reads as it would for someone who answered that way."""
    flags = [flow.states[s.state].options[s.option].correct for s in steps]
    marked = [flag for flag in flags if flag is not None]
    return sum(marked), len(marked)


def all_paths(flow: Flow, settings: Settings) -> list[Path]:
    """Depth-first, options in order; a state is not revisited on one path (loops back are skipped)."""
    found: list[Path] = []

    def visit(name: str, steps: tuple[Step, ...], on_path: frozenset[str]) -> None:
        state = flow.states[name]
        if state.kind == OUTCOME:
            found.append(Path(steps, name))
            return
        context = _context(settings, flow, steps)
        if state.kind == BRANCH:
            rule = next(r for r in state.branch if r.condition is None or evaluate(r.condition, context))
            if rule.next not in on_path:
                visit(rule.next, steps, on_path | {name})
            return
        question = render(state.ask or "", context)
        for index, option in enumerate(state.options):
            if option.next in on_path:
                continue
            label = render(option.label, context)
            visit(option.next, (*steps, Step(name, question, label, index)), on_path | {name})

    visit(flow.start, (), frozenset())
    return found


def paths_json(compiled: CompiledFlow, settings: Settings) -> list[dict[str, Any]]:
    """The ``policybot paths FLOW --json`` contract (see ../shared/DESIGN.md)."""
    flow = compiled.flow
    result = []
    for path in all_paths(flow, settings):
        state = flow.states[path.outcome]
        context = _context(settings, flow, path.steps, state.escalate.to if state.escalate else ())
        escalate = state.escalate.all_targets if state.escalate else []
        result.append(
            {
                "answers": [{"state": s.state, "question": s.question, "answer": s.answer} for s in path.steps],
                "outcome": {
                    "state": state.name,
                    "verdict": state.verdict.value if state.verdict else None,
                    "text": render(state.say or "", context),
                    "escalate": escalate,
                    "cite": list(state.cites_for(context)),
                },
            }
        )
    return result
