"""Two people (or two windows, or two replicas) acting on the same conversation at the same moment.

Whatever the interleaving, each click is applied exactly once or refused as stale (Notice kind
STALE, with the current question), and the stored conversation stays consistent with its answers
and its audit trail. Run on SQLite and PostgreSQL, with threads sharing one engine (one replica)
and with separate processes each opening the database themselves (replicas).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Choose, FreeText, Start
from bot.conversation.replies import Notice, NoticeKind, Outcome, Question, Reply
from bot.store.schema import audit, conversations, deliveries
from tests.production.kit import CHAIN_LENGTH, make_engine, write_flows

ALICE = Actor(user_id="slack:T1:UALICE", display_name="Alice", platform="slack")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    return write_flows(tmp_path / "flows")


def kind_of(replies: list[Reply]) -> str:
    """'applied', 'stale' or 'duplicate' for one reply list, failing on anything else."""
    first = replies[0]
    if isinstance(first, Notice):
        if first.kind == NoticeKind.STALE:
            assert isinstance(replies[-1], (Question, Outcome)), "a stale notice must come with the current state"
            return "stale"
        if first.kind == NoticeKind.DUPLICATE:
            return "duplicate"
        raise AssertionError(f"unexpected notice {first!r}")
    assert isinstance(replies[-1], (Question, Outcome)), replies
    return "applied"


def start(engine: Engine, actor: Actor = ALICE) -> Question:
    replies = engine.handle(actor, Start(flow_id="chain"))
    assert isinstance(replies[-1], Question)
    return replies[-1]


def race(workers: int, act: Callable[[int], list[Reply]]) -> list[str]:
    """Run ``act(i)`` in ``workers`` threads released at the same instant; their outcomes."""
    barrier = threading.Barrier(workers)
    results: list[str] = [""] * workers
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = kind_of(act(i))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [], errors
    return results


def assert_consistent(engine: Engine, conversation_id: str, *, answered: int) -> None:
    """The row has one answer per applied click, its version counts them, and the audit agrees."""
    with engine.store.transaction() as conn:
        conv = engine.store.load_conversation(conn, conversation_id)
        answer_rows = conn.execute(
            select(func.count())
            .select_from(audit)
            .where(audit.c.conversation_id == conversation_id, audit.c.action == "answer")
        ).scalar_one()
    assert conv is not None
    assert len(conv.answers) == answered
    assert conv.version == 1 + answered
    assert answer_rows == answered
    assert [a.state for a in conv.answers] == [f"q{k}" for k in range(1, answered + 1)]
    expected_state = f"q{answered + 1}" if answered < CHAIN_LENGTH else "report"
    assert conv.state == expected_state


def test_simultaneous_clicks_on_one_question_apply_exactly_once(database_url: str, flows_dir: Path) -> None:
    engine = make_engine(flows_dir, database_url)
    question = start(engine)
    for step in range(1, CHAIN_LENGTH + 1):
        results = race(
            4,
            lambda i, q=question: engine.handle(ALICE, Choose(q.conversation_id, q.state, option=i % 2, turn=q.turn)),
        )
        assert sorted(results) == ["applied", "stale", "stale", "stale"], f"step {step}: {results}"
        assert_consistent(engine, question.conversation_id, answered=step)
        current = engine.resume(ALICE, question.conversation_id)[-1]
        if step < CHAIN_LENGTH:
            assert isinstance(current, Question)
            question = current
        else:
            assert isinstance(current, Outcome)
    engine.store.close()


def test_simultaneous_typed_answers_are_never_lost_or_merged(database_url: str, flows_dir: Path) -> None:
    """Typed answers carry no turn number, so each answers whatever question is current when it runs.

    Run one after another (SQLite queues writers) they answer successive questions; run truly at
    once (PostgreSQL) the version check in the UPDATE refuses the losers as stale. Either way
    every applied answer is stored exactly once and nothing else is.
    """
    engine = make_engine(flows_dir, database_url)
    question = start(engine)
    results = race(3, lambda i: engine.handle(ALICE, FreeText(str(1 + i % 2), question.conversation_id)))
    applied = results.count("applied")
    assert applied >= 1
    assert applied + results.count("stale") == 3, results
    assert_consistent(engine, question.conversation_id, answered=applied)
    engine.store.close()


def test_the_same_delivery_arriving_twice_at_once_is_applied_once(database_url: str, flows_dir: Path) -> None:
    """A platform retry racing the original (same delivery id): one applied, the rest duplicates."""
    engine = make_engine(flows_dir, database_url)
    question = start(engine)
    click = Choose(question.conversation_id, question.state, option=0, turn=question.turn)
    results = race(4, lambda _i: engine.handle(ALICE, click, delivery_id="retry-1"))
    assert sorted(results) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert_consistent(engine, question.conversation_id, answered=1)
    with engine.store.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1
    engine.store.close()


def test_many_people_at_once_do_not_disturb_each_other(database_url: str, flows_dir: Path) -> None:
    engine = make_engine(flows_dir, database_url)
    people = [Actor(user_id=f"slack:T1:U{i}", platform="slack") for i in range(6)]
    questions = [start(engine, person) for person in people]

    def walk(i: int) -> list[Reply]:
        replies: list[Reply] = []
        q = questions[i]
        for _ in range(CHAIN_LENGTH):
            replies = engine.handle(people[i], Choose(q.conversation_id, q.state, option=i % 2, turn=q.turn))
            if isinstance(replies[-1], Question):
                q = replies[-1]
        return replies

    assert race(len(people), walk) == ["applied"] * len(people)
    for q in questions:
        assert_consistent(engine, q.conversation_id, answered=CHAIN_LENGTH)
    engine.store.close()


def active_conversations(engine: Engine, actor: Actor = ALICE) -> int:
    with engine.store.transaction() as conn:
        return int(
            conn.execute(
                select(func.count()).where(conversations.c.user_id == actor.user_id, conversations.c.status == "active")
            ).scalar_one()
        )


def test_simultaneous_starts_leave_one_active_conversation(database_url: str, flows_dir: Path) -> None:
    """Two /policy at the same instant on two replicas (two engines, two connection pools): the
    unique index admits one active conversation, and the losing turn is run again and sets the
    winner's aside, as a later start would. Round 0 races two inserts; later rounds also race to
    set aside the conversation left by the round before."""
    engines = [make_engine(flows_dir, database_url), make_engine(flows_dir, database_url)]
    try:
        for round_ in range(8):
            results = race(2, lambda i: engines[i].handle(ALICE, Start(flow_id="chain")))
            assert results == ["applied", "applied"], f"round {round_}: {results}"
            assert active_conversations(engines[0]) == 1, f"round {round_}"
        with engines[0].store.transaction() as conn:
            rows = conn.execute(select(conversations.c.status, conversations.c.version)).all()
            set_aside = conn.execute(select(func.count()).where(audit.c.action == "abandoned")).scalar_one()
        assert len(rows) == 16 and sorted(status for status, _ in rows).count("abandoned") == 15
        assert set_aside == 15  # each one set aside exactly once, with its audit line
        assert all(version == (2 if status == "abandoned" else 1) for status, version in rows)
    finally:
        for engine in engines:
            engine.store.close()


def test_the_database_refuses_a_second_active_conversation(database_url: str, flows_dir: Path) -> None:
    """The guarantee is the database's own, not only the engine's care."""
    engine = make_engine(flows_dir, database_url)
    try:
        question = start(engine)
        with engine.store.transaction() as conn:
            conv = engine.store.load_conversation(conn, question.conversation_id)
        assert conv is not None
        with pytest.raises(IntegrityError), engine.store.transaction() as conn:
            engine.store.insert_conversation(conn, replace(conv, id="second"))
        with engine.store.transaction() as conn:  # a finished one beside it is fine
            engine.store.insert_conversation(conn, replace(conv, id="finished", status="done"))
        assert active_conversations(engine) == 1
    finally:
        engine.store.close()


# -- separate processes: replicas each with their own engine and connection pool ---------------------


def _replica(
    index: int, flows_dir: str, url: str, conversation_id: str, barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    engine = make_engine(Path(flows_dir), url)
    for k in range(1, CHAIN_LENGTH + 1):
        click = Choose(conversation_id, f"q{k}", option=index % 2, turn=k)
        barrier.wait(timeout=60)
        results.put((k, index, kind_of(engine.handle(ALICE, click))))
    engine.store.close()


def test_replica_processes_clicking_the_same_conversation(database_url: str, flows_dir: Path) -> None:
    """Two processes, each its own Store, click every question of one conversation at the same time."""
    engine = make_engine(flows_dir, database_url)
    question = start(engine)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    replicas = [
        context.Process(
            target=_replica, args=(i, str(flows_dir), database_url, question.conversation_id, barrier, results)
        )
        for i in range(2)
    ]
    for replica in replicas:
        replica.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * CHAIN_LENGTH)]
    for replica in replicas:
        replica.join(timeout=60)
        assert replica.exitcode == 0
    for k in range(1, CHAIN_LENGTH + 1):
        step = sorted(kind for step, _i, kind in outcomes if step == k)
        assert step == ["applied", "stale"], f"question {k}: {step}"
    assert_consistent(engine, question.conversation_id, answered=CHAIN_LENGTH)
    with engine.store.transaction() as conn:
        assert conn.execute(select(conversations.c.status)).scalar_one() == "done"
    engine.store.close()
