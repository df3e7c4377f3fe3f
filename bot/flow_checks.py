"""What a flow means, checked: links, reachability, ways out, citations, targets, templates.

Each check returns Problems rather than raising, so ``policybot validate`` can show a comms
officer every problem in every file at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.citations import Registry
from bot.errors import Problem
from bot.flow_model import BRANCH, DEFAULT_TARGETS, OUTCOME, QUESTION, Flow, State
from bot.schema_check import did_you_mean
from bot.settings import Settings
from bot.templates import check_template


def check_flow(flow: Flow, registry: Registry, settings: Settings) -> list[Problem]:
    """Every semantic problem in one structurally valid flow."""
    problems = _links(flow)
    if not problems:  # graph checks need every link to resolve
        problems += _reachability(flow)
    problems += _citations(flow, registry)
    problems += _targets(flow, settings)
    problems += _templates(flow, settings)
    problems += _options(flow)
    return problems


def _p(flow: Flow, line: int, message: str) -> Problem:
    return Problem(flow.path, line, message)


def _links(flow: Flow) -> list[Problem]:
    names = list(flow.states)
    problems = []
    if flow.start not in flow.states:
        problems.append(
            _p(
                flow,
                flow.lines.get("start", 1),
                f"start names '{flow.start}', which is not a state{did_you_mean(flow.start, names)}",
            )
        )
    for state in flow.states.values():
        links = [(o.next, o.line) for o in state.options] + [(r.next, r.line) for r in state.branch]
        for target, line in links:
            if target not in flow.states:
                problems.append(
                    _p(
                        flow,
                        line,
                        f"'{state.name}' goes next to '{target}', which is not a state{did_you_mean(target, names)}",
                    )
                )
    return problems


def _reachability(flow: Flow) -> list[Problem]:
    problems = []
    reachable = _walk(flow.start, lambda s: flow.states[s].successors)
    for state in flow.states.values():
        if state.name not in reachable:
            problems.append(_p(flow, state.line, f"state '{state.name}' can never be reached from '{flow.start}'"))
    predecessors: dict[str, list[str]] = {name: [] for name in flow.states}
    for state in flow.states.values():
        for nxt in state.successors:
            predecessors[nxt].append(state.name)
    can_finish = _walk_many([s.name for s in flow.outcomes], lambda s: predecessors[s])
    for state in flow.states.values():
        if state.name in can_finish or state.name not in reachable:
            continue
        cycle = _cycle_through(flow, state.name)
        if cycle:
            problems.append(
                _p(
                    flow,
                    state.line,
                    "these states go round in a circle with no way out to an outcome: "
                    + " -> ".join([*cycle, cycle[0]]),
                )
            )
        else:
            problems.append(_p(flow, state.line, f"state '{state.name}' has no way on to an outcome"))
    for state in flow.states.values():
        if state.kind == BRANCH and state.branch[-1].condition is not None:
            problems.append(
                _p(
                    flow,
                    state.branch[-1].line,
                    f"branch '{state.name}' must end with an 'else' so every organisation gets an answer",
                )
            )
    return problems


def _walk(start: str, successors: object) -> set[str]:
    return _walk_many([start], successors)


def _walk_many(starts: Iterable[str], successors: object) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(successors(name))  # type: ignore[operator]
    return seen


def _cycle_through(flow: Flow, start: str) -> list[str]:
    """A shortest cycle that passes through ``start``, or [] if it is on none."""
    paths: list[list[str]] = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for nxt in flow.states[path[-1]].successors:
            if nxt == start:
                return path
            if nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return []


def _citations(flow: Flow, registry: Registry) -> list[Problem]:
    problems = []
    ids = registry.ids()
    lists: list[tuple[State | None, tuple[str, ...], int]] = [(None, flow.cite, flow.lines.get("cite", 1))]
    lists += [(s, s.cite, s.line) for s in flow.states.values()]
    for state, cites, line in lists:
        if state is not None and state.kind == OUTCOME and not cites:
            problems.append(
                _p(
                    flow,
                    line,
                    f"outcome '{state.name}' cites no policy paragraph; add cite: [id] from flows/citations.yaml",
                )
            )
        for cid in cites:
            if cid not in registry:
                problems.append(
                    _p(flow, line, f"citation '{cid}' is not in the citation registry{did_you_mean(cid, ids)}")
                )
    return problems


def allowed_targets(settings: Settings) -> list[str]:
    """The closed set of escalation targets, plus any the organisation settings add."""
    return list(dict.fromkeys([*DEFAULT_TARGETS, *settings.targets]))


def _targets(flow: Flow, settings: Settings) -> list[Problem]:
    allowed = allowed_targets(settings)
    problems = []
    for state in flow.outcomes:
        if state.escalate is None:
            continue
        for target in state.escalate.all_targets:
            if target not in allowed:
                problems.append(
                    _p(
                        flow,
                        state.line,
                        f"'{target}' is not an escalation target; use one of "
                        f"{', '.join(allowed)}{did_you_mean(target, allowed)}",
                    )
                )
    return problems


def _templates(flow: Flow, settings: Settings) -> list[Problem]:
    org_keys = list(settings.template_org())
    rule_keys = list(settings.rules)
    answer_keys = [s.name for s in flow.states.values() if s.kind == QUESTION]
    problems = []

    def check(text: str | None, line: int, *, expression: bool = False) -> None:
        if text is None:
            return
        for issue in check_template(
            text, expression=expression, org_keys=org_keys, rule_keys=rule_keys, answer_keys=answer_keys
        ):
            problems.append(_p(flow, line + issue.line_offset, issue.message))

    for state in flow.states.values():
        check(state.ask, state.line)
        check(state.intro, state.line)
        check(state.say, state.line)
        for item in state.checklist:
            check(item, state.line)
        for option in state.options:
            check(option.label, option.line)
            check(option.feedback, option.line)
        for rule in state.branch:
            check(rule.condition, rule.line, expression=True)
        if state.escalate is not None:
            check(state.escalate.summary, state.line)
    return problems


def _options(flow: Flow) -> list[Problem]:
    problems = []
    for state in flow.states.values():
        labels = [o.label.strip().lower() for o in state.options]
        for option in state.options:
            if labels.count(option.label.strip().lower()) > 1:
                problems.append(
                    _p(
                        flow,
                        option.line,
                        f"question '{state.name}' has two options labelled "
                        f"'{option.label}'; a typed answer could not tell them apart",
                    )
                )
    return list(dict.fromkeys(problems))
