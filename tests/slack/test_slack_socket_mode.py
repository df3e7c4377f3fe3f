"""Socket Mode, the quick start: the same app over a WebSocket instead of HTTP.

The app opens the connection itself (``apps.connections.open`` on the fake Web API hands out the
fake Socket Mode server's address), Slack's envelopes arrive on it, and every envelope must be
acknowledged (with its envelope id) before the slow work runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EMPLOYEE, SlackHarness, all_text, make_flows
from fake_slack_api import APP_TOKEN, BOT_TOKEN, FakeSlackAPI
from fake_socket_mode import FakeSocketMode
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_requests import SIGNING_SECRET, block_actions, dm_message, event_callback, slash_command

POLICYBOT = Path(sys.executable).with_name("policybot")


@pytest.fixture
def socket_mode(fake_slack: FakeSlackAPI) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode().start()
    fake_slack.socket_mode_url = server.url
    yield server
    server.stop()


def test_socket_mode_conversation(slack: SlackHarness, socket_mode: FakeSocketMode) -> None:
    handler = SocketModeHandler(slack.bot.app, APP_TOKEN)
    handler.connect()
    try:
        envelope = socket_mode.send("slash_commands", slash_command(EMPLOYEE, "someone threatened to sue me"))
        ack = socket_mode.wait_ack(envelope)
        assert "direct message" in str(ack.get("payload"))  # the ephemeral answer rides on the ack
        slack.settle()
        question = slack.last_dm(EMPLOYEE)
        assert "Where was the post made?" in all_text(question)

        button = next(b for b in question.blocks if b["type"] == "actions")["elements"][0]
        click = block_actions(
            EMPLOYEE,
            {
                "action_id": button["action_id"],
                "block_id": "options_0",
                "value": button["value"],
                "text": button["text"],
            },
            channel_id=question.channel,
            message={"ts": question.ts, "text": question.text, "blocks": question.blocks},
        )
        socket_mode.wait_ack(socket_mode.send("interactive", click))
        slack.settle()
        assert "You chose" in all_text(slack.fake.message(question.channel, question.ts))
        assert "Is the post still online?" in all_text(slack.last_dm(EMPLOYEE))

        # An event Slack retries over the socket is acknowledged each time and applied once.
        event = event_callback(dm_message(EMPLOYEE, "quit"), event_id="Ev0SOCKET1")
        socket_mode.wait_ack(socket_mode.send("events_api", event))
        socket_mode.wait_ack(socket_mode.send("events_api", event, retry_attempt=1))
        slack.settle()
        stopped = [m for m in slack.dm_messages(EMPLOYEE) if "Stopped" in m.text]
        assert len(stopped) == 1
    finally:
        handler.close()


def test_policybot_serve_slack_in_socket_mode(
    fake_slack: FakeSlackAPI, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    settings = tmp_path / "policybot.yaml"
    settings.write_text("# defaults\n", encoding="utf-8")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": fake_slack.base_url,
        "POLICYBOT_LOG_FORMAT": "text",
    }
    command = [
        str(POLICYBOT) if POLICYBOT.exists() else "policybot",
        "--settings", str(settings),
        "--flows", str(make_flows(tmp_path / "flows")),
        "--database", f"sqlite:///{tmp_path / 'socket.db'}",
        "serve", "slack",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        socket_mode.wait_connected(timeout=60)
        envelope = socket_mode.send("slash_commands", slash_command(EMPLOYEE, "someone threatened to sue me"))
        socket_mode.wait_ack(envelope)
        # the router's "Understood: ... [Not this]" line, then the first question
        fake_slack.wait_until(lambda: len(fake_slack.messages_in("D" + EMPLOYEE)) >= 2, what="the first question")
        assert "Where was the post made?" in all_text(fake_slack.messages_in("D" + EMPLOYEE)[1])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output
    assert "Socket Mode" in output and "Stopping" in output
    assert APP_TOKEN not in output and BOT_TOKEN not in output
