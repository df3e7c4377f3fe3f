"""Putting the core together: settings, flows, store and engine, from files and the environment.

Every entry point (terminal chat, Slack, Teams, worker, CLI reports) builds the same Runtime, so
they all see the same flows, settings and database.

The flow library is served from the database (bot.publishing): the first start stores the flows
folder as library version 1, and a live runtime swaps in each newly published version within
seconds (``Runtime.live``), without a restart.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from bot.cases.directory import Directory, load_directory
from bot.cases.outbox import Outbox
from bot.cases.service import CaseService
from bot.clock import Clock, SystemClock
from bot.conversation.engine import Engine
from bot.conversation.escalation import CaseOpener, PeopleDirectory
from bot.conversation.events import Actor
from bot.conversation.library import FlowLibrary
from bot.errors import NotAllowed
from bot.language.i18n.catalog import N_
from bot.language.settings import Settings, load_settings
from bot.publishing.changes import Publishing
from bot.publishing.live import LiveLibrary, serving_library
from bot.publishing.preview import PreviewEngine
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
    publishing: Publishing | None = None  # changes to the flow library: submit, review, publish
    live: LiveLibrary | None = None  # swaps in newly published library versions (None: never reloads)

    @property
    def review_outbox(self) -> Outbox | None:
        """The flow library's review notifications; the worker delivers them with the case ones."""
        return self.publishing.notices.outbox if self.publishing is not None else None

    @property
    def library_version(self) -> int | None:
        """The library version this runtime serves (for /readyz and /metrics)."""
        return self.library.version

    def preview(self, change: str, actor: Actor | None = None, *, person: str | None = None) -> PreviewEngine:
        """An engine on the draft of one change, for its author or a reviewer only.

        Adapters pass the authenticated ``actor`` (looked up in the staff directory); the terminal
        passes the directory id it was given as ``person``. Raises NotAllowed for anyone else.
        """
        assert self.publishing is not None
        who = person
        if actor is not None:
            found = self.directory.find(actor) if self.directory is not None else None
            if found is None:
                raise NotAllowed(
                    N_("policybot can't tell who you are: your chat account is not in the staff directory")
                )
            who = found.id
        if who is None:
            raise NotAllowed(N_("say who you are (your directory id) to preview a change"))
        draft = self.publishing.draft_library(change, who)
        return PreviewEngine(
            draft, self.publishing.get(change).id, clock=self.clock, people=self.engine.people, cases=self.cases
        )

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
        self.store.close()


def build_runtime(
    settings_path: Path | None = None,
    database_url: str | None = None,
    *,
    flows_dir: Path | None = None,
    clock: Clock | None = None,
    people: PeopleDirectory | None = None,
    cases: CaseOpener | None = None,
    directory: Directory | None = None,
    live_reload: bool = False,
) -> Runtime:
    """Load settings, open the store, serve the flow library from it, make the engine.

    Settings problems stop the start with all of them; a flow file with problems is left out and
    reported (bot.conversation.library.FlowLibrary.load) while the other flows are served.

    The database is, in order: ``database_url``, $POLICYBOT_DATABASE_URL, the settings file's
    ``database_url``, else a SQLite file in the user's data folder.

    ``live_reload`` starts the poll that swaps in newly published library versions (never for an
    in-memory database, which no other process can publish to). Off by default here, so tests and
    tools that build runtimes get no background thread; the ``policybot`` commands (serve, chat,
    worker) turn it on through bot.cli.options.CliContext.runtime. ``Runtime.live.check()`` swaps
    in a new version on demand either way.
    """
    settings = load_settings(settings_path)
    # The staff directory and the case service are on by default, so an escalation always opens a
    # case (bot/cases); with no directory file, line-manager escalations go to the comms team.
    if directory is None:
        directory = people if isinstance(people, Directory) else load_directory(settings)
    store = Store(database_url or _env_url() or settings.database_url)
    clock = clock or SystemClock()
    # a broken flow file is left out (logged, counted, named in /readyz), never a reason not to serve the rest
    library, files = serving_library(store, flows_dir, settings, clock)
    service = cases if isinstance(cases, CaseService) else None
    if cases is None:
        service = cases = CaseService(store, directory, settings, clock)
    engine = Engine(library, store, clock=clock, people=people or directory, cases=cases)
    live = LiveLibrary(
        store, library, settings_home=settings.path, interval=float(settings.authoring["reload_seconds"]), files=files
    )
    if live_reload and store.url not in ("sqlite://", "sqlite:///:memory:"):
        live.start()
    return Runtime(
        settings=settings,
        library=library,
        store=store,
        engine=engine,
        clock=clock,
        directory=directory,
        cases=service,
        publishing=Publishing(store, settings, clock, directory, settings_path=settings.path),
        live=live,
    )


def prepare_to_serve(runtime: Runtime) -> None:
    """What a long-running server (``policybot serve slack|teams``) does once, after start-up and
    before it takes requests, so that no request pays for work that can be done elsewhere:

    - on a SQLite file, WAL checkpoints move to a background thread instead of the commit of
      whichever turn reaches 1000 pages of WAL, while every other turn waits behind it
      (bot.store.checkpoint; durability unchanged in kind, see there);
    - what start-up made (modules, the compiled flows, SQLAlchemy's tables and statements, Bolt)
      is moved out of the garbage collector's view with ``gc.freeze()``. A full collection stops
      every thread of the process while it walks every tracked object; with the start-up heap
      frozen it walks only what requests made since. Measured: a full collection during the
      Slack bench took 90 ms before, none happened in the timed part after (docs/benchmarks.md,
      issue 15). What is frozen is never freed, which is what start-up objects are for anyway;
      ``gc.collect()`` first, so that start-up garbage is freed rather than frozen.
    """
    runtime.store.checkpoint_in_background()
    gc.collect()
    gc.freeze()


def _env_url() -> str | None:
    import os

    return os.environ.get("POLICYBOT_DATABASE_URL") or None
