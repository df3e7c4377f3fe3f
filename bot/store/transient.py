"""Transient database errors: which ones are worth another try, and trying again with jitter.

A turn is one transaction with a delivery id, so when the database drops the connection, a
serialisable transaction loses a race, a lock wait times out or SQLite is busy, the whole turn can
simply run again: nothing of the failed attempt was kept, and if its commit did reach the database
the delivery id makes the retry a recognised repeat. Only errors of that kind are retried; a
programming error or a refused value fails at once.

One incident is one log line, not a traceback per attempt: ``retry_transient`` says what happened
after the last attempt (recovered after N tries, or gave up), and ``OutageLog`` does the same for
loops (the outbox worker, the inbound replayer) that fail pass after pass during an outage.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.errors import PolicybotError

log = logging.getLogger(__name__)

# The one unique index a concurrent turn can trip over: one active conversation per person
# (bot/store/schema.py). The loser's retry sees the winner's conversation and sets it aside.
ONE_ACTIVE_INDEX = "uq_conversations_one_active"


class DatabaseUnavailable(PolicybotError):
    """The database kept failing with transient errors after every retry.

    The message is for the person whose request it was: nothing is lost, try again shortly.
    """

    def __init__(self, kind: str, attempts: int) -> None:
        super().__init__(
            "I couldn't reach my records just now, so I couldn't finish that. Please try again in a minute: "
            "if it was already done, I'll show you where you are."
        )
        self.kind = kind
        self.attempts = attempts


def transient_kind(err: BaseException) -> str | None:
    """A short name for a transient database error ("connection lost", "database busy"...), else None."""
    if isinstance(err, DatabaseUnavailable):
        return err.kind
    if isinstance(err, PoolTimeout):
        return "no free connection"
    if isinstance(err, IntegrityError):
        return "concurrent start" if _is_one_active_clash(err) else None
    if not isinstance(err, DBAPIError):
        return None
    if err.connection_invalidated:
        return "connection lost"
    orig = err.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        if sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03"):
            return "connection lost"
        if sqlstate in ("40001", "40P01"):
            return "serialization failure"
        if sqlstate in ("55P03", "57014"):
            return "lock timeout"
        if sqlstate == "53300":
            return "too many connections"
        return None
    if isinstance(err, OperationalError):
        message = str(orig).lower()
        if "database is locked" in message or "database is busy" in message or "database table is locked" in message:
            return "database busy"
        if type(orig).__module__.startswith("psycopg"):  # no SQLSTATE: the connection itself broke
            return "connection lost"
    return None


def is_transient(err: BaseException) -> bool:
    return transient_kind(err) is not None


def _is_one_active_clash(err: IntegrityError) -> bool:
    diag = getattr(err.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint is not None:
        return bool(constraint == ONE_ACTIVE_INDEX)
    # SQLite names the columns, not the index; conversations.user_id is unique only in that index.
    return "unique constraint failed: conversations.user_id" in str(err.orig).lower()


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all; the n-th retry waits a random time up to ``base * 2**n`` (at most
    ``cap``), "full jitter", so replicas that failed together do not come back together."""

    attempts: int = 5
    base_seconds: float = 0.05
    cap_seconds: float = 1.0

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry))


TURN_RETRIES = RetryPolicy()
_rng = random.Random()


def retry_transient[T](
    fn: Callable[[], T],
    what: str,
    *,
    policy: RetryPolicy = TURN_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()``, run again on a transient database error, up to ``policy.attempts`` times in all.

    Logs one line per incident: a warning when a retry succeeded, an error (no traceback) when it
    gave up, which then raises DatabaseUnavailable. Any other error passes through at once.
    """
    failures: list[str] = []
    started = time.monotonic()
    while True:
        try:
            result = fn()
        except Exception as err:
            kind = transient_kind(err)
            if kind is None:
                raise
            failures.append(kind)
            if len(failures) >= policy.attempts:
                log.error(
                    "database trouble during %s (%s): gave up after %d attempts in %.1f s",
                    what,
                    ", ".join(sorted(set(failures))),
                    len(failures),
                    time.monotonic() - started,
                )
                raise DatabaseUnavailable(kind, len(failures)) from err
            sleep(policy.delay(len(failures) - 1, _rng))
            continue
        if failures:
            log.warning(
                "database trouble during %s (%s): done after %d retr%s in %.2f s",
                what,
                ", ".join(sorted(set(failures))),
                len(failures),
                "y" if len(failures) == 1 else "ies",
                time.monotonic() - started,
            )
        return result


class OutageLog:
    """For a loop that fails pass after pass while the database is away: one line when the trouble
    starts, one when it ends (with how long and how many passes failed), nothing in between.

    An error that is not transient is logged with its traceback, but the same error again is only
    counted until it changes or stops, so a broken loop cannot fill the disk either.
    """

    def __init__(self, what: str, logger: logging.Logger | None = None) -> None:
        self.what = what
        self.log = logger or log
        self.failed_passes = 0
        self._since = 0.0
        self._last: str | None = None

    @property
    def in_trouble(self) -> bool:
        return self.failed_passes > 0

    def failed(self, err: BaseException) -> None:
        kind = transient_kind(err)
        signature = kind or f"{type(err).__name__}: {err}"[:200]
        if not self.failed_passes:
            self._since = time.monotonic()
        self.failed_passes += 1
        if signature == self._last:
            return
        self._last = signature
        if kind is not None:
            self.log.warning("%s: database unavailable (%s); retrying quietly until it is back", self.what, kind)
        else:
            self.log.error("%s failed; retrying quietly while it keeps failing the same way", self.what, exc_info=err)

    def succeeded(self) -> None:
        if self.failed_passes:
            self.log.warning(
                "%s: working again after %d failed pass%s over %.1f s",
                self.what,
                self.failed_passes,
                "" if self.failed_passes == 1 else "es",
                time.monotonic() - self._since,
            )
        self.failed_passes = 0
        self._last = None

    def backoff(self, interval: float, cap: float = 5.0) -> float:
        """How long to wait before the next pass: ``interval`` normally, growing with jitter up to
        ``cap`` seconds while passes keep failing (so an outage is not hammered five times a second)."""
        if not self.failed_passes:
            return interval
        ceiling = min(cap, interval * 2 ** min(self.failed_passes, 10))
        return max(interval, _rng.uniform(ceiling / 2, ceiling))
