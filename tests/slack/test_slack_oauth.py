"""Several workspaces (OAuth): authorisations are cached and never stall the server (issue 15,
hole 4), and uninstalling cleans up through Bolt's own listeners (hole 6).

Bolt's authorize step used to call ``auth.test`` and the database for every request, on the event
loop, before the ack: with ``auth.test`` slowed to 2 s, every ack and ``/healthz`` waited 2 s.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EMPLOYEE, make_runtime
from fake_slack_api import BOT_TOKEN, TEAM_ID, FakeSlackAPI
from slack_requests import SIGNING_SECRET, SlackSender, event_callback, slash_command
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.app import SlackBot
from adapters.slack.config import SlackConfig
from adapters.slack.http_server import SlackHTTPServer
from adapters.slack.installs import OAuthConfig, SlackInstalls
from bot.runtime import Runtime


class Served:
    def __init__(self, fake: FakeSlackAPI, runtime: Runtime) -> None:
        self.fake = fake
        self.runtime = runtime
        self.installs = SlackInstalls(runtime.store.engine, OAuthConfig("123.456", "oauth-client-secret-0000"))
        self.installs.installation_store.save(
            Installation(
                app_id="A0POLICYBOT",
                team_id=TEAM_ID,
                bot_token=BOT_TOKEN,
                bot_id="BBOTPOLICY",
                bot_user_id="UBOTPOLICY",
                bot_scopes=["chat:write"],
                user_id="U0INSTALLER",
            )
        )
        config = SlackConfig(bot_token="", signing_secret=SIGNING_SECRET, api_url=fake.base_url)
        self.bot = SlackBot(runtime, config, installs=self.installs)
        self.server = SlackHTTPServer(self.bot.app, port=0)
        self.sender = SlackSender(self.server.start_in_thread())

    def healthz(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.server.bound_port}/healthz", timeout=10) as resp:
            return int(resp.status)

    def close(self) -> None:
        self.sender.close()
        self.server.stop()
        self.bot.shutdown(10)
        self.runtime.store.close()


@pytest.fixture
def served(fake_slack: FakeSlackAPI, tmp_path: Path) -> Iterator[Served]:
    settings = tmp_path / "empty.yaml"
    settings.write_text("# defaults\n", encoding="utf-8")
    running = Served(fake_slack, make_runtime(tmp_path, settings_path=settings))
    yield running
    running.close()


def test_auth_test_is_asked_once_per_workspace_not_per_request(served: Served) -> None:
    for n in range(4):
        assert served.sender.form(slash_command(EMPLOYEE, f"question {n}", channel_id="D" + EMPLOYEE)).status == 200
    assert served.bot.drain(30)
    assert len(served.fake.calls_to("auth.test")) == 1


def test_a_slow_authorize_does_not_hold_up_the_health_check(served: Served) -> None:
    served.fake.fail_next("auth.test", delay=3.0, apply_after_delay=True)
    answered: list[int] = []
    request = threading.Thread(
        target=lambda: answered.append(served.sender.form(slash_command(EMPLOYEE, "hello")).status), daemon=True
    )
    request.start()
    served.fake.wait_until(lambda: "auth.test" in served.fake.started, what="auth.test in flight")
    assert served.healthz() == 200
    assert served.fake.calls_to("auth.test") == []  # answered while auth.test was still in flight
    request.join(30)
    assert answered == [200]


def test_uninstalling_deletes_the_workspace_and_its_token(served: Served) -> None:
    assert served.installs.bot_token(TEAM_ID) == BOT_TOKEN
    assert served.sender.form(slash_command(EMPLOYEE, "hi", channel_id="D" + EMPLOYEE)).status == 200  # cached
    resp = served.sender.event(event_callback({"type": "app_uninstalled"}))
    assert resp.status == 200
    assert served.bot.drain(30)
    assert served.installs.bot_token(TEAM_ID) is None
    assert served.installs.installed_teams() == []
    assert served.installs.cached_store.find_bot(enterprise_id=None, team_id=TEAM_ID) is None
