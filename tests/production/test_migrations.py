"""Alembic migrations: they build exactly the tables the code defines, on SQLite and PostgreSQL,
upgrade safely when replicas start together, and adopt or refuse databases they did not make."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.main import cli
from bot.errors import PolicybotError
from bot.store import Store, migrate
from bot.store.connect import create_db_engine
from bot.store.schema import metadata


def test_migrations_build_exactly_the_tables_the_code_defines(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
            assert migrate.differences(conn) == []
            present = set(inspect(conn).get_table_names())
        assert set(migrate.target_metadata().tables) <= present
    finally:
        store.close()


def import_every_core_module() -> None:
    """So a table defined in any bot module is in the metadata, whatever this session imported."""
    import bot

    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if not module.name.startswith("bot.store.migrations"):  # env.py runs Alembic when imported
            importlib.import_module(module.name)


def test_every_table_in_the_code_has_a_migration(database_url: str) -> None:
    """Migrations alone (no direct table creation) must produce every table in the metadata."""
    import_every_core_module()
    engine = create_db_engine(database_url)
    try:
        result = migrate.upgrade(engine, create_unmigrated=False)
        with engine.connect() as conn:
            missing = migrate.missing_tables(conn)
            diffs = migrate.differences(conn)
    finally:
        engine.dispose()
    assert result.after == migrate.head_revision()
    assert missing == [], f"tables with no migration: {missing}; see docs/deploy.md 'Schema changes'"
    assert diffs == [], f"the migrations and the code's tables differ: {diffs}"


def outside_definitions() -> MetaData:
    """The tables the migrations create from definitions outside the core: slack_sdk's and Teams'."""
    from adapters.teams.storage import metadata as teams_metadata

    outside = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(outside, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(outside, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(outside, "slack_oauth_states")
    for table in teams_metadata.tables.values():
        table.to_metadata(outside)
    return outside


def test_outside_tables_match_the_definitions_they_come_from(database_url: str) -> None:
    """slack_sdk's install tables and the Teams adapter's are written out by hand in the migrations;
    they must stay what slack_sdk and adapters/teams/storage.py expect."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    outside = outside_definitions()
    assert set(outside.tables) == migrate.OUTSIDE_TABLES
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, _parents: type_ != "table" or name in migrate.OUTSIDE_TABLES,
                },
            )
            assert compare_metadata(context, outside) == []
    finally:
        store.close()


def test_reopening_an_up_to_date_database_changes_nothing(database_url: str) -> None:
    Store(database_url).close()
    engine = create_db_engine(database_url)
    try:
        result = migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert not result.changed
    assert result.before == result.after == migrate.head_revision()


def test_downgrade_to_nothing_and_upgrade_again(database_url: str) -> None:
    from alembic import command

    Store(database_url).close()
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "base")
        with engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {migrate.VERSION_TABLE}
            assert migrate.current_revision(conn) is None
        assert left == set(), f"downgrade left tables behind: {left}"
        assert migrate.upgrade(engine).after == migrate.head_revision()
        with engine.connect() as conn:
            assert migrate.differences(conn) == []
    finally:
        engine.dispose()


def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """Four stores open a fresh database at the same instant: all succeed, one of them migrates."""
    barrier = threading.Barrier(4)
    results: list[migrate.UpgradeResult] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        engine = create_db_engine(database_url)
        try:
            barrier.wait()
            results.append(migrate.upgrade(engine))
        except BaseException as err:  # collected and re-raised by the test thread
            errors.append(err)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.before for r in results].count(None) == 1, results
    assert all(r.after == migrate.head_revision() for r in results)


def test_a_database_made_before_migrations_is_adopted(database_url: str) -> None:
    """A database whose tables came from create_all (no alembic_version) is marked and upgraded."""
    engine = create_db_engine(database_url)
    try:
        migrate.upgrade(engine, migrate.BASELINE, create_unmigrated=False)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
            conn.execute(text("INSERT INTO deliveries (key, at) VALUES ('kept', CURRENT_TIMESTAMP)"))
        result = migrate.upgrade(engine)
        assert result.before is None and result.after == migrate.head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT key FROM deliveries")).scalars().all() == ["kept"]
            assert migrate.differences(conn) == []
    finally:
        engine.dispose()


def test_a_database_from_a_newer_release_is_refused_with_a_clear_message(database_url: str) -> None:
    Store(database_url).close()
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '9999'"))
        with pytest.raises(PolicybotError, match="upgraded by a newer policybot"):
            Store(database_url)
    finally:
        engine.dispose()


def test_an_unreachable_database_gives_a_message_without_the_password() -> None:
    url = "postgresql://policybot:s3cret@127.0.0.1:9/nowhere"
    with pytest.raises(PolicybotError) as caught:
        Store(url)
    assert "s3cret" not in str(caught.value)
    assert "cannot open the database" in str(caught.value)


def test_a_table_without_a_migration_is_created_with_a_warning(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    scratch = Table("scratch_unmigrated", metadata, Column("id", Integer, primary_key=True))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.store.migrate"):
            store = Store(sqlite_url)
        with store.engine.connect() as conn:
            assert inspect(conn).has_table("scratch_unmigrated")
            assert migrate.differences(conn) == []
        store.close()
        assert "scratch_unmigrated have no migration yet" in caplog.text
    finally:
        metadata.remove(scratch)


def test_db_revision_writes_a_migration_that_builds_the_new_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """The developer command: a table added to the code becomes a new, working migration script."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    migrate.script_directory.cache_clear()
    scratch = Table(
        "scratch_new", metadata, Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False)
    )
    try:
        result = CliRunner().invoke(cli, ["db", "revision", "-m", "add scratch table"])
        assert result.exit_code == 0, result.output
        written = sorted((copy / "versions").glob("*_add_scratch_table.py"))
        assert len(written) == 1, result.output
        source = written[0].read_text()
        assert "op.create_table" in source and "scratch_new" in source
        assert "bot.store" not in source  # scripts must not import application code
        engine = create_db_engine(sqlite_url)
        try:
            migrate.upgrade(engine, create_unmigrated=False)
            with engine.connect() as conn:
                assert migrate.current_revision(conn) == written[0].name.split("_", 1)[0]
                assert migrate.differences(conn) == []
        finally:
            engine.dispose()
    finally:
        metadata.remove(scratch)
        migrate.script_directory.cache_clear()


def test_db_commands_report_and_upgrade(database_url: str) -> None:
    runner = CliRunner()
    before = runner.invoke(cli, ["--database", database_url, "db", "current"])
    assert before.exit_code == 0, before.output
    assert "empty" in before.output
    upgraded = runner.invoke(cli, ["--database", database_url, "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"to {migrate.head_revision()}" in upgraded.output
    again = runner.invoke(cli, ["--database", database_url, "db", "upgrade"])
    assert "nothing to do" in again.output
    now = runner.invoke(cli, ["--database", database_url, "db", "current"])
    assert f"{migrate.head_revision()} (newest)" in now.output
    checked = runner.invoke(cli, ["--database", database_url, "db", "check"])
    assert checked.exit_code == 0 and "match" in checked.output
    history = runner.invoke(cli, ["db", "history"])
    assert history.output.splitlines()[0].startswith(f"{migrate.BASELINE}  ")


def test_broken_sql_in_a_migration_leaves_postgresql_untouched(postgres_url: str) -> None:
    """PostgreSQL's DDL is transactional: a failure part-way leaves the database as it was."""
    engine = create_db_engine(postgres_url)
    try:
        with pytest.raises(SQLAlchemyError), engine.begin() as conn:
            conn.execute(text("CREATE TABLE half_done (id integer)"))
            conn.execute(text("CREATE TABLE broken ("))
        with engine.connect() as conn:
            assert not inspect(conn).has_table("half_done")
    finally:
        engine.dispose()


def test_upgrading_sets_aside_all_but_the_newest_active_conversation_of_a_person(database_url: str) -> None:
    """Before the one-active index, two starts at once could leave two active conversations for one
    person; the upgrade keeps the newest and sets the others aside (with an audit line), as a new
    start would, so the unique index can be built on a database that has the problem."""
    engine = create_db_engine(database_url)
    try:
        migrate.upgrade(engine, "0004", create_unmigrated=False)
        row = (
            "INSERT INTO conversations (id, user_id, platform, flow_id, flow_version, state, status, answers,"
            " version, created_at, updated_at) VALUES (:id, :user, 'slack', 'f', 'v1', 'q1', :status, '[]', 1,"
            " :at, :at)"
        )
        rows = [
            ("old", "u1", "active", "2026-01-01 09:00:00"),
            ("newest", "u1", "active", "2026-01-01 10:00:00"),
            ("other-person", "u2", "active", "2026-01-01 08:00:00"),
            ("finished", "u1", "done", "2026-01-01 11:00:00"),
        ]
        with engine.begin() as conn:
            for conversation_id, user, status, at in rows:
                conn.execute(text(row), {"id": conversation_id, "user": user, "status": status, "at": at})
        migrate.upgrade(engine)
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT id, status || ':' || version FROM conversations")).all())
            audited = conn.execute(text("SELECT conversation_id, action FROM audit")).all()
        assert statuses == {
            "old": "abandoned:2",
            "newest": "active:1",
            "other-person": "active:1",
            "finished": "done:1",
        }
        assert [tuple(a) for a in audited] == [("old", "abandoned")]
        with pytest.raises(SQLAlchemyError), engine.begin() as conn:  # and from now on the database refuses it
            conn.execute(text(row), {"id": "again", "user": "u1", "status": "active", "at": "2026-01-02 09:00:00"})
    finally:
        engine.dispose()
