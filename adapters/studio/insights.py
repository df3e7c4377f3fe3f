"""The figures behind the Insights page, from the core's own reports.

- drop-off funnel per flow: how many conversations reached each question (answered it, or
  stopped there) and how many left there, from ``bot.ops.reports.flow_stats`` (where people
  stopped) and the audit table's answers;
- verdict mix: outcomes reached, from the same report;
- time to acknowledge, median and 90th percentile, by the target a case was first sent to;
- onboarding completion by team, from ``bot.ops.reports.onboarding_report`` (one team per line
  manager in the staff directory);
- the routing report's misses, from ``bot.ops.routing_report``.

Working these out reads every conversation of the period (about a second for 100,000), so the
result is kept and refreshed in the background once it is a minute old (``CACHE_SECONDS``), and
the page says when it was worked out: a dashboard a minute old is fine, a page that takes a
second is not (docs/benchmarks.md, "Studio").
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.cases.directory import Directory
from bot.cases.tables import case_recipients, cases
from bot.conversation.library import FlowLibrary
from bot.language.flow_model import QUESTION, Flow
from bot.ops.reports import FlowStats, flow_stats, onboarding_report
from bot.ops.routing_report import RoutingReport, routing_report
from bot.store import Store
from bot.store.schema import audit

CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class FunnelStep:
    state: str
    question: str
    reached: int
    left: int


@dataclass(frozen=True)
class AckTimes:
    target: str
    name: str
    cases: int
    acknowledged: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class TeamOnboarding:
    manager_id: str
    manager: str
    people: int
    completed: int
    started: int

    @property
    def share(self) -> int:
        return round(100 * self.completed / self.people) if self.people else 0


@dataclass
class Insights:
    generated_at: datetime
    since: datetime
    stats: list[FlowStats]
    funnels: dict[str, list[FunnelStep]]
    ack: list[AckTimes]
    onboarding: list[TeamOnboarding]
    routing: RoutingReport
    verdicts: dict[str, int] = field(default_factory=dict)


def question_order(flow: Flow) -> list[str]:
    """The flow's questions in the order a person meets them (breadth first from the start)."""
    seen: list[str] = []
    queue = [flow.start]
    while queue:
        name = queue.pop(0)
        if name in seen or name not in flow.states:
            continue
        seen.append(name)
        state = flow.states[name]
        queue += [o.next for o in state.options] + [r.next for r in state.branch]
    return [n for n in seen if flow.states[n].kind == QUESTION]


def _answered(store: Store, since: datetime) -> dict[tuple[str, str], int]:
    query = (
        select(audit.c.flow_id, audit.c.state, func.count(func.distinct(audit.c.conversation_id)))
        .where(audit.c.action == "answer", audit.c.at >= since)
        .group_by(audit.c.flow_id, audit.c.state)
    )
    with store.transaction() as conn:
        return {(f, s): int(n) for f, s, n in conn.execute(query)}


def funnels(
    library: FlowLibrary, stats: list[FlowStats], answered: dict[tuple[str, str], int]
) -> dict[str, list[FunnelStep]]:
    by_flow = {s.flow: s for s in stats}
    out: dict[str, list[FunnelStep]] = {}
    for flow in library.all():
        st = by_flow.get(flow.id)
        left_at = st.abandoned_at if st else {}
        steps = []
        for name in question_order(flow):
            left = left_at.get(name, 0)
            steps.append(FunnelStep(name, flow.states[name].ask or name, answered.get((flow.id, name), 0) + left, left))
        out[flow.id] = steps
    return out


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1])


def ack_times(store: Store, settings_names: dict[str, str], since: datetime) -> list[AckTimes]:
    query = (
        select(case_recipients.c.target, cases.c.id, cases.c.created_at, cases.c.acknowledged_at)
        .join(cases, cases.c.id == case_recipients.c.case_id)
        .where(case_recipients.c.round == 0, cases.c.created_at >= since)
    )
    counted: dict[str, set[str]] = defaultdict(set)
    waits: dict[str, list[float]] = defaultdict(list)
    with store.transaction() as conn:
        for target, case_id, created, acked in conn.execute(query):
            if case_id in counted[target]:
                continue
            counted[target].add(case_id)
            if acked is not None:
                waits[target].append((acked - created).total_seconds())
    return [
        AckTimes(
            target,
            settings_names.get(target, target.replace("_", " ")),
            len(counted[target]),
            len(waits[target]),
            float(statistics.median(waits[target])) if waits[target] else None,
            _percentile(sorted(waits[target]), 0.9),
        )
        for target in sorted(counted)
    ]


def onboarding_by_team(store: Store, library: FlowLibrary, directory: Directory) -> list[TeamOnboarding]:
    if "onboarding" not in library:
        return []
    teams = []
    for person in directory:
        if not directory.reports_of(person.id):
            continue
        manager, rows = onboarding_report(store, library, directory, person.id)
        teams.append(
            TeamOnboarding(
                manager.id,
                manager.name,
                len(rows),
                sum(r.status == "completed" for r in rows),
                sum(r.status == "started" for r in rows),
            )
        )
    return sorted(teams, key=lambda t: t.manager)


def compute(store: Store, library: FlowLibrary, directory: Directory, now: datetime, days: int) -> Insights:
    since = now - timedelta(days=days)
    stats = flow_stats(store, library, now, since=since)
    verdicts: dict[str, int] = defaultdict(int)
    for s in stats:
        for verdict, n in s.verdicts.items():
            verdicts[verdict] += n
    names = {t: library.settings.target_name(t) for t in library.settings.targets}
    return Insights(
        generated_at=now,
        since=since,
        stats=stats,
        funnels=funnels(library, stats, _answered(store, since)),
        ack=ack_times(store, names, since),
        onboarding=onboarding_by_team(store, library, directory),
        routing=routing_report(store, library, since),
        verdicts=dict(sorted(verdicts.items())),
    )


class InsightsCache:
    """One computed ``Insights`` per period. Older than ``CACHE_SECONDS``, it is still served while
    a thread works out the new one, so after the first look at a period no page waits for it."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._kept: dict[int, tuple[float, Insights]] = {}
        self._refreshing: set[int] = set()
        self._lock = threading.Lock()

    def get(self, store: Store, library: FlowLibrary, directory: Directory, now: datetime, days: int) -> Insights:
        kept = self._kept.get(days)
        if kept is None:
            return self._compute(store, library, directory, now, days)
        if time.monotonic() - kept[0] >= self.seconds:
            with self._lock:
                start = days not in self._refreshing
                self._refreshing.add(days)
            if start:
                threading.Thread(target=self._compute, args=(store, library, directory, now, days), daemon=True).start()
        return kept[1]

    def _compute(self, store: Store, library: FlowLibrary, directory: Directory, now: datetime, days: int) -> Insights:
        try:
            found = compute(store, library, directory, now, days)
            self._kept[days] = (time.monotonic(), found)
            return found
        finally:
            with self._lock:
                self._refreshing.discard(days)
