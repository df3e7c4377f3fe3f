"""Typed answers: the words people really type are read as the option they mean, a near miss is
offered back by number, and typed text never drops a check without asking."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.replies import Notice, NoticeKind, Question, Reply, SwitchOffer
from bot.conversation.typed_answers import command_for, read_answer
from bot.store.schema import conversations
from tests.core.flowkit import REPORT_FLOW, library, sqlite_store, write_flows

# Option labels as the shipped flows word them (legal-threat, negative-comment, friend-request).
WHERE_POSTED = ["On a council account or page", "On my own personal account"]
REACH_MANAGER = ["Yes", "No, they are away or not answering"]
WHERE_COMMENT = [
    "On a council page or account I run or help moderate",
    "On a council page or account someone else runs",
    "Somewhere else: a local group, news site or someone's own post",
]
WHO_ASKED = [
    "A child or young person",
    "A client I work with, or one of their family",
    "A former client, or one of their family",
    "A colleague, or a contact from another organisation",
    "Someone I don't know",
]
WHAT_IT_SAYS = [
    "Puts someone at risk, or is about a child or vulnerable adult",
    "Accuses a named person of wrongdoing, or threatens to sue",
    "Abuse, threats, hate, swearing or obscene content",
    "None of these",
]


@pytest.mark.parametrize(
    ("typed", "labels", "meant"),
    [
        ("council account", WHERE_POSTED, 0),  # the leading words, without the filler
        ("on my own account", WHERE_POSTED, 1),
        ("no", REACH_MANAGER, 1),  # yes/no for the option that starts with it
        ("Yes", REACH_MANAGER, 0),
        ("abuse", WHAT_IT_SAYS, 2),
        ("a clinet I work with", WHO_ASKED, 1),  # a close typo
        ("council page I run", WHERE_COMMENT, 0),  # "I run", not "someone else runs"
        ("counsil acount", WHERE_POSTED, 0),
        ("2", WHERE_POSTED, 1),
        ("on my own personal account", WHERE_POSTED, 1),
    ],
)
def test_the_words_people_type_pick_the_option_they_mean(typed: str, labels: list[str], meant: int) -> None:
    assert read_answer(typed, labels).index == meant


@pytest.mark.parametrize(
    ("typed", "labels", "offered"),
    [
        ("council account", WHERE_COMMENT, (0, 1)),  # both council options fit: ask, do not guess
        ("a client", WHO_ASKED, (1, 2)),
    ],
)
def test_an_answer_that_fits_several_options_is_offered_back_not_guessed(
    typed: str, labels: list[str], offered: tuple[int, ...]
) -> None:
    reading = read_answer(typed, labels)
    assert reading.index is None and reading.suggestions == offered


def test_text_near_no_option_suggests_nothing() -> None:
    for typed in ("banana", "someone threatened to sue me over my tweet", "9"):
        assert read_answer(typed, WHERE_POSTED).index is None
        assert read_answer(typed, WHERE_POSTED).suggestions == ()


def test_command_words_include_resume_and_an_explicit_stop() -> None:
    assert command_for("resume") == command_for("Carry on") == "resume"
    assert command_for("stop  this check") == "cancel"


# -- in the engine ----------------------------------------------------------------------------------

COMMENT_FLOW = """\
id: comment
title: Someone left a nasty comment on our page
triggers: [nasty comment on our page, someone is being abusive in the comments]
start: where
states:
  where:
    ask: Where is the comment?
    options:
      - {label: "On a council page or account I run or help moderate", next: what}
      - {label: "On a council page or account someone else runs", next: tell_owner}
  what:
    ask: What does it say?
    options:
      - {label: "Abuse, threats, hate, swearing or obscene content", next: remove}
      - {label: "None of these", next: leave}
  remove:
    verdict: act
    say: Hide it and keep a screenshot.
    cite: [notts-27]
  leave:
    verdict: go
    say: Leave it.
    cite: [notts-27]
  tell_owner:
    verdict: care
    say: Tell whoever runs it.
    cite: [notts-27]
"""
TESS = Actor(user_id="console:tess", display_name="Tess")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    flows = write_flows(tmp_path / "flows", {"comment": COMMENT_FLOW, "report": REPORT_FLOW})
    return Engine(library(flows), sqlite_store(tmp_path))


def _question(replies: list[Reply]) -> Question:
    assert isinstance(replies[-1], Question), replies
    return replies[-1]


def _statuses(engine: Engine) -> dict[str, str]:
    with engine.store.transaction() as conn:
        return dict(conn.execute(select(conversations.c.flow_id, conversations.c.status)).all())


def test_a_near_miss_is_offered_back_by_number_and_the_question_shown_again(engine: Engine) -> None:
    q = _question(engine.handle(TESS, Start(flow_id="comment")))
    replies = engine.handle(TESS, FreeText("council account", q.conversation_id))
    notice = replies[0]
    assert isinstance(notice, Notice) and notice.kind is NoticeKind.INVALID
    assert notice.text.startswith("Did you mean: 1. On a council page or account I run or help moderate or 2. ")
    assert _question(replies).state == "where"
    assert _question(engine.handle(TESS, FreeText("1", q.conversation_id))).state == "what"


def test_a_new_situation_is_asked_about_and_the_old_check_is_kept_and_resumable(engine: Engine) -> None:
    q1 = _question(engine.handle(TESS, Start(flow_id="comment")))
    q2 = _question(engine.handle(TESS, FreeText("council page I run", q1.conversation_id)))
    assert q2.state == "what"
    replies = engine.handle(TESS, FreeText("someone threatened legal action over my tweet", q2.conversation_id))
    assert isinstance(replies[0], SwitchOffer) and replies[0].flow_id == "report"
    assert "is kept either way" in replies[0].text
    assert _question(replies).state == "what"  # nothing changed yet
    assert _statuses(engine) == {"comment": "active"}

    switched = engine.handle(TESS, Start(flow_id=replies[0].flow_id))  # the person accepts
    assert isinstance(switched[0], Notice) and "type resume to carry on" in switched[0].text
    assert _question(switched).flow_id == "report"
    assert _statuses(engine) == {"comment": "set_aside", "report": "active"}

    back = engine.handle(TESS, FreeText("resume", _question(switched).conversation_id))
    assert _question(back).conversation_id == q1.conversation_id and _question(back).state == "what"
    assert _question(back).can_go_back  # the earlier answer is still there
    assert _statuses(engine) == {"comment": "active", "report": "abandoned"}  # nothing answered in it yet


def test_a_set_aside_check_is_offered_again_as_unfinished(engine: Engine) -> None:
    q1 = _question(engine.handle(TESS, Start(flow_id="comment")))
    engine.handle(TESS, FreeText("1", q1.conversation_id))
    report = _question(engine.handle(TESS, Start(flow_id="report")))
    engine.handle(TESS, FreeText("stop this check", report.conversation_id))
    unfinished = engine.unfinished(TESS)
    assert unfinished is not None and unfinished.conversation_id == q1.conversation_id
    assert _question(engine.resume(TESS, q1.conversation_id)).state == "what"
    assert _statuses(engine)["comment"] == "active"


def test_resume_with_nothing_set_aside_says_so(engine: Engine) -> None:
    q = _question(engine.handle(TESS, Start(flow_id="comment")))
    replies = engine.handle(TESS, FreeText("resume", q.conversation_id))
    assert isinstance(replies[0], Notice) and "no check set aside" in replies[0].text
    assert _question(replies).state == "where"
