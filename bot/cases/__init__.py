"""Layer 4, escalation cases: opened by the engine, delivered through the outbox, chased when nobody acts.

Owns cases and their lifecycle, who may act on them, the staff directory, the notifier port, the
outbox, timers, working hours and the worker that runs them.

May import: bot.conversation (it implements its escalation port), bot.store, bot.language, layer 0.

``from bot.cases import CaseService`` is the adapters' entry point (see docs/escalations.md).
Names are imported lazily so that bot.cases.outbox and bot.cases.timers can use the tables here without an
import cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Case", "CaseResult", "CaseService"]


def __getattr__(name: str) -> Any:
    if name == "CaseService":
        from bot.cases.service import CaseService

        return CaseService
    if name in ("Case", "CaseResult"):
        from bot.cases import model

        return getattr(model, name)
    raise AttributeError(name)
