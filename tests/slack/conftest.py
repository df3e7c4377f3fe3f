"""Fixtures for the Slack adapter tests: the fake Web API with a small workspace in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slack_api import FakeSlackAPI

EMPLOYEE = "U0EMPLOYEE"
MANAGER = "U0MANAGER"
STRANGER = "U0STRANGER"
GENERAL = "C0GENERAL"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackAPI]:
    """A running fake Slack Web API with an employee, their line manager and a stranger."""
    with FakeSlackAPI() as api:
        api.add_user(EMPLOYEE, "alice", "alice@council.example", "Alice Employee")
        api.add_user(MANAGER, "bob", "bob@council.example", "Bob Manager")
        api.add_user(STRANGER, "mallory", "mallory@council.example", "Mallory Stranger")
        api.add_channel(GENERAL)
        yield api
