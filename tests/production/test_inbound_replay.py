"""The durable inbound path replays after a crash: real replicas, a real kill -9.

Two ``policybot serve slack`` replicas share one PostgreSQL database. A replica acknowledges a
request (Slack has been told "OK") and is killed with SIGKILL before it has handled it: its first
call to Slack is held back by the fake Web API, so the kill lands exactly in that window, which is
where issue 12's lost clicks and lost /policy commands were lost. The other replica must pick the
request up from the inbound journal once the dead one's lease has run out, and handle it once:
the /policy ends in the DM, the click is applied once and the next question arrives.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack_api import FakeSlackAPI
from slack_requests import SlackSender, slash_command
from sqlalchemy import func, select

from bot.store import Store
from bot.store.schema import audit, inbound_events
from tests.production.kit import write_flows
from tests.production.replicas import (
    Org,
    Replica,
    buttons,
    click_payload,
    employee,
    replica_pair,
    slack_workspace,
)

PERSON = employee(0)


@pytest.fixture
def workspace() -> Iterator[FakeSlackAPI]:
    fake = slack_workspace(1)
    yield fake
    fake.stop()


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str, workspace: FakeSlackAPI) -> Iterator[list[Replica]]:
    org = Org.create(tmp_path / "org", write_flows(tmp_path / "flows"), 1)
    with replica_pair(org, postgres_url, workspace) as started:
        yield started


def hold_back_first_slack_call(fake: FakeSlackAPI) -> None:
    """A fresh replica looks the person up (users.info) before calling the engine: hold that
    call back long enough to kill the replica in the middle of it."""
    fake.fail_next("users.info", delay=6.0, apply_after_delay=True)


def kill_after_ack(replica: Replica, fake: FakeSlackAPI, store: Store, send: object) -> None:
    hold_back_first_slack_call(fake)
    before = journaled(store)
    response = send(SlackSender(replica.url))  # type: ignore[operator]
    assert response.status == 200  # acknowledged: Slack considers it delivered
    assert journaled(store) == before + 1  # written down before the ack went out
    time.sleep(0.5)  # the job is now waiting for Slack
    replica.kill()


def journaled(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(inbound_events)).scalar_one())


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_requests_acknowledged_by_a_killed_replica_are_replayed_by_the_other(
    replicas: list[Replica], workspace: FakeSlackAPI, postgres_url: str
) -> None:
    dying, survivor = replicas
    store = Store(postgres_url)
    dm = "D" + PERSON
    try:
        # 1. /policy, acknowledged with "I've sent you a direct message", then kill -9.
        kill_after_ack(dying, workspace, store, lambda s: s.form(slash_command(PERSON, "chain of questions")))
        assert workspace.messages_in(dm) == []
        wait_for(lambda: len(workspace.messages_in(dm)) >= 2, 45, "the first question, from the other replica")
        understood, question = workspace.messages_in(dm)  # the router's "Understood" line, then the question
        assert understood.text.startswith("Understood")
        assert question.text.startswith("Question 1?") and buttons(question)

        # 2. A click on it, acknowledged by the restarted replica, which is killed again.
        dying.start()
        dying.wait_ready()
        block_id, element = buttons(question)[0]
        payload = click_payload(PERSON, question, block_id, element)
        kill_after_ack(dying, workspace, store, lambda s: s.interactive(payload))
        with store.transaction() as conn:
            assert conn.execute(select(func.count()).where(audit.c.action == "answer")).scalar_one() == 0
        wait_for(lambda: len(workspace.messages_in(dm)) >= 3, 45, "the next question, from the other replica")
        texts = [m.text for m in workspace.messages_in(dm)]
        assert texts[2].startswith("Question 2?"), texts
        assert "You chose" in str(workspace.message(question.channel, question.ts).blocks)

        with store.transaction() as conn:
            answers = conn.execute(select(func.count()).where(audit.c.action == "answer")).scalar_one()
            left = conn.execute(select(func.count()).where(inbound_events.c.status == "pending")).scalar_one()
        assert answers == 1 and left == 0  # applied once, nothing left behind
        assert "replaying inbound event" in survivor.log_path.read_text(errors="replace")
        assert len(workspace.messages_in(dm)) == 3  # and nothing said twice
    finally:
        store.close()
