"""The fake Slack Web API behaves like Slack where the adapter depends on it.

The adapter's failure handling is tested against this fake, so the fake's failures must look
like Slack's to slack_sdk: a 429 carries Retry-After, a 5xx is an error, a slow answer times out.
"""

from __future__ import annotations

import time

import pytest
from conftest import EMPLOYEE
from fake_slack_api import BOT_TOKEN, FakeSlackAPI
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


def client(api: FakeSlackAPI, **kwargs: object) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=api.base_url, **kwargs)  # type: ignore[arg-type]


def test_post_then_update_changes_the_message_in_place(fake_slack: FakeSlackAPI) -> None:
    web = client(fake_slack)
    posted = web.chat_postMessage(channel=EMPLOYEE, text="q1", blocks=[{"type": "section"}])
    web.chat_update(channel=posted["channel"], ts=posted["ts"], text="answered", blocks=[])
    [message] = fake_slack.messages_in(fake_slack.dm_channel(EMPLOYEE))
    assert (message.text, message.blocks, message.updates) == ("answered", [], 1)
    assert [c.method for c in fake_slack.calls] == ["chat.postMessage", "chat.update"]
    assert fake_slack.calls[0].params["blocks"] == [{"type": "section"}]


def test_rate_limit_carries_retry_after_and_then_succeeds(fake_slack: FakeSlackAPI) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    web = client(fake_slack)
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel=EMPLOYEE, text="hello")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert web.chat_postMessage(channel=EMPLOYEE, text="hello")["ok"] is True
    assert [c.status for c in fake_slack.iter_calls()] == [429, 200]


def test_server_error_and_wrong_token(fake_slack: FakeSlackAPI) -> None:
    fake_slack.fail_next("users.info", status=503)
    with pytest.raises(SlackApiError) as err:
        client(fake_slack).users_info(user=EMPLOYEE)
    assert err.value.response.status_code == 503
    bad = WebClient(token="xoxb-wrong", base_url=fake_slack.base_url)
    with pytest.raises(SlackApiError) as err:
        bad.auth_test()
    assert err.value.response["error"] == "invalid_auth"


def test_slow_answer_times_out_the_client(fake_slack: FakeSlackAPI) -> None:
    fake_slack.fail_next("chat.postMessage", delay=1.0, apply_after_delay=True)
    with pytest.raises(TimeoutError):
        client(fake_slack, timeout=0.2).chat_postMessage(channel=EMPLOYEE, text="late")
    # Slack got it even though the client gave up: the case an at-least-once notifier must tolerate.
    fake_slack.wait_until(lambda: len(fake_slack.messages_in(fake_slack.dm_channel(EMPLOYEE))) == 1)


def test_lookups_and_unknown_methods(fake_slack: FakeSlackAPI) -> None:
    web = client(fake_slack)
    assert web.users_lookupByEmail(email="ALICE@council.example")["user"]["id"] == EMPLOYEE
    assert web.users_info(user=EMPLOYEE)["user"]["profile"]["email"] == "alice@council.example"
    assert web.conversations_open(users=EMPLOYEE)["channel"]["id"] == "D" + EMPLOYEE
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C0NOTJOINED", text="x")
    assert err.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as err:
        web.api_call("reactions.add")
    assert err.value.response["error"] == "unknown_method"


def test_history_is_newest_first_paged_and_carries_metadata_only_when_asked(fake_slack: FakeSlackAPI) -> None:
    """conversations.history as Slack documents it, read through slack_sdk's own method."""
    web = client(fake_slack)
    channel = fake_slack.dm_channel(EMPLOYEE)
    posted = [
        web.chat_postMessage(channel=EMPLOYEE, text=f"m{i}", metadata={"event_type": "t", "event_payload": {"n": i}})[
            "ts"
        ]
        for i in range(5)
    ]
    web.chat_postMessage(channel=EMPLOYEE, text="reply", thread_ts=posted[0])  # not in the history
    plain = web.conversations_history(channel=channel)
    assert [m["text"] for m in plain["messages"]] == ["m4", "m3", "m2", "m1", "m0"]
    assert all("metadata" not in m for m in plain["messages"]) and plain["has_more"] is False
    page = web.conversations_history(channel=channel, limit=2, include_all_metadata=True)
    assert [m["metadata"]["event_payload"]["n"] for m in page["messages"]] == [4, 3] and page["has_more"]
    rest = web.conversations_history(channel=channel, limit=2, cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1"]
    # oldest and latest are exclusive unless inclusive is set; they are wall-clock times.
    between = web.conversations_history(channel=channel, oldest=posted[1], latest=posted[3])
    assert [m["text"] for m in between["messages"]] == ["m2"]
    inclusive = web.conversations_history(channel=channel, oldest=posted[1], latest=posted[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    assert abs(float(posted[0]) - time.time()) < 60


def test_history_of_a_channel_the_bot_is_not_in_is_refused(fake_slack: FakeSlackAPI) -> None:
    with pytest.raises(SlackApiError) as err:
        client(fake_slack).conversations_history(channel="C0NOTMEMBER")
    assert err.value.response["error"] == "not_in_channel"
