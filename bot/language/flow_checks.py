"""What a flow means, checked: links, reachability, ways out, citations, targets, templates.

Each check returns Problems rather than raising, so ``policybot validate`` can show a comms
officer every problem in every file at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from bot.errors import FileProblems, Problem
from bot.language.citations import Registry
from bot.language.flow_loader import FlowProblems, load_flow_file
from bot.language.flow_model import BRANCH, DEFAULT_TARGETS, OUTCOME, QUESTION, Flow, State
from bot.language.schema_check import did_you_mean
from bot.language.settings import Settings
from bot.language.templates import check_template
from bot.language.yamlload import LineDict, LineList, load_yaml_text


def check_flow(
    flow: Flow, registry: Registry, settings: Settings, *, unparsed: frozenset[str] | None = None
) -> list[Problem]:
    """Every semantic problem in one flow.

    ``unparsed`` is given for a flow whose structure is broken (see FlowProblems): it names the
    states that could not be read, links to them count as fine, and the whole-graph checks wait
    until the structure is fixed, while citations, targets and templates are checked now so the
    comms officer sees those problems in the same run.
    """
    where = _Where(flow)
    problems = _links(flow, unparsed or frozenset())
    graph_ok = not problems and unparsed is None
    if graph_ok:  # graph checks need every link to resolve
        problems += _reachability(flow)
    problems += _branch_order(flow)
    problems += _citations(flow, registry, where)
    problems += _targets(flow, settings, where)
    problems += _templates(flow, settings, where, answered_before(flow) if graph_ok else None, unparsed)
    problems += _options(flow)
    return problems


def check_broken_files(files: Iterable[str], registry: Registry, settings: Settings) -> list[Problem]:
    """The semantic problems in flow files whose structure is broken, from the parts that parse.

    ``policybot validate`` calls this for the files that had problems, so one run shows a bad
    citation next to the misspelt key above it.
    """
    problems: list[Problem] = []
    for name in sorted(set(files)):
        path = Path(name)
        if not path.is_file():
            continue
        try:
            load_flow_file(path)
        except FlowProblems as err:
            if err.partial is not None:
                problems += check_flow(err.partial, registry, settings, unparsed=err.unparsed)
        except FileProblems:
            continue
    return problems


def _p(flow: Flow, line: int, message: str) -> Problem:
    return Problem(flow.path, line, message)


class _Where:
    """The line of each piece of a state, read again from the flow's own text.

    The flow model keeps one line per state; a problem in a ``say:`` ten lines further down or
    in the third citation is quicker to fix when it is reported at its own line. The text is
    parsed again only when a problem needs a line, so clean flows (nearly all, at start-up) pay
    nothing.
    """

    def __init__(self, flow: Flow) -> None:
        self._flow = flow
        self._parsed = False
        self._top: LineDict | None = None
        self._states: LineDict | None = None

    def _load(self) -> None:
        self._parsed = True
        try:
            data = load_yaml_text(self._flow.source, self._flow.path) if self._flow.source else None
        except FileProblems:
            data = None
        self._top = data if isinstance(data, LineDict) else None
        states = self._top.get("states") if self._top is not None else None
        self._states = states if isinstance(states, LineDict) else None

    def _raw(self, state: State | None) -> LineDict | None:
        if not self._parsed:
            self._load()
        if state is None:
            return self._top
        raw = self._states.get(state.name) if self._states is not None else None
        return raw if isinstance(raw, LineDict) else None

    def value(self, state: State, key: str, *, inside: str | None = None) -> int:
        """Where the text of ``key`` begins (under ``inside``, e.g. escalate.summary)."""
        raw = self._raw(state)
        if raw is not None and inside is not None:
            raw = raw.get(inside) if isinstance(raw.get(inside), LineDict) else None
        return raw.value_line(key) if raw is not None and key in raw else state.line

    def item(self, state: State | None, key: str, index: int, *, inside: str | None = None) -> int:
        """The line of item ``index`` of the list ``key`` (a state's, or the flow's when state is None)."""
        raw = self._raw(state)
        fallback = self._flow.lines.get(key, 1) if state is None else state.line
        if raw is not None and inside is not None:
            raw = raw.get(inside) if isinstance(raw.get(inside), LineDict) else None
        items = raw.get(key) if raw is not None else None
        return items.line_of(index) if isinstance(items, LineList) else fallback

    def item_value(self, state: State, key: str, index: int, field: str) -> int:
        """Where the text of ``field`` in item ``index`` of ``key`` begins (an option's feedback)."""
        raw = self._raw(state)
        items = raw.get(key) if raw is not None else None
        entry = items[index] if isinstance(items, LineList) and index < len(items) else None
        if isinstance(entry, LineDict) and field in entry:
            return entry.value_line(field)
        return self.item(state, key, index)


def _links(flow: Flow, unparsed: frozenset[str]) -> list[Problem]:
    names = [*flow.states, *unparsed]
    problems = []
    if flow.start and flow.start not in names:
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
            if target not in flow.states and target not in unparsed:
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
    cycles_seen: set[frozenset[str]] = set()
    for state in flow.states.values():
        if state.name in can_finish or state.name not in reachable:
            continue
        cycle = _cycle_through(flow, state.name)
        if cycle and frozenset(cycle) in cycles_seen:
            continue  # one report per circle, at its first state, not one per state on it
        if cycle:
            cycles_seen.add(frozenset(cycle))
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
        # branches are followed without asking anything, so a circle of them can spin for ever
        # (the engine stops with an error) even when another rule leads out of it
        if state.kind != BRANCH or state.name not in can_finish:
            continue
        cycle = _cycle_through(flow, state.name, branches_only=True)
        if cycle and frozenset(cycle) not in cycles_seen:
            cycles_seen.add(frozenset(cycle))
            problems.append(
                _p(
                    flow,
                    state.line,
                    "these branches lead back to each other without a question in between, so a "
                    "conversation can be stuck in them: " + " -> ".join([*cycle, cycle[0]]),
                )
            )
    return problems


def _branch_order(flow: Flow) -> list[Problem]:
    """A branch needs a last 'else' (every organisation gets an answer) and nothing after it."""
    problems = []
    for state in flow.states.values():
        if state.kind != BRANCH or not state.branch:
            continue
        elses = [i for i, rule in enumerate(state.branch) if rule.condition is None]
        if not elses:
            problems.append(
                _p(
                    flow,
                    state.branch[-1].line,
                    f"branch '{state.name}' must end with an 'else' so every organisation gets an answer",
                )
            )
        elif elses[0] != len(state.branch) - 1:
            problems.append(
                _p(
                    flow,
                    state.branch[elses[0] + 1].line,
                    f"branch '{state.name}' has rules after its 'else', which are never used; "
                    "make the 'else' the last rule",
                )
            )
    return problems


def answered_before(flow: Flow) -> dict[str, frozenset[str]]:
    """For each reachable state, the questions answered on every way from the start to it.

    A template shown at a state can rely on ``answers.x`` only for these. Needs every link to
    resolve (check _links first).
    """
    reachable = _walk(flow.start, lambda s: flow.states[s].successors)
    predecessors: dict[str, list[str]] = {name: [] for name in reachable}
    for name in reachable:
        for nxt in flow.states[name].successors:
            predecessors[nxt].append(name)
    questions = frozenset(s.name for s in flow.states.values() if s.kind == QUESTION)
    before: dict[str, frozenset[str]] = {name: questions for name in reachable}
    before[flow.start] = frozenset()
    changed = True
    while changed:  # shrink to the greatest fixed point: what every predecessor passes on
        changed = False
        for name in reachable:
            if name == flow.start:
                continue
            passed = [before[p] | ({p} & questions) for p in predecessors[name]]
            new = frozenset.intersection(*passed) if passed else frozenset()
            if new != before[name]:
                before[name], changed = new, True
    return before


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


def _cycle_through(flow: Flow, start: str, *, branches_only: bool = False) -> list[str]:
    """A shortest cycle that passes through ``start`` (only through branches, if asked), or []."""
    paths: list[list[str]] = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for nxt in flow.states[path[-1]].successors:
            if branches_only and flow.states[nxt].kind != BRANCH:
                continue
            if nxt == start:
                return path
            if nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return []


def _citations(flow: Flow, registry: Registry, where: _Where) -> list[Problem]:
    problems = []
    ids = registry.ids()
    lists: list[tuple[State | None, tuple[str, ...]]] = [(None, flow.cite)]
    lists += [(s, s.cite) for s in flow.states.values()]
    for state, cites in lists:
        if state is not None and state.kind == OUTCOME and not cites:
            problems.append(
                _p(
                    flow,
                    state.line,
                    f"outcome '{state.name}' cites no policy paragraph; add cite: [id] from flows/citations.yaml",
                )
            )
        # (id, its line): looked up only for an id with a problem
        located: list[tuple[str, Callable[[], int]]] = [
            (cid, partial(where.item, state, "cite", index)) for index, cid in enumerate(cites)
        ]
        if state is not None:
            for i, rule in enumerate(state.cite_if):
                located += [(cid, partial(where.item_value, state, "cite_if", i, "cite")) for cid in rule.cite]
        for cid, line in located:
            if cid not in registry:
                problems.append(
                    _p(flow, line(), f"citation '{cid}' is not in the citation registry{did_you_mean(cid, ids)}")
                )
    return problems


def allowed_targets(settings: Settings) -> list[str]:
    """The closed set of escalation targets, plus any the organisation settings add."""
    return list(dict.fromkeys([*DEFAULT_TARGETS, *settings.targets]))


def _targets(flow: Flow, settings: Settings, where: _Where) -> list[Problem]:
    allowed = allowed_targets(settings)
    problems = []
    for state in flow.outcomes:
        if state.escalate is None:
            continue
        listed = [("to", i, t) for i, t in enumerate(state.escalate.to)]
        listed += [("then", i, t) for i, t in enumerate(state.escalate.then)]
        for key, index, target in listed:
            if target not in allowed:
                problems.append(
                    _p(
                        flow,
                        where.item(state, key, index, inside="escalate"),
                        f"'{target}' is not an escalation target; use one of "
                        f"{', '.join(allowed)}{did_you_mean(target, allowed)}",
                    )
                )
    return problems


def _templates(
    flow: Flow,
    settings: Settings,
    where: _Where,
    before: dict[str, frozenset[str]] | None,
    unparsed: frozenset[str] | None,
) -> list[Problem]:
    """Template problems at the line of the text itself (a ``say: |`` block counts from its first line).

    ``before`` (see answered_before) adds the check that ``answers.x`` has an answer wherever
    the text is shown; it is None while the flow's links are broken.
    """
    org = settings.template_org()
    org_keys, rule_keys, contact_keys = list(org), list(settings.rules), list(org["contacts"])
    # a state that failed its structural check may well be a question: do not call its answers unknown
    answer_keys = [s.name for s in flow.states.values() if s.kind == QUESTION] + sorted(unparsed or ())
    problems = []

    def check(
        text: str | None, line: Callable[[], int], answered: Iterable[str] | None, *, expression: bool = False
    ) -> None:
        if text is None:
            return
        for issue in check_template(
            text,
            expression=expression,
            org_keys=org_keys,
            rule_keys=rule_keys,
            answer_keys=answer_keys,
            contact_keys=contact_keys,
            answered=answered,
        ):
            problems.append(_p(flow, line() + issue.line_offset, issue.message))

    for s in flow.states.values():
        known = None if before is None or s.name not in before else before[s.name]
        after_own = None if known is None else known | {s.name}  # feedback follows this answer
        # lines are looked up only for a text with a problem
        check(s.ask, partial(where.value, s, "ask"), known)
        check(s.intro, partial(where.value, s, "intro"), known)
        check(s.say, partial(where.value, s, "say"), known)
        for i, item in enumerate(s.checklist):
            check(item, partial(where.item, s, "checklist", i), known)
        for i, option in enumerate(s.options):
            check(option.label, partial(where.item_value, s, "options", i, "label"), known)
            check(option.feedback, partial(where.item_value, s, "options", i, "feedback"), after_own)
        for i, rule in enumerate(s.branch):
            check(rule.condition, partial(where.item_value, s, "branch", i, "if"), known, expression=True)
        for i, cite_rule in enumerate(s.cite_if):
            check(cite_rule.condition, partial(where.item_value, s, "cite_if", i, "if"), known, expression=True)
        if s.escalate is not None:
            check(s.escalate.summary, partial(where.value, s, "summary", inside="escalate"), known)
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
