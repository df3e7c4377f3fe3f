"""Only Slack gets in, nothing gets a 404, and no secret reaches a log line."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import EMPLOYEE, SlackHarness
from fake_slack_api import BOT_TOKEN
from slack_requests import (
    SIGNING_SECRET,
    app_home_opened,
    app_mention,
    dm_message,
    home_block_actions,
    sign,
    slash_command,
)

from adapters.slack import actions as A
from adapters.slack.command import configure_logging
from adapters.slack.config import SlackConfig

MANIFEST = Path(__file__).resolve().parents[2] / "manifest" / "slack" / "manifest.yaml"


def nothing_was_done(slack: SlackHarness) -> None:
    slack.settle()
    assert slack.fake.calls_to("chat.postMessage") == []
    assert slack.fake.calls_to("users.info") == []


def test_a_forged_signature_is_refused(slack: SlackHarness) -> None:
    resp = slack.sender.form(slash_command(EMPLOYEE, "threatened to sue"), secret="not-the-signing-secret")
    assert resp.status == 401
    nothing_was_done(slack)


def test_a_body_changed_after_signing_is_refused(slack: SlackHarness) -> None:
    signed = "text=hello&user_id=U0EMPLOYEE&command=%2Fpolicy"
    headers = sign(signed)
    resp = slack.sender.post_raw(signed.replace("hello", "hellp"), "application/x-www-form-urlencoded", headers)
    assert resp.status == 401
    nothing_was_done(slack)


@pytest.mark.parametrize("age", [6 * 60, -6 * 60])
def test_a_timestamp_outside_five_minutes_is_refused(slack: SlackHarness, age: int) -> None:
    """A replayed request (or a clock far off) is refused even with a valid signature."""
    resp = slack.sender.form(slash_command(EMPLOYEE, "threatened to sue"), timestamp=int(time.time()) - age)
    assert resp.status == 401
    nothing_was_done(slack)


def test_a_timestamp_inside_the_window_is_accepted(slack: SlackHarness) -> None:
    resp = slack.sender.form(slash_command(EMPLOYEE, "threatened to sue"), timestamp=int(time.time()) - 4 * 60)
    assert resp.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": ""},
    ],
)
def test_missing_or_malformed_signature_headers_are_refused(slack: SlackHarness, headers: dict[str, str]) -> None:
    resp = slack.sender.post_raw("command=%2Fpolicy&user_id=U0EMPLOYEE", "application/x-www-form-urlencoded", headers)
    assert resp.status == 401
    nothing_was_done(slack)


def test_url_verification_answers_the_challenge(slack: SlackHarness) -> None:
    resp = slack.sender.event({"token": "t", "challenge": "c-123", "type": "url_verification"})
    assert resp.status == 200
    assert resp.json() == {"challenge": "c-123"}


def test_every_subscribed_event_and_entry_point_is_answered(slack: SlackHarness) -> None:
    """Slack disables event subscriptions that keep failing; every kind it can send gets a 200."""
    events = yaml.safe_load(MANIFEST.read_text())["settings"]["event_subscriptions"]["bot_events"]
    samples = {
        "app_home_opened": app_home_opened(EMPLOYEE),
        "app_mention": app_mention(EMPLOYEE, "hello"),
        "message.im": dm_message(EMPLOYEE, "hello"),
        "app_uninstalled": {"type": "app_uninstalled"},
        "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTPOLICY"]}},
    }
    assert sorted(samples) == sorted(events), "a new subscribed event needs a sample here"
    for name in events:
        assert slack.event(samples[name]).status == 200, name
    # Things this version does not know still get a 200, so Slack neither retries nor shows an error.
    assert slack.event({"type": "reaction_added", "user": EMPLOYEE}).status == 200
    assert slack.sender.form(slash_command(EMPLOYEE, "", command="/other")).status == 200
    unknown_button = home_block_actions(EMPLOYEE, {"action_id": "from_a_future_version", "value": "x"})
    assert slack.sender.interactive(unknown_button).status == 200


def test_manifest_entry_points_match_the_listeners() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [A.COMMAND]
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [A.SHORTCUT]
    assert manifest["settings"]["interactivity"]["request_url"].endswith(A.ENDPOINT_PATH)


def test_a_button_value_that_does_not_decode_gets_a_clear_answer(slack: SlackHarness) -> None:
    forged = home_block_actions(EMPLOYEE, {"action_id": "choose:0", "value": "{not json"})
    assert slack.sender.interactive(forged).status == 200
    slack.settle()
    said = " ".join(m.text for m in slack.fake.messages_in("D" + EMPLOYEE))
    assert "could not be read" in said


def test_someone_elses_conversation_cannot_be_answered(slack: SlackHarness) -> None:
    """The conversation id in a button is not a key to someone else's conversation."""
    slack.slash(EMPLOYEE, "someone threatened to sue me")
    question = slack.last_dm(EMPLOYEE)
    value = next(b for b in question.blocks if b["type"] == "actions")["elements"][0]["value"]
    stolen = home_block_actions("U0STRANGER", {"action_id": "choose:0", "value": value})
    slack.sender.interactive(stolen)
    slack.settle()
    assert slack.fake.message(question.channel, question.ts).updates == 0
    stranger_saw = " ".join(m.text for m in slack.fake.messages_in("DU0STRANGER"))
    assert "belongs to someone else" in stranger_saw
    assert question.text not in stranger_saw  # nothing of the owner's check is shown to the stranger


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    configure_logging(config, "DEBUG", stream)
    try:
        yield stream
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)


def test_secrets_never_reach_the_logs(log_output: io.StringIO, slack: SlackHarness) -> None:
    # log_output comes first: Bolt copies the root log level when the app is built, as in production.
    # A forged request is refused before Bolt (which would log the whole body, carrying Slack's
    # verification token) and logged without its body;
    # a real conversation at DEBUG makes slack_sdk log every Web API call it makes.
    slack.sender.form(slash_command(EMPLOYEE, "threatened to sue"), secret="forged")
    slack.sender.interactive(home_block_actions(EMPLOYEE, {"action_id": "continue_check", "value": "x"}), secret="f")
    slack.slash(EMPLOYEE, "someone threatened to sue me")
    slack.event(dm_message(EMPLOYEE, "1"))
    logging.getLogger("policybot.test").error("pasted by mistake: %s", BOT_TOKEN)
    text = log_output.getvalue()
    assert "invalid Slack signature" in text and "Sending a request" in text  # the logs were written
    for secret in (BOT_TOKEN, SIGNING_SECRET, "legacy-verification-token"):
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text
    assert "[redacted]" in text


def test_a_listener_that_fails_on_a_strange_payload_answers_400_not_500(slack: SlackHarness) -> None:
    from slack_requests import view_submission

    strange = view_submission(EMPLOYEE, "start_check_modal", {})
    strange["view"]["state"] = {"values": ["not", "an", "object"]}  # signed, but not Slack's shape
    resp = slack.sender.interactive(strange)
    assert resp.status == 400
    assert slack.slash(EMPLOYEE, "someone threatened to sue me").status == 200  # still answering


def test_signed_payloads_bolt_cannot_read_answer_400_not_500(slack: SlackHarness) -> None:
    """A view without its type, or a click naming no action: Bolt would fail building arguments."""
    from slack_requests import view_submission

    no_type = view_submission(EMPLOYEE, "start_check_modal", {})
    del no_type["view"]["type"]
    assert slack.sender.interactive(no_type).status == 400
    no_action = home_block_actions(EMPLOYEE, {"action_id": "choose:0", "value": "x"})
    no_action["actions"] = []
    assert slack.sender.interactive(no_action).status == 400
    assert slack.slash(EMPLOYEE, "someone threatened to sue me").status == 200  # still answering
