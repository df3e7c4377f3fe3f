"""The outbox: retries with backoff, timeouts, giving up visibly, and several workers at once."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.cases.notify import DeliveryFailed, Notification
from bot.cases.outbox import RetryPolicy
from bot.cases.tables import outbox
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.runtime import Runtime
from tests.cases.conftest import AMARA, Inbox, Org, escalate


def _row(runtime: Runtime, notification_id: str) -> dict[str, Any]:
    with runtime.store.transaction() as conn:
        return dict(conn.execute(select(outbox).where(outbox.c.id == notification_id)).mappings().one())


def _drain(worker: Worker, clock: FakeClock, passes: int = 10) -> None:
    """Run passes with enough time between them for any backoff (at most 600 s in these settings)."""
    for _ in range(passes):
        worker.run_once()
        clock.advance(timedelta(seconds=601))


def test_failures_are_retried_with_backoff_and_delivered_once(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    escalate(runtime, AMARA)
    inbox = Inbox(fail=3)  # the platform is down for the first three calls; four attempts are allowed
    worker = Worker(runtime, inbox)

    first = worker.run_once().deliveries
    assert first.retrying and not first.delivered
    row = _row(runtime, first.retrying[0])
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"] == "the platform answered 503"
    # Not due again straight away: the first retry waits 30-60 s (base 60 s, half of it random).
    assert clock.now() + timedelta(seconds=30) <= row["next_attempt_at"] <= clock.now() + timedelta(seconds=60)
    assert worker.run_once().deliveries.attempted == 0

    _drain(worker, clock)
    [opened] = inbox.to("Dev Patel")
    assert opened.id == first.retrying[0]
    assert inbox.calls.count(opened.id) == 4
    row = _row(runtime, opened.id)
    assert row["status"] == "delivered" and row["attempts"] == 4 and row["last_error"] is None


def test_a_platform_that_does_not_answer_in_time_is_retried_and_shown_once(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    case_id = escalate(runtime, AMARA).case_id
    inbox = Inbox(hang=2, hang_seconds=1.5)  # the first two calls outlast the 0.5 s timeout, then land anyway
    worker = Worker(runtime, inbox)
    _drain(worker, clock, passes=4)
    for _ in range(200):  # let the two slow calls finish landing before counting
        if len(inbox.calls) >= 3 and all(not t.name.startswith("deliver-") for t in threading.enumerate()):
            break
        threading.Event().wait(0.05)
    # Three calls for one notification; the receiver shows it once, and the outbox made no copies.
    assert len(inbox.calls) == 3 and len(set(inbox.calls)) == 1
    assert [n.kind for n in inbox.to("Dev Patel")] == ["case_opened"]
    assert runtime.cases is not None
    [delivery] = runtime.cases.get(case_id or "", AMARA).deliveries
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert _row(runtime, delivery.id)["status"] == "delivered"


def test_after_the_last_retry_the_failure_reaches_comms_and_the_cli(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    case_id = escalate(runtime, AMARA).case_id
    assert case_id is not None and runtime.cases is not None
    inbox = Inbox(refuse=frozenset({"Dev Patel"}))
    worker = Worker(runtime, inbox)
    _drain(worker, clock)

    case = runtime.cases.get(case_id, AMARA)
    [failed] = case.failed_deliveries
    assert (failed.recipient, failed.attempts) == ("Dev Patel", 4)
    assert failed.last_error == "channel_not_found for Dev Patel"
    assert ("delivery_failed", "policybot") in [(e.action, e.actor_name) for e in case.events]
    # The comms team is told, with what Dev should have received, and can act on the case.
    [report] = inbox.to("Cara Williams", "delivery_failed")
    assert "could not deliver a message to Dev Patel" in report.text and case.summary in report.text
    assert report.actions == ["acknowledge", "resolve", "message_employee"]

    listing = org.cli("cases")
    assert listing.exit_code == 0
    assert f"{case_id[:8]}  open" in listing.stdout
    assert "1 notification(s) NOT DELIVERED (to Dev Patel)" in listing.stdout
    only_failed = org.cli("cases", "--failed", "--json")
    assert [c["id"] for c in json.loads(only_failed.stdout)] == [case_id]
    shown = org.cli("cases", "show", case_id[:8])
    assert "to Dev Patel: FAILED, 4 attempt(s)" in shown.stdout
    assert "last error: channel_not_found for Dev Patel" in shown.stdout


def test_a_permanent_failure_gives_up_at_once_and_retry_after_is_honoured(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    escalate(runtime, AMARA)
    assert runtime.cases is not None
    box = runtime.cases.outbox

    class Throttled:
        def deliver(self, notification: Notification) -> None:
            raise DeliveryFailed("ratelimited", retry_after=120)

    [retrying] = box.deliver_due(Throttled()).retrying
    assert _row(runtime, retrying)["next_attempt_at"] == clock.now() + timedelta(seconds=120)

    class Gone:
        def deliver(self, notification: Notification) -> None:
            raise DeliveryFailed("the bot was removed from the workspace", permanent=True)

    clock.advance(timedelta(seconds=120))
    report = box.deliver_due(Gone())
    assert retrying in report.failed
    assert _row(runtime, retrying)["attempts"] == 2 and _row(runtime, retrying)["status"] == "failed"


def test_a_notifier_bug_counts_as_a_failed_attempt(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    escalate(runtime, AMARA)

    class Buggy:
        def deliver(self, notification: Notification) -> None:
            raise KeyError("channel")

    assert runtime.cases is not None
    [retrying] = runtime.cases.outbox.deliver_due(Buggy()).retrying
    assert _row(runtime, retrying)["last_error"] == "KeyError: 'channel'"


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base_seconds=30, max_seconds=600)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600), (9, 600)]:
        delays = {policy.backoff(attempt, rng) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, so failed rows do not all come back together
