"""The inbound journal on its own (bot/store/inbound.py, bot/store/replay.py), on SQLite and
PostgreSQL: written with a lease, taken over only once the lease has run out, each person's
events in order, retried with a delay, given up after the last attempt, shared between replicas."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.store import Store
from bot.store.inbound import InboundEvent, InboundJournal
from bot.store.replay import InboundReplayer


def journals(url: str) -> tuple[Store, FakeClock, InboundJournal, InboundJournal]:
    store, clock = Store(url), FakeClock()
    dead = InboundJournal(store, clock, platform="slack", owner="dead", max_attempts=3)
    alive = InboundJournal(store, clock, platform="slack", owner="alive", max_attempts=3)
    return store, clock, dead, alive


def test_a_dead_replicas_events_are_taken_over_in_order_per_person(database_url: str) -> None:
    store, clock, dead, alive = journals(database_url)
    try:
        for key, person in [("e1", "alice"), ("e2", "alice"), ("e3", "bob")]:
            assert dead.record(key, person, {"key": key}) is not None
        assert dead.record("e1", "alice", {"key": "again"}) is None  # a platform retry of e1
        assert alive.claim_due() == []  # the leases still hold: the replica may only be slow
        clock.advance(dead.lease + timedelta(seconds=1))
        first = alive.claim_due()
        assert [(e.key, e.attempts) for e in first] == [("slack:e1", 2), ("slack:e3", 2)]  # not e2 yet
        assert alive.claim_due() == []  # claimed, and e2 waits for e1
        for event in first:
            alive.finish(event)
        [second] = alive.claim_due()
        assert second.key == "slack:e2" and second.payload == {"key": "e2"}
        alive.finish(second)
        assert alive.pending() == 0
    finally:
        store.close()


def test_a_heartbeat_keeps_a_slow_replicas_events_and_a_retry_waits(database_url: str) -> None:
    store, clock, dead, alive = journals(database_url)
    try:
        event = alive.record("e1", "alice", {})
        assert event is not None
        clock.advance(alive.lease - timedelta(seconds=1))
        assert alive.heartbeat() == 1
        clock.advance(timedelta(seconds=5))
        assert dead.claim_due() == []  # renewed: still this replica's
        assert alive.retry_later(event, not_before=30)
        clock.advance(timedelta(seconds=29))
        assert dead.claim_due() == []
        clock.advance(timedelta(seconds=2))
        [again] = dead.claim_due()
        assert again.attempts == 2
    finally:
        store.close()


def test_after_the_last_attempt_an_event_is_handed_back_once_to_apologise(database_url: str) -> None:
    store, clock, dead, alive = journals(database_url)
    try:
        dead.record("e1", "alice", {"text": "hi"})
        for attempt in (2, 3):
            clock.advance(dead.lease + timedelta(seconds=1))
            [event] = alive.claim_due()  # and the replica dies each time
            assert (event.attempts, event.final) == (attempt, False)
            alive._forget(event)
        assert not alive.retry_later(event)  # no attempt left
        clock.advance(dead.lease + timedelta(seconds=1))
        [last] = alive.claim_due()
        assert last.final and last.payload == {"text": "hi"}
        clock.advance(dead.lease + timedelta(seconds=1))
        assert alive.claim_due() == []  # marked failed as it was claimed: apologised for once
        assert alive.pending() == 0
        clock.advance(timedelta(hours=2))
        assert alive.forget_finished() == 1
    finally:
        store.close()


def test_a_replica_takes_no_more_than_it_has_room_for(database_url: str) -> None:
    """A backlog left by a dead replica is shared: each replayer keeps a few in hand at once."""
    store, clock, dead, alive = journals(database_url)
    try:
        for n in range(5):
            dead.record(f"e{n}", f"person{n}", {})
        clock.advance(dead.lease + timedelta(seconds=1))
        handed: list[InboundEvent] = []
        replayer = InboundReplayer(alive, handed.append, capacity=2)
        assert len(replayer.run_once()) == 2
        assert replayer.run_once() == []  # still working on those two
        alive.finish(handed[0])
        assert len(replayer.run_once()) == 1
        other = InboundJournal(store, clock, platform="slack", owner="other")
        assert len(other.claim_due()) == 2  # the rest, for another replica
    finally:
        store.close()
