"""The confidence policy as a person meets it, through the engine, on the shipped flows and a real
SQLite store: confident starts with "Understood" and a "Not this", unsure offers three and
"Something else", no idea asks what it is about, urgent flows are never buried, and every
guess, pick and rephrasing lands in the routing log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Start
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.opening import (
    ABOUT_PREFIX,
    NOT_THIS,
    SOMETHING_ELSE,
    TOPICS,
    confidence_of,
    decide,
)
from bot.conversation.replies import ChoiceKind, FlowChoice, Notice, Question, Reply
from bot.conversation.router import understand
from bot.language.settings import load_settings
from bot.store import Store
from bot.store import routing_log as log
from bot.store.routing_log import routing_log

LIBRARY = FlowLibrary.load(default_flows_dir(), load_settings(None))
FLOWS = LIBRARY.all()
ALICE = Actor(user_id="slack:U123ALICE", display_name="Alice")
BOB = Actor(user_id="slack:U456BOB", display_name="Bob")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(tmp_path: Path, clock: FakeClock) -> Engine:
    return Engine(LIBRARY, Store(f"sqlite:///{tmp_path / 'test.db'}"), clock=clock)


def choice(replies: list[Reply], kind: ChoiceKind | None = None) -> FlowChoice:
    found = [r for r in replies if isinstance(r, FlowChoice)]
    assert found, f"no choice in {replies}"
    if kind is not None:
        assert found[0].kind is kind, found[0]
    return found[0]


def ids(c: FlowChoice) -> list[str]:
    return [x.flow_id for x in c.candidates]


def rows(engine: Engine) -> list[log.Decision]:
    with engine.store.transaction() as conn:
        return [log.Decision.of(r) for r in conn.execute(select(routing_log).order_by(routing_log.c.at))]


def test_a_clear_message_starts_the_flow_with_one_line_and_a_not_this(engine: Engine) -> None:
    replies = engine.handle(ALICE, Start(text="a client sent me a friend request on facebook"))
    line = choice(replies, ChoiceKind.NOT_THIS)
    assert line.prompt == "Understood: Someone sent me a friend request."
    assert ids(line) == [NOT_THIS]
    assert isinstance(replies[-1], Question) and replies[-1].flow_id == "friend-request"
    assert replies.index(line) < replies.index(replies[-1])  # the line comes before the question


def test_not_this_offers_the_next_best_and_a_pick_is_recorded_as_a_miss(engine: Engine, clock: FakeClock) -> None:
    engine.handle(ALICE, Start(text="someone keeps posting adverts in our group, can i take them down"))
    [started] = rows(engine)
    assert started.outcome == log.STARTED and started.choice == started.guess
    clock.advance(timedelta(seconds=20))
    offered = choice(engine.handle(ALICE, Start(flow_id=NOT_THIS)), ChoiceKind.LIKELY)
    assert started.guess not in ids(offered)
    assert len([i for i in ids(offered) if not i.startswith("routing:")]) >= 3
    assert ids(offered)[-1] == SOMETHING_ELSE
    other = ids(offered)[0]
    clock.advance(timedelta(seconds=20))
    question = engine.handle(ALICE, Start(flow_id=other))[-1]
    assert isinstance(question, Question) and question.flow_id == other
    [after] = rows(engine)
    assert after.outcome == log.NOT_THIS and after.guess == started.guess and after.choice == other
    assert after.text is not None  # a miss keeps its words, for the report


def test_an_unsure_message_offers_three_and_something_else(engine: Engine) -> None:
    routing = understand("loads of people moaning on fb about the council", FLOWS)
    assert confidence_of(routing) == "unsure"
    offered = choice(engine.handle(ALICE, Start(text="loads of people moaning on fb about the council")))
    assert offered.kind is ChoiceKind.LIKELY
    assert ids(offered)[:3] == [m.flow.id for m in routing.matches[:3]]
    assert ids(offered)[-1] == SOMETHING_ELSE
    assert not any(isinstance(r, Question) for r in engine.handle(BOB, Start(text="moaning on fb")))


def test_picking_the_first_guess_forgets_the_words(engine: Engine) -> None:
    offered = choice(engine.handle(ALICE, Start(text="loads of people moaning on fb about the council")))
    engine.handle(ALICE, Start(flow_id=offered.candidates[0].flow_id))
    [row] = rows(engine)
    assert row.outcome == log.PICKED and row.choice == row.guess and row.text is None


def test_no_idea_asks_what_it_is_about_then_offers_that_kind(engine: Engine) -> None:
    question = choice(engine.handle(ALICE, Start(text="hiya, quick one for you")), ChoiceKind.CLARIFY)
    topics = [i.removeprefix(ABOUT_PREFIX) for i in ids(question) if i.startswith(ABOUT_PREFIX)]
    assert topics == list(TOPICS)
    assert ids(question)[-1] == SOMETHING_ELSE
    narrowed = choice(engine.handle(ALICE, Start(flow_id=ABOUT_PREFIX + "people")), ChoiceKind.LIKELY)
    people = {f.id for f in FLOWS if "people" in f.about}
    assert people <= set(ids(narrowed)) and ids(narrowed)[-1] == SOMETHING_ELSE
    [row] = rows(engine)
    assert row.confidence == "no_idea" and row.outcome == log.OFFERED


def test_something_else_shows_every_flow(engine: Engine) -> None:
    replies = engine.handle(ALICE, Start(flow_id=SOMETHING_ELSE))
    assert isinstance(replies[0], Notice)
    menu = choice(replies, ChoiceKind.MENU)
    assert sorted(ids(menu)) == sorted(f.id for f in FLOWS)


@pytest.mark.parametrize(
    "text",
    [
        "a 14 year old who follows our youth club insta has been posting about wanting to end it",
        "a girl from school sent me a friend request and her posts worry me",
        "got a nasty message from someone saying they'll sue",
    ],
)
def test_safeguarding_and_legal_threats_are_never_buried(text: str) -> None:
    routing = understand(text, FLOWS)
    opening = decide(routing, FLOWS)
    urgent = [m.flow.id for m in routing.matches[:5] if m.flow.always_offer]
    assert urgent, "the example should have an urgent flow near the top"
    shown = {c.flow_id for r in opening.replies if isinstance(r, FlowChoice) for c in r.candidates}
    if opening.flow is not None:  # started outright: only when it is the urgent flow itself
        assert opening.flow.always_offer or all(routing.score_of(u) < 0.15 for u in urgent)
    else:
        assert set(urgent) <= shown


def test_rephrasing_links_the_old_words_to_the_flow_finally_chosen(engine: Engine, clock: FakeClock) -> None:
    first = "hiya, quick one for you"
    choice(engine.handle(ALICE, Start(text=first)), ChoiceKind.CLARIFY)
    clock.advance(timedelta(minutes=1))
    replies = engine.handle(ALICE, Start(text="a client sent me a friend request on facebook"))
    assert isinstance(replies[-1], Question)
    old, new = rows(engine)
    assert old.text == first and old.outcome == log.REPHRASED and old.rephrased_to == new.id
    assert old.choice == "friend-request"  # the words that failed are a miss for friend-request


def test_people_are_pseudonymised_and_kept_apart(engine: Engine) -> None:
    engine.handle(ALICE, Start(text="hiya, quick one for you"))
    engine.handle(BOB, Start(text="hiya, quick one for you"))
    a, b = rows(engine)
    assert a.person != b.person
    assert all("U123ALICE" not in r.person and "U456BOB" not in r.person for r in (a, b))
    with engine.store.transaction() as conn:
        mine = log.RoutingLog().for_person(conn, ALICE.user_id)
        assert [r.id for r in mine] == [a.id]
        assert log.RoutingLog().forget_person(conn, ALICE.user_id) == 1
    assert [r.id for r in rows(engine)] == [b.id]


def test_a_pick_long_after_the_guess_is_not_taken_as_its_answer(engine: Engine, clock: FakeClock) -> None:
    engine.handle(ALICE, Start(text="loads of people moaning on fb about the council"))
    clock.advance(timedelta(hours=2))
    engine.handle(ALICE, Start(flow_id="wiki-edit"))
    [row] = rows(engine)
    assert row.outcome == log.OFFERED and row.choice is None
