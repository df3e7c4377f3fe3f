"""Fixtures shared by every test.

Every test runs with its own data folder and no settings file from the developer's machine, so
nothing a test does touches a real database and no local configuration changes a result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    data_home = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    for name in ("POLICYBOT_SETTINGS", "POLICYBOT_FLOWS", "POLICYBOT_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
