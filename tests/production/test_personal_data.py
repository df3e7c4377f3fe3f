"""Personal data as the law expects (issue 12, item 7): every table that holds it is declared,
purged past its retention age and found by ``policybot export-person``; SQL parameters never reach
a log; a SQLite database is readable by its owner only.

The coverage test reads every table the migrations create and every table in any MetaData the
code defines (after importing every module of bot/ and adapters/), so a helper adding a table with
a user id, an email, a name, free text or a note fails it until the table declares itself in
bot.store.personal_data.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import MetaData, Table, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from bot.clock import FakeClock
from bot.conversation.events import Start
from bot.ops.data_protection import declarations
from bot.store import Store
from bot.store.connect import create_db_engine
from bot.store.inbound import InboundJournal
from bot.store.personal_data import PersonalData
from bot.store.routing_log import RoutingLog
from bot.store.schema import conversations
from bot.telemetry.logging_setup import JsonFormatter
from tests.cases.conftest import AMARA, BEN, CARA, DIRECTORY, FLOWS, SETTINGS, Org, escalate

# A column looks personal when its name is one of these, or has one of these words in it.
PERSONAL_NAMES = frozenset({"slack_id", "teams_id", "aad_id"})
PERSONAL_WORDS = frozenset(
    {
        "user", "email", "name", "text", "note", "detail", "answer", "answers", "summary", "advice",
        "resolution", "actor", "recipient", "card", "reference", "employee", "manager", "person",
        "message", "comment", "feedback", "phone", "by", "key", "title", "facts",
    }
)  # fmt: skip
NOT_TABLES = frozenset({"alembic_version"})


def looks_personal(column: str) -> bool:
    return column in PERSONAL_NAMES or bool(PERSONAL_WORDS & set(column.lower().split("_")))


def import_everything() -> None:
    """Every module of bot/ and adapters/, so every table the code defines is in some MetaData."""
    import adapters
    import bot

    for package in (bot, adapters):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.startswith("bot.store.migrations"):  # env.py runs Alembic when imported
                importlib.import_module(module.name)


def tables_in_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module in list(sys.modules.values()):
        for value in list(vars(module).values()) if module is not None else []:
            if isinstance(value, MetaData):
                for table in value.tables.values():
                    found.setdefault(table.name, set()).update(c.name for c in table.columns)
    return found


def tables_in_database(url: str) -> dict[str, set[str]]:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            inspector = inspect(conn)
            return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    finally:
        store.close()


def uncovered(tables: dict[str, set[str]], declared: dict[str, PersonalData]) -> list[str]:
    """What the declarations miss: undeclared tables and columns that look personal, and declared
    tables or columns that do not exist."""
    problems = []
    for table, columns in sorted(tables.items()):
        personal = sorted(c for c in columns if looks_personal(c))
        if table in NOT_TABLES or not personal:
            continue
        entry = declared.get(table)
        if entry is None:
            problems.append(f"table {table} has personal-looking columns {', '.join(personal)} and no declaration")
            continue
        problems += [f"{table}.{c} looks personal but its declaration does not name it" for c in personal
                     if c not in entry.columns]  # fmt: skip
    for table, entry in sorted(declared.items()):
        if table not in tables:
            problems.append(f"{table} is declared but there is no such table")
            continue
        problems += [f"{table}.{c} is declared but does not exist" for c in entry.columns if c not in tables[table]]
    return problems


# -- coverage ------------------------------------------------------------------------------------------


def test_every_table_with_personal_columns_declares_them(sqlite_url: str) -> None:
    import_everything()
    tables = tables_in_database(sqlite_url)
    for name, columns in tables_in_code().items():
        tables.setdefault(name, set()).update(columns)
    assert {"conversations", "cases", "teams_references", "teams_sent_cards", "slack_installations"} <= set(tables)
    assert uncovered(tables, declarations()) == []


def test_the_coverage_check_fails_for_a_new_table_or_column_nobody_declared(sqlite_url: str) -> None:
    tables = tables_in_database(sqlite_url)
    tables["routing_feedback"] = {"id", "user_id", "text", "created_at"}  # as another helper might add
    tables["conversations"] = tables["conversations"] | {"email"}
    assert uncovered(tables, declarations()) == [
        "conversations.email looks personal but its declaration does not name it",
        "table routing_feedback has personal-looking columns text, user_id and no declaration",
    ]


def test_every_declaration_says_how_long_its_data_is_kept() -> None:
    for entry in declarations().values():
        assert entry.retention and (entry.at or entry.parent or entry.rules or entry.kept_because)


# -- purge and export, on a database holding every kind of row ------------------------------------------


def fill(org: Org, clock: FakeClock) -> str:
    """Conversations, audit, a closed case with its history, notifications and timers, a delivery
    key, Teams references and a sent card, and a Slack installation. Returns the case id."""
    runtime = org.runtime(clock)
    assert runtime.cases is not None
    case_id = escalate(runtime, AMARA, "No").case_id or ""
    runtime.cases.resolve(case_id, CARA, "Dealt with: Amara's post is down")
    runtime.engine.handle(BEN, Start(flow_id="threat"), delivery_id="Ev001")
    then = clock.now()
    with runtime.store.engine.begin() as conn:
        metadata = MetaData()
        references = Table("teams_references", metadata, autoload_with=conn)
        cards = Table("teams_sent_cards", metadata, autoload_with=conn)
        conn.execute(insert(references), [
            {"key": "aad:5b1c2d3e-0000-4000-8000-00000000b0b0", "reference": '{"user": {"name": "Ben Hughes"}}',
             "tenant_id": "t1", "name": "Ben Hughes", "email": "ben.hughes@example.gov.uk", "updated_at": then},
            {"key": "channel:19:comms", "reference": "{}", "tenant_id": "t1", "name": "Comms", "email": None,
             "updated_at": then},
        ])  # fmt: skip
        conn.execute(insert(cards).values(
            notification_id="n1", case_id=case_id, conversation_id="a:1", activity_id="1",
            card='{"body": "Amara Okafor said No"}', sent_at=then,
        ))  # fmt: skip
    InboundJournal(runtime.store, clock, platform="slack").record("Ev9", AMARA.user_id, {"text": "my post is up"})
    with runtime.store.transaction() as conn:
        log = RoutingLog()
        log.record(conn, person=log.person(conn, AMARA.user_id), at=then, text="someone said they'd sue me",
                   language="en", guess="threat", score=0.9, confidence="confident", shown=["threat"],
                   outcome="started")  # fmt: skip
    installs = SQLAlchemyInstallationStore(client_id="C1", engine=runtime.store.engine)
    installs.save(Installation(app_id="A1", team_id="T1", user_id="U0AMARA01", bot_token="xoxb-secret-token",
                               bot_id="B1", bot_user_id="U0BOT", installed_at=then.timestamp()))  # fmt: skip
    return case_id


def rows_left(url: str) -> dict[str, int]:
    """Rows about people left in each declared table (only the personal rows, where a table says which)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            left = {}
            for name, entry in declarations().items():
                query = select(func.count()).select_from(text(name))
                left[name] = int(conn.execute(query.where(text(entry.rows)) if entry.rows else query).scalar_one())
            return left
    finally:
        engine.dispose()


@pytest.fixture
def org(tmp_path: Path, database_url: str) -> Org:
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS.format(directory=DIRECTORY), encoding="utf-8")
    return Org(settings, FLOWS, database_url)


def test_purge_leaves_no_person_data_in_any_table(org: Org, database_url: str) -> None:
    fill(org, FakeClock(datetime.now(UTC) - timedelta(days=3)))
    before = rows_left(database_url)
    assert all(before[name] > 0 for name in ("conversations", "audit", "cases", "case_recipients", "case_events",
                                              "outbox", "teams_references", "teams_sent_cards", "inbound_events",
                                              "routing_log", "slack_installations"))  # fmt: skip
    result = org.cli("purge", "--older-than", "2d", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["deleted"]
    assert report["other_tables"]["teams_references"] == 1 and report["other_tables"]["teams_sent_cards"] == 1
    left = rows_left(database_url)
    kept = {name for name, entry in declarations().items() if entry.kept_because}
    assert {name: n for name, n in left.items() if n and name not in kept} == {}
    assert left["slack_installations"] == 1  # kept on purpose until the workspace uninstalls the app
    engine = create_db_engine(database_url)
    with engine.connect() as conn:  # the Teams channel's reference is nobody's personal data: it stays
        assert conn.execute(text("SELECT key FROM teams_references")).scalars().all() == ["channel:19:comms"]
    engine.dispose()
    for runtime in org.runtimes:
        runtime.store.close()


def test_export_person_finds_everything_about_one_person_and_no_credentials(org: Org) -> None:
    case_id = fill(org, FakeClock(datetime.now(UTC) - timedelta(hours=1)))
    result = org.cli("export-person", "amara")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["identifiers_searched"] == ["amara", "amara.okafor@example.gov.uk", "U0AMARA01"]
    tables = data["tables"]
    assert set(tables) == set(declarations())  # every table searched, found or not
    [conversation] = tables["conversations"]["rows"]
    assert conversation["user_id"] == AMARA.user_id and conversation["answers"][0]["label"] == "No"
    assert {row["user_id"] for row in tables["audit"]["rows"]} == {AMARA.user_id}
    assert [row["id"] for row in tables["cases"]["rows"]] == [case_id]
    assert {row["case_id"] for row in tables["case_events"]["rows"]} == {case_id}  # the case's whole history
    assert {row["case_id"] for row in tables["outbox"]["rows"]} == {case_id}
    assert [row["notification_id"] for row in tables["teams_sent_cards"]["rows"]] == ["n1"]
    [install] = tables["slack_installations"]["rows"]
    assert install["user_id"] == "U0AMARA01" and install["bot_token"] == "(not exported: a credential)"
    assert "xoxb-secret-token" not in result.stdout
    assert tables["teams_references"]["rows"] == []  # Ben's, not Amara's
    assert [row["payload"] for row in tables["inbound_events"]["rows"]] == [{"text": "my post is up"}]
    # the routing log names a keyed hash of the chat user id, found from the ids of Amara's other rows
    assert [row["text"] for row in tables["routing_log"]["rows"]] == ["someone said they'd sue me"]
    assert "deleted when" in tables["teams_references"]["held_because"]

    ben = json.loads(org.cli("export-person", "ben.hughes@example.gov.uk").stdout)["tables"]
    assert [row["key"] for row in ben["teams_references"]["rows"]] == ["aad:5b1c2d3e-0000-4000-8000-00000000b0b0"]
    # found by the Teams id the directory has for Ben
    assert [row["user_id"] for row in ben["conversations"]["rows"]] == [BEN.user_id]
    assert ben["cases"]["rows"] == []
    for runtime in org.runtimes:
        runtime.store.close()


def test_export_person_writes_an_owner_only_file(org: Org, tmp_path: Path) -> None:
    fill(org, FakeClock(datetime.now(UTC)))
    target = tmp_path / "amara.json"
    target.write_text("an older export", encoding="utf-8")
    target.chmod(0o644)  # readable by everyone: the export must not stay that way
    result = org.cli("export-person", "amara", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["person"] == "amara"
    for runtime in org.runtimes:
        runtime.store.close()


# -- logs and files ---------------------------------------------------------------------------------


def test_a_failing_statement_logs_no_parameter_values(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    store = Store(database_url)
    secret = "Amara said her ex-partner posted it"
    row = {"id": "c1", "user_id": "slack:T1:U0AMARA01", "platform": "slack", "flow_id": "threat", "flow_version": "v",
           "state": "where", "status": "active", "answers": json.dumps([{"label": secret}]), "version": 1,
           "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(conversations).values(**row))
    log = logging.getLogger("policybot.test")
    with (
        caplog.at_level(logging.ERROR, logger="policybot.test"),
        pytest.raises(IntegrityError) as caught,
        store.engine.begin() as conn,
    ):
        try:
            conn.execute(insert(conversations).values(**row))  # the same id again
        except IntegrityError:
            log.exception("a turn failed")
            raise
    assert "INSERT INTO conversations" in str(caught.value)  # the SQL is there to debug with
    assert "parameters hidden" in str(caught.value)
    assert secret not in str(caught.value) and "U0AMARA01" not in str(caught.value)
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
    assert secret not in caplog.text and "U0AMARA01" not in caplog.text  # tracebacks included
    line = JsonFormatter(()).format(caplog.records[0])  # the line as production writes it, traceback and all
    assert secret not in line and "parameters hidden" in line
    store.close()


def test_the_sqlite_file_its_folder_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "policybot"
    old = os.umask(0o022)  # the usual umask: new files readable by every local user
    try:
        store = Store(f"sqlite:///{folder / 'policybot.db'}")
        with store.transaction() as conn:  # a write, so the -wal and -shm files exist
            conn.execute(text("DELETE FROM deliveries"))
        names = sorted(p.name for p in folder.iterdir())
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert names == ["policybot.db", "policybot.db-shm", "policybot.db-wal"]
    assert modes == {name: 0o600 for name in names}


def test_the_default_data_folder_is_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.store.connect import default_database_url

    monkeypatch.delenv("POLICYBOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    url = default_database_url()
    assert url == f"sqlite:///{tmp_path / 'share' / 'policybot' / 'policybot.db'}"
    assert stat.S_IMODE((tmp_path / "share" / "policybot").stat().st_mode) == 0o700
