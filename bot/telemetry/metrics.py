"""Prometheus metrics: what an operator watches to know the bot is answering and delivering.

One registry for the whole process (``REGISTRY``), served as ``GET /metrics`` by the HTTP
adapters (bot.ops.health.OpsEndpoints). Each replica serves its own numbers; Prometheus adds them up.
The core records turns (latency, duplicates dropped, stale clicks refused); adapters record how
fast they acknowledged the platform; the outbox records deliveries and their lag. The outbox's
depth and the age of its oldest waiting row are read from the database at scrape time, so every
replica reports the same, true figure whatever it has delivered itself.

Why a registry of our own rather than prometheus_client's global one: tests and the bench build
many runtimes in one process, and the exposition must hold policybot's metrics (plus the process
and platform collectors) and nothing a library happened to register.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# A turn is one database transaction plus template rendering: milliseconds normally; the top
# buckets catch a database under strain. Slack's acknowledgement deadline is 3 s.
_TURN_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
_LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

TURN_SECONDS = Histogram(
    "policybot_turn_seconds",
    "Time the engine took to handle one event (one database transaction), by platform and result.",
    ["platform", "result"],
    buckets=_TURN_BUCKETS,
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "policybot_ack_seconds",
    "Time from receiving a chat platform's HTTP request to answering it (Slack allows 3 seconds).",
    ["platform"],
    buckets=_ACK_BUCKETS,
    registry=REGISTRY,
)
DUPLICATES_DROPPED = Counter(
    "policybot_duplicates_dropped",
    "Platform deliveries recognised as repeats (retries, double submits) and applied only once.",
    ["platform"],
    registry=REGISTRY,
)
STALE_REFUSED = Counter(
    "policybot_stale_refused",
    "Clicks refused because the conversation had moved on (old button, another window, a race).",
    ["platform"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "policybot_deliveries",
    "Notification deliveries from the outbox that succeeded.",
    ["kind"],
    registry=REGISTRY,
)
DELIVERIES_FAILED = Counter(
    "policybot_deliveries_failed",
    "Notification delivery attempts that failed; final='true' when the outbox gave up on the row.",
    ["kind", "final"],
    registry=REGISTRY,
)
DELIVERY_LAG = Histogram(
    "policybot_outbox_delivery_lag_seconds",
    "Time from a notification being written to the outbox to its successful delivery.",
    ["kind"],
    buckets=_LAG_BUCKETS,
    registry=REGISTRY,
)

FLOWS_LOADED = Gauge(
    "policybot_flows_loaded", "Flows this replica offers, after the start-up checks.", registry=REGISTRY
)
FLOW_FILES_FAILED = Gauge(
    "policybot_flow_files_failed",
    "Flow files that failed their checks at start-up and are not offered (alert on > 0; see /readyz).",
    registry=REGISTRY,
)
LIBRARY_VERSION = Gauge(
    "policybot_library_version",
    "The flow library version this replica serves (bot.publishing; 0 before one is stored).",
    registry=REGISTRY,
)
LIBRARY_RELOADS = Counter(
    "policybot_library_reloads",
    "Newly published flow library versions swapped in without a restart, by result.",
    ["result"],
    registry=REGISTRY,
)

# Engine results worth telling apart on a dashboard; anything else is "applied".
RESULTS = ("applied", "stale", "duplicate", "invalid", "error")


def observe_turn(platform: str, seconds: float, result: str) -> None:
    """Record one engine turn; duplicates and stale refusals are also counted on their own."""
    result = result if result in RESULTS else "applied"
    TURN_SECONDS.labels(platform, result).observe(seconds)
    if result == "duplicate":
        DUPLICATES_DROPPED.labels(platform).inc()
    elif result == "stale":
        STALE_REFUSED.labels(platform).inc()


def duplicate_dropped(platform: str) -> None:
    """A repeat recognised before it reached the engine (the inbound journal already had it)."""
    DUPLICATES_DROPPED.labels(platform).inc()


def flows_loaded(loaded: int, failed_files: int) -> None:
    """What the flow library offers after its start-up checks, and how many files it left out."""
    FLOWS_LOADED.set(loaded)
    FLOW_FILES_FAILED.set(failed_files)


def library_served(version: int | None) -> None:
    """The library version now served (after the start, and after each live swap)."""
    LIBRARY_VERSION.set(version or 0)


def library_reload(result: str) -> None:
    """One attempt to swap in a newly published version: ``swapped`` or ``failed``."""
    LIBRARY_RELOADS.labels(result).inc()


def observe_ack(platform: str, seconds: float) -> None:
    ACK_SECONDS.labels(platform).observe(seconds)


@contextmanager
def ack_timer(platform: str) -> Iterator[None]:
    """Time an adapter's handling of one inbound request, from arrival to response."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe_ack(platform, time.perf_counter() - started)


def delivery_succeeded(kind: str, lag_seconds: float | None) -> None:
    """The outbox delivered a notification ``lag_seconds`` after it was written."""
    DELIVERIES.labels(kind).inc()
    if lag_seconds is not None and lag_seconds >= 0:
        DELIVERY_LAG.labels(kind).observe(lag_seconds)


def delivery_failed(kind: str, *, final: bool) -> None:
    """One failed attempt; ``final`` when no retry will follow."""
    DELIVERIES_FAILED.labels(kind, "true" if final else "false").inc()


@dataclass(frozen=True)
class OutboxState:
    """What the database says about the outbox right now."""

    waiting: int  # rows not yet delivered and not given up on
    oldest_age_seconds: float  # age of the oldest waiting row (0 when none)
    failed: int  # rows given up on, waiting for a person (policybot cases)


OutboxProbe = Callable[[], OutboxState]


class OutboxCollector(Collector):
    """Reads the outbox's depth and age from the database at each scrape.

    A failing probe (database down) does not fail the scrape: ``policybot_outbox_probe_up`` is
    0 and the other outbox figures are left out, so the alert is "probe down", not a gap.
    """

    def __init__(self, probe: OutboxProbe) -> None:
        self.probe = probe

    def describe(self) -> Iterable[Metric]:
        return []  # values come from the database at collect time; nothing to describe up front

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("policybot_outbox_probe_up", "1 if the outbox could be read from the database.")
        try:
            state = self.probe()
        except Exception as err:  # the database may be down; say so as a metric, not a 500
            log.warning("outbox metrics unavailable: %s", type(err).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        depth = GaugeMetricFamily("policybot_outbox_depth", "Notifications waiting in the outbox to be delivered.")
        depth.add_metric([], state.waiting)
        age = GaugeMetricFamily(
            "policybot_outbox_oldest_age_seconds", "Age of the oldest notification still waiting in the outbox."
        )
        age.add_metric([], state.oldest_age_seconds)
        failed = GaugeMetricFamily(
            "policybot_outbox_failed", "Notifications the outbox gave up on (see `policybot cases`)."
        )
        failed.add_metric([], state.failed)
        return [up, depth, age, failed]


_outbox_collector: OutboxCollector | None = None


def watch_outbox(probe: OutboxProbe) -> None:
    """Report the outbox through ``probe`` (the latest call wins: one runtime per process)."""
    global _outbox_collector
    if _outbox_collector is None:
        _outbox_collector = OutboxCollector(probe)
        REGISTRY.register(_outbox_collector)
    else:
        _outbox_collector.probe = probe


def exposition() -> tuple[bytes, str]:
    """The Prometheus text format of every metric, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """One current value (tests, the bench, health details); 0.0 when never recorded."""
    value: Any = REGISTRY.get_sample_value(name, labels or {})
    return float(value) if value is not None else 0.0
