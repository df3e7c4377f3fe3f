"""Slack's own rules the adapter must keep (issue 15, holes 5, 7, 9, 10 and 11).

- a modal opens from the click itself, not behind the person's queue: its trigger lives 3 s;
- a retried or replayed modal submission has its effect once;
- a DM with a screenshot (``file_share``) or a thread reply sent to the conversation too
  (``thread_broadcast``) is read like any other message; edits and deletions are not;
- a 429's Retry-After holds back every call of that method in that workspace, not one message.
"""

from __future__ import annotations

from pathlib import Path

from conftest import EMPLOYEE, MANAGER, SlackFactory, SlackHarness
from fake_slack_api import FakeSlackAPI
from slack_requests import dm_message, event_callback, global_shortcut, slash_command, view_submission
from test_slack_escalation import MANAGER_PATH, escalations

from bot.cases.tables import outbox
from bot.clock import FakeClock


def test_a_modal_opens_at_once_even_when_the_persons_earlier_job_is_slow(slack: SlackHarness) -> None:
    # The person's first job is stuck on a slow Slack call (the fake answers after 1.5 s)...
    slack.fake.fail_next("chat.postMessage", delay=1.5, apply_after_delay=True)
    assert slack.sender.form(slash_command(EMPLOYEE, "someone threatened to sue me")).status == 200
    slack.fake.wait_for("conversations.open")  # the slow job has started
    # ...and the shortcut clicked meanwhile opens its modal without waiting for it.
    assert slack.sender.interactive(global_shortcut(EMPLOYEE)).status == 200
    slack.settle()
    [opened] = slack.fake.calls_to("views.open")
    slow_post = slack.fake.calls_to("chat.postMessage")[0]
    assert opened.at < slow_post.at  # recorded when answered: the modal before the slow post


def test_a_replayed_case_message_submission_sends_one_message(
    slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path
) -> None:
    # Without the inbound journal, so the delivery id alone must catch the repeat.
    esc = escalations(slack_factory, fake_slack, tmp_path, FakeClock(), journal=False)
    esc.reach_outcome(*MANAGER_PATH)
    esc.deliver()
    [to_manager] = esc.manager_dm()
    esc.slack.click(MANAGER, to_manager, "Message the employee")
    view = esc.fake.opened_views[-1]["view"]
    values = {"message": {"message_text": {"type": "plain_text_input", "value": "Call me at 2pm."}}}
    submission = view_submission(MANAGER, "case_message_modal", values, private_metadata=view["private_metadata"])
    for _ in range(2):  # Slack's retry, or an attacker replaying the signed request
        assert esc.slack.sender.interactive(submission).status == 200
        esc.slack.settle()
    with esc.slack.runtime.store.transaction() as conn:
        kinds = [row.kind for row in conn.execute(outbox.select())]
    assert kinds.count("message") == 1
    said = [m.text for m in esc.slack.dm_messages(MANAGER)]
    assert "Already sent to Alice Employee." in said[-1]


def test_a_dm_with_a_screenshot_or_a_broadcast_thread_reply_is_read(slack: SlackHarness) -> None:
    shared = dm_message(EMPLOYEE, "someone threatened to sue me")
    shared.update(subtype="file_share", files=[{"id": "F1", "name": "screenshot.png"}])
    slack.event(shared)
    assert "Where was the post made?" in slack.last_dm(EMPLOYEE).text
    broadcast = dm_message(EMPLOYEE, "1")
    broadcast.update(subtype="thread_broadcast", thread_ts="1.000001")
    slack.event(broadcast)
    assert "Is the post still online?" in slack.last_dm(EMPLOYEE).text


def test_an_edited_or_deleted_message_is_not_read_again(slack: SlackHarness) -> None:
    slack.event(dm_message(EMPLOYEE, "someone threatened to sue me"))
    before = len(slack.dm_messages(EMPLOYEE))
    edited = dm_message(EMPLOYEE, "1")
    edited.update(subtype="message_changed", message={"text": "1"})
    slack.event(edited)
    slack.event({**dm_message(EMPLOYEE, ""), "subtype": "message_deleted"})
    assert len(slack.dm_messages(EMPLOYEE)) == before


def test_a_rate_limit_holds_back_the_method_for_everyone_in_the_workspace(slack: SlackHarness) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=15)
    people = [f"U0PERSON{n}" for n in range(5)]
    for person in people:
        slack.fake.add_user(person, person.lower(), f"{person.lower()}@council.example")
        slack.slash(person, "someone threatened to sue me")
    posts = slack.fake.calls_to("chat.postMessage", ok_only=False)
    assert [c.status for c in posts] == [429]  # one call reached Slack in the 15 s window
    assert slack.bot.inbound is not None and slack.bot.inbound.journal.pending() == len(people)  # kept for later


def test_a_person_is_the_same_person_in_events_and_clicks(slack: SlackHarness) -> None:
    """Who and which workspace come from Bolt's context for every kind of request. An event's
    envelope ``team_id`` can name another workspace of the org than the install
    (``authorizations``); the person must still own the check they started when they click."""
    envelope = event_callback(dm_message(EMPLOYEE, "someone threatened to sue me"))
    envelope["team_id"] = "T0OTHERWORKSPACE"  # the install is TEAM_ID, as authorizations says
    assert slack.sender.event(envelope).status == 200
    slack.settle()
    question = slack.last_dm(EMPLOYEE)
    assert "Where was the post made?" in question.text
    slack.click(EMPLOYEE, question, "On a council account or page")
    assert "Is the post still online?" in slack.last_dm(EMPLOYEE).text
