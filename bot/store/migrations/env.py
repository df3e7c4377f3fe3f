"""Alembic's entry point: run the migrations on the connection bot.store.migrate hands over.

When run by the ``alembic`` command line (developers generating a migration), there is no
connection in the config, so one is opened from $POLICYBOT_DATABASE_URL instead.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from bot.store.migrate import include_name, render_item, target_metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        include_name=include_name,
        render_item=render_item,
        compare_type=True,
        render_as_batch=True,  # SQLite can only ALTER a table by copying it; batch mode does that
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bot.store.connect import create_db_engine

    url = os.environ.get("POLICYBOT_DATABASE_URL")
    if not url:
        raise SystemExit("set POLICYBOT_DATABASE_URL to the database to compare against")
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported; run `policybot db upgrade` against a database")
run_migrations_online()
