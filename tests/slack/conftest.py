"""Fixtures for the Slack adapter tests: the fake Web API with a small workspace in it, and the
real Bolt app served over real HTTP on loopback, driven the way Slack drives it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_slack_api import BOT_TOKEN, FakeSlackAPI, Message
from slack_requests import (
    SIGNING_SECRET,
    Response,
    SlackSender,
    block_actions,
    event_callback,
    slash_command,
)

from adapters.slack.app import SlackBot
from adapters.slack.config import SlackConfig
from adapters.slack.http_server import SlackHTTPServer
from bot.runtime import Runtime, build_runtime

EMPLOYEE = "U0EMPLOYEE"
MANAGER = "U0MANAGER"
STRANGER = "U0STRANGER"
GENERAL = "C0GENERAL"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackAPI]:
    """A running fake Slack Web API with an employee, their line manager and a stranger."""
    with FakeSlackAPI() as api:
        api.add_user(EMPLOYEE, "alice", "alice@council.example", "Alice Employee")
        api.add_user(MANAGER, "bob", "bob@council.example", "Bob Manager")
        api.add_user(STRANGER, "mallory", "mallory@council.example", "Mallory Stranger")
        api.add_channel(GENERAL)
        yield api


def dm(user_id: str) -> str:
    return "D" + user_id


class SlackHarness:
    """The running app plus helpers that act like a person in Slack (type, click, open tabs)."""

    def __init__(self, fake: FakeSlackAPI, bot: SlackBot, server: SlackHTTPServer, url: str) -> None:
        self.fake = fake
        self.bot = bot
        self.server = server
        self.url = url
        self.sender = SlackSender(url)
        self.runtime: Runtime = bot.runtime

    def settle(self) -> None:
        """Wait for the work listeners handed to the background after ack() to finish."""
        assert self.bot.drain(30), "background Slack work did not finish"

    # -- what a person does

    def slash(self, user: str, text: str = "", *, channel: str = GENERAL) -> Response:
        resp = self.sender.form(slash_command(user, text, channel_id=channel))
        self.settle()
        return resp

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> Response:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        resp = self.sender.event(event_callback(event, event_id=event_id), extra_headers=headers)
        self.settle()
        return resp

    def click(self, user: str, message: Message, label: str, *, settle: bool = True) -> Response:
        """Click the button labelled ``label`` on ``message`` (as the message looks now)."""
        block_id, element = find_button(message, label)
        return self.send_click(user, message, block_id, element, settle=settle)

    def send_click(
        self, user: str, message: Message, block_id: str, element: dict[str, Any], *, settle: bool = True
    ) -> Response:
        action = {
            "action_id": element["action_id"],
            "block_id": block_id,
            "text": element.get("text"),
            "value": element.get("value"),
        }
        resp = self.sender.interactive(
            block_actions(
                user,
                action,
                channel_id=message.channel,
                message={"ts": message.ts, "text": message.text, "blocks": message.blocks},
            )
        )
        if settle:
            self.settle()
        return resp

    def menu(self, user: str, message: Message, choice_text: str) -> Response:
        """Pick ``choice_text`` from the question's overflow menu."""
        for block in message.blocks:
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "overflow":
                for option in accessory["options"]:
                    if option["text"]["text"].startswith(choice_text):
                        action = {
                            "type": "overflow",
                            "action_id": accessory["action_id"],
                            "block_id": block["block_id"],
                            "selected_option": option,
                        }
                        payload = block_actions(
                            user,
                            action,
                            channel_id=message.channel,
                            message={"ts": message.ts, "text": message.text, "blocks": message.blocks},
                        )
                        payload["actions"][0].pop("value", None)
                        resp = self.sender.interactive(payload)
                        self.settle()
                        return resp
        raise AssertionError(f"no overflow option {choice_text!r} in {json.dumps(message.blocks)[:400]}")

    # -- what a person sees

    def dm_messages(self, user: str) -> list[Message]:
        return self.fake.messages_in(dm(user))

    def last_dm(self, user: str) -> Message:
        messages = [m for m in self.dm_messages(user) if not m.thread_ts]
        assert messages, f"no message in {user}'s DM"
        return messages[-1]


def find_button(message: Message, label: str) -> tuple[str, dict[str, Any]]:
    for block in message.blocks:
        if block.get("type") == "actions":
            for element in block["elements"]:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    return block.get("block_id", ""), element
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "button" and accessory["text"]["text"] == label:
            return block.get("block_id", ""), accessory
    raise AssertionError(f"no button {label!r}; buttons: {button_labels(message)}")


def button_labels(message: Message) -> list[str]:
    labels = []
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button":
                labels.append(element["text"]["text"])
    return labels


def all_text(message: Message) -> str:
    """Every visible string in a message's blocks, for "does it say X" assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(out)


REPO = Path(__file__).resolve().parents[2]
# The real legal-threat flow (one of the flows that must exist) and the citation registry, plus a
# small test flow of our own; copied so that flows being written in flows/ meanwhile cannot break
# these tests, while a change to legal-threat itself still shows up here.
FLOW_FILES = [REPO / "flows" / "legal-threat.yaml", REPO / "flows" / "citations.yaml"]
TEST_FLOWS = Path(__file__).resolve().parent / "flows"


def make_flows(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*FLOW_FILES, *sorted(TEST_FLOWS.glob("*.yaml"))]:
        shutil.copy(path, folder / path.name)
    return folder


def make_runtime(tmp_path: Path, **kwargs: Any) -> Runtime:
    return build_runtime(
        database_url=f"sqlite:///{tmp_path / 'policybot.db'}", flows_dir=make_flows(tmp_path / "flows"), **kwargs
    )


def start_bot(fake: FakeSlackAPI, runtime: Runtime, **kwargs: Any) -> tuple[SlackBot, SlackHTTPServer, str]:
    config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url)
    bot = SlackBot(runtime, config, **kwargs)
    server = SlackHTTPServer(bot.app, port=0)
    return bot, server, server.start_in_thread()


SlackFactory = Callable[..., SlackHarness]


@pytest.fixture
def slack_factory(fake_slack: FakeSlackAPI, tmp_path: Path) -> Iterator[SlackFactory]:
    """Builds the real Bolt app on real HTTP, talking to the fake Web API, on a fresh SQLite store.
    Keyword arguments go to ``build_runtime`` (settings_path, clock, ...), ``bot_options`` to SlackBot."""
    started: list[SlackHarness] = []

    def make(*, bot_options: dict[str, Any] | None = None, **runtime_kwargs: Any) -> SlackHarness:
        runtime = make_runtime(tmp_path, **runtime_kwargs)
        bot, server, url = start_bot(fake_slack, runtime, **(bot_options or {}))
        harness = SlackHarness(fake_slack, bot, server, url)
        harness.runtime = runtime
        started.append(harness)
        return harness

    yield make
    for harness in started:
        harness.sender.close()
        harness.server.stop()
        harness.bot.shutdown(10)
        harness.runtime.store.close()


@pytest.fixture
def slack(slack_factory: SlackFactory, tmp_path: Path) -> SlackHarness:
    """The app with the built-in default settings (no directory, no team channels).

    An empty settings file is passed so that a policybot.yaml in the working folder or
    $POLICYBOT_SETTINGS cannot change what these tests see."""
    settings = tmp_path / "empty-settings.yaml"
    settings.write_text("# defaults only\n", encoding="utf-8")
    return slack_factory(settings_path=settings)
