"""Fixtures for the case tests: an organisation on disk (settings, directory, a test flow), a real
SQLite file, a fake clock, and a notifier test double that stands in for the chat platform."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cases.notify import DeliveryFailed, Notification
from bot.cli.main import cli
from bot.clock import FakeClock
from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.replies import Outcome, Question
from bot.errors import PolicybotError
from bot.runtime import Runtime, build_runtime

HERE = Path(__file__).parent
FLOWS = HERE / "flows"
DIRECTORY = HERE / "directory.yaml"
FRIDAY_3PM = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 27 November 2026, 15:00 in London (GMT)

AMARA = Actor(
    user_id="slack:T1:U0AMARA01", display_name="Amara O", email="amara.okafor@example.gov.uk", platform="slack"
)
DEV = Actor(user_id="slack:T1:U0DEVPAT01", display_name="Dev", email="dev.patel@example.gov.uk", platform="slack")
BEN = Actor(user_id="teams:5b1c2d3e-0000-4000-8000-00000000b0b0", display_name="Ben", platform="teams")
CARA = Actor(user_id="console:cara", display_name="Cara", platform="console")
LEE = Actor(user_id="console:lee", display_name="Lee", platform="console")
STRANGER = Actor(
    user_id="slack:T1:U0STRANGER", display_name="Stranger", email="someone@elsewhere.example", platform="slack"
)

SETTINGS = """\
directory: {directory}
escalation:
  comms: {{name: the Communications team}}
  legal: {{name: Legal Services, slack_channel: "#legal-escalations"}}
  hr: {{name: HR}}
working_hours:
  days: [mon, tue, wed, thu, fri]
  start: "09:00"
  end: "17:00"
  timezone: Europe/London
  bank_holidays: ["2026-11-30"]
cases:
  delivery_attempts: 4
  retry_base_seconds: 60
  retry_max_seconds: 600
  delivery_timeout_seconds: 0.5
  chase_rounds: 3
"""


@dataclass
class Org:
    """An organisation's files and database on disk; every runtime built here shares them."""

    settings: Path
    flows: Path
    database_url: str
    runtimes: list[Runtime] = field(default_factory=list)

    def runtime(self, clock: FakeClock) -> Runtime:
        runtime = build_runtime(self.settings, self.database_url, flows_dir=self.flows, clock=clock)
        self.runtimes.append(runtime)
        return runtime

    def cli(self, *args: str, input: str | None = None) -> Result:
        """Run a policybot command in this process; a PolicybotError is left in ``result.exception``
        (the real entry point prints it and exits with 2)."""
        base = ["--settings", str(self.settings), "--flows", str(self.flows), "--database", self.database_url]
        result = CliRunner().invoke(cli, [*base, *args], input=input)
        if result.exception is not None and not isinstance(result.exception, (PolicybotError, SystemExit)):
            raise result.exception
        return result


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS.format(directory=DIRECTORY), encoding="utf-8")
    found = Org(settings, FLOWS, f"sqlite:///{tmp_path / 'policybot.db'}")
    yield found
    for runtime in found.runtimes:
        runtime.store.close()


@pytest.fixture
def org_on(tmp_path: Path, database_url: str) -> Iterator[Org]:
    """The same organisation on each database the project supports (SQLite, PostgreSQL)."""
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS.format(directory=DIRECTORY), encoding="utf-8")
    found = Org(settings, FLOWS, database_url)
    yield found
    for runtime in found.runtimes:
        runtime.store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FRIDAY_3PM)


class Inbox:
    """Stands in for Slack/Teams: shows each notification id once, like a real receiver would.

    ``fail`` makes the first N calls raise DeliveryFailed; ``hang`` makes the first N calls take
    ``hang_seconds`` (longer than the outbox's timeout) before they land; ``refuse`` names
    recipients whose every delivery fails.
    """

    def __init__(
        self, *, fail: int = 0, hang: int = 0, hang_seconds: float = 1.5, refuse: frozenset[str] = frozenset()
    ) -> None:
        self.fail = fail
        self.hang = hang
        self.hang_seconds = hang_seconds
        self.refuse = refuse
        self.calls: list[str] = []
        self.shown: dict[str, Notification] = {}
        self._lock = threading.Lock()

    def deliver(self, notification: Notification) -> None:
        with self._lock:
            self.calls.append(notification.id)
            number = len(self.calls)
        if notification.recipient.name in self.refuse:
            raise DeliveryFailed(f"channel_not_found for {notification.recipient.name}")
        if number <= self.fail:
            raise DeliveryFailed("the platform answered 503")
        if number <= self.fail + self.hang:
            time.sleep(self.hang_seconds)
        with self._lock:
            self.shown.setdefault(notification.id, notification)

    def to(self, name: str, kind: str | None = None) -> list[Notification]:
        """What a person (or channel) has been shown, optionally of one kind, in delivery order."""
        return [n for n in self.shown.values() if n.recipient.name == name and (kind is None or n.kind == kind)]


def escalate(runtime: Runtime, actor: Actor, answer: str = "Yes") -> Outcome:
    """Walk the test flow as ``actor`` to the outcome reached by ``answer``."""
    replies = runtime.engine.handle(actor, Start(flow_id="threat"))
    question = replies[-1]
    assert isinstance(question, Question)
    replies = runtime.engine.handle(actor, FreeText(answer, question.conversation_id))
    outcome = replies[-1]
    assert isinstance(outcome, Outcome), replies
    return outcome
