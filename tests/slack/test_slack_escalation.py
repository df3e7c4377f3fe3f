"""From /policy to the line manager's Acknowledge, over real HTTP, with deliveries that fail.

The whole path runs for real: signed requests into the Bolt app, the engine, the case service
opening a case in the turn's transaction, the outbox row, the outbox worker calling the
SlackNotifier, the notifier posting into the fake Slack, the manager's signed click on the DM it
received, and the employee's notification. The worker is driven one pass at a time
(``run_once``) and time is a FakeClock, so retries after Retry-After or backoff are exact.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import EMPLOYEE, MANAGER, STRANGER, SlackFactory, SlackHarness, all_text, button_labels, dm, find_button
from fake_slack_api import BOT_TOKEN, FakeSlackAPI, Message
from slack_requests import SIGNING_SECRET, app_home_opened, view_submission

from adapters.slack.config import SlackConfig
from adapters.slack.notifier import SlackNotifier, make_notifier_client
from adapters.slack.web_client import RateLimitWindows
from bot.cases.worker import Worker
from bot.clock import FakeClock

COMMS_CHANNEL = "C0COMMS"
LEGAL_CHANNEL = "C0LEGAL"

SETTINGS = f"""
directory: directory.yaml
escalation:
  line_manager: {{name: your line manager}}
  comms: {{name: Communications, slack_channel: {COMMS_CHANNEL}}}
  legal: {{name: Legal Services, slack_channel: {LEGAL_CHANNEL}}}
cases:
  retry_base_seconds: 10
  retry_max_seconds: 60
  delivery_attempts: 4
  delivery_timeout_seconds: 5
"""
# Alice and Bob are found by email (the notifier looks Bob up with users.lookupByEmail); Mallory
# has her Slack id in the directory. Carol is in the comms team, which may act on every case.
DIRECTORY = f"""
people:
  - {{id: alice, name: Alice Employee, email: alice@council.example, manager: bob}}
  - {{id: bob, name: Bob Manager, email: bob@council.example}}
  - {{id: mallory, name: Mallory Stranger, email: mallory@council.example, slack_id: {STRANGER}}}
  - {{id: carol, name: Carol Comms, email: carol@council.example, roles: [comms]}}
"""


class Escalations:
    """The harness plus the outbox worker with the Slack notifier, and the clock."""

    def __init__(self, slack: SlackHarness, clock: FakeClock, fake: FakeSlackAPI) -> None:
        self.slack = slack
        self.clock = clock
        self.fake = fake
        config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url)
        # Slack's rate-limit windows on the test's clock, like the outbox's Retry-After.
        windows = RateLimitWindows(clock=lambda: clock.now().timestamp())
        self.notifier = SlackNotifier(make_notifier_client(config, timeout=1, windows=windows))
        self.worker = Worker(slack.runtime, self.notifier)

    def deliver(self) -> tuple[int, int, int]:
        """One worker pass: (delivered, retrying, failed)."""
        report = self.worker.run_once().deliveries
        return len(report.delivered), len(report.retrying), len(report.failed)

    def reach_outcome(self, *labels: str) -> Message:
        self.slack.slash(EMPLOYEE, "someone threatened to sue me")
        for label in labels:
            self.slack.click(EMPLOYEE, self.slack.last_dm(EMPLOYEE), label)
        return self.slack.last_dm(EMPLOYEE)

    def manager_dm(self) -> list[Message]:
        return self.fake.messages_in(dm(MANAGER))


MANAGER_PATH = ("On a council account or page", "Yes, it is still up", "Yes")
NO_MANAGER_PATH = ("On a council account or page", "Yes, it is still up", "No, they are away or not answering")


def escalations(
    slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path, clock: FakeClock, **bot_options: object
) -> Escalations:
    """The org of these tests (directory, settings, team channels) on a fresh app, on ``clock``."""
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")
    fake_slack.add_channel(COMMS_CHANNEL)
    fake_slack.add_channel(LEGAL_CHANNEL)
    fake_slack.add_user("U0CAROL", "carol", "carol@council.example", "Carol Comms")
    harness = slack_factory(settings_path=settings, clock=clock, bot_options=bot_options or None)
    return Escalations(harness, clock, fake_slack)


@pytest.fixture
def esc(slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path) -> Escalations:
    return escalations(slack_factory, fake_slack, tmp_path, FakeClock())


def assert_full_scenario(esc: Escalations, outcome: Message) -> None:
    """After the outcome: the manager's DM, Acknowledge, the employee told."""
    assert "This has been sent to Bob Manager" in all_text(outcome)  # the line manager, by name
    [to_manager] = esc.manager_dm()
    text = all_text(to_manager)
    assert to_manager.blocks[0]["text"]["text"].startswith("🚨 URGENT: Alice Employee needs you")
    assert to_manager.text.startswith("URGENT: Alice Employee needs you")  # the notification's fallback
    assert "Someone is threatening legal action over a post" in text  # the flow
    assert "Where was the post made? On a council account or page" in text  # the answers given
    assert "Nottinghamshire" in text  # the cited rule
    assert "*Employee*\nAlice Employee" in text
    assert button_labels(to_manager) == ["Acknowledge", "Resolved", "Message the employee"]

    esc.slack.click(MANAGER, to_manager, "Acknowledge")
    acknowledged = esc.fake.message(to_manager.channel, to_manager.ts)
    assert "Acknowledged by Bob Manager" in all_text(acknowledged)
    assert button_labels(acknowledged) == ["Resolved", "Message the employee"]
    assert "Thanks, Bob Manager" in esc.manager_dm()[-1].text

    before = len(esc.slack.dm_messages(EMPLOYEE))
    assert esc.deliver() == (1, 0, 0)
    told = esc.slack.dm_messages(EMPLOYEE)[before:]
    assert len(told) == 1 and "Bob Manager has picked up your case" in told[0].text


def test_full_scenario_from_policy_to_the_employee_being_told(esc: Escalations) -> None:
    outcome = esc.reach_outcome(*MANAGER_PATH)
    # The manager, and Communications and Legal too (paragraph 27: they must hear of the threat).
    assert esc.deliver() == (3, 0, 0)
    for channel in (COMMS_CHANNEL, LEGAL_CHANNEL):
        [post] = esc.fake.messages_in(channel)
        assert "Alice Employee needs you" in post.text
    assert esc.fake.calls_to("users.lookupByEmail")[0].params["email"] == "bob@council.example"
    assert_full_scenario(esc, outcome)


def test_full_scenario_when_the_first_two_deliveries_fail(esc: Escalations) -> None:
    outcome = esc.reach_outcome(*MANAGER_PATH)
    # The manager's notification goes first; Communications and Legal get theirs in the same pass.
    esc.fake.fail_next("chat.postMessage", status=429, retry_after=30)
    before = len(esc.fake.calls_to("chat.postMessage", ok_only=False))

    # 429: Slack's window is for chat.postMessage in this workspace, so Communications and Legal
    # wait it out too, without their posts reaching Slack; all are retried after it, not before.
    assert esc.deliver() == (0, 3, 0)
    esc.clock.advance(timedelta(seconds=29))
    assert esc.deliver() == (0, 0, 0)
    assert len(esc.fake.calls_to("chat.postMessage", ok_only=False)) == before + 1  # the one 429 only
    esc.fake.fail_next("chat.postMessage", status=503)
    esc.clock.advance(timedelta(seconds=1))
    assert esc.deliver() == (2, 1, 0)  # 503: retried with backoff (second failure: 10 to 20 s, jittered)
    assert esc.manager_dm() == []
    esc.clock.advance(timedelta(seconds=20))
    assert esc.deliver() == (1, 0, 0)

    since = [c for c in esc.fake.iter_calls() if c.method == "chat.postMessage"][-5:]  # the three cases' posts
    to_manager = [c.status for c in since if c.params.get("channel") not in (COMMS_CHANNEL, LEGAL_CHANNEL)]
    assert to_manager == [429, 503, 200]
    assert_full_scenario(esc, outcome)  # exactly one message reached the manager


def test_a_delivery_that_times_out_is_retried_and_arrives_once(esc: Escalations) -> None:
    esc.reach_outcome(*MANAGER_PATH)
    esc.fake.fail_next("chat.postMessage", delay=2.0)  # longer than the notifier's 1 s timeout
    assert esc.deliver() == (2, 1, 0)  # the manager's times out; Communications and Legal get theirs
    esc.clock.advance(timedelta(seconds=10))
    assert esc.deliver() == (1, 0, 0)
    assert len(esc.manager_dm()) == 1


def test_when_the_manager_is_away_legal_and_comms_channels_get_it(esc: Escalations) -> None:
    esc.reach_outcome(*NO_MANAGER_PATH)
    assert esc.deliver() == (2, 0, 0)
    for channel in (COMMS_CHANNEL, LEGAL_CHANNEL):
        [post] = esc.fake.messages_in(channel)
        assert "Alice Employee needs you" in post.text
        assert button_labels(post) == ["Acknowledge", "Resolved", "Message the employee"]
    assert esc.manager_dm() == []


def test_a_channel_the_bot_is_not_in_fails_for_good_and_comms_is_told(esc: Escalations) -> None:
    esc.fake.channels.discard(LEGAL_CHANNEL)  # nobody invited the bot to #legal
    esc.reach_outcome(*NO_MANAGER_PATH)
    delivered, retrying, failed = esc.deliver()
    # Legal failed for good (not retried); comms got the case and, in the same pass, the report.
    assert (delivered, retrying, failed) == (2, 0, 1)
    comms = [all_text(m) for m in esc.fake.messages_in(COMMS_CHANNEL)]
    assert any("Not delivered" in t and "invite it with /invite @policybot" in t for t in comms)
    assert esc.slack.runtime.cases is not None
    [case] = esc.slack.runtime.cases.list_cases()
    assert case.failed_deliveries  # and `policybot cases` shows it


def test_someone_it_was_not_sent_to_cannot_acknowledge(esc: Escalations) -> None:
    esc.reach_outcome(*MANAGER_PATH)
    esc.deliver()
    [to_manager] = esc.manager_dm()
    esc.slack.click(STRANGER, to_manager, "Acknowledge")  # a forwarded or forged click
    assert esc.fake.message(to_manager.channel, to_manager.ts).updates == 0
    assert "not sent to you" in esc.fake.messages_in(dm(STRANGER))[-1].text
    assert esc.slack.runtime.cases is not None
    [case] = esc.slack.runtime.cases.list_cases()
    assert case.state == "open"


def test_a_comms_team_member_may_act_from_the_team_channel(esc: Escalations) -> None:
    esc.reach_outcome(*NO_MANAGER_PATH)
    esc.deliver()
    [post] = esc.fake.messages_in(COMMS_CHANNEL)
    esc.slack.click("U0CAROL", post, "Resolved")
    assert "Resolved by Carol Comms" in all_text(esc.fake.message(post.channel, post.ts))
    assert button_labels(esc.fake.message(post.channel, post.ts)) == []
    [ephemeral] = esc.fake.ephemeral  # the confirmation only Carol sees, not the whole channel
    assert ephemeral["user"] == "U0CAROL" and "Resolved" in ephemeral["text"]
    esc.deliver()
    assert "Your case is resolved" in esc.slack.last_dm(EMPLOYEE).text


def test_acknowledge_twice_changes_nothing_the_second_time(esc: Escalations) -> None:
    esc.reach_outcome(*MANAGER_PATH)
    esc.deliver()
    [to_manager] = esc.manager_dm()
    block_id, button = find_button(to_manager, "Acknowledge")  # as shown before any update
    esc.slack.send_click(MANAGER, to_manager, block_id, button, settle=False)
    esc.slack.send_click(MANAGER, to_manager, block_id, button)
    assert "already acknowledged" in esc.manager_dm()[-1].text
    assert esc.deliver() == (1, 0, 0)  # the employee is told once


def test_message_the_employee(esc: Escalations) -> None:
    esc.reach_outcome(*MANAGER_PATH)
    esc.deliver()
    [to_manager] = esc.manager_dm()
    esc.slack.click(MANAGER, to_manager, "Message the employee")
    [opened] = esc.fake.opened_views
    view = opened["view"]
    assert view["callback_id"] == "case_message_modal" and "Alice Employee" in str(view["blocks"])
    values = {"message": {"message_text": {"type": "plain_text_input", "value": "Call me at 2pm, please."}}}
    resp = esc.slack.sender.interactive(
        view_submission(MANAGER, "case_message_modal", values, private_metadata=view["private_metadata"])
    )
    assert resp.status == 200
    esc.slack.settle()
    assert esc.deliver() == (1, 0, 0)
    last = esc.slack.last_dm(EMPLOYEE)
    assert "Message from Bob Manager" in last.text and "Call me at 2pm, please." in all_text(last)


def test_home_tabs_show_the_case_to_both_sides(esc: Escalations) -> None:
    esc.reach_outcome(*MANAGER_PATH)
    esc.slack.event(app_home_opened(EMPLOYEE))
    employee_home = str(esc.fake.home_views[EMPLOYEE]["blocks"])
    assert "Your open cases" in employee_home and "Someone is threatening legal action" in employee_home
    esc.slack.event(app_home_opened(MANAGER))
    manager_home = esc.fake.home_views[MANAGER]
    assert "Cases waiting for you" in str(manager_home["blocks"])
    [actions] = [b for b in manager_home["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Acknowledge", "Resolved", "Message the employee"]


def test_the_employee_can_withdraw_from_the_home_tab_and_the_manager_is_told(esc: Escalations) -> None:
    from slack_requests import home_block_actions

    esc.reach_outcome(*MANAGER_PATH)
    esc.deliver()
    esc.slack.event(app_home_opened(EMPLOYEE))
    home = esc.fake.home_views[EMPLOYEE]
    [withdraw] = [b["accessory"] for b in home["blocks"] if b.get("accessory", {}).get("action_id") == "case_withdraw"]
    assert withdraw["confirm"]["confirm"]["text"] == "Withdraw"
    # Someone else cannot withdraw it, whatever the button says.
    esc.slack.sender.interactive(
        home_block_actions(MANAGER, {"action_id": "case_withdraw", "value": withdraw["value"]})
    )
    esc.slack.settle()
    assert "Only Alice Employee" in esc.manager_dm()[-1].text
    esc.slack.sender.interactive(
        home_block_actions(EMPLOYEE, {"action_id": "case_withdraw", "value": withdraw["value"]})
    )
    esc.slack.settle()
    assert "Withdrawn" in esc.slack.last_dm(EMPLOYEE).text
    assert "Your open cases" in str(esc.fake.home_views[EMPLOYEE]["blocks"])
    assert "case_withdraw" not in str(esc.fake.home_views[EMPLOYEE]["blocks"])  # republished without it
    assert esc.deliver() == (3, 0, 0)  # the manager, Communications and Legal are each told
    assert "Withdrawn: Alice Employee" in esc.manager_dm()[-1].text
