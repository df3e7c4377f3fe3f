"""Fuzzing the Teams endpoint: activities with random parts changed, cut short, or replaced by
random JSON never produce a 500. Each gets a 4xx, a 2xx with nothing done, or a polite reply;
and the bot still answers a real message afterwards.

The real Teams adapter (the Agents SDK's CloudAdapter on aiohttp) runs in local mode (no Bot Framework
token needed, so the fuzzed bodies reach the parsing) against the fake Bot Connector.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.teams.app import build_service, create_app
from adapters.teams.casedesk import TeamsCaseDesk
from adapters.teams.config import LOCAL, TeamsConfig
from adapters.teams.storage import TeamsStorage
from bot.runtime import build_runtime
from tests.production.kit import BRANCHY_FLOW, JSON_VALUES, PAYLOAD_CHANGES, chain_flow, mutate, write_flows
from tests.teams.fake_connector import FakeConnector
from tests.teams.teams_client import BotServer, TeamsUser, post_json

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Running:
    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="policybot-teams-fuzz-"))
        self.connector = FakeConnector().__enter__()
        flows = write_flows(folder / "flows", {"chain": chain_flow(), "branchy": BRANCHY_FLOW})
        settings_file = folder / "settings.yaml"
        settings_file.write_text("# defaults only\n", encoding="utf-8")
        self.runtime = build_runtime(settings_file, f"sqlite:///{folder / 'fuzz.db'}", flows_dir=flows)
        config = TeamsConfig(mode=LOCAL, connector_timeout_seconds=3.0, turn_seconds=10.0)
        desk = TeamsCaseDesk(self.runtime.cases) if self.runtime.cases is not None else None
        service = build_service(self.runtime.engine, TeamsStorage(self.runtime.store.engine), config, cases=desk)
        self.server = BotServer(create_app(service)).start()
        self.user = TeamsUser(self.server.url, self.connector)

    def send(self, body: Any = None, *, raw: bytes | None = None) -> int:
        return post_json(self.server.url, body, raw=raw).status

    def stop(self) -> None:
        self.server.stop()
        self.runtime.store.close()
        self.connector.__exit__(None, None, None)


@lru_cache(maxsize=1)
def app() -> Running:
    return Running()


@pytest.fixture(scope="module", autouse=True)
def stop_app_afterwards() -> Iterator[None]:
    yield
    if app.cache_info().currsize:
        app().stop()
        app.cache_clear()


def real_activities() -> list[dict[str, Any]]:
    user = app().user
    click = {"verb": "choose", "data": {"c": "x", "s": "q1", "o": 0, "t": 1}}
    return [
        user.message("chain of questions"),
        user.invoke(click, "1"),
        user.submit({"verb": "choose", "c": "x", "s": "q1", "o": 0, "t": 1}, "1"),
        user.installation(),
    ]


def assert_not_a_server_error(status: int, what: str, activity: Any = None) -> None:
    if status == 501 and isinstance(activity, dict) and activity.get("type") == "invoke":
        # The Bot Framework's answer to an invoke the bot does not implement (a missing or other
        # ``name``): "not implemented" is the protocol's reply, which Teams shows as unsupported.
        assert activity.get("name") != "adaptiveCard/action", f"{what}: a card action answered 501"
        return
    assert status < 500, f"{what} gave HTTP {status}"


@FUZZ
@given(
    which=st.integers(min_value=0, max_value=3),
    changes=PAYLOAD_CHANGES,
)
def test_real_activities_with_random_parts_changed_never_give_a_500(
    which: int, changes: list[tuple[list[int], str, Any]]
) -> None:
    activity: Any = real_activities()[which]
    for path, how, value in changes:
        activity = mutate(activity, path, how, value)
    assert_not_a_server_error(app().send(activity), json.dumps(activity, default=str)[:400], activity)


@FUZZ
@given(which=st.integers(min_value=0, max_value=3), cut=st.integers(min_value=0))
def test_truncated_activities_never_give_a_500(which: int, cut: int) -> None:
    raw = json.dumps(real_activities()[which]).encode()
    raw = raw[: cut % (len(raw) + 1)]
    assert_not_a_server_error(app().send(raw=raw), raw[:300].decode(errors="replace"))


@FUZZ
@given(data=JSON_VALUES)
def test_random_json_never_gives_a_500(data: Any) -> None:
    assert_not_a_server_error(app().send(data), json.dumps(data)[:300], data)


def test_the_bot_still_answers_after_the_fuzzing() -> None:
    running = app()
    before = len(running.connector.activities)
    assert running.send(running.user.message("chain of questions")) < 300
    assert len(running.connector.activities) > before
    latest = list(running.connector.activities.values())[-1]
    assert "Question 1?" in json.dumps(latest.versions[-1])
