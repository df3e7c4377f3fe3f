"""Two real ``policybot serve slack`` replicas on one PostgreSQL database, behind a pretend load
balancer, with interleaved and simultaneous clicks for the same conversations sent to both.

What must hold, whatever the interleaving: every click is applied exactly once or refused (as
stale, or as a duplicate of the same click), no conversation is corrupted, every escalation is
delivered exactly once, and each timer is fired by exactly one worker. A second test kills one
replica with SIGKILL in the middle of the burst and restarts it: the survivors finish every
conversation and deliver every escalation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fake_slack_api import FakeSlackAPI
from slack_requests import SlackSender
from sqlalchemy import func, select, update

from bot.cases.tables import case_events, cases, outbox, timers
from bot.clock import SystemClock
from bot.store import Store, migrate
from bot.store.schema import audit, conversations
from tests.production.kit import CHAIN_LENGTH, write_flows
from tests.production.replicas import (
    Org,
    Person,
    Replica,
    employee,
    notifications,
    replica_pair,
    slack_workspace,
)

PEOPLE = 12


@pytest.fixture
def workspace() -> Iterator[FakeSlackAPI]:
    fake = slack_workspace(PEOPLE)
    yield fake
    fake.stop()


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return Org.create(tmp_path / "org", write_flows(tmp_path / "flows"), PEOPLE)


@pytest.fixture
def replicas(org: Org, postgres_url: str, workspace: FakeSlackAPI) -> Iterator[list[Replica]]:
    """Two replicas started at the same moment on a fresh database (so they also race to migrate)."""
    with replica_pair(org, postgres_url, workspace) as started:
        yield started


def people(workspace: FakeSlackAPI, replicas: list[Replica]) -> list[Person]:
    """One person per employee; each has their own connection to each replica (as Slack would)."""
    found = []
    for i in range(PEOPLE):
        local = threading.local()  # a person's simultaneous clicks each use their own connection

        def send(route: int, local: threading.local = local) -> SlackSender:
            senders: dict[int, SlackSender] = local.__dict__.setdefault("senders", {})
            index = route % len(replicas)
            if index not in senders or senders[index].port != replicas[index].port:
                senders[index] = SlackSender(replicas[index].url)
            return senders[index]

        found.append(Person(employee(i), workspace, send))
    return found


def run_all(persons: list[Person], walk: object) -> None:
    errors: list[BaseException] = []

    def run(i: int, person: Person) -> None:
        try:
            walk(i, person)  # type: ignore[operator]
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(persons)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors[0]
    assert sum(p.server_errors for p in persons) == 0, "a replica answered with a server error"


def wait_for_outbox(store: Store, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            pending = conn.execute(select(func.count()).where(outbox.c.status == "pending")).scalar_one()
        if pending == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{pending} notifications still waiting after {timeout:.0f}s")


def assert_every_conversation_complete(store: Store) -> None:
    with store.engine.connect() as conn:
        rows = conn.execute(select(conversations)).mappings().all()
        answers = dict(
            conn.execute(
                select(audit.c.conversation_id, func.count())
                .where(audit.c.action == "answer")
                .group_by(audit.c.conversation_id)
            ).all()
        )
    done = [r for r in rows if r["status"] == "done"]
    summary = sorted((r["user_id"][-5:], r["status"], r["state"], r["version"]) for r in rows)
    assert len(done) == PEOPLE, f"conversations not done (user, status, state, version): {summary}"
    for row in done:
        with store.engine.connect() as conn:
            conv = store.load_conversation(conn, row["id"])
        assert conv is not None
        assert len(conv.answers) == CHAIN_LENGTH and conv.version == CHAIN_LENGTH + 1, conv
        assert [a.state for a in conv.answers] == [f"q{k}" for k in range(1, CHAIN_LENGTH + 1)]
        assert answers[row["id"]] == CHAIN_LENGTH, f"{row['id']}: {answers[row['id']]} answers applied"
        assert conv.state == "report" and conv.case_id is not None


def assert_every_escalation_delivered_once(store: Store, fake: FakeSlackAPI, *, crashed: bool = False) -> None:
    """Every notification row delivered and posted once.

    ``crashed``: a replica was killed, and if that happened after Slack took a post but before
    the outbox recorded it, the row's lease expires and another replica posts it again (the
    outbox is at-least-once by design, each post carrying the notification id). Such a row was
    delivered only after its lease ran out (30 s and more after it was written); any other repeat
    is still a failure.
    """
    with store.engine.connect() as conn:
        opened = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        rows = conn.execute(select(outbox.c.id, outbox.c.status, outbox.c.created_at, outbox.c.delivered_at)).all()
    assert opened == PEOPLE
    assert {row.status for row in rows} == {"delivered"}
    posted = notifications(fake)
    assert set(posted) == {row.id for row in rows}, "a notification was never posted"
    lease = timedelta(seconds=30)
    retried = {row.id for row in rows if row.delivered_at - row.created_at >= lease} if crashed else set()
    twice = {key: n for key, n in posted.items() if n != 1 and not (key in retried and n == 2)}
    assert not twice, f"notifications posted more than once: {twice}"


def test_two_replicas_apply_every_click_once_and_deliver_every_escalation_once(
    replicas: list[Replica], workspace: FakeSlackAPI, postgres_url: str
) -> None:
    persons = people(workspace, replicas)

    def walk(i: int, person: Person) -> None:
        person.start(i)
        for step in range(CHAIN_LENGTH):
            route = i + step
            # Odd steps: the same button reaches both replicas at once (a retry or double click:
            # the same delivery). Even steps: two different options at once (two windows).
            option = 0 if step % 2 else 1
            person.answer(route, race=[(route + 1, option)])

    run_all(persons, walk)
    store = Store(postgres_url)
    try:
        with store.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
        assert_every_conversation_complete(store)
        unanswered = {p.user: (p.retries, p.nudges) for p in persons if p.retries or p.nudges}
        assert not unanswered, f"clicks went unanswered: {unanswered}"

        def refused() -> float:
            return sum(
                r.metric("policybot_stale_refused_total", platform="slack")
                + r.metric("policybot_duplicates_dropped_total", platform="slack")
                for r in replicas
            )

        # The losing click of a race is answered after the winner moved the person on, so on a
        # busy machine its turn may still be queued when the walk ends: wait for it (a deadline
        # for work to finish, not a timing assertion), then count.
        expected = PEOPLE * CHAIN_LENGTH
        deadline = time.monotonic() + 60
        while refused() < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert refused() == expected, "each step's second click must be refused exactly once"
        assert all(r.metric("policybot_turn_seconds_count", platform="slack", result="error") == 0 for r in replicas)

        wait_for_outbox(store)
        assert_every_escalation_delivered_once(store, workspace)

        # Nobody acknowledges: move every deadline into the past; each timer must fire once.
        past = SystemClock().now() - timedelta(seconds=1)
        with store.transaction() as conn:
            due = conn.execute(update(timers).where(timers.c.status == "pending").values(due_at=past)).rowcount
        assert due == PEOPLE
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                left = conn.execute(select(func.count()).where(timers.c.status == "pending")).scalar_one()
            if left == 0:
                break
            time.sleep(0.2)
        wait_for_outbox(store)
        with store.engine.connect() as conn:
            chased = dict(
                conn.execute(
                    select(case_events.c.case_id, func.count())
                    .where(case_events.c.action == "chased")
                    .group_by(case_events.c.case_id)
                ).all()
            )
            rounds = conn.execute(select(cases.c.round)).scalars().all()
        assert len(chased) == PEOPLE and set(chased.values()) == {1}, chased
        assert rounds == [1] * PEOPLE
        assert_every_escalation_delivered_once(store, workspace)
    finally:
        store.close()


def test_a_replica_killed_mid_burst_loses_no_conversation_and_no_escalation(
    replicas: list[Replica], workspace: FakeSlackAPI, postgres_url: str
) -> None:
    persons = people(workspace, replicas)
    half_way = threading.Event()
    answered = [0]
    at_kill: list[int] = []
    lock = threading.Lock()

    def walk(i: int, person: Person) -> None:
        person.start(i)
        for step in range(CHAIN_LENGTH):
            route = i + step
            person.answer(route, race=[(route + 1, 1)] if step % 2 else [])
            with lock:
                answered[0] += 1
                if answered[0] >= PEOPLE * CHAIN_LENGTH // 3:
                    half_way.set()

    def chaos() -> None:
        assert half_way.wait(120)
        with lock:
            at_kill.append(answered[0])
        replicas[0].kill()  # kill -9, with requests and background work in flight
        time.sleep(1.0)
        replicas[0].start()  # the orchestrator restarts it on the same address
        replicas[0].wait_ready()

    killer = threading.Thread(target=chaos)
    killer.start()
    run_all(persons, walk)
    killer.join(180)
    assert replicas[0].starts == 2 and replicas[0].alive
    assert at_kill and at_kill[0] < PEOPLE * CHAIN_LENGTH, "the kill must land while conversations are going on"
    print(  # for the record (pytest -s): how often people had to click again or type to carry on
        f"answers before the kill: {at_kill[0]}/{PEOPLE * CHAIN_LENGTH}; "
        f"clicks repeated: {sum(p.retries for p in persons)}; typed nudges: {sum(p.nudges for p in persons)}"
    )
    store = Store(postgres_url)
    try:
        assert_every_conversation_complete(store)
        wait_for_outbox(store, timeout=150)
        assert_every_escalation_delivered_once(store, workspace, crashed=True)
    finally:
        store.close()
