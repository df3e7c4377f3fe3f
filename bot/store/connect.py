"""Opening a database: the URL to use, and an SQLAlchemy engine set up for it.

Below both the store and the migrations (bot.store.database and bot.store.migrate import this, and
it imports neither), so the two never import each other in a circle.

Personal data (names, answers, free-text notes) passes through every statement, so:

- engines are created with ``hide_parameters=True``: a failing statement's error (and so any log
  line or traceback that quotes it) shows the SQL but never the values bound to it;
- a SQLite file is created readable by its owner only (0600, in a folder created 0700). SQLite
  gives the ``-wal`` and ``-shm`` files the database file's own permissions, so they are
  owner-only too. An existing file is left as it is, with a warning if others can read it.
"""

from __future__ import annotations

import logging
import os
import stat
import weakref
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

OWNER_ONLY_FOLDER = 0o700
OWNER_ONLY_FILE = 0o600

# WAL checkpoints (bot.store.checkpoint): a commit that takes the WAL to this many pages copies
# them into the database file itself, inside the turn. SQLite's default, kept for every process
# without a background checkpointer (tests, tools); servers start one and raise it to the backstop.
AUTOCHECKPOINT_PAGES = 1000
BACKSTOP_PAGES = 10_000  # about 40 MB: only when the background checkpointer cannot keep up
# When the WAL starts again from its beginning (after a complete checkpoint), the file is cut back
# to this size, so a burst does not leave a large file behind.
JOURNAL_SIZE_LIMIT = 8 * 1024 * 1024


@dataclass
class _SqliteSettings:
    autocheckpoint_pages: int = AUTOCHECKPOINT_PAGES


_SQLITE_SETTINGS: weakref.WeakKeyDictionary[Engine, _SqliteSettings] = weakref.WeakKeyDictionary()


def default_database_url() -> str:
    """$POLICYBOT_DATABASE_URL, else a SQLite file in the user's data folder (created on first run)."""
    env = os.environ.get("POLICYBOT_DATABASE_URL")
    if env:
        return env
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "policybot"
    base.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_FOLDER)
    return f"sqlite:///{base / 'policybot.db'}"


def prepare_sqlite_file(url: str) -> None:
    """Create a SQLite file (and its folder, if missing) owner-only, before SQLite creates it with
    the process's umask (usually readable by every local user)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=OWNER_ONLY_FOLDER)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY_FILE))
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "the SQLite database %s can be read by other local users (mode %o); `chmod 600` it and its "
                "-wal and -shm files",
                path,
                mode,
            )


def _sqlite_pragmas(settings: _SqliteSettings, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # First, so that switching a new file to WAL waits for another connection's lock instead of
    # failing at once with "database is locked" (several replicas opening one new file together).
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: committed transactions survive a process crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA wal_autocheckpoint={int(settings.autocheckpoint_pages)}")
    cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    cursor.close()
    dbapi_connection.isolation_level = None  # the driver issues no BEGIN of its own: see _sqlite_begin


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        if not in_memory:
            prepare_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool if in_memory else None,
            hide_parameters=True,
        )
        settings = _SqliteSettings()
        _SQLITE_SETTINGS[engine] = settings
        event.listen(engine, "connect", partial(_sqlite_pragmas, settings))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def set_wal_autocheckpoint(engine: Engine, pages: int) -> None:
    """Make every connection of ``engine`` (a SQLite one) checkpoint by itself at ``pages`` pages of
    WAL. Connections already in the pool are closed, so the next turns open ones with the new value
    (one checked out just now finishes its turn and is closed when it comes back)."""
    settings = _SQLITE_SETTINGS.get(engine)
    if settings is None:
        raise ValueError("the WAL checkpoint setting is for a SQLite engine made by create_db_engine")
    settings.autocheckpoint_pages = pages
    engine.dispose()


def wal_autocheckpoint(engine: Engine) -> int | None:
    """The pages at which ``engine``'s connections checkpoint by themselves (None: not SQLite)."""
    settings = _SQLITE_SETTINGS.get(engine)
    return None if settings is None else settings.autocheckpoint_pages


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
