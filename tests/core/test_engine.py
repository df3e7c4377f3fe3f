"""The engine on a real SQLite store: walking, typed answers, back/restart/why/cancel, stale and
duplicate clicks, optimistic concurrency, version pinning across restarts, resuming."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Back, Cancel, Choose, ConfirmEscalation, FreeText, Restart, Start, Why
from bot.conversation.replies import (
    Explanation,
    Feedback,
    FlowChoice,
    Notice,
    NoticeKind,
    Outcome,
    Question,
    Reply,
    SwitchOffer,
    Verdict,
)
from bot.errors import StaleConversation
from bot.language.settings import load_settings
from bot.store.schema import audit, conversations
from tests.core.flowkit import QUIZ_FLOW, library, sqlite_store, write_flows

ALICE = Actor(user_id="console:alice", display_name="Alice Smith", email="alice@example.org")
BOB = Actor(user_id="console:bob", display_name="Bob Jones")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    return write_flows(tmp_path / "flows")


@pytest.fixture
def engine(tmp_path: Path, flows_dir: Path) -> Engine:
    return Engine(library(flows_dir), sqlite_store(tmp_path))


def last(replies: list[Reply]) -> Reply:
    assert replies, "the engine returned no reply"
    return replies[-1]


def question(replies: list[Reply]) -> Question:
    reply = last(replies)
    assert isinstance(reply, Question), f"expected a question, got {reply!r}"
    return reply


def outcome(replies: list[Reply]) -> Outcome:
    reply = last(replies)
    assert isinstance(reply, Outcome), f"expected an outcome, got {reply!r}"
    return reply


def click(engine: Engine, actor: Actor, q: Question, option: int, **kw: str) -> list[Reply]:
    return engine.handle(actor, Choose(q.conversation_id, q.state, option, q.turn), **kw)


def test_walk_to_an_outcome_with_clicks(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    assert (q1.state, q1.text, [o.label for o in q1.options]) == (
        "where",
        "Where was it posted?",
        ["A council account", "My own account"],
    )
    assert (q1.step, q1.max_steps, q1.can_go_back) == (1, 2, False)
    assert [c.id for c in q1.citations] == ["notts-27"]
    q2 = question(click(engine, ALICE, q1, 0))
    assert (q2.state, q2.step, q2.max_steps, q2.can_go_back) == ("manager", 2, 2, True)
    assert q2.text == "Can you reach your line manager today?"
    end = outcome(click(engine, ALICE, q2, 1))
    assert end.state == "tell_comms" and end.verdict is Verdict.ACT
    assert end.text == "Take it down now and tell the Communications team and Legal Services."
    assert [(a.state, a.answer) for a in end.answers] == [("where", "A council account"), ("manager", "No")]
    assert end.escalation is not None and end.escalation.required and end.escalation.targets == ["comms", "legal"]
    assert end.citations[0].clause == "paragraph 27"


def test_typed_answers_by_number_words_and_near_spelling(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    q2 = question(engine.handle(ALICE, FreeText("a COUNCIL account", q1.conversation_id)))
    assert q2.state == "manager"
    engine.handle(ALICE, FreeText("back", q2.conversation_id))
    q2 = question(engine.handle(ALICE, FreeText("counsil acount", q1.conversation_id)))
    assert q2.state == "manager"
    end = outcome(engine.handle(ALICE, FreeText("2", q2.conversation_id)))
    assert end.state == "tell_comms"


def test_an_answer_that_matches_no_option_is_refused_and_the_question_repeated(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    replies = engine.handle(ALICE, FreeText("banana", q1.conversation_id))
    assert isinstance(replies[0], Notice) and replies[0].kind is NoticeKind.INVALID
    assert "1, 2" in replies[0].text
    assert question(replies).state == "where"
    replies = engine.handle(ALICE, FreeText("7", q1.conversation_id))
    assert isinstance(replies[0], Notice) and replies[0].kind is NoticeKind.INVALID


def test_back_restart_why_and_cancel(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    first = engine.handle(ALICE, Back(q1.conversation_id))
    assert isinstance(first[0], Notice) and "first question" in first[0].text
    q2 = question(click(engine, ALICE, q1, 0))
    assert question(engine.handle(ALICE, Back(q2.conversation_id))).state == "where"
    q2 = question(click(engine, ALICE, question(engine.resume(ALICE, q1.conversation_id)), 0))
    why = last(engine.handle(ALICE, Why(q2.conversation_id)))
    assert isinstance(why, Explanation) and [c.id for c in why.citations] == []  # 'manager' cites nothing itself
    assert question(engine.handle(ALICE, Restart(q2.conversation_id))).state == "where"
    stopped = last(engine.handle(ALICE, Cancel(q2.conversation_id)))
    assert isinstance(stopped, Notice) and "Nothing was sent" in stopped.text
    assert engine.unfinished(ALICE) is None


def test_typing_a_new_situation_mid_conversation_offers_it_and_changes_nothing(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="quiz")))
    replies = engine.handle(ALICE, FreeText("someone threatened to sue me over my tweet", q1.conversation_id))
    offer = replies[0]
    assert isinstance(offer, SwitchOffer) and (offer.flow_id, offer.conversation_id) == ("report", q1.conversation_id)
    assert question(replies).conversation_id == q1.conversation_id  # still on the quiz, same question
    short = engine.handle(ALICE, FreeText("sue me", q1.conversation_id))  # too short to be a new situation
    assert isinstance(short[0], Notice) and short[0].kind is NoticeKind.INVALID


def test_typed_command_words(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    why = last(engine.handle(ALICE, FreeText("why", q1.conversation_id)))
    assert isinstance(why, Explanation) and [c.id for c in why.citations] == ["notts-27"]
    q2 = question(click(engine, ALICE, q1, 0))
    assert question(engine.handle(ALICE, FreeText("Back", q2.conversation_id))).state == "where"


def test_a_stale_button_gets_a_notice_and_the_current_question(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    q2 = question(click(engine, ALICE, q1, 0))
    replies = click(engine, ALICE, q1, 1)  # the old question's other button
    assert isinstance(replies[0], Notice) and replies[0].kind is NoticeKind.STALE
    assert question(replies).state == q2.state == "manager"
    end = outcome(click(engine, ALICE, q2, 0))
    assert end.escalation is not None and end.escalation.deadline == "4 working hours"
    again = click(engine, ALICE, q2, 1)  # a second click after the outcome
    assert isinstance(again[0], Notice) and again[0].kind is NoticeKind.STALE
    assert outcome(again).state == end.state == "tell_manager"


def test_a_duplicate_delivery_is_applied_once(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    q2 = question(click(engine, ALICE, q1, 0, delivery_id="evt-1"))
    repeat = engine.handle(ALICE, Choose(q1.conversation_id, q1.state, 0, q1.turn), delivery_id="evt-1")
    # Applied once, and the repeat is never silent: it shows where the person is now.
    assert isinstance(repeat[0], Notice) and repeat[0].kind is NoticeKind.DUPLICATE
    assert question(repeat[1:]) == q2
    with engine.store.transaction() as conn:
        answers = conn.execute(select(func.count()).select_from(audit).where(audit.c.action == "answer")).scalar()
    assert answers == 1
    assert question(engine.resume(ALICE, q1.conversation_id)).state == q2.state


def test_another_persons_conversation_cannot_be_driven(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    replies = click(engine, BOB, q1, 0)
    # The clicker alone is told, and nothing of Alice's conversation comes back to be redrawn.
    assert replies == [
        Notice(
            "This check belongs to someone else, so your click was not applied. "
            "To check a situation of your own, tell me what it is.",
            NoticeKind.NOT_YOURS,
        )
    ]
    assert question(engine.resume(ALICE, q1.conversation_id)).state == "where"


def test_a_second_writer_on_a_stale_version_is_refused(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    with engine.store.transaction() as conn:
        conv = engine.store.load_conversation(conn, q1.conversation_id)
    assert conv is not None
    with engine.store.transaction() as conn:
        engine.store.save_conversation(conn, conv.moved(state="manager"))
    with pytest.raises(StaleConversation), engine.store.transaction() as conn:
        engine.store.save_conversation(conn, conv.moved(state="own"))
    with engine.store.transaction() as conn:
        stored = engine.store.load_conversation(conn, q1.conversation_id)
    assert stored is not None and (stored.state, stored.version) == ("manager", 2)


def test_simultaneous_clicks_on_one_question_apply_exactly_once(tmp_path: Path, flows_dir: Path) -> None:
    """Two replicas (two engines, one database) get a click each for the same question at once."""
    import threading

    engines = [Engine(library(flows_dir), sqlite_store(tmp_path)) for _ in range(2)]
    for _ in range(5):
        q1 = question(engines[0].handle(ALICE, Start(flow_id="report")))
        barrier = threading.Barrier(2)
        results: list[list[Reply]] = [[], []]

        def press(
            i: int, q: Question = q1, gate: threading.Barrier = barrier, out: list[list[Reply]] = results
        ) -> None:
            gate.wait()
            out[i] = click(engines[i], ALICE, q, i)

        threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        applied = [r for r in results if isinstance(r[0], Question | Outcome)]
        refused = [r for r in results if isinstance(r[0], Notice) and r[0].kind is NoticeKind.STALE]
        assert len(applied) == 1 and len(refused) == 1
        with engines[0].store.transaction() as conn:
            stored = engines[0].store.load_conversation(conn, q1.conversation_id)
        assert stored is not None and len(stored.answers) == 1 and stored.version == 2


def test_start_from_free_text_routes_or_offers_a_choice(engine: Engine) -> None:
    started = question(engine.handle(ALICE, Start(text="my manager says someone threatened to sue over my tweet")))
    assert started.flow_id == "report"
    unsure = last(engine.handle(BOB, Start(text="xyzzy plugh")))
    assert isinstance(unsure, FlowChoice) and {c.flow_id for c in unsure.candidates} == {"quiz", "report"}
    menu = last(engine.handle(BOB, Start()))
    assert isinstance(menu, FlowChoice) and menu.prompt == "What's the situation?"


def test_free_text_with_no_conversation_starts_one(engine: Engine) -> None:
    q = question(engine.handle(ALICE, FreeText("quiz me")))
    assert q.flow_id == "quiz"


def test_unknown_flow_id_is_a_notice_with_the_menu(engine: Engine) -> None:
    replies = engine.handle(ALICE, Start(flow_id="legal-thret"))
    assert isinstance(replies[0], Notice) and replies[0].kind is NoticeKind.INVALID
    assert "there is no flow called 'legal-thret'" in replies[0].text
    assert isinstance(replies[1], FlowChoice)


def test_quiz_feedback_score_and_branch_on_org_rules(tmp_path: Path, flows_dir: Path) -> None:
    lenient = Engine(library(flows_dir), sqlite_store(tmp_path))
    q1 = question(lenient.handle(ALICE, Start(flow_id="quiz")))
    assert q1.intro == "Posts on your own account can still reflect on the council."
    replies = click(lenient, ALICE, q1, 0)
    assert isinstance(replies[0], Feedback) and replies[0].correct is True
    q2 = question(replies)
    assert q2.state == "ask_time"
    end = outcome(click(lenient, ALICE, q2, 1))
    assert end.state == "lenient_end" and end.text == "Only in your breaks. You scored 1 of 2."
    assert end.score is not None and (end.score.correct, end.score.total) == (1, 2)

    strict_settings = load_settings(None).with_overrides({"rules": {"personal_use_on_council_it": "never"}})
    strict = Engine(library(flows_dir, strict_settings), sqlite_store(tmp_path / "strict"))
    q1 = question(strict.handle(ALICE, Start(flow_id="quiz")))
    end = outcome(click(strict, ALICE, q1, 1))
    assert end.state == "strict_end" and end.verdict is Verdict.STOP
    assert end.text == "Not on council computers. You scored 0 of 1."


def test_resume_after_restart_of_the_process(tmp_path: Path, flows_dir: Path) -> None:
    first = Engine(library(flows_dir), sqlite_store(tmp_path))
    q1 = question(first.handle(ALICE, Start(flow_id="report")))
    click(first, ALICE, q1, 0)
    first.store.close()
    second = Engine(library(flows_dir), sqlite_store(tmp_path))
    unfinished = second.unfinished(ALICE)
    assert unfinished is not None
    assert (unfinished.flow_id, unfinished.answered) == ("report", 1)
    assert unfinished.question == "Can you reach your line manager today?"
    assert question(second.resume(ALICE, unfinished.conversation_id)).state == "manager"


def test_a_conversation_finishes_on_the_flow_version_it_started_on(tmp_path: Path, flows_dir: Path) -> None:
    first = Engine(library(flows_dir), sqlite_store(tmp_path))
    q1 = question(first.handle(ALICE, Start(flow_id="report")))
    q2 = question(click(first, ALICE, q1, 0))
    first.store.close()
    # The comms team changes the flow: a third option, and new wording for an outcome.
    changed = (
        (flows_dir / "report.yaml")
        .read_text()
        .replace(
            "      - {label: My own account, next: own}",
            "      - {label: My own account, next: own}\n      - {label: A partner's account, next: tell_comms}",
        )
        .replace("Take it down now and tell {{ org.contacts.comms }}", "NEW WORDING {{ org.contacts.comms }}")
    )
    (flows_dir / "report.yaml").write_text(changed)
    second = Engine(library(flows_dir), sqlite_store(tmp_path))  # a restarted process with the new file
    end = outcome(click(second, ALICE, q2, 1))
    assert end.state == "tell_comms" and end.text.startswith("Take it down now")  # the old version's words
    fresh = question(second.handle(BOB, Start(flow_id="report")))
    assert len(fresh.options) == 3
    assert outcome(click(second, BOB, fresh, 2)).text.startswith("NEW WORDING")


def test_starting_a_new_conversation_abandons_the_unfinished_one(engine: Engine) -> None:
    old = question(engine.handle(ALICE, Start(flow_id="report")))
    new = question(engine.handle(ALICE, Start(flow_id="quiz")))
    assert new.conversation_id != old.conversation_id
    with engine.store.transaction() as conn:
        statuses = dict(conn.execute(select(conversations.c.flow_id, conversations.c.status)).all())
    assert statuses == {"report": "abandoned", "quiz": "active"}


def test_every_step_is_audited(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    q2 = question(click(engine, ALICE, q1, 0))
    engine.handle(ALICE, Back(q2.conversation_id))
    q2 = question(engine.handle(ALICE, FreeText("1", q1.conversation_id)))
    outcome(click(engine, ALICE, q2, 1))
    with engine.store.transaction() as conn:
        rows = conn.execute(select(audit.c.action, audit.c.state, audit.c.detail).order_by(audit.c.id)).all()
    assert [tuple(r) for r in rows] == [
        ("start", "where", None),
        ("answer", "where", "A council account"),
        ("back", "where", "A council account"),
        ("answer", "where", "A council account"),
        ("answer", "manager", "No"),
        ("outcome", "tell_comms", "act"),
    ]


def test_offered_escalation_without_a_case_service_tells_the_person_who_to_contact(engine: Engine) -> None:
    q1 = question(engine.handle(ALICE, Start(flow_id="report")))
    end = outcome(click(engine, ALICE, q1, 1))
    assert end.state == "own" and end.escalation is not None and not end.escalation.required
    assert (end.escalation.then, end.escalation.deadline) == (["comms"], "2 hours")
    assert "Alice Smith used the policy check" in end.escalation.preview
    assert "- Where was it posted? My own account" in end.escalation.preview
    notice = last(engine.handle(ALICE, ConfirmEscalation(end.conversation_id, "please call me")))
    assert isinstance(notice, Notice) and "your line manager" in notice.text


def test_the_quiz_flow_fixture_is_what_the_tests_think(flows_dir: Path) -> None:
    assert (flows_dir / "quiz.yaml").read_text() == QUIZ_FLOW
