"""The worker: fires due case timers and delivers due notifications, again and again.

It runs as ``policybot worker`` (a process of its own; ``--once`` for one pass), or in a
background thread inside ``policybot serve slack|teams``::

    worker = Worker(runtime, notifier).start()
    ...
    worker.stop()

Everything it works from is in the store (timers, outbox rows with leases), so any number of
workers may run against one database, and stopping or killing one loses nothing: the next one
carries on where it left off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from bot.cases.notify import Notifier
from bot.cases.outbox import DeliveryReport, Outbox
from bot.cases.service import CaseService
from bot.errors import PolicybotError
from bot.language.settings import Settings
from bot.store.background import BackgroundLoop
from bot.store.transient import OutageLog

log = logging.getLogger(__name__)


class CaseRuntime(Protocol):
    """What the worker needs of a runtime (bot.runtime.Runtime has it): the case service and the
    settings. A protocol rather than an import, because the runtime sits above the cases layer."""

    @property
    def cases(self) -> CaseService | None: ...

    @property
    def settings(self) -> Settings: ...


@dataclass
class PassReport:
    """What one pass did: timers fired, and the outbox's delivery report."""

    timers_fired: int = 0
    deliveries: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def busy(self) -> bool:
        return bool(self.timers_fired or self.deliveries.attempted)


class Worker(BackgroundLoop):
    thread_name = "policybot-worker"
    stop_timeout = 30.0  # a pass delivers up to ``batch`` notifications: let it finish

    def __init__(
        self, runtime: CaseRuntime, notifier: Notifier, *, interval: float | None = None, batch: int = 100
    ) -> None:
        if runtime.cases is None:
            raise PolicybotError("escalation cases are switched off in this runtime, so there is nothing to deliver")
        self.cases: CaseService = runtime.cases
        # Other outboxes the same notifier delivers: the flow library's review notifications
        # (bot.runtime.Runtime.review_outbox; bot/publishing/notices.py). A runtime without one has none.
        extra = getattr(runtime, "review_outbox", None)
        self.other_outboxes: list[Outbox] = [extra] if isinstance(extra, Outbox) else []
        self.notifier = notifier
        self.interval = float(interval if interval is not None else runtime.settings.cases["worker_interval_seconds"])
        self.batch = batch
        super().__init__()
        self.outage = OutageLog("the case worker", log)

    def run_once(self) -> PassReport:
        """One pass: chase overdue cases first, so their notifications go out in the same pass."""
        fired = self.cases.fire_due_timers(limit=self.batch)
        deliveries = self.cases.outbox.deliver_due(self.notifier, limit=self.batch)
        for other in self.other_outboxes:
            more = other.deliver_due(self.notifier, limit=self.batch)
            deliveries.delivered += more.delivered
            deliveries.retrying += more.retrying
            deliveries.failed += more.failed
        return PassReport(fired, deliveries)

    def loop(self) -> None:
        self.run_forever()

    def run_forever(self) -> None:
        """Pass after pass until ``stop()``. A pass that fails (the database is down) is retried,
        with a growing pause, and logged once when the trouble starts and once when it ends,
        not with a traceback every pass (bot.store.transient.OutageLog)."""
        while not self._stop.is_set():
            try:
                report = self.run_once()
                self.outage.succeeded()
            except Exception as err:
                self.outage.failed(err)
                report = PassReport()
            if report.deliveries.attempted >= self.batch or report.timers_fired >= self.batch:
                continue  # more is waiting: go straight on
            self._stop.wait(self.outage.backoff(self.interval))
