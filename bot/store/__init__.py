"""Layer 2, the store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (production).

Owns connections (bot.store.connect), the tables and their Alembic migrations, conversation rows
(bot.store.records), the audit log, flow versions and delivery de-duplication, transient-error
retries (bot.store.transient), the inbound journal with its replayer (bot.store.inbound,
bot.store.replay): platform events written before they are acknowledged, replayed after a crash,
imported policy documents in versions (bot.store.policy_sources), and the register of what each
table holds about people (bot.store.personal_data), which every table declares into.

May import: bot.language (a flow version is stored by its model, a policy version by its clauses),
and layer 0.

``Store`` and ``default_database_url`` are imported from their modules on first use (PEP 562),
so importing ``bot.store.records`` (plain dataclasses the engine and the flow machine use) does
not load SQLAlchemy: ``policybot route`` and ``validate`` never touch a database
(docs/benchmarks.md, "CLI start").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.connect import default_database_url
    from bot.store.database import Store

__all__ = ["Store", "default_database_url"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from bot.store.database import Store

        return Store
    if name == "default_database_url":
        from bot.store.connect import default_database_url

        return default_database_url
    raise AttributeError(f"module 'bot.store' has no attribute {name!r}")
