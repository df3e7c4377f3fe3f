"""The store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (production)."""

from bot.store.database import Store, default_database_url

__all__ = ["Store", "default_database_url"]
