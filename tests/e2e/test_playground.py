"""End to end: Microsoft's local Teams test client, the M365 Agents Playground, holds a legal-threat
conversation with the bot in local mode and clicks through to the outcome.

The bot runs as in tests/teams (local mode, the fixed test flows, SQLite) on a real socket; the
Playground (npm ``@microsoft/m365agentsplayground``, pinned with a lock file in this folder)
plays Teams and its Bot Connector against it; Debian's Chromium, driven by ``playwright-core``
with ``executablePath`` (no browser download), plays the person: tests/e2e/playground.js types
the threat and clicks each answer on the Adaptive Cards the bot sends, Action.Execute updating
each card in place, until the outcome card arrives.

Needs Node, /usr/bin/chromium and ``npm ci`` in tests/e2e (.ci/run does all three). Without them
the test skips, saying which is missing; with POLICYBOT_REQUIRE_SERVICES=1 it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shared_inputs import need_tools
from tests.teams.conftest import RunningBot
from tests.teams.fake_connector import FakeConnector

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("POLICYBOT_CHROMIUM", "/usr/bin/chromium")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    if not (HERE / "node_modules" / "@microsoft" / "m365agentsplayground").is_dir():
        return "the Playground is not installed: run `npm ci` in tests/e2e"
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed: run `npm ci` in tests/e2e"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def playground(bot: RunningBot, tmp_path: Path) -> Iterator[str]:
    problem = _missing()
    need_tools([problem] if problem else [])
    port = _free_port()
    binary = HERE / "node_modules" / ".bin" / "agentsplayground"
    process = subprocess.Popen(
        [str(binary), "-e", bot.url, "-c", "msteams", "-p", str(port), "--dt"],
        cwd=tmp_path,  # it writes devTools/ logs where it runs
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    pytest.fail(f"the Playground did not start: {output[-800:]}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_the_playground_walks_a_legal_threat_to_its_outcome(
    playground: str, bot: RunningBot, connector: FakeConnector
) -> None:
    run = subprocess.run(
        ["node", str(HERE / "playground.js"), playground],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, (run.stdout[-800:], run.stderr[-800:])
    result = json.loads(lines[-1])
    assert result["ok"], result
    assert result["steps"][-1] == "reached the outcome" and result["outcome"] is True
    assert connector.calls == []  # everything went through the Playground, not the test connector
