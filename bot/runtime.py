"""Putting the core together: settings, flows, store and engine, from files and the environment.

Every entry point (terminal chat, Slack, Teams, worker, CLI reports) builds the same Runtime, so
they all see the same flows, settings and database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.cases.directory import Directory, load_directory
from bot.cases.service import CaseService
from bot.clock import Clock, SystemClock
from bot.conversation.engine import Engine
from bot.conversation.escalation import CaseOpener, PeopleDirectory
from bot.conversation.library import FlowLibrary
from bot.language.settings import Settings, load_settings
from bot.store import Store


@dataclass
class Runtime:
    settings: Settings
    library: FlowLibrary
    store: Store
    engine: Engine
    clock: Clock
    directory: Directory | None = None  # the staff directory (empty when the settings name none)
    cases: CaseService | None = None  # escalation cases: what adapters call, what the worker runs


def build_runtime(
    settings_path: Path | None = None,
    database_url: str | None = None,
    *,
    flows_dir: Path | None = None,
    clock: Clock | None = None,
    people: PeopleDirectory | None = None,
    cases: CaseOpener | None = None,
    directory: Directory | None = None,
) -> Runtime:
    """Load settings and flows, open the store, make the engine.

    Settings problems stop the start with all of them; a flow file with problems is left out and
    reported (bot.conversation.library.FlowLibrary.load) while the other flows are served.

    The database is, in order: ``database_url``, $POLICYBOT_DATABASE_URL, the settings file's
    ``database_url``, else a SQLite file in the user's data folder.
    """
    settings = load_settings(settings_path)
    # a broken flow file is left out (logged, counted, named in /readyz), never a reason not to serve the rest
    library = FlowLibrary.load(flows_dir, settings, strict=False)
    # The staff directory and the case service are on by default, so an escalation always opens a
    # case (bot/cases); with no directory file, line-manager escalations go to the comms team.
    if directory is None:
        directory = people if isinstance(people, Directory) else load_directory(settings)
    store = Store(database_url or _env_url() or settings.database_url)
    clock = clock or SystemClock()
    service = cases if isinstance(cases, CaseService) else None
    if cases is None:
        service = cases = CaseService(store, directory, settings, clock)
    engine = Engine(library, store, clock=clock, people=people or directory, cases=cases)
    return Runtime(
        settings=settings,
        library=library,
        store=store,
        engine=engine,
        clock=clock,
        directory=directory,
        cases=service,
    )


def _env_url() -> str | None:
    import os

    return os.environ.get("POLICYBOT_DATABASE_URL") or None
