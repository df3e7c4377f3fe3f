"""Timers in the store: "if nobody has acknowledged this case by then, chase it".

A timer is a row (case, kind, due time, status), so it survives restarts and deploys: whichever
worker runs next fires it. Firing is a claim and the work in one transaction: the conditional
UPDATE from pending to fired succeeds for exactly one worker, and if that worker dies before
committing, the whole firing rolls back and the timer is still pending for the next one. (The
outbox needs leases because its work, a network call, cannot sit inside a transaction; a timer's
work is only database writes, so it needs none.) On PostgreSQL the due timer is read with
``FOR UPDATE SKIP LOCKED`` so concurrent workers take different timers instead of queueing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from bot.cases.tables import timers
from bot.clock import Clock
from bot.store import Store

# Built once: the values come as parameters, so SQLAlchemy finds the compiled insert in its
# cache instead of rebuilding the statement and its cache key on every case opened.
_INSERT_TIMERS = insert(timers)

ACK_DEADLINE = "ack_deadline"
PENDING = "pending"
FIRED = "fired"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Timer:
    id: str
    case_id: str
    kind: str
    due_at: datetime


def schedule(conn: Connection, case_id: str, kind: str, due_at: datetime, now: datetime) -> str:
    """Add a timer inside the caller's transaction; returns its id."""
    timer_id = uuid.uuid4().hex
    conn.execute(
        _INSERT_TIMERS, dict(id=timer_id, case_id=case_id, kind=kind, due_at=due_at, status=PENDING, created_at=now)
    )
    return timer_id


def cancel(conn: Connection, case_id: str, now: datetime) -> int:
    """Cancel a case's pending timers (it was acknowledged, resolved or withdrawn)."""
    result = conn.execute(
        update(timers)
        .where(timers.c.case_id == case_id, timers.c.status == PENDING)
        .values(status=CANCELLED, fired_at=now)
    )
    return int(result.rowcount)


def pending_for(conn: Connection, case_id: str) -> list[Timer]:
    rows = conn.execute(
        select(timers).where(timers.c.case_id == case_id, timers.c.status == PENDING).order_by(timers.c.due_at)
    ).mappings()
    return [Timer(r["id"], r["case_id"], r["kind"], r["due_at"]) for r in rows]


class Scheduler:
    """Fires due timers through a handler that runs in the firing transaction."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def fire_due(self, handler: Callable[[Connection, Timer], None], *, limit: int = 100) -> list[Timer]:
        """Fire up to ``limit`` due timers, each in its own transaction; returns those fired here."""
        fired: list[Timer] = []
        for _ in range(limit):
            now = self.clock.now()
            with self.store.transaction() as conn:
                query = (
                    select(timers)
                    .where(timers.c.status == PENDING, timers.c.due_at <= now)
                    .order_by(timers.c.due_at, timers.c.id)
                    .limit(1)
                )
                if self.store.dialect == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                row = conn.execute(query).mappings().first()
                if row is None:
                    return fired
                claimed = conn.execute(
                    update(timers)
                    .where(timers.c.id == row["id"], timers.c.status == PENDING)
                    .values(status=FIRED, fired_at=now)
                )
                if claimed.rowcount != 1:
                    continue  # another worker fired it first
                timer = Timer(row["id"], row["case_id"], row["kind"], row["due_at"])
                handler(conn, timer)
                fired.append(timer)
        return fired
