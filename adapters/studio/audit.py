"""Every studio action in the store's audit table, like every chat turn.

Actions are named ``studio.<what>`` (``studio.sign_in``, ``studio.case_ack``, ``studio.validate``)
so an auditor can tell them from chat turns; the detail never holds flow text or case notes, only
what was done and to what. The audit table is in the personal-data register already, so
``policybot purge`` and ``export-person`` cover these lines too.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.store import Store

log = logging.getLogger("policybot.studio")


class StudioAudit:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def record(
        self, user_id: str, action: str, detail: str | None = None, *, flow_id: str = "-", subject: str = "-"
    ) -> None:
        with self.store.transaction() as conn:
            self.store.record_action(
                conn, user_id, f"studio.{action}", self.clock.now(), detail, flow_id=flow_id, subject=subject
            )
        log.info("studio action %s", action)
