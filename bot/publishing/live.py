"""Live reload: every replica serves a newly published library version within seconds, no restart.

Each replica polls the live version number (one indexed ``max()`` read) every
``authoring.reload_seconds`` (default 1 s; SQLite and PostgreSQL alike). When it has moved on,
the new version's files are read and checked in this background thread, then swapped into the
served FlowLibrary with one assignment (FlowLibrary.replace): a turn already running finishes on
the version it pinned, the next turn gets the new one, and no turn waits for the load.

A version that fails to load (it cannot, as it was checked before it was published, but a
database can be edited by hand) is logged and counted (``policybot_library_reloads{result=
"failed"}``), and the replica keeps serving what it had.

The poll thread holds only a weak reference to its LiveLibrary, and stops when its store is
closed, so a runtime that is closed or dropped (tests and benches build many) takes its thread
with it.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import weakref
from pathlib import Path

from bot.clock import Clock
from bot.conversation.library import FlowLibrary, check_files
from bot.language.settings import Settings
from bot.publishing import versions
from bot.publishing.snapshot import (
    CITATIONS,
    SETTINGS,
    Materialised,
    fingerprint,
    library_from_files,
    read_folder,
    renamed,
)
from bot.store import Store
from bot.store.transient import OutageLog
from bot.telemetry import metrics

log = logging.getLogger(__name__)


class LiveLibrary:
    def __init__(
        self,
        store: Store,
        library: FlowLibrary,
        *,
        settings_home: Path | None,
        interval: float = 1.0,
        files: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.library = library
        self._files = files  # the served version's files: a new version is loaded by what differs
        self.settings_home = settings_home
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one load at a time (the thread, or a caller of check())
        self._failed: int | None = None  # a version that would not load: not tried again every poll
        self.outage = OutageLog("the flow library poll", log)
        metrics.library_served(library.version)

    @property
    def version(self) -> int | None:
        return self.library.version

    def published_number(self) -> int | None:
        """The live version in the database, read without taking SQLite's write lock."""
        with self.store.engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute("SELECT max(number) FROM library_versions")
                row = cursor.fetchone()
            finally:
                cursor.close()
        return None if row is None or row[0] is None else int(row[0])

    def check(self) -> bool:
        """Swap in the published version if it is newer than the one served; True if swapped."""
        with self._lock:
            number = self.published_number()
            if number is None or number == self.library.version or number == self._failed:
                return False
            with self.store.transaction() as conn:
                found = versions.read(conn, number)
            if found is None:
                return False
            try:
                fresh = next_library(self.library, self._files, found, self.settings_home)
            except Exception:
                self._failed = number
                metrics.library_reload("failed")
                log.exception(
                    "flow library version %d could not be loaded; still serving version %s",
                    number,
                    self.library.version,
                )
                return False
            self.library.replace(fresh)
            self._files = found.files
            metrics.library_served(found.number)
            metrics.library_reload("swapped")
            log.info("now serving flow library version %d", found.number)
            return True

    def start(self) -> LiveLibrary:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(
            target=_poll, args=(weakref.ref(self), self._stop, self.interval), name="policybot-library", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


def _poll(ref: weakref.ReferenceType[LiveLibrary], stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        live = ref()
        if live is None or live.store.closed:
            return
        try:
            live.check()
            live.outage.succeeded()
        except Exception as err:
            live.outage.failed(err)
        del live  # hold no strong reference while waiting


def next_library(
    served: FlowLibrary, served_files: dict[str, str] | None, new: versions.Version, settings_home: Path | None
) -> FlowLibrary:
    """The library of a newly published version, loading only what changed.

    When the citations and settings are as they were, every flow whose text is unchanged is kept
    as it is (with its compiled machine) and only the changed flow files are read and checked:
    a replica swaps in a one-flow change in milliseconds, so the turns it serves meanwhile do not
    wait for a whole library's checks. Anything else reloads the whole library.
    """
    shared = (CITATIONS, SETTINGS)
    if served_files is None or any(served_files.get(n) != new.files.get(n) for n in shared):
        return library_from_files(new.files, version=new.number, settings_home=settings_home)
    changed = {n for n in set(served_files) | set(new.files) if served_files.get(n) != new.files.get(n)}
    changed_flows = {n for n in changed if n.endswith(".yaml") and not n.endswith(".test.yaml")}
    kept = [f for f in served.all() if Path(f.path).name not in changed_flows]
    with tempfile.TemporaryDirectory(prefix="policybot-library-") as tmp:
        folder = Path(tmp)
        for name in changed_flows:
            if name in new.files:
                (folder / name).write_text(new.files[name], encoding="utf-8")
        good, problems = check_files([folder], served.registry, served.settings)
        where = Materialised(folder, folder, None)
        problems = renamed(problems, where, f"library version {new.number}")
    old_problems = [p for p in served.problems if Path(p.file).name.split(": ")[-1] not in changed_flows]
    return FlowLibrary([*kept, *good], served.registry, served.settings, old_problems + problems, version=new.number)


def serving_library(
    store: Store, flows_dir: Path | None, settings: Settings, clock: Clock
) -> tuple[FlowLibrary, dict[str, str]]:
    """The library a starting replica serves, and its files: the live version, seeded from the folder first where
    bot.publishing.versions says so. When the live version is the folder as it is (the usual
    case), it is loaded straight from the folder, exactly as before the library was stored."""
    files = read_folder(flows_dir, settings.path)
    reviewed = bool(settings.authoring.get("reviewers"))
    version = versions.ensure_seeded(store, files, clock.now(), reseed=not reviewed)
    if version.fingerprint == fingerprint(files):
        library = FlowLibrary.load(flows_dir, settings, strict=False, version=version.number)
    else:
        library = library_from_files(version.files, version=version.number, settings_home=settings.path)
    metrics.library_served(version.number)
    return library, version.files
