"""Bringing a database's tables up to date with Alembic, on SQLite and PostgreSQL alike.

Why Alembic and not ``metadata.create_all``: ``create_all`` only ever adds missing tables, so a
column added in a new release would never reach an existing database, and two replicas starting
together on a fresh PostgreSQL database would race to create the same tables. Here the
migration scripts ship inside the package (``bot/store/migrations``) and run programmatically:

- every ``Store`` upgrades its database to the newest revision when it opens (a quick read of
  ``alembic_version`` when there is nothing to do);
- the upgrade runs in one transaction under a lock, so replicas starting at the same moment
  wait for each other and only the first one migrates: PostgreSQL takes a transaction-level
  advisory lock (its DDL is transactional, so a failed upgrade leaves nothing half done);
  SQLite's store transactions begin with ``BEGIN IMMEDIATE``, which is already the write lock;
- ``policybot db upgrade`` / ``policybot db current`` do the same by hand (see docs/deploy.md).

Alembic is imported inside the functions that use it: importing it costs more than a quarter of
a second, and commands that import the store without opening a database (``policybot --help``,
anything reaching ``bot.store.records``) should not pay for it (docs/benchmarks.md, "CLI start").
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, Engine, MetaData, inspect, text

from bot.errors import PolicybotError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
# Any fixed 64-bit number works; every policybot replica on one database must use the same one.
ADVISORY_LOCK_KEY = 0x706F6C6963796274  # "policybt"
# The first revision: a database made by ``create_all`` before migrations existed is at this point.
BASELINE = "0001"

# Modules that add tables to ``bot.store.schema.metadata``: imported before comparing or creating,
# so a table is never missed because its module happened not to be imported yet.
TABLE_MODULES: tuple[str, ...] = (
    "bot.store.schema",
    "bot.cases.tables",
    "bot.store.routing_log",
    "bot.store.policy_sources",
    "bot.publishing.tables",
    "bot.store.languages",
)

# Tables the migrations create that are defined outside the core's metadata: slack_sdk's OAuth
# installation and state stores, and the Teams adapter's own tables (the core never imports an
# adapter). Tests compare each with the definition it comes from.
SLACK_SDK_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})
TEAMS_TABLES = frozenset({"teams_references", "teams_sent_cards"})
OUTSIDE_TABLES = SLACK_SDK_TABLES | TEAMS_TABLES


def target_metadata() -> MetaData:
    """Every table the code expects, from every module that defines some."""
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:  # a module listed before it was written; say which
            if err.name != name:
                raise
            log.warning("table module %s is listed in bot.store.migrate.TABLE_MODULES but missing", name)
    from bot.store.schema import metadata

    return metadata


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate and compare see the core's tables only, not the outside ones or Alembic's own."""
    if type_ == "table":
        return name not in OUTSIDE_TABLES and name != VERSION_TABLE
    return True


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our UTCDateTime as a plain ``sa.DateTime(timezone=True)`` in generated scripts.

    Migration scripts must not import application code: the code changes, the scripts must
    keep describing the schema as it was on the day they were written.
    """
    from bot.store.schema import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the shipped scripts (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision shipped with this version of policybot."""
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise PolicybotError(
            f"the migration scripts have {len(heads)} newest revisions ({', '.join(heads)}) instead of one; "
            "a developer must merge them (alembic merge) before release"
        )
    return heads[0]


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at; None for a database Alembic has never touched."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def missing_tables(conn: Connection) -> list[str]:
    """Tables the code defines that the database does not have."""
    present = set(inspect(conn).get_table_names())
    return sorted(name for name in target_metadata().tables if name not in present)


@dataclass(frozen=True)
class UpgradeResult:
    before: str | None
    after: str
    created_without_migration: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.before != self.after or bool(self.created_without_migration)


# Alembic keeps its migration context in module globals, so two threads of one process migrating
# at once (the web studio's scenario tests and a "Try it" preview, each on a throw-away database)
# trip over each other; other processes are kept apart by the database's own lock below.
_ONE_AT_A_TIME = threading.Lock()


def upgrade(engine: Engine, revision: str = "head", *, create_unmigrated: bool = True) -> UpgradeResult:
    """Bring the database to ``revision`` (the newest by default), safely with other replicas and
    with other threads of this process."""
    with _ONE_AT_A_TIME:
        return _upgrade(engine, revision, create_unmigrated=create_unmigrated)


def _upgrade(engine: Engine, revision: str = "head", *, create_unmigrated: bool = True) -> UpgradeResult:
    """Bring the database to ``revision`` (the newest by default), safely with other replicas.

    With ``create_unmigrated``, tables that the code defines but no migration creates yet (a
    table added during development) are created too, with a warning;
    tests/production/test_migrations.py fails until a migration is added for them, so a
    release never depends on this.
    """
    from alembic import command

    head = head_revision() if revision == "head" else revision
    try:
        with engine.connect() as conn:
            if current_revision(conn) == head and not (create_unmigrated and missing_tables(conn)):
                return UpgradeResult(head, head)
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            before = current_revision(conn)
            if before is not None and not _known(before):
                raise PolicybotError(
                    f"the database is at schema revision {before}, which this version of policybot does not know: "
                    "it was upgraded by a newer policybot. Run that version (or newer) against it."
                )
            config = alembic_config(conn)
            if before is None and _made_before_migrations(conn):
                log.info("database made before migrations existed: marking it as revision %s", BASELINE)
                command.stamp(config, BASELINE)
            if current_revision(conn) != head:
                command.upgrade(config, revision)
            unmigrated = missing_tables(conn) if create_unmigrated and revision == "head" else []
            if unmigrated:
                log.warning(
                    "tables %s have no migration yet; creating them directly. "
                    "Add a migration (docs/deploy.md, 'Schema changes') before release.",
                    ", ".join(unmigrated),
                )
                metadata = target_metadata()
                metadata.create_all(conn, tables=[metadata.tables[name] for name in unmigrated])
            after = current_revision(conn) or head
    except PolicybotError:
        raise
    except Exception as err:  # the driver's own error says what the database refused
        raise PolicybotError(
            f"could not bring the database up to date ({type(err).__name__}: {_first_line(err)}). "
            "Nothing was changed. Check the database URL and that the user may create tables, "
            "then run `policybot db upgrade`."
        ) from err
    if before != after:
        log.info("database upgraded from %s to %s", before or "empty", after)
    return UpgradeResult(before, after, tuple(unmigrated))


def differences(conn: Connection) -> list[Any]:
    """What differs between the database and the code's tables (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        conn, opts={"include_name": include_name, "compare_type": True, "version_table": VERSION_TABLE}
    )
    return list(compare_metadata(context, target_metadata()))


def new_revision(message: str) -> Path:
    """Write a migration for whatever the code's tables have that the newest revision lacks.

    For developers, from a source checkout: the migrations are compared against a scratch
    SQLite database brought to the newest revision, and the new script lands in
    bot/store/migrations/versions/ to be read, corrected if need be, and committed.
    """
    import tempfile

    from alembic import command

    from bot.store.connect import create_db_engine

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_db_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            upgrade(engine, create_unmigrated=False)
            with engine.begin() as conn:
                if not differences(conn):
                    raise PolicybotError("the migrations already match the code's tables: nothing to write")
                config = alembic_config(conn)
                config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
                # one past the highest number (branches may leave a gap until they are merged)
                rev_id = f"{max((int(r) for r, _ in history() if r.isdigit()), default=0) + 1:04d}"
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    script_directory.cache_clear()
    scripts = script if isinstance(script, list) else [script]
    assert scripts and scripts[0] is not None
    return Path(scripts[0].path)


def history() -> list[tuple[str, str]]:
    """(revision, one-line description) from the oldest to the newest."""
    revisions = list(script_directory().walk_revisions())
    return [(r.revision, (r.doc or "").strip().splitlines()[0] if r.doc else "") for r in reversed(revisions)]


def _known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for unknown or ambiguous ids
        return False


def _made_before_migrations(conn: Connection) -> bool:
    return inspect(conn).has_table("conversations") and not inspect(conn).has_table(VERSION_TABLE)


def _first_line(err: Exception) -> str:
    message = str(getattr(err, "orig", None) or err)
    return message.strip().splitlines()[0] if message.strip() else "no detail"
