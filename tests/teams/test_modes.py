"""Local mode versus production mode: without the Azure bot's credentials nothing runs open."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from adapters.teams.app import build_service, create_app
from adapters.teams.config import LOCAL, PRODUCTION, TeamsConfig, TeamsConfigError, from_environment
from adapters.teams.storage import TeamsStorage
from bot.cli.main import _plug_in, cli
from bot.ops.health import OpsEndpoints
from bot.runtime import Runtime

from .fake_connector import FakeConnector
from .teams_client import BotServer, TeamsUser

APP_ID = "3f2b1c4d-5e6f-4a8b-9c0d-112233445566"
TENANT = "9f2c1b6e-0000-4000-8000-00000000c0de"


def test_production_mode_refuses_to_start_without_credentials() -> None:
    with pytest.raises(TeamsConfigError) as caught:
        from_environment({}).check()
    message = str(caught.value)
    assert "MICROSOFT_APP_ID" in message and "MICROSOFT_APP_PASSWORD" in message
    assert "MICROSOFT_APP_TENANT_ID" in message  # single-tenant is the default
    assert "--local" in message


def test_production_mode_starts_with_credentials_and_hides_the_secret() -> None:
    env = {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "s3cret-value", "MICROSOFT_APP_TENANT_ID": TENANT}
    config = from_environment(env).check()
    assert config.mode == PRODUCTION and config.app_type == "SingleTenant"
    assert "s3cret-value" not in repr(config)


def test_local_mode_listens_on_loopback_only() -> None:
    assert from_environment({}, local=True).check().host == "127.0.0.1"
    with pytest.raises(TeamsConfigError, match="loopback"):
        TeamsConfig(mode=LOCAL, host="0.0.0.0").check()


def test_an_unknown_app_type_is_refused_clearly() -> None:
    with pytest.raises(TeamsConfigError, match="SingleTenant"):
        from_environment({"MICROSOFT_APP_TYPE": "UserAssignedMSI"})


def test_policybot_serve_teams_refuses_production_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID", "POLICYBOT_TEAMS_MODE"):
        monkeypatch.delenv(name, raising=False)
    _plug_in()
    result = CliRunner().invoke(cli, ["serve", "teams"])
    assert result.exit_code != 0
    assert "MICROSOFT_APP_ID" in result.output


@pytest.fixture
def production_bot(runtime: Runtime, connector: FakeConnector) -> Iterator[BotServer]:
    config = TeamsConfig(mode=PRODUCTION, app_id=APP_ID, app_password="not-a-real-secret", tenant_id=TENANT)
    service = build_service(runtime.engine, TeamsStorage(runtime.store.engine), config)
    server = BotServer(create_app(service)).start()
    try:
        yield server
    finally:
        server.stop()


def test_production_mode_rejects_unsigned_activities(production_bot: BotServer, connector: FakeConnector) -> None:
    alex = TeamsUser(production_bot.url, connector)
    result = alex.say("someone is threatening to sue me")
    assert result.status == 401
    assert "Authorization" in result.body["error"]
    assert connector.calls == []  # nothing was processed, nothing sent


@pytest.fixture
def bot_with_ops(runtime: Runtime, connector: FakeConnector) -> Iterator[BotServer]:
    service = build_service(runtime.engine, TeamsStorage(runtime.store.engine), TeamsConfig(mode=LOCAL))
    server = BotServer(create_app(service, OpsEndpoints.for_runtime(runtime))).start()
    try:
        yield server
    finally:
        server.stop()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_health_readiness_and_metrics_are_served_next_to_api_messages(
    bot_with_ops: BotServer, connector: FakeConnector
) -> None:
    base = bot_with_ops.url.removesuffix("/api/messages")
    status, body = get(f"{base}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = get(f"{base}/readyz")
    assert status == 200 and json.loads(body)["checks"]["database"]["ok"] is True
    TeamsUser(bot_with_ops.url, connector).say("someone is threatening to sue me")
    status, body = get(f"{base}/metrics")
    assert status == 200
    assert 'policybot_ack_seconds_count{platform="teams"}' in body
    assert 'policybot_turn_seconds_count{platform="teams"' in body
