"""The shape of a flow's graph, in time linear (or nearly) in its size: who can be reached, who
can finish, which states go round in circles, and which questions every way to a state asks.

``validate`` runs these on every flow, including flows written carelessly or on purpose to be
slow: a 1,000-state chain took 17 s when each state searched the graph again (a breadth-first
search per stuck state, and a fixed point over sets of questions). Here each question is answered
by one or two passes over the graph: strongly connected components (Tarjan, iteratively, so no
recursion limit), and the dominator tree (Cooper, Harvey and Kennedy's iterative algorithm)
for "answered on every way in".

A graph here is the states' names in flow order and a successor list for each; links to names
that are not states are left out by the caller (they are reported on their own).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container, Iterable, Mapping, Sequence

Graph = Mapping[str, Sequence[str]]


def walk(starts: Iterable[str], successors: Graph) -> set[str]:
    """Every state reachable from ``starts`` (themselves included)."""
    seen: set[str] = set()
    stack = [s for s in starts if s in successors]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(n for n in successors[name] if n not in seen)
    return seen


def reverse(graph: Graph) -> dict[str, list[str]]:
    predecessors: dict[str, list[str]] = {name: [] for name in graph}
    for name, nexts in graph.items():
        for nxt in nexts:
            predecessors[nxt].append(name)
    return predecessors


def components(graph: Graph) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, without recursion), each in flow order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    position = {name: i for i, name in enumerate(graph)}
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            name, nexts = work[-1]
            nxt = next(nexts, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                elif nxt in on_stack:
                    low[name] = min(low[name], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
            if low[name] == index[name]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == name:
                        break
                found.append(sorted(component, key=position.__getitem__))
    return found


def is_circle(component: list[str], graph: Graph) -> bool:
    """A component is a circle when it has two states or more, or one that leads to itself."""
    return len(component) > 1 or component[0] in graph[component[0]]


def shortest_circle(start: str, members: Container[str], graph: Graph) -> list[str]:
    """A shortest way from ``start`` back to itself through ``members`` only (breadth first), or []."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        for nxt in graph[name]:
            if nxt not in members:
                continue
            if nxt == start:
                path = [name]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if nxt not in came_from:
                came_from[nxt] = name
                queue.append(nxt)
    return []


class AnsweredBefore:
    """Which questions are answered on every way from the start to each reachable state.

    A question q is answered on every way to s exactly when q strictly dominates s (q lies on
    every path from the start to s), so this is the dominator tree, asked with pre- and
    post-order numbers: each "is q sure at s?" costs O(1), and building it is near linear.
    """

    def __init__(self, start: str, graph: Graph, questions: Container[str]) -> None:
        self._questions = questions
        self.reachable = walk([start], graph)
        order = _reverse_postorder(start, graph)
        number = {name: i for i, name in enumerate(order)}
        predecessors = reverse({n: [m for m in graph[n] if m in number] for n in order})
        idom: dict[str, str] = {start: start}
        changed = True
        while changed:
            changed = False
            for name in order[1:]:
                chosen: str | None = None
                for pred in predecessors[name]:
                    if pred in idom:
                        chosen = pred if chosen is None else _intersect(pred, chosen, idom, number)
                if chosen is not None and idom.get(name) != chosen:
                    idom[name] = chosen
                    changed = True
        self._idom = idom
        children: dict[str, list[str]] = {name: [] for name in idom}
        for name, parent in idom.items():
            if name != start:
                children[parent].append(name)
        self._enter: dict[str, int] = {}
        self._leave: dict[str, int] = {}
        clock = 0
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            name, done = stack.pop()
            clock += 1
            if done:
                self._leave[name] = clock
                continue
            self._enter[name] = clock
            stack.append((name, True))
            stack.extend((child, False) for child in children[name])

    def sure_at(self, state: str) -> Container[str] | None:
        """The questions sure to have an answer at ``state``, or None for a state never reached."""
        if state not in self._enter:
            return None
        return _Sure(self, state)

    def strictly_dominates(self, ancestor: str, state: str) -> bool:
        enter, leave = self._enter, self._leave
        return (
            ancestor != state
            and ancestor in enter
            and enter[ancestor] < enter[state]
            and leave[state] < leave[ancestor]
        )

    def as_sets(self) -> dict[str, frozenset[str]]:
        """Every reachable state's questions as a set (for tests and tools; quadratic in the worst case)."""
        result: dict[str, frozenset[str]] = {}
        for name in self._enter:
            chain = []
            node = name
            while node != self._idom[node]:
                node = self._idom[node]
                if node in self._questions:
                    chain.append(node)
            result[name] = frozenset(chain)
        return result


class _Sure:
    def __init__(self, tree: AnsweredBefore, state: str) -> None:
        self._tree = tree
        self._state = state

    def __contains__(self, question: object) -> bool:
        tree = self._tree
        return (
            isinstance(question, str) and question in tree._questions and tree.strictly_dominates(question, self._state)
        )


def _reverse_postorder(start: str, graph: Graph) -> list[str]:
    order: list[str] = []
    seen = {start}
    work = [(start, iter(graph[start]))]
    while work:
        name, nexts = work[-1]
        nxt = next(nexts, None)
        if nxt is None:
            work.pop()
            order.append(name)
        elif nxt not in seen:
            seen.add(nxt)
            work.append((nxt, iter(graph[nxt])))
    return order[::-1]


def _intersect(a: str, b: str, idom: dict[str, str], number: dict[str, int]) -> str:
    while a != b:
        while number[a] > number[b]:
            a = idom[a]
        while number[b] > number[a]:
            b = idom[b]
    return a
