"""Reports over the store: flow statistics, who has done the onboarding walkthrough, and purging
data past its retention age.

They read the same tables the engine and the case service write (conversations, audit, cases),
with the same SQLAlchemy Core on SQLite and PostgreSQL, so they need nothing extra recorded.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select

from bot.cases.directory import Directory, Person
from bot.cases.model import CLOSED, LIVE
from bot.cases.tables import case_events, case_recipients, cases, outbox, timers
from bot.conversation.events import Actor
from bot.conversation.library import FlowLibrary
from bot.errors import PolicybotError, UnknownFlow
from bot.language.schema_check import did_you_mean
from bot.store import Store, routing_log
from bot.store.database import conversation_from_row
from bot.store.records import ABANDONED, ACTIVE, DONE, SET_ASIDE, Conversation
from bot.store.schema import audit, conversations, deliveries, inbound_events

_AGE = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """'90d', '12w', '36h' as a timedelta; anything else is a PolicybotError that says the form."""
    match = _AGE.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise PolicybotError(f"'{text}' is not an age like 90d (days), 12w (weeks) or 36h (hours)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: an age back from now ('30d') or a date ('2026-11-01', midnight UTC)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            return now - parse_age(text)
        except PolicybotError:
            raise PolicybotError(f"'{text}' is neither an age like 30d nor a date like 2026-11-01") from None
    return when if when.tzinfo else when.replace(tzinfo=now.tzinfo)


# -- statistics ------------------------------------------------------------------------------------


@dataclass
class FlowStats:
    """One flow's numbers over the period."""

    flow: str
    title: str
    started: int = 0
    completed: int = 0
    abandoned: int = 0
    abandoned_at: dict[str, int] = field(default_factory=dict)  # state -> conversations left there
    in_progress: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)  # outcomes reached (a restart may reach another)
    escalations: int = 0
    acknowledged: int = 0
    median_seconds_to_acknowledge: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "title": self.title,
            "started": self.started,
            "completed": self.completed,
            "abandoned": self.abandoned,
            "abandoned_at": dict(sorted(self.abandoned_at.items(), key=lambda kv: (-kv[1], kv[0]))),
            "in_progress": self.in_progress,
            "verdicts": dict(sorted(self.verdicts.items())),
            "escalations": self.escalations,
            "acknowledged": self.acknowledged,
            "median_seconds_to_acknowledge": self.median_seconds_to_acknowledge,
        }


def flow_stats(
    store: Store, library: FlowLibrary, now: datetime, *, since: datetime | None = None, idle: timedelta | None = None
) -> list[FlowStats]:
    """Per flow: conversations started, completed, abandoned (and where), verdicts, escalations and
    the median time to acknowledge, counting conversations and cases started at or after ``since``.

    A conversation nobody has touched for ``idle`` (default a day) counts as abandoned where it
    stopped: people rarely type "quit", they just stop answering.
    """
    idle = idle if idle is not None else timedelta(days=1)
    titles = {f.id: f.title for f in library.all()}
    found: dict[str, FlowStats] = {}

    def of(flow_id: str) -> FlowStats:
        if flow_id not in found:
            found[flow_id] = FlowStats(flow_id, titles.get(flow_id, flow_id))
        return found[flow_id]

    for flow_id in titles:
        of(flow_id)
    with store.transaction() as conn:
        query = select(
            conversations.c.flow_id, conversations.c.status, conversations.c.state, conversations.c.updated_at
        )
        if since is not None:
            query = query.where(conversations.c.created_at >= since)
        for flow_id, status, state, updated_at in conn.execute(query):
            stats = of(flow_id)
            stats.started += 1
            if status == DONE:
                stats.completed += 1
            elif status == ABANDONED or (status in (ACTIVE, SET_ASIDE) and now - updated_at >= idle):
                stats.abandoned += 1
                stats.abandoned_at[state] = stats.abandoned_at.get(state, 0) + 1
            else:
                stats.in_progress += 1
        outcomes = select(audit.c.flow_id, audit.c.detail, func.count()).where(audit.c.action == "outcome")
        if since is not None:
            outcomes = outcomes.where(audit.c.at >= since)
        for flow_id, verdict, count in conn.execute(outcomes.group_by(audit.c.flow_id, audit.c.detail)):
            of(flow_id).verdicts[str(verdict)] = int(count)
        case_query = select(cases.c.flow_id, cases.c.created_at, cases.c.acknowledged_at)
        if since is not None:
            case_query = case_query.where(cases.c.created_at >= since)
        waits: dict[str, list[float]] = defaultdict(list)
        for flow_id, created_at, acknowledged_at in conn.execute(case_query):
            stats = of(flow_id)
            stats.escalations += 1
            if acknowledged_at is not None:
                stats.acknowledged += 1
                waits[flow_id].append((acknowledged_at - created_at).total_seconds())
        for flow_id, values in waits.items():
            of(flow_id).median_seconds_to_acknowledge = float(statistics.median(values))
    return sorted(found.values(), key=lambda s: s.flow)


def stats_json(rows: list[FlowStats], now: datetime, since: datetime | None) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    for row in rows:
        for key in ("started", "completed", "abandoned", "in_progress", "escalations", "acknowledged"):
            totals[key] += getattr(row, key)
    return {
        "generated_at": now.isoformat(),
        "since": since.isoformat() if since else None,
        "flows": [r.to_json() for r in rows],
        "totals": dict(totals),
    }


def describe_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# -- onboarding --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingRow:
    """Where one member of a team stands with the walkthrough."""

    person: Person
    status: str  # completed, started, not started
    completed_at: datetime | None = None
    score: tuple[int, int] | None = None  # (correct, total) of the latest completion


def onboarding_report(
    store: Store,
    library: FlowLibrary,
    directory: Directory,
    manager_id: str,
    *,
    flow_id: str = "onboarding",
    indirect: bool = False,
) -> tuple[Person, list[OnboardingRow]]:
    """Who in a manager's team has completed the walkthrough flow (their latest attempt counts).

    Conversations are filed under the chat account (``slack:T:U``, ``teams:<id>``,
    ``console:<login>``); each account is matched to a directory entry through its Slack id,
    Teams id or (in the terminal) directory id, so entries need those ids to be matched.
    """
    manager = directory.get(manager_id)
    if manager is None:
        ids = [p.id for p in directory]
        raise PolicybotError(
            f"there is nobody with the id '{manager_id}' in the staff directory{did_you_mean(manager_id, ids)}"
        )
    team = directory.reports_of(manager.id, indirect=indirect)
    wanted = {p.id for p in team}
    by_person: dict[str, list[Conversation]] = defaultdict(list)
    with store.transaction() as conn:
        rows = conn.execute(select(conversations).where(conversations.c.flow_id == flow_id)).mappings().all()
        accounts: dict[str, Person | None] = {}
        for row in rows:
            user_id = row["user_id"]
            if user_id not in accounts:
                accounts[user_id] = directory.find(Actor(user_id=user_id, platform=user_id.partition(":")[0]))
            person = accounts[user_id]
            if person is not None and person.id in wanted:
                by_person[person.id].append(conversation_from_row(row))
        report = [_onboarding_row(conn, store, library, person, by_person.get(person.id, [])) for person in team]
    order = {"not started": 0, "started": 1, "completed": 2}
    return manager, sorted(report, key=lambda r: (order[r.status], r.person.name))


@dataclass(frozen=True)
class OnboardingProgress:
    """One chat account's history with the walkthrough: the rule every view of it shares."""

    attempts: int  # conversations of the flow, finished or not
    in_progress: bool  # one is waiting for an answer now
    completed_at: datetime | None  # the latest finished run: any finished run counts as done
    score: tuple[int, int] | None  # (correct, total) of that run

    @property
    def status(self) -> str:
        if self.completed_at is not None:
            return "completed"
        return "started" if self.attempts else "not started"


def onboarding_progress(
    store: Store, library: FlowLibrary, user_id: str, *, flow_id: str = "onboarding"
) -> OnboardingProgress:
    """Where one chat account (``slack:T:U``, ``teams:...``) stands with the walkthrough."""
    with store.transaction() as conn:
        rows = (
            conn.execute(
                select(conversations).where(conversations.c.user_id == user_id, conversations.c.flow_id == flow_id)
            )
            .mappings()
            .all()
        )
        return _progress(conn, store, library, [conversation_from_row(r) for r in rows])


def _progress(conn: Connection, store: Store, library: FlowLibrary, convs: list[Conversation]) -> OnboardingProgress:
    done = sorted((c for c in convs if c.status == DONE), key=lambda c: c.updated_at)
    in_progress = any(c.status in (ACTIVE, SET_ASIDE) for c in convs)  # set aside: still to finish
    if not done:
        return OnboardingProgress(len(convs), in_progress, None, None)
    latest = done[-1]
    return OnboardingProgress(len(convs), in_progress, latest.updated_at, _score(conn, store, library, latest))


def _onboarding_row(
    conn: Connection, store: Store, library: FlowLibrary, person: Person, convs: list[Conversation]
) -> OnboardingRow:
    progress = _progress(conn, store, library, convs)
    return OnboardingRow(person, progress.status, progress.completed_at, progress.score)


def _score(conn: Connection, store: Store, library: FlowLibrary, conv: Conversation) -> tuple[int, int] | None:
    try:
        compiled = library.compiled_version(conv.flow_id, conv.flow_version, store.flow_source(conn, conv.flow_version))
    except (UnknownFlow, PolicybotError):
        return None
    correct, total = compiled.score(conv.answers)
    return (correct, total) if total else None


# -- retention ---------------------------------------------------------------------------------------

# deleted above with their closed case; listed among the other tables only if strays were left
_CASE_CHILDREN = frozenset(t.name for t in (case_events, case_recipients, outbox, timers))


@dataclass
class PurgeReport:
    cutoff: datetime
    conversations: int = 0
    audit_rows: int = 0
    cases: int = 0  # closed cases, with their recipients, history, notifications and timers
    delivery_keys: int = 0
    routing_messages: int = 0  # routing log rows: what was typed, guessed and chosen
    inbound_events: int = 0  # the inbound journal (payloads are cleared once handled; rows go here)
    kept_live_cases: int = 0
    dry_run: bool = False
    # rows deleted from the other tables that declare personal data (bot.store.personal_data):
    # a closed case's recipients, events and notifications, Teams references and sent cards, ...
    other_tables: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "deleted": {
                "conversations": self.conversations,
                "audit_rows": self.audit_rows,
                "closed_cases": self.cases,
                "delivery_keys": self.delivery_keys,
                "other_tables": dict(sorted(self.other_tables.items())),
                "routing_messages": self.routing_messages,
                "inbound_events": self.inbound_events,
            },
            "kept_open_cases": self.kept_live_cases,
        }


def purge(store: Store, cutoff: datetime, *, dry_run: bool = False) -> PurgeReport:
    """Delete what is older than ``cutoff``: conversations, audit rows, closed cases (with their
    recipients, history, notifications and timers), platform delivery keys, the routing log and
    inbound journal rows, then whatever every other table's personal-data declaration says has
    expired (bot.ops.data_protection).

    Open and acknowledged cases are kept whatever their age, with the conversation and audit rows
    behind them, and so is any conversation a kept case came from. ``dry_run`` counts without
    deleting (the same statements, rolled back).
    """
    from bot.ops.data_protection import purge_declared

    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    with store.engine.connect() as conn:
        transaction = conn.begin()
        try:
            report.kept_live_cases = int(
                conn.execute(select(func.count()).select_from(cases).where(cases.c.state.in_(LIVE))).scalar_one()
            )
            closed_at = func.coalesce(cases.c.closed_at, cases.c.updated_at)
            old_closed = select(cases.c.id).where(cases.c.state.in_(CLOSED), closed_at < cutoff).scalar_subquery()
            for child in (case_events, case_recipients, outbox, timers):
                conn.execute(delete(child).where(child.c.case_id.in_(old_closed)))
            report.cases = conn.execute(delete(cases).where(cases.c.state.in_(CLOSED), closed_at < cutoff)).rowcount
            kept = select(cases.c.conversation_id).scalar_subquery()
            report.audit_rows = conn.execute(
                delete(audit).where(audit.c.at < cutoff, audit.c.conversation_id.not_in(kept))
            ).rowcount
            report.conversations = conn.execute(
                delete(conversations).where(conversations.c.updated_at < cutoff, conversations.c.id.not_in(kept))
            ).rowcount
            report.delivery_keys = conn.execute(delete(deliveries).where(deliveries.c.at < cutoff)).rowcount
            report.other_tables = {
                name: n for name, n in purge_declared(conn, cutoff).items() if name not in _CASE_CHILDREN or n
            }
            report.routing_messages = routing_log.purge_before(conn, cutoff)
            report.inbound_events = conn.execute(
                delete(inbound_events).where(inbound_events.c.received_at < cutoff)
            ).rowcount
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    return report
