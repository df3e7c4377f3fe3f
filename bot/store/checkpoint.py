"""SQLite's WAL checkpoints in a background thread of their own, not inside a turn's commit.

In WAL mode every commit appends the pages it changed to the ``-wal`` file; a checkpoint copies
them back into the database file. By default SQLite runs one inside whichever commit takes the WAL
past 1000 pages: that commit then fsyncs the WAL, copies about 4 MB, and fsyncs the database file
before it returns. A server pays this every 15 or so clicks (a click changes 60 pages or so
across its three transactions), inside a database turn, while every other turn queues behind it
(one writer at a time on SQLite; adapters/slack/worker.py, ``TurnGate``). docs/benchmarks.md,
"With Slack 60 ms away (issue 15)", has the measurements.

``WalCheckpointer`` takes that work off the turns: the store's connections checkpoint on their own
only past ``BACKSTOP_PAGES`` (a safety net for a checkpointer that cannot keep up, say behind a
reader that never finishes), and this thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` every
``interval`` seconds. PASSIVE never waits for the writer and never makes the writer wait: it copies
what no reader still needs while turns go on committing. Once everything is copied, the next
commit starts the WAL again from its beginning, and ``journal_size_limit`` (bot.store.connect)
cuts the file back to that size. Why the backstop and not "off": a PASSIVE pass that a commit
overlaps leaves the newest frames uncopied, and the WAL starts again only after a pass that no
commit overlapped; under steady load (the Slack bench) that is rare, and the WAL grew to 31 to
41 MB between restarts. The backstop's checkpoint then runs in a turn, but finds nearly all of
it copied already; without it the file would grow as long as the load lasts.

What is guaranteed, unchanged in kind (WAL with ``synchronous=NORMAL``, as before): a committed
turn survives the process crashing or being killed, because its pages are in the WAL file once
COMMIT returns, and the next connection to open the database reads them from there. After a power
cut or an operating-system crash, the database is consistent (never corrupt), but the transactions
committed since the WAL was last fsynced may be rolled back. The WAL is fsynced at the start of
each checkpoint; with the default that meant "since the WAL last reached 1000 pages" (a fraction of
a second at full load, unbounded when quiet), here it is "since the last pass of this thread"
(``interval`` plus the pass itself, whatever the load). Deployments that need every commit on the
disk before the ack use PostgreSQL (docs/architecture.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.store.background import BackgroundLoop
from bot.store.transient import OutageLog

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.25  # seconds between passes: about 800 pages (3 MB) of WAL at 100 clicks/s


@dataclass(frozen=True)
class CheckpointResult:
    """What ``PRAGMA wal_checkpoint`` reports: whether it was kept from finishing (``busy``), the
    frames in the WAL, and how many of them are now in the database file."""

    busy: bool
    wal_frames: int
    checkpointed: int

    @property
    def complete(self) -> bool:
        """Everything in the WAL is in the database: the next commit restarts the WAL."""
        return not self.busy and self.checkpointed == self.wal_frames


def checkpoint(engine: Engine, mode: str = "PASSIVE") -> CheckpointResult:
    """One checkpoint on a connection of ``engine``'s pool, outside any transaction (the store's
    connections run without the driver's implicit BEGIN, bot.store.connect), so it takes no lock a
    turn waits for."""
    if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        raise ValueError(f"unknown checkpoint mode {mode!r}")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(f"PRAGMA wal_checkpoint({mode})")
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        raw.close()  # back to the pool
    busy, frames, done = row if row is not None else (0, 0, 0)
    # -1, -1 when the database is not in WAL mode (nothing to checkpoint)
    return CheckpointResult(bool(busy), max(0, int(frames)), max(0, int(done)))


class WalCheckpointer(BackgroundLoop):
    """A daemon thread checkpointing one SQLite database every ``interval`` seconds (PASSIVE)."""

    thread_name = "policybot-checkpoint"
    stop_timeout = 5.0

    def __init__(self, engine: Engine, *, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__()
        self.engine = engine
        self.interval = interval
        self.passes = 0  # passes that ran (for tests and /metrics-style checks; not timed)
        self.outage = OutageLog("the SQLite checkpointer", log)

    def run_once(self) -> CheckpointResult:
        result = checkpoint(self.engine, "PASSIVE")
        self.passes += 1
        return result

    def loop(self) -> None:
        while not self._stop.wait(self.outage.backoff(self.interval)):
            try:
                self.run_once()
                self.outage.succeeded()
            except Exception as err:  # a pass that fails is tried again; the turns go on regardless
                self.outage.failed(err)
