"""WAL checkpoints off the turns (bot.store.checkpoint): a server's commits do not copy the WAL
into the database file; the background checkpointer does, and the WAL is cut back afterwards."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.runtime import build_runtime, prepare_to_serve
from bot.store import Store
from bot.store.checkpoint import WalCheckpointer
from bot.store.connect import (
    AUTOCHECKPOINT_PAGES,
    BACKSTOP_PAGES,
    JOURNAL_SIZE_LIMIT,
    create_db_engine,
    set_wal_autocheckpoint,
    wal_autocheckpoint,
)

ROOT = Path(__file__).resolve().parents[2]
PAGE = 4096
FRAME = PAGE + 24  # a WAL frame: a page and its header
ROW = b"x" * (16 * PAGE)  # one row of 16 pages, in overflow pages of its own


def write_pages(store: Store, pages: int) -> None:
    """Commit about ``pages`` pages, 4 rows (64 pages) per transaction, as turns would."""
    with store.transaction() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (id INTEGER PRIMARY KEY, body BLOB)"))
    for _ in range(pages // 64 + 1):
        with store.transaction() as conn:
            for _ in range(4):
                conn.execute(text("INSERT INTO scratch (body) VALUES (:b)"), {"b": ROW})


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def connection_setting(store: Store, pragma: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"PRAGMA {pragma}").scalar_one())


def test_by_default_a_commit_checkpoints_at_a_thousand_pages(tmp_path: Path) -> None:
    """The behaviour the server avoids, seen the same way: the WAL never grows much past 1000 pages,
    because the commit that reaches them copies them into the database file."""
    db = tmp_path / "p.db"
    store = Store(f"sqlite:///{db}")
    try:
        assert connection_setting(store, "wal_autocheckpoint") == AUTOCHECKPOINT_PAGES
        write_pages(store, 2500)
        assert wal_size(db) < (AUTOCHECKPOINT_PAGES + 100) * FRAME
        assert db.stat().st_size > 2000 * PAGE  # the rows are in the database file already
    finally:
        store.close()


def test_a_servers_commits_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store = Store(f"sqlite:///{db}")
    try:
        # A pass once an hour: within this test only run_once() checkpoints.
        checkpointer = store.checkpoint_in_background(interval=3600)
        assert isinstance(checkpointer, WalCheckpointer) and checkpointer.running
        assert connection_setting(store, "wal_autocheckpoint") == BACKSTOP_PAGES
        assert connection_setting(store, "journal_size_limit") == JOURNAL_SIZE_LIMIT
        before = db.stat().st_size
        write_pages(store, 2500)
        assert wal_size(db) > 2500 * FRAME  # no commit copied the WAL back
        assert db.stat().st_size == before
        assert checkpointer.passes == 0

        result = checkpointer.run_once()
        assert result.complete and result.checkpointed > 2500
        assert db.stat().st_size > 2500 * PAGE  # copied into the database file
        with store.transaction() as conn:  # the next commit starts the WAL again, cut back to the limit
            conn.execute(text("INSERT INTO scratch (body) VALUES (x'00')"))
        assert wal_size(db) <= JOURNAL_SIZE_LIMIT
        with store.transaction() as conn:
            assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() > 2500 // 16
    finally:
        store.close()
    assert not checkpointer.running  # close() stops the thread


def test_the_background_thread_checkpoints_by_itself(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store = Store(f"sqlite:///{db}")
    try:
        checkpointer = store.checkpoint_in_background(interval=0.01)
        assert checkpointer is not None
        write_pages(store, 600)
        written = checkpointer.passes
        deadline = time.monotonic() + 30  # a wait for the thread, not a speed requirement
        while (checkpointer.passes < written + 2 or db.stat().st_size < 600 * PAGE) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert db.stat().st_size >= 600 * PAGE  # the rows reached the database file with no commit copying them
    finally:
        store.close()


def test_nothing_to_do_in_memory_or_on_postgresql() -> None:
    store = Store("sqlite://")
    try:
        assert store.checkpoint_in_background() is None
        assert store.checkpointer is None
    finally:
        store.close()
    postgres = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    assert wal_autocheckpoint(postgres) is None
    with pytest.raises(ValueError):
        set_wal_autocheckpoint(postgres, BACKSTOP_PAGES)


def test_prepare_to_serve_starts_the_checkpointer_and_freezes_the_start_up_heap(tmp_path: Path) -> None:
    settings = tmp_path / "policybot.yaml"
    settings.write_text("# defaults\n", encoding="utf-8")
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("legal-threat.yaml", "citations.yaml"):
        (flows / name).write_text((ROOT / "flows" / name).read_text(encoding="utf-8"), encoding="utf-8")
    runtime = build_runtime(settings, f"sqlite:///{tmp_path / 'p.db'}", flows_dir=flows)
    gc.unfreeze()
    try:
        prepare_to_serve(runtime)
        assert runtime.store.checkpointer is not None and runtime.store.checkpointer.running
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process is not a server: let the collector see its objects again
        runtime.store.close()
