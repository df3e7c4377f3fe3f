"""The outbox: every case notification is a row, delivered at least once, never dropped.

The case service writes notification rows in the same transaction as the change they report
(a case opened, acknowledged, chased), so a notification exists exactly when its change
committed. ``Outbox.deliver_due(notifier)`` then hands due rows to the adapter's notifier:

- Claiming works with several workers on one database. On PostgreSQL the candidate row is read
  with ``FOR UPDATE SKIP LOCKED`` so workers pass over each other's rows; on every backend the
  claim itself is a conditional UPDATE that takes a lease (owner + expiry) only if the row is
  still pending and unleased, so exactly one worker wins it. The network call happens outside any
  transaction; a worker that dies mid-call leaves a lease that simply expires, and another
  worker delivers the row again.
- Because of that (and timeouts whose outcome nobody can know), the outbox delivers at least
  once. Every notification carries a stable id (the row's id), and a row whose earlier try may
  have reached the platform (it failed without a clear answer, or its lease ran out) is handed
  over with ``maybe_delivered_since`` set, so a notifier that can look (Slack: the id is in the
  message's metadata, which conversations.history returns) finds it instead of posting it again.
  What that makes each platform guarantee is in docs/escalations.md.
- A failure (DeliveryFailed, any other exception from the notifier, or no answer within the
  timeout) is retried with exponential backoff and jitter, or after the platform's Retry-After.
  After the last attempt, or a permanent failure, the row is marked failed and ``on_give_up``
  runs in the same transaction: the case service records it on the case and tells the comms
  team. Failed rows stay in the table, shown by ``policybot cases``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, bindparam, func, insert, or_, select, update

from bot.cases.model import DeliveryState
from bot.cases.notify import DeliveryFailed, Notification, Notifier, Recipient
from bot.cases.tables import outbox
from bot.clock import Clock
from bot.language.settings import Settings
from bot.store import Store
from bot.store.transient import retry_transient
from bot.telemetry import metrics

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
ERROR_LIMIT = 500  # characters of a platform's error message kept on the row

GiveUpHandler = Callable[[Connection, Notification, str, int], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the outbox tries: ``attempts`` in all, the first retry after about
    ``base_seconds``, doubling up to ``max_seconds``; each call may take ``timeout_seconds``."""

    attempts: int = 8
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    timeout_seconds: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        block = settings.cases
        return cls(
            attempts=int(block.get("delivery_attempts", cls.attempts)),
            base_seconds=float(block.get("retry_base_seconds", cls.base_seconds)),
            max_seconds=float(block.get("retry_max_seconds", cls.max_seconds)),
            timeout_seconds=float(block.get("delivery_timeout_seconds", cls.timeout_seconds)),
        )

    @property
    def lease_seconds(self) -> float:
        """Long enough that a live worker always finishes (or times out) before its lease ends."""
        return self.timeout_seconds * 2 + 30

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds before the next try after ``attempt`` failures: half fixed, half random
        ("equal jitter"), so many failed rows do not all come back at the same moment."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass
class DeliveryReport:
    """What one ``deliver_due`` pass did (ids, so callers and tests can tell which)."""

    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.delivered) + len(self.retrying) + len(self.failed)


def worker_id() -> str:
    """A name for this process's leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Outbox:
    """Notification rows in the store, and their delivery through a Notifier."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        policy: RetryPolicy | None = None,
        *,
        owner: str | None = None,
        rng: random.Random | None = None,
        on_give_up: GiveUpHandler | None = None,
        table: Table = outbox,
    ) -> None:
        self.store = store
        # another table of the same shape (the flow library's review notifications) is delivered
        # by the same code: bot/publishing/tables.py library_outbox
        self.table = table
        # Built once: the values come as parameters, so SQLAlchemy's cache has them compiled.
        self._insert = insert(table)
        self._deliveries_of = (
            select(table)
            .where(table.c.case_id.in_(bindparam("b_ids", expanding=True)))
            .order_by(table.c.created_at, table.c.id)
        )
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.owner = owner or worker_id()
        self.rng = rng or random.Random()
        self.on_give_up = on_give_up

    # -- writing ---------------------------------------------------------------------------
    def enqueue(self, conn: Connection, notification: Notification, *, not_before: datetime | None = None) -> None:
        """Queue a notification inside the caller's transaction (it exists only if that commits)."""
        now = self.clock.now()
        conn.execute(
            self._insert,
            {
                "id": notification.id,
                "case_id": notification.case_id,
                "kind": notification.kind,
                "recipient": json.dumps(asdict(notification.recipient), separators=(",", ":")),
                "title": notification.title,
                "text": notification.text,
                "actions": json.dumps(list(notification.actions)),
                "facts": json.dumps([list(f) for f in notification.facts], ensure_ascii=False),
                "urgency": notification.urgency,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": not_before or now,
                "created_at": now,
            },
        )

    # -- delivering ------------------------------------------------------------------------
    def deliver_due(self, notifier: Notifier, *, limit: int = 100) -> DeliveryReport:
        """Deliver up to ``limit`` due notifications, one claim and one call at a time."""
        report = DeliveryReport()
        for _ in range(limit):
            row = self._claim()
            if row is None:
                break
            notification = _notification(row)
            if row["attempts"] or row["lease_owner"] is not None:
                # A try that failed without an answer, or a worker that died mid-call (its lease
                # ran out): the platform may have it already, and the notifier may look first.
                notification = replace(notification, maybe_delivered_since=row["created_at"])
            try:
                self._call(notifier, notification)
            except DeliveryFailed as err:
                final = retry_transient(partial(self._failed, row, err), "recording a failed delivery")
                metrics.delivery_failed(notification.kind, final=final)
                if final:
                    report.failed.append(notification.id)
                else:
                    report.retrying.append(notification.id)
                continue
            # The platform has it now: recording that must survive a database blip, or the lease
            # would run out and the notification be sent again.
            retry_transient(partial(self._delivered, row), "recording a delivered notification")
            metrics.delivery_succeeded(notification.kind, (self.clock.now() - row["created_at"]).total_seconds())
            report.delivered.append(notification.id)
        return report

    def _claim(self) -> RowMapping | None:
        now = self.clock.now()
        claimable = or_(self.table.c.lease_until.is_(None), self.table.c.lease_until < now)
        with self.store.transaction() as conn:
            query = (
                select(self.table)
                .where(self.table.c.status == PENDING, self.table.c.next_attempt_at <= now, claimable)
                .order_by(self.table.c.next_attempt_at, self.table.c.created_at)
            )
            if self.store.dialect == "postgresql":
                query = query.limit(1).with_for_update(skip_locked=True)
            else:
                query = query.limit(5)
            for row in conn.execute(query).mappings().all():
                claimed = conn.execute(
                    update(self.table)
                    .where(self.table.c.id == row["id"], self.table.c.status == PENDING, claimable)
                    .values(lease_owner=self.owner, lease_until=now + timedelta(seconds=self.policy.lease_seconds))
                )
                if claimed.rowcount == 1:
                    return row
        return None

    def _call(self, notifier: Notifier, notification: Notification) -> None:
        """Call the notifier with a time limit; every failure comes out as DeliveryFailed.

        The call runs in a daemon thread so a hung platform cannot hang the worker. If it answers
        after the time limit the notification may arrive twice, which is why it carries its id.
        KeyboardInterrupt and SystemExit are passed on: the worker stops, and the lease lets
        another worker deliver the row later.
        """
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                notifier.deliver(notification)
                outcome.append(None)
            except BaseException as err:
                outcome.append(err)

        thread = threading.Thread(target=run, name=f"deliver-{notification.id[:8]}", daemon=True)
        thread.start()
        thread.join(self.policy.timeout_seconds)
        if thread.is_alive() or not outcome:
            raise DeliveryFailed(f"no answer within {self.policy.timeout_seconds:g} seconds")
        error = outcome[0]
        if error is None:
            return
        if isinstance(error, DeliveryFailed):
            raise error
        if isinstance(error, Exception):
            log.warning("notifier raised %s for notification %s", type(error).__name__, notification.id)
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        raise error

    def _delivered(self, row: RowMapping) -> None:
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == row["id"], self.table.c.status == PENDING)
                .values(
                    status=DELIVERED,
                    delivered_at=now,
                    attempts=self.table.c.attempts + 1,
                    last_error=None,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def _failed(self, row: RowMapping, error: DeliveryFailed) -> bool:
        """Record a failed try; True when it was the last one (the row is now failed)."""
        now = self.clock.now()
        attempts = int(row["attempts"]) + 1
        reason = (error.reason or "delivery failed")[:ERROR_LIMIT]
        give_up = error.permanent or attempts >= self.policy.attempts
        with self.store.transaction() as conn:
            columns = self.table.c
            mine = (columns.id == row["id"], columns.status == PENDING, columns.lease_owner == self.owner)
            if give_up:
                changed = conn.execute(
                    update(self.table)
                    .where(*mine)
                    .values(
                        status=FAILED,
                        failed_at=now,
                        attempts=attempts,
                        last_error=reason,
                        lease_owner=None,
                        lease_until=None,
                    )
                ).rowcount
                if changed == 1 and self.on_give_up is not None:
                    self.on_give_up(conn, _notification(row), reason, attempts)
                log.warning("gave up on notification %s after %d attempt(s): %s", row["id"], attempts, reason)
            else:
                delay = error.retry_after if error.retry_after is not None else self.policy.backoff(attempts, self.rng)
                conn.execute(
                    update(self.table)
                    .where(*mine)
                    .values(
                        attempts=attempts,
                        last_error=reason,
                        next_attempt_at=now + timedelta(seconds=max(0.0, delay)),
                        lease_owner=None,
                        lease_until=None,
                    )
                )
        return give_up

    # -- reading -----------------------------------------------------------------------------
    def deliveries(self, conn: Connection, case_ids: list[str]) -> dict[str, list[DeliveryState]]:
        """Every notification of these cases and how its delivery is going, oldest first."""
        found: dict[str, list[DeliveryState]] = {cid: [] for cid in case_ids}
        if not case_ids:
            return found
        rows = conn.execute(self._deliveries_of, {"b_ids": case_ids}).mappings()
        for row in rows:
            recipient = json.loads(row["recipient"])
            found[row["case_id"]].append(
                DeliveryState(
                    id=row["id"],
                    kind=row["kind"],
                    recipient=str(recipient.get("name") or recipient.get("key")),
                    status=row["status"],
                    attempts=row["attempts"],
                    next_attempt_at=row["next_attempt_at"],
                    last_error=row["last_error"],
                    delivered_at=row["delivered_at"],
                    failed_at=row["failed_at"],
                )
            )
        return found

    def counts(self, conn: Connection) -> dict[str, int]:
        """Rows by status: pending, delivered, failed."""
        rows = conn.execute(select(self.table.c.status, func.count()).group_by(self.table.c.status)).all()
        return {PENDING: 0, DELIVERED: 0, FAILED: 0} | {str(status): int(n) for status, n in rows}


def _notification(row: RowMapping) -> Notification:
    recipient: dict[str, Any] = json.loads(row["recipient"])
    return Notification(
        id=row["id"],
        case_id=row["case_id"],
        kind=row["kind"],
        recipient=Recipient(**recipient),
        title=row["title"],
        text=row["text"],
        actions=list(json.loads(row["actions"])),
        facts=[(str(label), str(value)) for label, value in json.loads(row["facts"])],
        urgency=row["urgency"],
    )
