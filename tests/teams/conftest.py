"""Fixtures for Teams adapter tests: fake Bot Connector, a real core runtime, the bot on a socket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.http_limits import HTTPLimits
from adapters.teams.app import TeamsService, build_service, create_app
from adapters.teams.casedesk import TeamsCaseDesk
from adapters.teams.config import LOCAL, TeamsConfig
from adapters.teams.reviewdesk import TeamsReviewDesk
from adapters.teams.storage import TeamsStorage
from bot.ops.health import OpsEndpoints
from bot.runtime import Runtime, build_runtime

from .card_rules import card_problems
from .fake_connector import FakeConnector, adaptive_cards
from .teams_client import BotServer, TeamsUser

# Fixed flows for these tests, so they do not move while the real flows are edited: legal-threat
# (required escalations), can-i-post (optional escalation, every verdict), onboarding (quiz).
TEST_FLOWS = Path(__file__).resolve().parent / "flows"


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    """The fake Bot Connector. Afterwards, every card the bot sent or updated through it must pass
    the Adaptive Card 1.5 rules (tests/teams/card_rules.py)."""
    with FakeConnector() as fake:
        yield fake
        problems = [
            f"{stored.conversation_id}/{stored.activity_id}: {problem}"
            for stored in list(fake.activities.values())
            for version in stored.versions
            for content in adaptive_cards(version)
            for problem in card_problems(content)
        ]
        assert problems == [], "cards that Teams would refuse:\n" + "\n".join(problems)


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    return build_runtime(database_url=f"sqlite:///{tmp_path / 'policybot.db'}", flows_dir=TEST_FLOWS)


@dataclass
class RunningBot:
    server: BotServer
    service: TeamsService
    runtime: Runtime
    connector: FakeConnector

    @property
    def url(self) -> str:
        return self.server.url

    def user(self, **kwargs: object) -> TeamsUser:
        return TeamsUser(self.url, self.connector, **kwargs)  # type: ignore[arg-type]


def start_bot(
    runtime: Runtime, connector: FakeConnector, *, turn_seconds: float = 10.0, limits: HTTPLimits | None = None
) -> RunningBot:
    config = TeamsConfig(mode=LOCAL, connector_timeout_seconds=3.0, turn_seconds=turn_seconds)
    storage = TeamsStorage(runtime.store.engine)
    desk = TeamsCaseDesk(runtime.cases) if runtime.cases is not None else None
    service = build_service(runtime.engine, storage, config, cases=desk, reviews=TeamsReviewDesk.for_runtime(runtime))
    server = BotServer(create_app(service, OpsEndpoints.for_runtime(runtime)), limits).start()
    return RunningBot(server, service, runtime, connector)


@pytest.fixture
def bot(runtime: Runtime, connector: FakeConnector) -> Iterator[RunningBot]:
    running = start_bot(runtime, connector)
    try:
        yield running
    finally:
        running.server.stop()


@pytest.fixture
def alex(bot: RunningBot) -> TeamsUser:
    return bot.user()
