"""Nothing lost, nobody left in silence: Slack failing, a replica dying after its ack, and an
escalation whose post reached Slack although its answer did not.

Over real signed HTTP into the real Bolt app, against the fake Slack Web API, on SQLite. A
replica that died is stood in for by journal rows leased to an owner whose lease has run out,
which is exactly what a killed replica leaves behind (tests/production/test_inbound_replay.py
kills a real one); "later" is the replayer's pass, run here one at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import EMPLOYEE, MANAGER, SlackFactory, SlackHarness, all_text, button_labels, dm, find_button
from fake_slack_api import FakeSlackAPI, Message
from slack_requests import block_actions, slash_command
from sqlalchemy import func, select, update
from test_slack_escalation import (
    COMMS_CHANNEL,
    DIRECTORY,
    LEGAL_CHANNEL,
    MANAGER_PATH,
    SETTINGS,
    Escalations,
    escalations,
)

from adapters.slack.surface import SORRY
from bot.cases.tables import cases, outbox
from bot.clock import FakeClock
from bot.store.inbound import InboundJournal
from bot.store.schema import audit, inbound_events
from tests.production.replicas import notifications

FIRST = "Where was the post made?"
SECOND = "Is the post still online?"

UNDERSTOOD = "✅ Understood"  # the router's one line above a flow it started from the person's words


def start(slack: SlackHarness) -> Message:
    assert slack.slash(EMPLOYEE, "someone threatened to sue me").status == 200
    return slack.last_dm(EMPLOYEE)


def slack_fails_to_post(fake: FakeSlackAPI) -> None:
    """Slack answers 500 to the next post and to the client's one retry of it."""
    fake.fail_next("chat.postMessage", 2, status=500)


def expire_leases(slack: SlackHarness) -> None:
    """Time passes: every lease and retry delay in the journal is in the past."""
    with slack.runtime.store.transaction() as conn:
        conn.execute(update(inbound_events).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))


def replay(slack: SlackHarness) -> int:
    assert slack.bot.inbound is not None
    handed = slack.bot.inbound.replayer.run_once()
    slack.settle()
    return len(handed)


def answers_applied(slack: SlackHarness) -> int:
    with slack.runtime.store.transaction() as conn:
        return int(conn.execute(select(func.count()).where(audit.c.action == "answer")).scalar_one())


# -- 1. a repeat shows where the person is ------------------------------------------------------------


def test_a_duplicate_re_shows_the_current_state(slack: SlackHarness) -> None:
    """The answer was saved but the next question never reached Slack: clicking the same button
    again shows it (the silent re-click of issue 12), and applies nothing twice."""
    first = start(slack)
    block_id, button = find_button(first, "On a council account or page")
    slack_fails_to_post(slack.fake)
    slack.send_click(EMPLOYEE, first, block_id, button)
    assert answers_applied(slack) == 1
    assert all(SECOND not in all_text(m) for m in slack.dm_messages(EMPLOYEE))  # never posted
    before = len(slack.dm_messages(EMPLOYEE))

    slack.send_click(EMPLOYEE, first, block_id, button)  # the person clicks the same button again
    shown = [all_text(m) for m in slack.dm_messages(EMPLOYEE)[before:]]
    assert len(shown) == 2 and "already done" in shown[0] and SECOND in shown[1]
    assert button_labels(slack.last_dm(EMPLOYEE)) == ["Yes, it is still up", "No, it has already been taken down"]
    assert answers_applied(slack) == 1


def test_a_duplicate_after_the_outcome_re_shows_the_advice_and_where_the_case_went(
    slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path
) -> None:
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    (tmp_path / "policybot.yaml").write_text(SETTINGS, encoding="utf-8")
    fake_slack.add_channel(COMMS_CHANNEL)
    fake_slack.add_channel(LEGAL_CHANNEL)
    slack = slack_factory(settings_path=tmp_path / "policybot.yaml")
    start(slack)
    for label in MANAGER_PATH[:-1]:
        slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), label)
    last = slack.last_dm(EMPLOYEE)
    block_id, button = find_button(last, MANAGER_PATH[-1])
    slack_fails_to_post(fake_slack)
    slack.send_click(EMPLOYEE, last, block_id, button)  # the case is opened; the advice never shown
    slack.send_click(EMPLOYEE, last, block_id, button)
    outcome = all_text(slack.last_dm(EMPLOYEE))
    assert "Take the post down now" in outcome and "This has been sent to Bob Manager" in outcome
    with slack.runtime.store.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1  # not a second case


# -- 2. an acknowledged event is never lost ---------------------------------------------------------------


def test_the_durable_inbound_path_replays_after_a_crash(slack: SlackHarness) -> None:
    """A click acknowledged by a replica that died before handling it is handled by another."""
    first = start(slack)
    block_id, button = find_button(first, "On a council account or page")
    action = {"action_id": button["action_id"], "block_id": block_id, "text": button["text"], "value": button["value"]}
    body = block_actions(
        EMPLOYEE, action, channel_id=first.channel, message={"ts": first.ts, "text": first.text, "blocks": first.blocks}
    )
    dead = InboundJournal(slack.runtime.store, platform="slack", owner="replica-that-died", lease_seconds=15)
    assert dead.record(f"trigger_id:{body['trigger_id']}", EMPLOYEE, body) is not None  # then kill -9
    assert answers_applied(slack) == 0
    assert replay(slack) == 0  # its lease still holds: the replica might only be slow

    expire_leases(slack)
    assert replay(slack) == 1
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE) if not all_text(m).startswith(UNDERSTOOD)]
    assert "You chose: *On a council account or page*" in all_text(slack.fake.message(first.channel, first.ts))
    assert len(texts) == 2 and SECOND in texts[1]  # the next question; no "already done": nothing was
    assert answers_applied(slack) == 1
    assert slack.bot.inbound is not None and slack.bot.inbound.journal.pending() == 0
    expire_leases(slack)
    assert replay(slack) == 0  # done is done


def test_a_replay_of_a_click_already_applied_shows_where_the_person_is(slack: SlackHarness) -> None:
    """The replica applied the click, then died before posting: the replay posts the next question."""
    first = start(slack)
    slack.fake.fail_next("chat.postMessage", 2, status=503)
    slack.click(EMPLOYEE, first, "On a council account or page")  # applied; the post failed: retried later
    assert answers_applied(slack) == 1
    expire_leases(slack)
    assert replay(slack) == 1
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE) if not all_text(m).startswith(UNDERSTOOD)]
    assert len(texts) == 2 and SECOND in texts[1] and "already done" not in texts[1]
    assert answers_applied(slack) == 1


def test_a_replica_replays_each_persons_events_in_order(slack: SlackHarness) -> None:
    """Two requests of one person left by a dead replica: the second only after the first."""
    dead = InboundJournal(slack.runtime.store, platform="slack", owner="replica-that-died")
    sue = slash_command(EMPLOYEE, "someone threatened to sue me")
    dead.record("trigger_id:T1", EMPLOYEE, sue | {"trigger_id": "T1"})
    dead.record("trigger_id:T2", EMPLOYEE, slash_command(EMPLOYEE, "cancel") | {"trigger_id": "T2"})
    expire_leases(slack)
    assert slack.bot.inbound is not None
    claimed = slack.bot.inbound.journal.claim_due()
    assert [e.key for e in claimed] == ["slack:trigger_id:T1"]  # not T2 while T1 is pending
    for event in claimed:
        slack.bot.inbound.replay(event)
    slack.settle()
    assert replay(slack) == 1  # now T2
    shown = [all_text(m) for m in slack.dm_messages(EMPLOYEE) if not all_text(m).startswith(UNDERSTOOD)]
    assert FIRST in shown[0]  # T1's question came first, then whatever T2 said


def test_an_acknowledged_policy_command_ends_with_a_dm_or_an_apology(slack: SlackHarness) -> None:
    """Slack keeps failing: after the journal's last attempt the person is told what to do."""
    assert slack.bot.inbound is not None
    slack.bot.inbound.journal.max_attempts = 2
    slack.fake.fail_next("chat.postMessage", 4, status=500)  # both tries of both attempts
    response = slack.slash(EMPLOYEE, "someone threatened to sue me")
    assert "direct message" in response.body
    assert slack.dm_messages(EMPLOYEE) == []  # attempt 1 failed: nothing said yet, tried again later
    expire_leases(slack)
    assert replay(slack) == 1  # attempt 2 fails too: the apology, which Slack now takes
    [apology] = slack.dm_messages(EMPLOYEE)
    assert apology.text == SORRY and "Carry on" in apology.text
    assert slack.bot.inbound.journal.pending() == 0


def test_an_event_past_its_last_attempt_is_apologised_for_once(slack: SlackHarness) -> None:
    """A request whose replica died every time it tried (say, it crashes the process) stops."""
    dead = InboundJournal(slack.runtime.store, platform="slack", owner="replica-that-died")
    event = dead.record("trigger_id:T9", EMPLOYEE, slash_command(EMPLOYEE, "help") | {"trigger_id": "T9"})
    assert event is not None and slack.bot.inbound is not None
    with slack.runtime.store.transaction() as conn:
        conn.execute(update(inbound_events).values(attempts=slack.bot.inbound.journal.max_attempts))
    expire_leases(slack)
    assert replay(slack) == 1
    [apology] = slack.dm_messages(EMPLOYEE)
    assert "kept failing" in apology.text and "Carry on" in apology.text
    expire_leases(slack)
    assert replay(slack) == 0
    with slack.runtime.store.transaction() as conn:
        assert conn.execute(select(inbound_events.c.status)).scalar_one() == "failed"


# -- 5. at most once where Slack lets us check ------------------------------------------------------------


@pytest.fixture
def esc(slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path) -> Escalations:
    # Slack's message times are wall-clock times, and the notifier looks for posts by them.
    return escalations(slack_factory, fake_slack, tmp_path, FakeClock(datetime.now(UTC)))


def test_the_outbox_does_not_re_post_a_notification_slack_already_has(esc: Escalations) -> None:
    esc.reach_outcome(*MANAGER_PATH)
    # Slack posts it but answers after the notifier's 1 s timeout: the outbox cannot know.
    esc.fake.fail_next("chat.postMessage", delay=2.0, apply_after_delay=True)
    assert esc.deliver() == (2, 1, 0)  # the manager's goes first; Communications and Legal get theirs
    esc.fake.wait_until(lambda: len(esc.manager_dm()) == 1, what="the late post")
    esc.clock.advance(timedelta(seconds=30))
    assert esc.deliver() == (1, 0, 0)  # found in the DM's history by its metadata: delivered
    assert len(esc.manager_dm()) == 1
    [look] = esc.fake.calls_to("conversations.history")
    assert look.params["channel"] == dm(MANAGER) and look.params["include_all_metadata"] in ("1", "true")
    with esc.slack.runtime.store.transaction() as conn:
        assert conn.execute(select(outbox.c.status)).scalars().all() == ["delivered"] * 3
    assert sorted(notifications(esc.fake).values()) == [1, 1, 1]


def test_a_notification_whose_worker_died_mid_post_is_not_posted_again(esc: Escalations) -> None:
    """The worker posted, then its process died before recording it: its lease runs out and
    another worker takes the row, looks, and finds the post."""

    class DiesAfterPosting:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def deliver(self, notification: object) -> None:
            self.inner.deliver(notification)  # type: ignore[attr-defined]
            raise SystemExit("kill -9")  # the outbox passes this on: nothing is recorded

    esc.reach_outcome(*MANAGER_PATH)
    assert esc.slack.runtime.cases is not None
    with pytest.raises(SystemExit):
        esc.slack.runtime.cases.outbox.deliver_due(DiesAfterPosting(esc.notifier))
    assert len(esc.manager_dm()) == 1
    assert esc.deliver() == (2, 0, 0)  # Communications and Legal; the dead worker's lease still holds
    esc.clock.advance(timedelta(seconds=esc.slack.runtime.cases.outbox.policy.lease_seconds + 1))
    fresh = Escalations(esc.slack, esc.clock, esc.fake)  # another replica: its own notifier and memory
    assert fresh.deliver() == (1, 0, 0)
    assert len(esc.manager_dm()) == 1


def test_without_the_history_scope_a_doubtful_notification_is_posted_again(esc: Escalations) -> None:
    """An app installed without *:history: it cannot look, so it posts (at least once, never lost)."""
    esc.reach_outcome(*MANAGER_PATH)
    esc.fake.fail_next("chat.postMessage", delay=2.0, apply_after_delay=True)
    assert esc.deliver() == (2, 1, 0)
    esc.fake.wait_until(lambda: len(esc.manager_dm()) == 1, what="the late post")
    esc.fake.fail_next("conversations.history", error="missing_scope")
    esc.clock.advance(timedelta(seconds=30))
    assert esc.deliver() == (1, 0, 0)
    assert len(esc.manager_dm()) == 2
