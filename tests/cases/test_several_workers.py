"""Several workers on one database (SQLite file, PostgreSQL): each notification is delivered by
one of them, each timer fires once, and two simultaneous acknowledgements have one winner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.cases.outbox import Outbox, RetryPolicy
from bot.cases.tables import outbox
from bot.clock import FakeClock
from bot.conversation.events import Actor
from bot.runtime import Runtime
from tests.cases.conftest import AMARA, CARA, DEV, LEE, Inbox, Org, escalate


def _together(jobs: list[Callable[[], None]]) -> None:
    """Start the jobs at the same moment in threads and wait for them all."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as err:  # re-raised below in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _replicas(org: Org, clock: FakeClock, count: int) -> list[Runtime]:
    return [org.runtime(clock) for _ in range(count)]


def test_each_notification_is_delivered_by_exactly_one_worker(org_on: Org, clock: FakeClock) -> None:
    first, *others = _replicas(org_on, clock, 3)
    for _ in range(15):
        escalate(first, AMARA)
    inbox = Inbox()
    boxes = [
        Outbox(r.store, clock, RetryPolicy(timeout_seconds=5), owner=f"worker-{i}")
        for i, r in enumerate([first, *others])
    ]
    _together([lambda box=box: box.deliver_due(inbox) for box in boxes])  # type: ignore[misc]
    assert len(inbox.calls) == 15 and len(set(inbox.calls)) == 15
    with first.store.transaction() as conn:
        rows = conn.execute(select(outbox.c.status, outbox.c.lease_owner)).all()
    assert {(status, owner) for status, owner in rows} == {("delivered", None)}


def test_each_overdue_case_is_chased_once_however_many_workers_run(org_on: Org, clock: FakeClock) -> None:
    first, *others = _replicas(org_on, clock, 3)
    case_ids = [escalate(first, AMARA).case_id for _ in range(6)]
    clock.advance(timedelta(days=5))  # past the 4 working hour deadline
    fired: list[int] = []

    def chase(runtime: Runtime) -> None:
        assert runtime.cases is not None
        fired.append(runtime.cases.fire_due_timers())

    _together([lambda r=r: chase(r) for r in [first, *others]])  # type: ignore[misc]
    assert sum(fired) == 6
    assert first.cases is not None
    for case_id in case_ids:
        case = first.cases.get(case_id or "", DEV)
        assert case.round == 1 and [e.action for e in case.events].count("chased") == 1
        assert case.recipient_names() == ["Dev Patel", "Cara Williams", "Legal Services"]


def test_simultaneous_acknowledgements_have_one_winner(org_on: Org, clock: FakeClock) -> None:
    runtime, replica = _replicas(org_on, clock, 2)
    case_id = escalate(runtime, AMARA, "No").case_id or ""  # to comms (Cara) and Legal's channel (Lee)
    results = []

    def ack(r: Runtime, actor: Actor) -> None:
        assert r.cases is not None
        results.append(r.cases.acknowledge(case_id, actor))

    _together([lambda: ack(runtime, CARA), lambda: ack(replica, LEE)])
    assert sorted(r.changed for r in results) == [False, True]
    assert runtime.cases is not None
    case = runtime.cases.get(case_id, CARA)
    assert [e.action for e in case.events].count("acknowledged") == 1
    assert case.acknowledged_by_name in ("Cara Williams", "Lee Morgan")
