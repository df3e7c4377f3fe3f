"""``policybot serve slack`` with a hostile and a careless flow in its folder: it still becomes ready,
serves the other flows, and tells the operator which files it left out (log, /readyz, /metrics)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import EMPLOYEE, all_text, make_flows
from fake_slack_api import BOT_TOKEN, FakeSlackAPI
from slack_requests import SIGNING_SECRET, SlackSender, slash_command
from test_slack_serve import free_port, get, get_or_none

from tests.core.hostile_flows import alias_bomb

POLICYBOT = Path(sys.executable).with_name("policybot")


def test_serve_becomes_ready_and_names_the_flow_files_it_left_out(fake_slack: FakeSlackAPI, tmp_path: Path) -> None:
    flows = make_flows(tmp_path / "flows")
    (flows / "alias-bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    (flows / "careless.yaml").write_text("id: careless\ntitle: T\nstart: a\nstates: {a: {verdict: go}}\n")
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
        str(POLICYBOT), "--flows", str(flows), "--database", f"sqlite:///{tmp_path / 'serve.db'}",
        "serve", "slack", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while get_or_none(f"http://127.0.0.1:{port}/readyz") != 200:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "policybot serve slack did not become ready within 60 s"
            time.sleep(0.2)
        _, body = get(f"http://127.0.0.1:{port}/readyz")
        detail = json.loads(body)["checks"]["flows"]["detail"]
        assert "2 flow files failed their checks and are not offered" in detail
        assert str(flows / "alias-bomb.yaml") in detail and str(flows / "careless.yaml") in detail
        _, exposition = get(f"http://127.0.0.1:{port}/metrics")
        assert "policybot_flow_files_failed 2.0" in exposition
        resp = SlackSender(f"http://127.0.0.1:{port}/slack/events").form(
            slash_command(EMPLOYEE, "someone threatened to sue me")
        )
        assert resp.status == 200
        fake_slack.wait_until(lambda: len(fake_slack.messages_in("D" + EMPLOYEE)) >= 2, what="the first question")
        assert "Where was the post made?" in all_text(fake_slack.messages_in("D" + EMPLOYEE)[-1])  # after "Understood"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert "flow file left out" in output and "more than 200,000 values" in output
