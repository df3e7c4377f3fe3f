"""The inbound journal: an acknowledged event is never lost.

Slack wants an answer within three seconds, so its adapter acknowledges first and does the work
afterwards, in the background. Without a journal, a replica that died between the two took the
event with it: the person had been told "done" (or "I've sent you a direct message") and nothing
happened. Now the adapter writes the event here *before* its acknowledgement goes out, and the
background work runs from the row:

- ``record`` inserts the event with a lease held by this replica (so nobody else takes it while
  it is being worked on) and returns it; a second delivery with the same key (a platform retry of
  an event already written) returns None and is not processed twice.
- the replica renews the leases of the events it is still working on (``heartbeat``), and marks
  each one ``finish``-ed when its work is done, or ``retry_later`` when it failed for a reason
  that passes (the database or the platform was away), with a growing delay.
- a replica that died stops renewing; once its leases run out, any replica (another one, or the
  same one restarted) claims the events (``claim_due``), oldest first, and never an event of a
  person while an older event of theirs is still pending, so each person's events are replayed
  in the order they arrived. The engine's delivery ids make a replayed event that had already
  been applied a recognised repeat: applied once, answered with where the person is now.
- an event that keeps failing is marked failed after ``max_attempts`` and handed back once more
  so the adapter can apologise to the person (it is never retried for ever).

Finished events keep their key (for the platform's retries) but not their payload, and are
deleted after ``keep_finished`` (an hour by default) by ``forget_finished``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock, SystemClock
from bot.store.database import Store
from bot.store.schema import inbound_events
from bot.store.transient import RetryPolicy, retry_transient

log = logging.getLogger(__name__)

PENDING = "pending"
DONE = "done"
FAILED = "failed"

# Writing an event happens before Slack's three-second acknowledgement goes out: retry a blip,
# but only briefly (about a second in all), then fall back to handling it in memory.
RECORD_RETRIES = RetryPolicy(attempts=3, base_seconds=0.1, cap_seconds=0.5)
# Marking an event done or retried after its work: worth a little longer.
BOOKKEEPING_RETRIES = RetryPolicy(attempts=4, base_seconds=0.1, cap_seconds=1.0)


# Built once: SQLAlchemy then finds the compiled form in its cache without rebuilding the
# statement and its cache key on every click (the values come as parameters).
_RECORD = insert(inbound_events)
_FINISH = (
    update(inbound_events)
    .where(inbound_events.c.id == bindparam("b_id"))
    .values(status=DONE, payload=None, lease_owner=None, lease_until=None)
)


@dataclass(frozen=True)
class InboundEvent:
    """One journaled event: what the adapter needs to run it again."""

    id: int
    key: str
    platform: str
    person: str
    payload: dict[str, Any]
    attempts: int
    received_at: datetime
    final: bool = False  # handed back after its last attempt: only to apologise (claim_due)


def owner_id() -> str:
    """This process's name on its leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class InboundJournal:
    """Inbound events in the store, with leases like the outbox's (bot/cases/outbox.py)."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        *,
        platform: str,
        owner: str | None = None,
        lease_seconds: float = 10.0,
        max_attempts: int = 8,
        retry_base_seconds: float = 2.0,
        retry_max_seconds: float = 60.0,
        keep_finished: timedelta = timedelta(hours=1),
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.platform = platform
        self.owner = owner or owner_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.keep_finished = keep_finished
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._replaying: set[int] = set()  # the part of _in_flight that came from claim_due

    # -- the live path ---------------------------------------------------------------------
    def record(self, key: str, person: str, payload: dict[str, Any]) -> InboundEvent | None:
        """Write an event as it arrives, leased to this replica; None if its key is already here.

        Raises (after a brief retry) when the database cannot take it: the caller then handles
        the event in memory, as before the journal existed, and says so in its log.
        """
        key = f"{self.platform}:{key}"[:250]
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)

        def write() -> InboundEvent | None:
            now = self.clock.now()
            row = {
                "key": key,
                "platform": self.platform,
                "person": person[:200],
                "payload": text,
                "status": PENDING,
                "attempts": 1,
                "lease_owner": self.owner,
                "lease_until": now + self.lease,
                "received_at": now,
            }
            # The insert is the transaction's only statement, so a repeated key rolls the whole
            # transaction back: no savepoint needed (two statements fewer before every ack).
            try:
                with self.store.transaction() as conn:
                    inserted = conn.execute(_RECORD, row).inserted_primary_key
            except IntegrityError:
                return None
            assert inserted is not None
            return InboundEvent(int(inserted[0]), key, self.platform, person, payload, 1, now)

        event = retry_transient(write, "writing an inbound event", policy=RECORD_RETRIES)
        if event is not None:
            with self._lock:
                self._in_flight.add(event.id)
        return event

    def finish(self, event: InboundEvent) -> None:
        """The event's work is done (whatever its outcome for the person): never run it again."""
        self._forget(event)
        if event.final:
            return  # already marked failed when it was claimed

        def write() -> None:
            with self.store.transaction() as conn:
                conn.execute(_FINISH, {"b_id": event.id, "finished_at": self.clock.now()})

        retry_transient(write, "marking an inbound event done", policy=BOOKKEEPING_RETRIES)

    def retry_later(self, event: InboundEvent, *, not_before: float | None = None) -> bool:
        """The work failed for a reason that passes: release the event to be tried again after a
        growing delay (by any replica), or after ``not_before`` seconds if that is longer (the
        platform's Retry-After). False when no attempt is left; the caller apologises."""
        if event.final or event.attempts >= self.max_attempts:
            return False
        self._forget(event)
        ceiling = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (event.attempts - 1))
        seconds = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        delay = timedelta(seconds=max(seconds, not_before or 0.0))

        def write() -> None:
            with self.store.transaction() as conn:
                conn.execute(
                    update(inbound_events)
                    .where(inbound_events.c.id == event.id, inbound_events.c.status == PENDING)
                    .values(lease_owner=None, lease_until=self.clock.now() + delay)
                )

        try:
            retry_transient(write, "releasing an inbound event for a retry", policy=BOOKKEEPING_RETRIES)
        except Exception:  # its lease runs out by itself, and then it is claimed like a dead replica's
            log.warning("could not release inbound event %s; it will be retried when its lease ends", event.id)
        return True

    def heartbeat(self) -> int:
        """Renew the leases of the events this replica is still working on; how many."""
        with self._lock:
            ids = sorted(self._in_flight)
        if not ids:
            return 0
        with self.store.transaction() as conn:
            return int(
                conn.execute(
                    update(inbound_events)
                    .where(
                        inbound_events.c.id.in_(ids),
                        inbound_events.c.status == PENDING,
                        inbound_events.c.lease_owner == self.owner,
                    )
                    .values(lease_until=self.clock.now() + self.lease)
                ).rowcount
            )

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    @property
    def replaying(self) -> int:
        """Events claimed by ``claim_due`` that this replica is still working on."""
        with self._lock:
            return len(self._replaying)

    def _forget(self, event: InboundEvent) -> None:
        with self._lock:
            self._in_flight.discard(event.id)
            self._replaying.discard(event.id)

    # -- replaying -----------------------------------------------------------------------------
    def claim_due(self, limit: int = 20) -> list[InboundEvent]:
        """Events nobody holds a lease on (their replica died, or they wait for a retry), each the
        oldest pending event of its person, claimed for this replica. An event past its last
        attempt is marked failed and returned with ``final`` set, once, for the apology; the
        caller must ``finish`` or ``retry_later`` every other event it gets."""
        now = self.clock.now()
        free = or_(inbound_events.c.lease_until.is_(None), inbound_events.c.lease_until < now)
        older = inbound_events.alias("older")
        oldest_of_person = ~exists().where(
            and_(
                older.c.person == inbound_events.c.person,
                older.c.platform == inbound_events.c.platform,
                older.c.status == PENDING,
                older.c.id < inbound_events.c.id,
            )
        )
        claimed: list[InboundEvent] = []
        with self.store.transaction() as conn:
            rows = (
                conn.execute(
                    select(inbound_events)
                    .where(
                        inbound_events.c.platform == self.platform,
                        inbound_events.c.status == PENDING,
                        free,
                        oldest_of_person,
                    )
                    .order_by(inbound_events.c.id)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
            for row in rows:
                attempts = int(row["attempts"]) + 1
                # Past the last attempt it is marked failed as it is claimed, so the apology that
                # follows is tried once, even if this replica dies while making it.
                values: dict[str, Any] = (
                    {"status": FAILED, "payload": None, "lease_owner": None, "lease_until": None, "finished_at": now}
                    if attempts > self.max_attempts
                    else {"lease_owner": self.owner, "lease_until": now + self.lease}
                )
                won = conn.execute(
                    update(inbound_events)
                    .where(inbound_events.c.id == row["id"], inbound_events.c.status == PENDING, free)
                    .values(attempts=attempts, **values)
                ).rowcount
                if won != 1:
                    continue
                claimed.append(
                    InboundEvent(
                        id=int(row["id"]),
                        key=row["key"],
                        platform=row["platform"],
                        person=row["person"],
                        payload=json.loads(row["payload"] or "{}"),
                        attempts=attempts,
                        received_at=row["received_at"],
                        final=attempts > self.max_attempts,
                    )
                )
        with self._lock:
            self._in_flight.update(e.id for e in claimed if not e.final)
            self._replaying.update(e.id for e in claimed if not e.final)
        return claimed

    def forget_finished(self) -> int:
        """Delete finished and failed events older than ``keep_finished``; how many."""
        cutoff = self.clock.now() - self.keep_finished
        with self.store.transaction() as conn:
            return int(
                conn.execute(
                    delete(inbound_events).where(
                        inbound_events.c.status != PENDING, inbound_events.c.received_at < cutoff
                    )
                ).rowcount
            )

    def pending(self) -> int:
        """Events not yet finished (for /metrics and tests)."""
        with self.store.transaction() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(inbound_events).where(inbound_events.c.status == PENDING)
                ).scalar_one()
            )
