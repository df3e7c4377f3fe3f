"""Health, readiness and metrics, answered without knowing which HTTP server asks.

A load balancer needs two different questions answered:

- ``/healthz`` (liveness): is the process alive and serving? Always 200 while it can answer at
  all; a failure here means "restart me". It does not touch the database, so a database outage
  does not get every replica restarted in a loop.
- ``/readyz`` (readiness): should requests be sent here? 200 when the database answers, its
  schema is the one this code expects and flows are loaded; 503 otherwise, and 503 while the
  replica is draining for shutdown, so the balancer stops sending before the process stops.

``/metrics`` is the Prometheus exposition (bot.telemetry.metrics). The Slack and Teams HTTP servers route
these paths to ``OpsEndpoints.respond`` and copy the status, content type and body into their own
response type, so the checks are written once. Details never contain the database URL or any
secret: only what failed and what to do.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from bot.ops.outbox_probe import database_outbox_probe
from bot.store import Store, migrate
from bot.telemetry import metrics

HEALTH_PATHS = ("/healthz", "/readyz", "/metrics")
JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]
    library_version: int | None = None  # /readyz: the flow library version served (bot.publishing)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def http_status(self) -> int:
        return 200 if self.ok else 503

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "status": "ok" if self.ok else "fail",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail, "seconds": round(c.seconds, 4)} for c in self.checks},
        }
        if self.library_version is not None:
            found["library_version"] = self.library_version
        return found


@dataclass(frozen=True)
class OpsResponse:
    status: int
    content_type: str
    body: bytes


def _timed(name: str, probe: Callable[[], tuple[bool, str]]) -> Check:
    started = time.perf_counter()
    try:
        ok, detail = probe()
    except Exception as err:  # a check that raises is a failed check, reported by kind only
        ok, detail = False, f"{type(err).__name__}: {_short(err)}"
    return Check(name, ok, detail, time.perf_counter() - started)


def _short(err: Exception) -> str:
    from bot.telemetry.logging_setup import redact

    message = str(getattr(err, "orig", None) or err).strip().splitlines()
    return redact(message[0])[:200] if message else "no detail"


def database_check(store: Store, *, timeout_ms: int = 2000) -> Check:
    """The database answers a query within ``timeout_ms`` (PostgreSQL enforces it server-side)."""

    def probe() -> tuple[bool, str]:
        with store.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
            conn.execute(text("SELECT 1"))
        return True, f"{store.dialect} answers"

    return _timed("database", probe)


def schema_check(store: Store) -> Check:
    """The database is at the migration revision this code ships (else: run policybot db upgrade)."""

    def probe() -> tuple[bool, str]:
        with store.engine.connect() as conn:
            current = migrate.current_revision(conn)
        head = migrate.head_revision()
        if current == head:
            return True, f"revision {current}"
        return False, f"database at revision {current or 'none'}, this version needs {head}: run `policybot db upgrade`"

    return _timed("schema", probe)


def flows_check(count: Callable[[], int], failed: Callable[[], list[str]] = list) -> Check:
    """Ready while at least one flow is served. Flow files that failed their checks at start-up
    are named in the detail (and counted in ``policybot_flow_files_failed``) but do not make the
    replica unready: every other flow is still served."""

    def probe() -> tuple[bool, str]:
        n = count()
        detail = f"{n} flows loaded" if n else "no flows loaded"
        files = failed()
        if files:
            several = len(files) != 1
            detail += (
                f"; {len(files)} flow file{'s' if several else ''} failed {'their' if several else 'its'} checks "
                f"and {'are' if several else 'is'} not offered: {', '.join(files)} "
                "(the log has every problem; run `policybot validate` on the flows folder)"
            )
        return n > 0, detail

    return _timed("flows", probe)


def library_check(served: Callable[[], int | None], published: Callable[[], int | None]) -> Check:
    """Which flow library version this replica serves, and the newest published one. Always ready:
    a replica a second behind a new version still serves a whole, checked library (the poll
    catches up within seconds; bot.publishing.live)."""

    def probe() -> tuple[bool, str]:
        mine = served()
        if mine is None:
            return True, "flow library loaded from the flows folder (not from the database)"
        newest = published()
        detail = f"serving flow library version {mine}"
        if newest is not None and newest != mine:
            detail += f"; version {newest} is published and is being loaded"
        return True, detail

    return _timed("library", probe)


@dataclass
class OpsEndpoints:
    """The three operational endpoints for one process, shared by whichever HTTP server runs.

    ``extra_checks`` lets an adapter add its own readiness conditions (for example "the Bot
    Framework credentials are configured") without this module knowing about the platform.
    """

    store: Store
    flow_count: Callable[[], int] = lambda: 1
    failed_flow_files: Callable[[], list[str]] = list
    library_version: Callable[[], int | None] | None = None  # set for a runtime: the library version served
    published_version: Callable[[], int | None] = lambda: None
    extra_checks: list[Callable[[], Check]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    draining: bool = False

    @classmethod
    def for_runtime(cls, runtime: Any) -> OpsEndpoints:
        """Endpoints over a bot.runtime.Runtime; also starts reporting its outbox in /metrics."""
        ops = cls(
            store=runtime.store,
            flow_count=lambda: len(runtime.library.all()),
            failed_flow_files=lambda: runtime.library.failed_files,
            library_version=lambda: runtime.library.version,
        )
        live = getattr(runtime, "live", None)
        if live is not None:
            ops.published_version = live.published_number
        with contextlib.suppress(ImportError):  # an installation without the case tables: nothing to report
            metrics.watch_outbox(database_outbox_probe(runtime.store, runtime.clock))
        return ops

    def liveness(self) -> HealthReport:
        uptime = time.monotonic() - self.started
        return HealthReport((Check("process", True, f"up {uptime:.0f}s"),))

    def readiness(self) -> HealthReport:
        if self.draining:
            return HealthReport((Check("draining", False, "shutting down: finishing requests already accepted"),))
        checks = [database_check(self.store)]
        if checks[0].ok:
            checks.append(schema_check(self.store))
        checks.append(flows_check(self.flow_count, self.failed_flow_files))
        if checks[0].ok and self.library_version is not None:
            checks.append(library_check(self.library_version, self.published_version))
        checks += [extra() for extra in self.extra_checks]
        return HealthReport(tuple(checks), self.library_version() if self.library_version is not None else None)

    def respond(self, path: str) -> OpsResponse | None:
        """The response for ``path`` (one of HEALTH_PATHS), or None for any other path."""
        if path == "/healthz":
            return _json(self.liveness())
        if path == "/readyz":
            return _json(self.readiness())
        if path == "/metrics":
            body, content_type = metrics.exposition()
            return OpsResponse(200, content_type, body)
        return None


def _json(report: HealthReport) -> OpsResponse:
    return OpsResponse(report.http_status, JSON, json.dumps(report.to_json()).encode("utf-8"))
