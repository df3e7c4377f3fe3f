"""Slack installed in several workspaces over OAuth, with slack_sdk's SQLAlchemy installation store
on the bot's own database (SQLite and PostgreSQL): the install flow over real HTTP, each
workspace answered with its own token (in conversations and in escalation deliveries), and
``app_uninstalled`` / ``tokens_revoked`` deleting what they should.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from fake_slack_api import FakeSlackAPI
from slack_requests import SIGNING_SECRET, SlackSender, event_callback, slash_command
from sqlalchemy import func, select

from adapters.slack.app import SlackBot
from adapters.slack.config import SlackConfig
from adapters.slack.http_server import SlackHTTPServer
from adapters.slack.installs import BOT_SCOPES, OAuthConfig, SlackInstalls, WorkspaceNotifier
from adapters.slack.notifier import SlackNotifier, make_notifier_client
from bot.cases.tables import outbox
from bot.cases.worker import Worker
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.replies import Question
from bot.errors import SettingsError
from bot.runtime import Runtime, build_runtime
from tests.production.kit import write_flows
from tests.production.replicas import Org

CLIENT_ID = "1234567890.0987654321"
CLIENT_SECRET = "oauth-client-secret-0123456789"
EMPLOYEE = "U0EMP00000"
WORKSPACES = {"T0NORTH": "xoxb-north-000000000001", "T0SOUTH": "xoxb-south-000000000002"}


class FakeWorkspaces(FakeSlackAPI):
    """The fake Web API serving several workspaces: one bot token each, and ``oauth.v2.access``.

    Every call is recorded with the workspace whose token it used (``uses``), so a test can see
    which workspace's name the bot acted in.
    """

    def __init__(self) -> None:
        super().__init__()
        self.codes: dict[str, str] = {}  # OAuth code -> team id
        self.uses: list[tuple[str, str | None]] = []  # (method, team id of the token used)

    def handle(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict[str, str], dict]:
        if method == "oauth.v2.access":
            return 200, {}, self._oauth(params, token)
        team = next((t for t, tok in WORKSPACES.items() if tok == token), None)
        self.uses.append((method, team))
        return super().handle(method, params, self.token if team else token)

    def _oauth(self, params: dict[str, Any], auth: str | None) -> dict[str, Any]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if auth != f"Basic {expected}":
            return {"ok": False, "error": "invalid_client"}
        team = self.codes.pop(str(params.get("code")), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A0POLICYBOT",
            "authed_user": {"id": "U0INSTALLER"},
            "scope": ",".join(BOT_SCOPES),
            "token_type": "bot",
            "access_token": WORKSPACES[team],
            "bot_user_id": "UBOTPOLICY",
            "team": {"id": team, "name": f"Council {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def sent_as(self, method: str) -> list[str | None]:
        return [team for m, team in self.uses if m == method]


@pytest.fixture
def fake() -> Iterator[FakeWorkspaces]:
    api = FakeWorkspaces().start()
    api.add_user(EMPLOYEE, "emp", "emp@council.example", "Employee Zero")
    api.add_user("U0MANAGER", "morgan", "morgan@council.example", "Morgan Manager")
    yield api
    api.stop()


class Served:
    def __init__(self, runtime: Runtime, installs: SlackInstalls, bot: SlackBot, server: SlackHTTPServer) -> None:
        self.runtime = runtime
        self.installs = installs
        self.bot = bot
        self.server = server
        self.base = f"http://127.0.0.1:{server.bound_port}"
        self.sender = SlackSender(server.url)


@pytest.fixture
def served(fake: FakeWorkspaces, database_url: str, tmp_path: Path) -> Iterator[Served]:
    org = Org.create(tmp_path / "org", write_flows(tmp_path / "flows"), 1)
    runtime = build_runtime(org.settings, database_url, flows_dir=org.flows)
    installs = SlackInstalls(runtime.store.engine, OAuthConfig(CLIENT_ID, CLIENT_SECRET))
    config = SlackConfig(bot_token="", signing_secret=SIGNING_SECRET, api_url=fake.base_url)
    bot = SlackBot(runtime, config, installs=installs)
    server = SlackHTTPServer(bot.app, port=0)
    server.start_in_thread()
    running = Served(runtime, installs, bot, server)
    yield running
    running.sender.close()
    server.stop()
    bot.worker.shutdown(10)
    runtime.store.close()


def get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


def install(served: Served, fake: FakeWorkspaces, team: str) -> str:
    """A workspace admin clicks "Add to Slack", approves, and Slack sends the browser back."""
    status, page, headers = get(served.base + "/slack/install")
    assert status == 200, page
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    code = f"code-{team}"
    fake.codes[code] = team
    status, page, _ = get(f"{served.base}/slack/oauth_redirect?code={code}&state={query['state'][0]}", cookie)
    return f"{status} {page}"


def slash_from(served: Served, team: str) -> int:
    payload = slash_command(EMPLOYEE, "chain of questions", channel_id="D" + EMPLOYEE)
    payload["team_id"] = team
    status = served.sender.form(payload).status
    assert served.bot.worker.drain(30)
    return status


def test_the_manifest_asks_for_the_scopes_the_install_link_asks_for() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest/slack/manifest.yaml").read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_install_two_workspaces_and_answer_each_with_its_own_token(served: Served, fake: FakeWorkspaces) -> None:
    assert "200" in install(served, fake, "T0NORTH")
    assert "200" in install(served, fake, "T0SOUTH")
    assert served.installs.installed_teams() == ["T0NORTH", "T0SOUTH"]
    # The tokens are in the bot's own database, found by team.
    assert served.installs.bot_token("T0SOUTH") == WORKSPACES["T0SOUTH"]

    fake.uses.clear()
    assert slash_from(served, "T0NORTH") == 200
    assert set(fake.sent_as("chat.postMessage")) == {"T0NORTH"}
    fake.uses.clear()
    assert slash_from(served, "T0SOUTH") == 200
    assert set(fake.sent_as("chat.postMessage")) == {"T0SOUTH"}
    assert "Question 1?" in json.dumps(fake.messages_in("D" + EMPLOYEE)[-1].blocks)


def test_a_workspace_that_never_installed_gets_nothing_done(served: Served, fake: FakeWorkspaces) -> None:
    install(served, fake, "T0NORTH")
    fake.uses.clear()
    assert slash_from(served, "T0WEST") < 500
    assert fake.sent_as("chat.postMessage") == []


def test_a_replayed_or_forged_oauth_redirect_installs_nothing(served: Served, fake: FakeWorkspaces) -> None:
    fake.codes["code-x"] = "T0NORTH"
    status, _page, _ = get(f"{served.base}/slack/oauth_redirect?code=code-x&state=made-up")
    assert status >= 400
    assert served.installs.installed_teams() == []


def escalate(runtime: Runtime, team: str) -> None:
    actor = Actor(user_id=f"slack:{team}:{EMPLOYEE}", platform="slack", email="emp0@council.example")
    replies = runtime.engine.handle(actor, Start(flow_id="chain"))
    while isinstance(replies[-1], Question):
        q = replies[-1]
        replies = runtime.engine.handle(actor, Choose(q.conversation_id, q.state, 0, q.turn))


def test_escalations_are_delivered_in_the_workspace_the_case_came_from(served: Served, fake: FakeWorkspaces) -> None:
    install(served, fake, "T0NORTH")
    install(served, fake, "T0SOUTH")
    escalate(served.runtime, "T0SOUTH")
    escalate(served.runtime, "T0WEST")  # a workspace with no install: given up on, with a reason
    config = SlackConfig(bot_token="", signing_secret=SIGNING_SECRET, api_url=fake.base_url)
    notifier = WorkspaceNotifier(SlackNotifier(make_notifier_client(config)), served.installs)
    fake.uses.clear()
    report = Worker(served.runtime, notifier).run_once()
    assert report.deliveries.delivered and report.deliveries.failed
    assert set(fake.sent_as("chat.postMessage")) == {"T0SOUTH"}
    with served.runtime.store.engine.connect() as conn:
        errors = conn.execute(select(outbox.c.last_error).where(outbox.c.status == "failed")).scalars().all()
    assert errors and all("T0WEST" in e and "/slack/install" in e for e in errors)


def in_workspace(envelope: dict[str, Any], team: str) -> dict[str, Any]:
    """An Events API envelope from ``team`` (Slack names the team in both places)."""
    envelope["team_id"] = team
    for authorization in envelope.get("authorizations", []):
        authorization["team_id"] = team
    return envelope


def test_uninstall_and_token_revocation_delete_the_installs(served: Served, fake: FakeWorkspaces) -> None:
    install(served, fake, "T0NORTH")
    install(served, fake, "T0SOUTH")
    uninstalled = in_workspace(event_callback({"type": "app_uninstalled", "event_ts": "1700000000.000100"}), "T0NORTH")
    assert served.sender.event(uninstalled).status == 200
    assert served.installs.installed_teams() == ["T0SOUTH"]
    table = served.installs.installation_store.installations
    with served.runtime.store.engine.connect() as conn:
        north = conn.execute(select(func.count()).where(table.c.team_id == "T0NORTH")).scalar_one()
    assert north == 0

    revoked = event_callback(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTPOLICY"]}, "event_ts": "1700000000.000200"}
    )
    revoked = in_workspace(revoked, "T0SOUTH")
    assert served.sender.event(revoked).status == 200
    assert served.installs.installed_teams() == []
    assert served.installs.bot_token("T0SOUTH") is None
    fake.uses.clear()
    slash_from(served, "T0SOUTH")
    assert fake.sent_as("chat.postMessage") == []  # nothing is sent in a workspace that revoked us


def test_oauth_settings_come_from_the_environment() -> None:
    assert OAuthConfig.from_env({}) is None
    config = OAuthConfig.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET})
    assert config is not None and CLIENT_SECRET not in repr(config)
    with pytest.raises(SettingsError, match="SLACK_CLIENT_SECRET"):
        OAuthConfig.from_env({"SLACK_CLIENT_ID": CLIENT_ID})
    slack = SlackConfig.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    assert slack.bot_token == ""  # several workspaces: the tokens are in the database
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        SlackConfig.from_env({"SLACK_SIGNING_SECRET": SIGNING_SECRET})
