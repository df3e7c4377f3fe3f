"""Putting the core together: settings, flows, store and engine, from files and the environment.

Every entry point (terminal chat, Slack, Teams, worker, CLI reports) builds the same Runtime, so
they all see the same flows, settings and database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock, SystemClock
from bot.engine import Engine
from bot.escalation import CaseOpener, NoDirectory, PeopleDirectory
from bot.library import FlowLibrary
from bot.settings import Settings, load_settings
from bot.store import Store


@dataclass
class Runtime:
    settings: Settings
    library: FlowLibrary
    store: Store
    engine: Engine
    clock: Clock


def build_runtime(
    settings_path: Path | None = None,
    database_url: str | None = None,
    *,
    flows_dir: Path | None = None,
    clock: Clock | None = None,
    people: PeopleDirectory | None = None,
    cases: CaseOpener | None = None,
) -> Runtime:
    """Load settings and flows (all problems reported at once), open the store, make the engine.

    The database is, in order: ``database_url``, $POLICYBOT_DATABASE_URL, the settings file's
    ``database_url``, else a SQLite file in the user's data folder.
    """
    settings = load_settings(settings_path)
    library = FlowLibrary.load(flows_dir, settings)
    store = Store(database_url or _env_url() or settings.database_url)
    clock = clock or SystemClock()
    engine = Engine(library, store, clock=clock, people=people or NoDirectory(), cases=cases)
    return Runtime(settings=settings, library=library, store=store, engine=engine, clock=clock)


def _env_url() -> str | None:
    import os

    return os.environ.get("POLICYBOT_DATABASE_URL") or None
