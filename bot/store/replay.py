"""The replayer: the background loop that keeps the inbound journal moving on every replica.

Each pass it renews this replica's leases (the events it is still working on), claims events
whose lease ran out (a replica died after acknowledging them, or they wait for a retry), no more
than it has room for, and hands each to the adapter's ``handler``; now and then it deletes
finished events past their keeping time. The handler runs the event the way it would have run
live and must end with ``journal.finish(event)`` or ``journal.retry_later(event)``, possibly
later, on another thread.

During a database outage a pass fails; that is one log line when it starts and one when it ends
(bot.store.transient.OutageLog), and the loop waits longer between passes meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.store.background import BackgroundLoop
from bot.store.inbound import InboundEvent, InboundJournal
from bot.store.transient import OutageLog

log = logging.getLogger(__name__)

Handler = Callable[[InboundEvent], None]


class InboundReplayer(BackgroundLoop):
    thread_name = "policybot-inbound-replayer"

    def __init__(
        self,
        journal: InboundJournal,
        handler: Handler,
        *,
        interval: float = 1.0,
        heartbeat_every: float | None = None,
        housekeeping_every: float = 300.0,
        capacity: int = 4,
    ) -> None:
        self.journal = journal
        self.handler = handler
        self.interval = interval
        # Several renewals fit in one lease, so a slow pass or a short blip never loses a lease.
        self.heartbeat_every = heartbeat_every or max(0.5, journal.lease.total_seconds() / 5)
        self.housekeeping_every = housekeeping_every
        # At most this many replayed events in hand at once: the rest are left for the other
        # replicas (every one polls), so a backlog is shared, and a replica that dies while
        # replaying leaves little behind to be taken over yet again.
        self.capacity = capacity
        self.outage = OutageLog("the inbound replayer", log)
        super().__init__()
        self._last_heartbeat = 0.0
        self._last_housekeeping = 0.0

    def run_once(self) -> list[InboundEvent]:
        """One pass; the events handed to the handler."""
        now = time.monotonic()
        if now - self._last_heartbeat >= self.heartbeat_every:
            self.journal.heartbeat()
            self._last_heartbeat = now
        room = self.capacity - self.journal.replaying
        events = self.journal.claim_due(room) if room > 0 else []
        for event in events:
            self._hand_over(event)
        if now - self._last_housekeeping >= self.housekeeping_every:
            self.journal.forget_finished()
            self._last_housekeeping = now
        return events

    def _hand_over(self, event: InboundEvent) -> None:
        log.info(
            "replaying inbound event %s (attempt %d%s)", event.id, event.attempts, ", the last" if event.final else ""
        )
        try:
            self.handler(event)
        except Exception:
            log.exception("the handler refused inbound event %s", event.id)
            if not self.journal.retry_later(event):
                self.journal.finish(event)

    def loop(self) -> None:
        self.run_forever()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                self.outage.succeeded()
            except Exception as err:
                self.outage.failed(err)
            self._stop.wait(self.outage.backoff(self.interval))
