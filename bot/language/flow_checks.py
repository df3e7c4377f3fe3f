"""What a flow means, checked: links, reachability, ways out, citations, targets, templates.

Each check returns Problems rather than raising, so ``policybot validate`` can show a comms
officer every problem in every file at once.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from functools import partial

from bot.errors import FileProblems, Problem
from bot.language.citations import Registry
from bot.language.flow_loader import UnparsedState
from bot.language.flow_model import BRANCH, DEFAULT_TARGETS, OUTCOME, QUESTION, Flow, State
from bot.language.reachability import AnsweredBefore, components, is_circle, reverse, shortest_circle, walk
from bot.language.schema_check import did_you_mean
from bot.language.settings import Settings
from bot.language.templates import check_template
from bot.language.yamlload import LineDict, LineList, load_yaml_text


def check_flow(
    flow: Flow, registry: Registry, settings: Settings, *, unparsed: Mapping[str, UnparsedState] | None = None
) -> list[Problem]:
    """Every semantic problem in one flow.

    ``unparsed`` is given for a flow whose structure is broken (see FlowProblems): the states that
    are not even a recognisable kind of state, with the links they seem to have. Every check
    still runs on what was read: links to those states count as fine, the graph checks walk the
    states that exist (an unparsed state is taken to lead on to an outcome), and citations,
    targets and templates are checked in every state, so the comms officer sees every problem in
    one run.
    """
    unparsed = unparsed or {}
    where = _Where(flow)
    problems = _links(flow, unparsed)
    graph = _graph(flow, unparsed)
    before = None
    if flow.start in graph:
        problems += _reachability(flow, graph, unparsed)
        before = AnsweredBefore(flow.start, graph, _questions(flow, unparsed))
    problems += _branch_order(flow)
    problems += _citations(flow, registry, where)
    problems += _targets(flow, settings, where)
    problems += _templates(flow, settings, where, before, unparsed)
    problems += _options(flow)
    return problems


def _graph(flow: Flow, unparsed: Mapping[str, UnparsedState]) -> dict[str, list[str]]:
    """Successors of every state that exists, parsed or not, leaving out links to no state."""
    names = set(flow.states) | set(unparsed)
    graph = {name: [n for n in state.successors if n in names] for name, state in flow.states.items()}
    graph.update({name: [n for n in raw.successors if n in names] for name, raw in unparsed.items()})
    return graph


def _questions(flow: Flow, unparsed: Mapping[str, UnparsedState]) -> frozenset[str]:
    """Question states, and the unparsed ones (which may well be questions)."""
    return frozenset(s.name for s in flow.states.values() if s.kind == QUESTION) | frozenset(unparsed)


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

    def has(self, state: State, key: str) -> bool:
        raw = self._raw(state)
        return raw is not None and key in raw

    def item_value(self, state: State, key: str, index: int, field: str, item_line: int | None = None) -> int:
        """Where the text of ``field`` in item ``index`` of ``key`` begins (an option's feedback).

        ``item_line`` (the item's own line) finds the item when the state is loose, whose lists
        leave out items of the wrong type, so its indexes may differ from the file's.
        """
        raw = self._raw(state)
        items = raw.get(key) if raw is not None else None
        if isinstance(items, LineList) and item_line is not None:
            index = next((j for j in range(len(items)) if items.line_of(j) == item_line), index)
        entry = items[index] if isinstance(items, LineList) and index < len(items) else None
        if isinstance(entry, LineDict) and field in entry:
            return entry.value_line(field)
        return self.item(state, key, index)


def _links(flow: Flow, unparsed: Mapping[str, UnparsedState]) -> list[Problem]:
    names = [*flow.states, *unparsed]
    known = set(names)
    problems = []
    if flow.start and flow.start not in known:
        problems.append(
            _p(
                flow,
                flow.lines.get("start", 1),
                f"start names '{flow.start}', which is not a state{did_you_mean(flow.start, names)}",
            )
        )
    for state in flow.states.values():
        links = [(o.next, o.next_line or o.line) for o in state.options] + [(r.next, r.line) for r in state.branch]
        for target, line in links:
            if target not in known:
                problems.append(
                    _p(
                        flow,
                        line,
                        f"'{state.name}' goes next to '{target}', which is not a state{did_you_mean(target, names)}",
                    )
                )
    return problems


def _reachability(flow: Flow, graph: dict[str, list[str]], unparsed: Mapping[str, UnparsedState]) -> list[Problem]:
    """Unreachable states, states with no way on to an outcome, and circles, over the states that exist.

    A state with a link to no state, and an unparsed state, are taken to have a way on: their
    problem is reported where it is, not again at every state before them.
    """
    problems = []
    reachable = walk([flow.start], graph)
    for name in graph:
        if name not in reachable:
            line = flow.states[name].line if name in flow.states else unparsed[name].line
            problems.append(_p(flow, line, f"state '{name}' can never be reached from '{flow.start}'"))
    unsure = [s.name for s in flow.states.values() if s.loose or len(graph[s.name]) < len(s.successors)]
    finishing = [s.name for s in flow.outcomes] + list(unparsed) + unsure
    can_finish = walk(finishing, reverse(graph))
    stuck = {name: [n for n in graph[name]] for name in graph if name in reachable and name not in can_finish}
    for component in components(stuck):
        first = component[0]
        if is_circle(component, stuck):
            circle = shortest_circle(first, set(component), stuck)
            problems.append(
                _p(
                    flow,
                    flow.states[first].line,
                    "these states go round in a circle with no way out to an outcome: "
                    + " -> ".join([*circle, circle[0]]),
                )
            )
        else:
            problems.append(_p(flow, flow.states[first].line, f"state '{first}' has no way on to an outcome"))
    # branches are followed without asking anything, so a circle of them can spin for ever (the
    # engine stops with an error) even when another rule leads out of it
    branches = {
        s.name: [n for n in graph[s.name] if n in flow.states and flow.states[n].kind == BRANCH]
        for s in flow.states.values()
        if s.kind == BRANCH and s.name in can_finish
    }
    branches = {name: [n for n in nexts if n in branches] for name, nexts in branches.items()}
    for component in components(branches):
        if is_circle(component, branches):
            circle = shortest_circle(component[0], set(component), branches)
            problems.append(
                _p(
                    flow,
                    flow.states[component[0]].line,
                    "these branches lead back to each other without a question in between, so a "
                    "conversation can be stuck in them: " + " -> ".join([*circle, circle[0]]),
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

    A template shown at a state can rely on ``answers.x`` only for these. Links to no state are
    left out.
    """
    graph = _graph(flow, {})
    if flow.start not in graph:
        return {}
    return AnsweredBefore(flow.start, graph, _questions(flow, {})).as_sets()


def _citations(flow: Flow, registry: Registry, where: _Where) -> list[Problem]:
    problems = []
    ids = registry.ids()
    lists: list[tuple[State | None, tuple[str, ...]]] = [(None, flow.cite)]
    lists += [(s, s.cite) for s in flow.states.values()]
    for state, cites in lists:
        # a loose state's cite that is there but malformed is reported by the schema check already
        if state is not None and state.kind == OUTCOME and not cites and not (state.loose and where.has(state, "cite")):
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
                at = partial(where.item_value, state, "cite_if", i, "cite", rule.line)
                located += [(cid, at) for cid in rule.cite]
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
    before: AnsweredBefore | None,
    unparsed: Mapping[str, UnparsedState],
) -> list[Problem]:
    """Template problems at the line of the text itself (a ``say: |`` block counts from its first line).

    ``before`` (see AnsweredBefore) adds the check that ``answers.x`` has an answer wherever
    the text is shown; it is None while ``start`` names no state.
    """
    org = settings.template_org()
    org_keys, rule_keys, contact_keys = list(org), list(settings.rules), list(org["contacts"])
    # a state that failed its structural check may well be a question: do not call its answers unknown
    answer_keys = [s.name for s in flow.states.values() if s.kind == QUESTION] + sorted(unparsed)
    problems = []

    def check(
        text: str | None, line: Callable[[], int], answered: Container[str] | None, *, expression: bool = False
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
        known = None if before is None else before.sure_at(s.name)
        after_own = None if known is None else _AndThis(known, s.name)  # feedback follows this answer
        # lines are looked up only for a text with a problem
        check(s.ask, partial(where.value, s, "ask"), known)
        check(s.intro, partial(where.value, s, "intro"), known)
        check(s.say, partial(where.value, s, "say"), known)
        for i, item in enumerate(s.checklist):
            check(item, partial(where.item, s, "checklist", i), known)
        for i, option in enumerate(s.options):
            check(option.label, partial(where.item_value, s, "options", i, "label", option.line), known)
            check(option.feedback, partial(where.item_value, s, "options", i, "feedback", option.line), after_own)
        for i, rule in enumerate(s.branch):
            line = partial(where.item_value, s, "branch", i, "if", rule.line)
            check(rule.condition, line, known, expression=True)
        for i, cite_rule in enumerate(s.cite_if):
            line = partial(where.item_value, s, "cite_if", i, "if", cite_rule.line)
            check(cite_rule.condition, line, known, expression=True)
        if s.escalate is not None:
            check(s.escalate.summary, partial(where.value, s, "summary", inside="escalate"), known)
    return problems


class _AndThis:
    """The questions sure at a state, and the state's own answer (for its options' feedback)."""

    def __init__(self, sure: Container[str], own: str) -> None:
        self._sure = sure
        self._own = own

    def __contains__(self, question: object) -> bool:
        return question == self._own or question in self._sure


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
