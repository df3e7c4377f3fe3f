"""Fuzzing the Slack HTTP endpoint: random, mutated and truncated payloads, correctly signed (so
they get past the signature check and reach the parsing), never produce a 500. Each gets a 4xx,
a 200 with nothing done, or a polite notice to the person; and the app still works afterwards.

The real Bolt app runs on real HTTP against the fake Slack Web API, as in tests/slack.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fake_slack_api import BOT_TOKEN, FakeSlackAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_requests import (
    SIGNING_SECRET,
    SlackSender,
    app_home_opened,
    block_actions,
    dm_message,
    event_callback,
    global_shortcut,
    slash_command,
    view_submission,
)

from adapters.slack.app import SlackBot
from adapters.slack.config import SlackConfig
from adapters.slack.http_server import SlackHTTPServer
from bot.runtime import build_runtime
from tests.production.kit import BRANCHY_FLOW, JSON_VALUES, PAYLOAD_CHANGES, chain_flow, mutate, write_flows

USER = "U0FUZZER"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Running:
    """The app, its HTTP server and a sender, started once for the whole module."""

    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="policybot-slack-fuzz-"))
        self.fake = FakeSlackAPI().start()
        self.fake.add_user(USER, "fuzz", "fuzz@council.example", "Fuzz Tester")
        self.fake.add_channel("C0GENERAL")
        flows = write_flows(folder / "flows", {"chain": chain_flow(), "branchy": BRANCHY_FLOW})
        settings_file = folder / "settings.yaml"
        settings_file.write_text("# defaults only\n", encoding="utf-8")
        self.runtime = build_runtime(settings_file, f"sqlite:///{folder / 'fuzz.db'}", flows_dir=flows)
        config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=self.fake.base_url)
        self.bot = SlackBot(self.runtime, config)
        self.server = SlackHTTPServer(self.bot.app, port=0)
        self.sender = SlackSender(self.server.start_in_thread())

    def send(self, body: str, content_type: str) -> int:
        response = self.sender.post(body, content_type)
        assert self.bot.worker.drain(30)
        return response.status

    def stop(self) -> None:
        self.sender.close()
        self.server.stop()
        self.bot.worker.shutdown(10)
        self.runtime.store.close()
        self.fake.stop()


@lru_cache(maxsize=1)
def app() -> Running:
    return Running()


@pytest.fixture(scope="module", autouse=True)
def stop_app_afterwards() -> Iterator[None]:
    yield
    if app.cache_info().currsize:
        app().stop()
        app.cache_clear()


def real_payloads() -> list[tuple[str, dict[str, Any]]]:
    """One of each kind of request Slack sends, in its real shape: (kind, payload)."""
    click = {"action_id": "choose:0", "block_id": "q", "value": json.dumps({"c": "x", "s": "q1", "o": 0, "t": 1})}
    return [
        ("form", slash_command(USER, "chain of questions")),
        ("interactive", block_actions(USER, click, channel_id="D" + USER)),
        ("interactive", global_shortcut(USER)),
        ("interactive", view_submission(USER, "start_check", {"b": {"a": {"type": "plain_text_input", "value": "x"}}})),
        ("json", event_callback(dm_message(USER, "chain of questions"))),
        ("json", event_callback(app_home_opened(USER))),
    ]


def encode(kind: str, payload: Any) -> tuple[str, str]:
    if kind == "json":
        return json.dumps(payload), "application/json"
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    if isinstance(payload, dict):
        return urlencode({str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in payload.items()}), (
            "application/x-www-form-urlencoded"
        )
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def assert_not_a_server_error(status: int, what: str) -> None:
    assert status < 500, f"{what} gave HTTP {status}"


@FUZZ
@given(
    which=st.integers(min_value=0, max_value=5),
    changes=PAYLOAD_CHANGES,
)
def test_real_payloads_with_random_parts_changed_never_give_a_500(
    which: int, changes: list[tuple[list[int], str, Any]]
) -> None:
    kind, payload = real_payloads()[which]
    for path, how, value in changes:
        payload = mutate(payload, path, how, value)
    body, content_type = encode(kind, payload)
    assert_not_a_server_error(app().send(body, content_type), f"{kind} payload {body[:300]}")


@FUZZ
@given(which=st.integers(min_value=0, max_value=5), cut=st.integers(min_value=0))
def test_truncated_payloads_never_give_a_500(which: int, cut: int) -> None:
    kind, payload = real_payloads()[which]
    body, content_type = encode(kind, payload)
    body = body[: cut % (len(body) + 1)]
    assert_not_a_server_error(app().send(body, content_type), f"truncated {kind} body {body[:300]}")


@FUZZ
@given(
    data=JSON_VALUES,
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data", ""]
    ),
    as_payload=st.booleans(),
)
def test_random_bodies_never_give_a_500(data: Any, content_type: str, as_payload: bool) -> None:
    body = urlencode({"payload": json.dumps(data)}) if as_payload else json.dumps(data)
    assert_not_a_server_error(app().send(body, content_type), f"{content_type} body {body[:300]}")


def test_the_app_still_answers_after_the_fuzzing() -> None:
    running = app()
    status = running.send(*encode("form", slash_command(USER, "chain of questions")))
    assert status == 200
    last = running.fake.messages_in("D" + USER)[-1]
    assert "Question 1?" in json.dumps(last.blocks)


def test_a_badly_signed_or_unsigned_request_is_refused_with_401() -> None:
    running = app()
    body, content_type = encode("form", slash_command(USER, "chain of questions"))
    assert running.sender.post(body, content_type, secret="not-the-signing-secret").status == 401
    assert running.sender.post_raw(body, content_type, {}).status == 401
    assert running.sender.post(body, content_type, timestamp=1).status == 401  # replayed from long ago
