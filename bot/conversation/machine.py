"""One compiled ``transitions`` machine per flow version, shared by every conversation.

A conversation is only a row (flow id, version, state, answers). To step it, the engine asks the
shared machine which state an event leads to from the conversation's state; no machine or model
object is ever created per conversation. (bench/bench_engine.py measures this against the naive
way, a new Machine per conversation.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine

from bot.language.flow_model import BRANCH, OUTCOME, QUESTION, Flow, State
from bot.language.templates import evaluate_for_employee
from bot.store.records import Answer


def option_trigger(index: int) -> str:
    return f"choose_{index}"


def branch_trigger(index: int) -> str:
    return f"branch_{index}"


def machine_spec(flow: Flow) -> dict[str, Any]:
    """States and transitions for ``transitions.Machine``: one trigger per option or branch rule."""
    transitions: list[dict[str, str]] = []
    for state in flow.states.values():
        for i, option in enumerate(state.options):
            transitions.append({"trigger": option_trigger(i), "source": state.name, "dest": option.next})
        for i, rule in enumerate(state.branch):
            transitions.append({"trigger": branch_trigger(i), "source": state.name, "dest": rule.next})
    return {"states": list(flow.states), "transitions": transitions, "initial": flow.start}


@dataclass
class CompiledFlow:
    """A flow version with its shared machine and the facts the engine needs at every step."""

    flow: Flow
    machine: Machine = field(init=False)
    _questions_ahead: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.machine = Machine(model=None, auto_transitions=False, **machine_spec(self.flow))
        self._questions_ahead = _longest_question_runs(self.flow)

    def state(self, name: str) -> State:
        return self.flow.states[name]

    def destination(self, source: str, trigger: str) -> str:
        """Where ``trigger`` leads from ``source``, read from the shared machine's transition table."""
        event = self.machine.events.get(trigger)
        if event is None or source not in event.transitions:
            raise KeyError(f"no transition '{trigger}' from '{source}' in flow {self.flow.id}")
        return str(event.transitions[source][0].dest)

    def choose(self, source: str, option: int) -> str:
        return self.destination(source, option_trigger(option))

    def settle(self, name: str, context: Mapping[str, Any]) -> str:
        """Follow automatic branches from ``name`` until a question or an outcome."""
        seen = set()
        while self.flow.states[name].kind == BRANCH:
            if name in seen:  # the validator refuses such flows; this guards an unvalidated one
                raise RuntimeError(f"branches loop at '{name}' in flow {self.flow.id}")
            seen.add(name)
            rules = self.flow.states[name].branch
            where = f"{self.flow.id}@{self.flow.version}:{name}"
            index = next(
                i
                for i, r in enumerate(rules)
                if r.condition is None or evaluate_for_employee(r.condition, context, where)
            )
            name = self.destination(name, branch_trigger(index))
        return name

    def score(self, answers: Iterable[Answer]) -> tuple[int, int]:
        """(correct, scored) over the answers given to quiz questions (options marked ``correct``)."""
        correct = total = 0
        for answer in answers:
            state = self.flow.states.get(answer.state)
            if state is None or answer.option >= len(state.options):
                continue
            flag = state.options[answer.option].correct
            if flag is not None:
                total += 1
                correct += int(flag)
        return correct, total

    def questions_ahead(self, name: str) -> int:
        """The most questions left from ``name`` (itself included) before an outcome."""
        return self._questions_ahead.get(name, 0)


def _longest_question_runs(flow: Flow) -> dict[str, int]:
    """For each state, the most questions on a way from it to an outcome, without going round.

    Circles ("start again", "back to the first question") are cut where a depth-first walk from
    the start meets them, leaving a graph without circles whose longest runs are one pass in
    reverse topological order: linear in the size of the flow. (Longest simple paths in a graph
    with circles is NP-hard, and the memoised search this replaces took minutes on a
    1,000-state chain whose every question could go back to the first.)
    """
    order: list[str] = []  # states in the order their walk finished (every successor first)
    state_of: dict[str, int] = {}  # 1: on the walk's path, 2: finished
    roots = [flow.start, *flow.states] if flow.start in flow.states else list(flow.states)
    kept: dict[str, list[str]] = {name: [] for name in flow.states}
    for root in roots:
        if root in state_of:
            continue
        state_of[root] = 1
        stack = [(root, iter(flow.states[root].successors))]
        while stack:
            name, successors = stack[-1]
            nxt = next(successors, None)
            if nxt is None:
                stack.pop()
                state_of[name] = 2
                order.append(name)
            elif nxt in flow.states and state_of.get(nxt) != 1:  # an edge back onto the path is cut
                kept[name].append(nxt)
                if nxt not in state_of:
                    state_of[nxt] = 1
                    stack.append((nxt, iter(flow.states[nxt].successors)))
    runs: dict[str, int] = {}
    for name in order:
        state = flow.states[name]
        if state.kind == OUTCOME:
            runs[name] = 0
            continue
        own = 1 if state.kind == QUESTION else 0
        runs[name] = own + max((runs[n] for n in kept[name]), default=0)
    return runs
