"""The endpoint answers 401 or 400, never 500, for anything that is not a well-formed Slack request.

The signature is checked on the raw bytes before anything is decoded or parsed (issue 15, hole
2): a deeply nested body with a bogus signature used to reach the JSON parser first and come back
as a 500 with a traceback, as did a body claiming ``Content-Encoding: gzip``. Signed bodies Slack
would never send (a click naming no action, a view without a type) get 400 before Bolt.
"""

from __future__ import annotations

import json
import logging

import pytest
from conftest import EMPLOYEE, SlackHarness
from slack_requests import block_actions, sign, view_submission

NESTED = "[" * 1500 + "]" * 1500  # about 3 KB: deeper than the JSON parser's recursion limit


def test_a_deeply_nested_body_with_a_bogus_signature_is_refused_unread(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    for content_type, body in (
        ("application/json", NESTED),
        ("application/x-www-form-urlencoded", "payload=" + NESTED),
    ):
        headers = sign(body, secret="not-the-signing-secret")
        resp = slack.sender.post_raw(body, content_type, headers)
        assert resp.status == 401
    assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere


def test_a_signed_deeply_nested_body_is_a_400(slack: SlackHarness) -> None:
    assert slack.sender.post(NESTED, "application/json").status == 400
    assert slack.sender.form({"payload": NESTED}).status == 400


def test_a_body_that_claims_to_be_gzip_is_refused_without_inflating_it(slack: SlackHarness) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}})
    for secret in ("not-the-signing-secret", None):  # signed or not: Slack never compresses
        resp = slack.sender.post(body, "application/json", secret=secret, extra_headers={"Content-Encoding": "gzip"})
        assert resp.status == 400


def test_signed_but_malformed_interactions_are_400s(slack: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    no_action = block_actions(EMPLOYEE, {"action_id": "choose:0", "value": "x"}, channel_id="D" + EMPLOYEE)
    no_action["actions"] = []
    assert slack.sender.interactive(no_action).status == 400
    no_type = view_submission(EMPLOYEE, "start_check_modal", {})
    del no_type["view"]["type"]
    assert slack.sender.interactive(no_type).status == 400
    not_a_dict = block_actions(EMPLOYEE, {"action_id": "choose:0"}, channel_id="D" + EMPLOYEE)
    not_a_dict["user"] = "U0EMPLOYEE"
    assert slack.sender.interactive(not_a_dict).status == 400
    assert not [r for r in caplog.records if r.exc_info]


def test_a_body_that_is_not_utf8_is_a_400_once_signed(slack: SlackHarness) -> None:
    raw = b"payload=\xff\xfe"
    import hashlib
    import hmac
    import time

    from slack_requests import SIGNING_SECRET

    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    import http.client

    conn = http.client.HTTPConnection(slack.sender.host, slack.sender.port, timeout=10)
    conn.request(
        "POST",
        slack.sender.path,
        body=raw,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
        },
    )
    assert conn.getresponse().status == 400
    conn.close()
