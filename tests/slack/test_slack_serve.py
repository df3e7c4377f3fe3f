"""``policybot serve slack`` as an IT admin runs it, and the endpoints a load balancer polls."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import EMPLOYEE, SlackHarness, all_text, make_flows
from fake_slack_api import BOT_TOKEN, FakeSlackAPI
from slack_requests import SIGNING_SECRET, SlackSender, slash_command

from adapters.slack.http_server import SlackHTTPServer
from bot.ops.health import OpsEndpoints

POLICYBOT = Path(sys.executable).with_name("policybot")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_health_readiness_and_metrics(slack: SlackHarness) -> None:
    server = SlackHTTPServer(slack.bot.app, port=0, ops=OpsEndpoints.for_runtime(slack.runtime))
    url = server.start_in_thread()
    base = url.removesuffix("/slack/events")
    try:
        assert get(base + "/healthz")[0] == 200
        status, body = get(base + "/readyz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        SlackSender(url).form(slash_command(EMPLOYEE, "someone threatened to sue me"))
        slack.settle()
        status, body = get(base + "/metrics")
        assert status == 200
        assert 'policybot_ack_seconds_count{platform="slack"}' in body
        server.ops.draining = True  # type: ignore[union-attr]
        assert get(base + "/readyz")[0] == 503  # shutting down: the balancer stops sending
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_policybot_serve_slack_in_http_mode(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    if not POLICYBOT.exists():  # the console script sits beside the interpreter in a virtualenv
        assert shutil.which("policybot"), "policybot is not installed: pip install -e ."
    settings = tmp_path / "policybot.yaml"
    settings.write_text("# defaults\n", encoding="utf-8")
    flows = make_flows(tmp_path / "flows")
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "POLICYBOT_LOG_FORMAT": "text",
    }
    env.pop("SLACK_APP_TOKEN", None)
    command = [
        str(POLICYBOT) if POLICYBOT.exists() else "policybot",
        "--settings", str(settings),
        "--flows", str(flows),
        "--database", f"sqlite:///{tmp_path / 'serve.db'}",
        "serve", "slack", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while get_or_none(f"http://127.0.0.1:{port}/healthz") != 200:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "policybot serve slack did not start within 60 s"
            time.sleep(0.2)
        resp = SlackSender(f"http://127.0.0.1:{port}/slack/events").form(
            slash_command(EMPLOYEE, "someone threatened to sue me")
        )
        assert resp.status == 200
        # the router's "Understood: ... [Not this]" line, then the first question
        fake_slack.wait_until(lambda: len(fake_slack.messages_in("D" + EMPLOYEE)) >= 2, what="the first question")
        assert "Where was the post made?" in all_text(fake_slack.messages_in("D" + EMPLOYEE)[1])
        forged = SlackSender(f"http://127.0.0.1:{port}/slack/events", secret="wrong")
        assert forged.form(slash_command(EMPLOYEE, "x")).status == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Stopping" in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


def test_policybot_worker_can_deliver_through_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    """`policybot worker --notifier slack` (a separate delivery process) finds the Slack notifier."""
    from adapters.slack.notifier import SlackNotifier
    from bot.cli.case_commands import load_notifier

    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    assert isinstance(load_notifier("slack", None), SlackNotifier)  # type: ignore[arg-type]
