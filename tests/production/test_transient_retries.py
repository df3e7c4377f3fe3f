"""Transient database errors are retried, not shown, and an outage is one log line, not a flood.

The errors are real ones from the real drivers: a PostgreSQL backend terminated with
``pg_terminate_backend`` in the middle of a turn (what a failover or a DBA does), a lock timeout,
a serialisation failure, SQLite's "database is locked". Each test could fail: without the retry
the turn raises, and without the classification the retry never happens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.console.notifier import ConsoleNotifier
from bot.cases.directory import Directory
from bot.cases.service import CaseService
from bot.cases.worker import Worker
from bot.clock import SystemClock
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.replies import Question
from bot.language.settings import load_settings
from bot.store import Store
from bot.store.schema import audit
from bot.store.transient import DatabaseUnavailable, OutageLog, transient_kind
from tests.conftest import POSTGRES_URL
from tests.production.kit import make_engine, write_flows

ALICE = Actor(user_id="slack:T1:UALICE", display_name="Alice", platform="slack")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    return write_flows(tmp_path / "flows")


@dataclass
class Terminator:
    """Terminates the backend of the connection about to run a matching statement, from another
    connection, so the statement meets a dead connection: a real dropped connection mid-turn."""

    admin: Engine
    matching: str
    times: int = 1
    done: int = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if self.done >= self.times or not statement.lstrip().upper().startswith(self.matching):
            return
        self.done += 1
        with self.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": cursor.connection.info.backend_pid})


@pytest.fixture
def admin() -> Iterator[Engine]:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def answers(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).where(audit.c.action == "answer")).scalar_one())


@pytest.fixture
def started(postgres_url: str, flows_dir: Path, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[Any, Question]]:
    """An engine on PostgreSQL and Alice's first question; the retry log lines captured."""
    engine = make_engine(flows_dir, postgres_url)
    question = engine.handle(ALICE, Start(flow_id="chain"))[-1]
    assert isinstance(question, Question)
    caplog.set_level(logging.WARNING, logger="bot.store.transient")
    yield engine, question
    engine.store.close()


def test_a_turn_whose_connection_is_terminated_mid_turn_is_retried_and_applied_once(
    started: tuple[Any, Question], admin: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine, question = started
    kill = Terminator(admin, "UPDATE CONVERSATIONS")  # the save, after the delivery claim and the reads
    event.listen(engine.store.engine, "before_cursor_execute", kill)
    click = Choose(question.conversation_id, question.state, 0, question.turn)
    replies = engine.handle(ALICE, click, delivery_id="click-1")
    assert kill.done == 1  # the connection really was cut in the middle of the turn
    assert isinstance(replies[-1], Question) and replies[-1].state == "q2"
    assert answers(engine.store) == 1  # applied once
    lines = [r for r in caplog.records if r.name == "bot.store.transient"]
    assert len(lines) == 1 and "connection lost" in lines[0].getMessage() and lines[0].exc_info is None


def test_a_turn_that_keeps_failing_gives_up_with_a_message_for_the_person(
    started: tuple[Any, Question], admin: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine, question = started
    event.listen(engine.store.engine, "before_cursor_execute", Terminator(admin, "UPDATE CONVERSATIONS", times=99))
    with pytest.raises(DatabaseUnavailable) as refused:
        engine.handle(ALICE, Choose(question.conversation_id, question.state, 0, question.turn))
    assert "try again in a minute" in str(refused.value)
    assert answers(engine.store) == 0
    [line] = [r for r in caplog.records if r.name == "bot.store.transient"]
    assert "gave up after 5 attempts" in line.getMessage() and line.exc_info is None


def error_of(run: Any) -> BaseException:
    try:
        run()
    except BaseException as err:
        return err
    raise AssertionError("it did not fail")


def test_real_transient_errors_are_recognised_and_others_are_not(postgres_url: str, tmp_path: Path) -> None:
    pg = create_engine(postgres_url)
    sqlite_path = tmp_path / "locked.db"
    try:
        with pg.begin() as conn:
            conn.execute(text("CREATE TABLE t (id int primary key, v int)"))
            conn.execute(text("INSERT INTO t VALUES (1, 0)"))
        holder = pg.connect()
        holder.begin()
        holder.execute(text("UPDATE t SET v = 1 WHERE id = 1"))  # holds the row lock

        def lock_timeout() -> None:
            with pg.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '50ms'"))
                conn.execute(text("UPDATE t SET v = 2 WHERE id = 1"))

        assert transient_kind(error_of(lock_timeout)) == "lock timeout"
        holder.rollback()
        holder.close()

        first, second = pg.connect(), pg.connect()
        for conn in (first, second):
            conn.execute(text("BEGIN ISOLATION LEVEL SERIALIZABLE"))
            conn.execute(text("SELECT sum(v) FROM t")).scalar_one()
        first.execute(text("UPDATE t SET v = v + 1"))
        first.execute(text("COMMIT"))
        serialization = error_of(lambda: second.execute(text("UPDATE t SET v = v + 10")))
        assert transient_kind(serialization) == "serialization failure"
        second.rollback()
        first.close()
        second.close()

        assert transient_kind(error_of(lambda: pg.connect().execute(text("SELEC 1")))) is None  # a bug: not retried
        duplicate = error_of(lambda: pg.begin().__enter__().execute(text("INSERT INTO t VALUES (1, 0)")))
        assert transient_kind(duplicate) is None  # another unique key: not retried either

        lite_holder = create_engine(f"sqlite:///{sqlite_path}", isolation_level=None)
        lite_other = create_engine(f"sqlite:///{sqlite_path}", connect_args={"timeout": 0}, isolation_level=None)
        with lite_holder.connect() as holding:
            holding.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (id int)")
            holding.exec_driver_sql("BEGIN IMMEDIATE")
            locked = error_of(lambda: lite_other.connect().exec_driver_sql("BEGIN IMMEDIATE"))
            holding.exec_driver_sql("ROLLBACK")
        assert isinstance(locked, OperationalError) and transient_kind(locked) == "database busy"
        lite_holder.dispose()
        lite_other.dispose()
    finally:
        pg.dispose()


def test_the_worker_logs_an_outage_once_not_a_traceback_every_pass(caplog: pytest.LogCaptureFixture) -> None:
    """The database is unreachable (nothing listens on its port): many failed passes, one line."""
    store = Store("postgresql+psycopg://postgres@127.0.0.1:9/test?connect_timeout=1", create=False)
    settings = load_settings(None)

    @dataclass
    class Runtime:
        cases: CaseService
        settings: Any

    cases = CaseService(store, Directory(), settings, SystemClock())
    worker = Worker(Runtime(cases, settings), ConsoleNotifier(), interval=0.02)
    caplog.set_level(logging.INFO, logger="bot.cases.worker")
    worker.start()
    deadline = time.monotonic() + 10
    while worker.outage.failed_passes < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    store.close()
    assert worker.outage.failed_passes >= 4
    lines = [r for r in caplog.records if r.name == "bot.cases.worker"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "database unavailable (connection lost)" in lines[0].getMessage() and lines[0].exc_info is None


def test_an_outage_log_says_when_it_ends_and_a_repeated_bug_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog("a loop", logging.getLogger("test.outage"))
    caplog.set_level(logging.INFO, logger="test.outage")
    dropped = DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)
    for _ in range(5):
        outage.failed(dropped)
    assert outage.backoff(0.2) > 0.2  # waits longer while it keeps failing
    outage.succeeded()
    for _ in range(3):
        outage.failed(KeyError("a bug"))
    messages = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert messages[0] == (
        "WARNING",
        "a loop: database unavailable (connection lost); retrying quietly until it is back",
        False,
    )
    assert messages[1][0] == "WARNING" and "working again after 5 failed passes" in messages[1][1]
    assert messages[2][0] == "ERROR" and messages[2][2]  # the bug, with its traceback, once
    assert len(messages) == 3


def test_a_replica_whose_connection_drops_while_it_opens_the_database_still_starts(
    postgres_url: str, admin: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """pg_terminate_backend as a replica starts (its migration check) no longer ends the start."""
    Store(postgres_url).close()  # the tables exist; the check only reads the revision
    store = Store(postgres_url, create=False)
    try:
        kill = Terminator(admin, "SELECT")
        event.listen(store.engine, "before_cursor_execute", kill)
        caplog.set_level(logging.WARNING, logger="bot.store.database")
        store._upgrade()
        assert kill.done == 1
        [line] = [r for r in caplog.records if r.name == "bot.store.database"]
        assert "trying again" in line.getMessage() and "connection lost" in line.getMessage()
    finally:
        store.close()
