"""The outbox probe: the outbox's depth and oldest waiting row, read from the database.

It lives in ops rather than beside the metrics because it reads a table of the cases layer, and
the metrics module sits below every layer (bot.telemetry) so that the engine and the outbox can
record into it.
"""

from __future__ import annotations

from typing import Any

from bot.telemetry.metrics import OutboxProbe, OutboxState


def database_outbox_probe(store: Any, clock: Any) -> OutboxProbe:
    """A probe reading the outbox table of ``store`` (a bot.store.Store) with one query."""
    from sqlalchemy import case, func, select

    from bot.cases.tables import outbox

    waiting = outbox.c.status == "pending"
    query = select(
        func.count().filter(waiting),
        func.min(case((waiting, outbox.c.created_at))),
        func.count().filter(outbox.c.status == "failed"),
    )

    def probe() -> OutboxState:
        with store.engine.connect() as conn:
            count, oldest, failed = conn.execute(query).one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite keeps no zone; the store writes UTC
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        age = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        return OutboxState(waiting=int(count or 0), oldest_age_seconds=max(0.0, age), failed=int(failed or 0))

    return probe
