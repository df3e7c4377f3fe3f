"""Layer 2, the store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (production).

Owns connections (bot.store.connect), the tables and their Alembic migrations, conversation rows
(bot.store.records), the audit log, flow versions and delivery de-duplication, transient-error
retries (bot.store.transient), and the inbound journal with its replayer (bot.store.inbound,
bot.store.replay): platform events written before they are acknowledged, replayed after a crash.

May import: bot.language (a flow version is stored by its model), and layer 0.
"""

from bot.store.connect import default_database_url
from bot.store.database import Store

__all__ = ["Store", "default_database_url"]
