"""kill -9 in the middle of a burst of turns loses no committed turn and corrupts nothing.

A child process answers questions as fast as it can, printing each turn only after it committed;
it is killed with SIGKILL at an arbitrary moment (often inside a transaction). Every turn it
reported must be in the database, every conversation must agree with its audit trail, and on
SQLite the file must pass ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.store import Store
from bot.store.schema import audit, conversations
from tests.production.kit import CHAIN_LENGTH, write_flows

REPO = Path(__file__).resolve().parents[2]


def run_and_kill(flows_dir: Path, url: str, prefix: str, turns: int) -> list[str]:
    """Start a writer, let it commit ``turns`` turns, SIGKILL it; the lines it printed."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.production.crash_writer", str(flows_dir), url, prefix],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    try:
        while len(lines) < turns:
            line = child.stdout.readline()
            if not line:
                pytest.fail(f"the writer stopped by itself: {child.stderr.read() if child.stderr else ''}")
            lines.append(line.split()[0] + " " + line.split()[1])
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        lines += [" ".join(line.split()[:2]) for line in (child.stdout.read() or "").splitlines() if line.strip()]
    assert child.returncode == -signal.SIGKILL
    return lines


def assert_nothing_lost(store: Store, reported: list[str]) -> None:
    reached: dict[str, int] = {}
    finished: set[str] = set()
    for line in reported:
        conversation_id, version = line.split()
        if version == "done":
            finished.add(conversation_id)
        else:
            reached[conversation_id] = max(reached.get(conversation_id, 0), int(version))
    with store.transaction() as conn:
        rows = {r.id: r for r in conn.execute(select(conversations))}
        answers_in_audit = dict(
            conn.execute(
                select(audit.c.conversation_id, func.count())
                .where(audit.c.action == "answer")
                .group_by(audit.c.conversation_id)
            ).all()
        )
        for conversation_id, version in reached.items():
            assert conversation_id in rows, f"committed conversation {conversation_id} is missing"
            assert rows[conversation_id].version >= version, f"{conversation_id} lost a committed turn"
        for conversation_id in finished:
            assert rows[conversation_id].status == "done"
        for conversation_id in rows:
            conv = store.load_conversation(conn, conversation_id)
            assert conv is not None
            assert conv.version == len(conv.answers) + 1 + (conv.status == "abandoned")
            assert answers_in_audit.get(conversation_id, 0) == len(conv.answers)
            if conv.status == "done":
                assert len(conv.answers) == CHAIN_LENGTH and conv.state == "report"


@pytest.mark.parametrize("kill_after", [37, 151])
def test_sqlite_loses_no_committed_turn_when_killed(tmp_path: Path, kill_after: int) -> None:
    flows_dir = write_flows(tmp_path / "flows")
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    Store(url).close()  # migrate first, so the kill lands among turns, not in the migration
    reported = run_and_kill(flows_dir, url, "crash", kill_after)
    store = Store(url)  # reopening after the crash: WAL recovery happens here
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert_nothing_lost(store, reported)
    finally:
        store.close()


def test_postgresql_loses_no_committed_turn_when_a_client_is_killed(postgres_url: str, tmp_path: Path) -> None:
    flows_dir = write_flows(tmp_path / "flows")
    Store(postgres_url).close()
    reported = run_and_kill(flows_dir, postgres_url, "crash", 90)
    store = Store(postgres_url)
    try:
        assert_nothing_lost(store, reported)
    finally:
        store.close()
