"""Metrics, structured logs and health checks, exercised through the real engine and store."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.cases.notify import Notification
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.replies import Question
from bot.ops.health import HEALTH_PATHS, OpsEndpoints
from bot.ops.outbox_probe import database_outbox_probe
from bot.runtime import build_runtime
from bot.store import Store, migrate
from bot.telemetry import metrics
from bot.telemetry.logging_setup import carry, configure_logging, correlation, current_correlation_id
from tests.production.kit import make_engine, write_flows

ACTOR = Actor(user_id="metrics:alice", platform="metrics-test")


def turns(result: str) -> float:
    return metrics.sample("policybot_turn_seconds_count", {"platform": "metrics-test", "result": result})


def test_engine_turns_duplicates_and_stale_clicks_are_counted(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(write_flows(tmp_path / "flows"), sqlite_url)
    applied, stale, duplicate = turns("applied"), turns("stale"), turns("duplicate")
    dropped = metrics.sample("policybot_duplicates_dropped_total", {"platform": "metrics-test"})
    refused = metrics.sample("policybot_stale_refused_total", {"platform": "metrics-test"})
    question = engine.handle(ACTOR, Start(flow_id="chain"))[-1]
    assert isinstance(question, Question)
    click = Choose(question.conversation_id, question.state, 0, question.turn)
    engine.handle(ACTOR, click, delivery_id="d1")
    engine.handle(ACTOR, click, delivery_id="d1")  # the platform retries: a duplicate
    engine.handle(ACTOR, click, delivery_id="d2")  # the same button again: stale
    assert turns("applied") == applied + 2
    assert turns("duplicate") == duplicate + 1
    assert turns("stale") == stale + 1
    assert metrics.sample("policybot_duplicates_dropped_total", {"platform": "metrics-test"}) == dropped + 1
    assert metrics.sample("policybot_stale_refused_total", {"platform": "metrics-test"}) == refused + 1
    engine.store.close()


def test_a_turn_that_fails_is_counted_as_an_error(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(write_flows(tmp_path / "flows"), sqlite_url)
    errors = turns("error")
    engine.store.close()
    with engine.store.engine.begin() as conn:
        conn.execute(text("DROP TABLE conversations"))
    with pytest.raises(Exception, match="conversations"):
        engine.handle(ACTOR, Start(flow_id="chain"))
    assert turns("error") == errors + 1


def test_exposition_is_valid_prometheus_text_with_every_documented_metric() -> None:
    metrics.observe_ack("metrics-test", 0.01)
    metrics.delivery_succeeded("case_opened", 1.5)
    metrics.delivery_failed("case_opened", final=False)
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(body.decode())}
    for name in (
        "policybot_turn_seconds",
        "policybot_ack_seconds",
        "policybot_duplicates_dropped",
        "policybot_stale_refused",
        "policybot_deliveries",
        "policybot_deliveries_failed",
        "policybot_outbox_delivery_lag_seconds",
        "process_cpu_seconds",
    ):
        assert name in names, f"{name} missing from /metrics"


def test_outbox_figures_come_from_the_probe_and_a_failing_probe_is_reported_not_raised() -> None:
    collector = metrics.OutboxCollector(lambda: metrics.OutboxState(waiting=3, oldest_age_seconds=42.0, failed=1))
    values = {m.name: m.samples[0].value for m in collector.collect()}
    assert values == {
        "policybot_outbox_probe_up": 1,
        "policybot_outbox_depth": 3,
        "policybot_outbox_oldest_age_seconds": 42.0,
        "policybot_outbox_failed": 1,
    }

    def broken() -> metrics.OutboxState:
        raise ConnectionError("database down")

    collector.probe = broken
    assert {m.name: m.samples[0].value for m in collector.collect()} == {"policybot_outbox_probe_up": 0}


# -- logs ---------------------------------------------------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("INFO", "json", secrets=["s3cret-signing-value"], stream=stream)
    try:
        yield stream
    finally:
        root.handlers, root.level = saved[0], saved[1]


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_log_line_is_json_with_the_requests_correlation_id_on_any_thread(log_lines: io.StringIO) -> None:
    log = logging.getLogger("policybot.test")
    with correlation("lb-request-42") as cid:
        log.info("received a click", extra={"platform": "slack", "conversation": "c1"})
        worker = threading.Thread(target=carry(lambda: log.info("handled on a worker thread")))
        worker.start()
        worker.join()
    log.info("outside any request")
    lines = records(log_lines)
    assert cid == "lb-request-42"
    assert [line["correlation_id"] for line in lines] == ["lb-request-42", "lb-request-42", None]
    assert lines[0]["platform"] == "slack" and lines[0]["conversation"] == "c1"
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "policybot.test"
    assert current_correlation_id() is None


def test_a_nonsense_correlation_header_is_replaced_by_a_fresh_id() -> None:
    with correlation("x" * 500) as too_long, correlation("two words\n") as with_space:
        assert len(too_long) == 16 and len(with_space) == 16 and too_long != with_space


def test_secrets_are_masked_in_messages_extras_and_exceptions(log_lines: io.StringIO) -> None:
    log = logging.getLogger("policybot.test")
    try:
        raise RuntimeError("connect to postgresql://policybot:hunter2@db/policybot failed")
    except RuntimeError:
        log.exception("token xoxb-1234-abcd leaked with s3cret-signing-value", extra={"auth": "Bearer abcdefgh12345"})
    output = log_lines.getvalue()
    for secret in ("hunter2", "xoxb-1234-abcd", "s3cret-signing-value", "abcdefgh12345"):
        assert secret not in output
    line = records(log_lines)[0]
    assert "***" in str(line["message"]) and "RuntimeError" in str(line["exception"])


# -- health ---------------------------------------------------------------------------------------------


def body(ops: OpsEndpoints, path: str) -> tuple[int, dict[str, object]]:
    response = ops.respond(path)
    assert response is not None
    return response.status, json.loads(response.body)


def test_ready_when_the_database_answers_at_the_right_revision(database_url: str) -> None:
    store = Store(database_url)
    ops = OpsEndpoints(store, flow_count=lambda: 3)
    status, report = body(ops, "/readyz")
    assert status == 200, report
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"database", "schema", "flows"}  # type: ignore[arg-type]
    assert body(ops, "/healthz")[0] == 200
    metrics_response = ops.respond("/metrics")
    assert metrics_response is not None and b"policybot_turn_seconds" in metrics_response.body
    assert ops.respond("/slack/events") is None
    assert set(HEALTH_PATHS) == {"/healthz", "/readyz", "/metrics"}
    store.close()


def test_not_ready_when_the_schema_is_behind_and_says_what_to_run(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '{migrate.BASELINE}'"))
    status, report = body(OpsEndpoints(store), "/readyz")
    assert status == 503
    assert "policybot db upgrade" in report["checks"]["schema"]["detail"]  # type: ignore[index]
    store.close()


def test_not_ready_but_alive_when_the_database_is_down_and_no_password_shows(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ok.db'}")
    store.engine.dispose()
    from bot.store.connect import create_db_engine

    store.engine = create_db_engine("postgresql://policybot:hunter2@127.0.0.1:9/nowhere")
    ops = OpsEndpoints(store)
    status, report = body(ops, "/readyz")
    assert status == 503
    assert report["checks"]["database"]["ok"] is False  # type: ignore[index]
    assert "hunter2" not in json.dumps(report)
    assert body(ops, "/healthz")[0] == 200


def test_not_ready_while_draining_or_without_flows(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    assert body(OpsEndpoints(store, flow_count=lambda: 0), "/readyz")[0] == 503
    ops = OpsEndpoints(store)
    ops.draining = True
    status, report = body(ops, "/readyz")
    assert status == 503 and "shutting down" in json.dumps(report)
    store.close()


# -- the outbox, through the real case service and worker -----------------------------------------


class Recorder:
    """Stands in for the chat platform: records each notification it is given."""

    def __init__(self) -> None:
        self.delivered: list[str] = []

    def deliver(self, notification: Notification) -> None:
        self.delivered.append(notification.id)


def test_outbox_depth_age_and_delivery_lag_are_reported(tmp_path: Path, database_url: str) -> None:
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text('escalation:\n  comms: {name: Comms, slack_channel: "C0COMMS"}\n', encoding="utf-8")
    clock = FakeClock()
    runtime = build_runtime(settings_file, database_url, flows_dir=write_flows(tmp_path / "flows"), clock=clock)
    probe = database_outbox_probe(runtime.store, clock)
    assert probe() == metrics.OutboxState(waiting=0, oldest_age_seconds=0.0, failed=0)
    actor = Actor(user_id="slack:T1:UOUTBOX", platform="slack")
    replies = runtime.engine.handle(actor, Start(flow_id="chain"))
    for _ in range(5):
        question = replies[-1]
        assert isinstance(question, Question)
        replies = runtime.engine.handle(actor, Choose(question.conversation_id, question.state, 0, question.turn))
    clock.advance(timedelta(seconds=90))
    waiting = probe()
    assert waiting.waiting >= 1 and waiting.oldest_age_seconds == 90.0
    lag_count = metrics.sample("policybot_outbox_delivery_lag_seconds_count", {"kind": "case_opened"})
    delivered = metrics.sample("policybot_deliveries_total", {"kind": "case_opened"})
    recorder = Recorder()
    Worker(runtime, recorder).run_once()
    assert len(recorder.delivered) == waiting.waiting
    assert probe().waiting == 0
    assert metrics.sample("policybot_deliveries_total", {"kind": "case_opened"}) > delivered
    assert metrics.sample("policybot_outbox_delivery_lag_seconds_count", {"kind": "case_opened"}) > lag_count
    metrics.watch_outbox(probe)
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition()[0].decode())}
    assert families["policybot_outbox_depth"].samples[0].value == 0
    assert families["policybot_outbox_probe_up"].samples[0].value == 1
    runtime.store.close()
