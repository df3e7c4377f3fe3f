"""Fixtures shared by every test.

Every test runs with its own data folder and no settings file from the developer's machine, so
nothing a test does touches a real database and no local configuration changes a result.
"""

from __future__ import annotations

import functools
import os
import uuid
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


# -- databases: SQLite and PostgreSQL ---------------------------------------------------------------
# PostgreSQL runs on 127.0.0.1:5432 (user postgres, database test) on the project's machines and in
# CI. Each test gets a fresh schema in that database (cheaper than a database per test) through the
# URL's search_path, so tests never see each other's rows and replicas in subprocesses can share it.
# Where the server is absent the tests skip with the reason; with POLICYBOT_REQUIRE_SERVICES=1 (CI)
# they fail instead, so a broken CI machine cannot pass by skipping.

POSTGRES_URL = os.environ.get("POLICYBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def services_required() -> bool:
    return os.environ.get("POLICYBOT_REQUIRE_SERVICES") == "1"


@functools.lru_cache(maxsize=1)
def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:
        first = str(getattr(err, "orig", err)).strip().splitlines()
        return f"PostgreSQL is not reachable at {POSTGRES_URL} ({first[0] if first else type(err).__name__})"
    finally:
        engine.dispose()
    return None


def need_postgres() -> None:
    """Skip the calling test when PostgreSQL is absent; fail instead when CI requires services."""
    problem = _postgres_problem()
    if problem is None:
        return
    if services_required():
        pytest.fail(f"{problem}; POLICYBOT_REQUIRE_SERVICES=1 says it must be there")
    pytest.skip(f"{problem}; start it or set POLICYBOT_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty schema in the test PostgreSQL database, dropped afterwards."""
    from sqlalchemy import create_engine, text

    need_postgres()
    schema = f"pbt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'policybot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on a SQLite file and on a fresh PostgreSQL schema."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))
