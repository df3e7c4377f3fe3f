"""Fuzzing the engine with random event sequences: clicks on current and stale questions, typed
text, commands, another person's clicks, and platform retries of earlier deliveries.

A hypothesis state machine drives one person through random events and, after every step, checks
the stored conversations against what the engine promised: replaying the stored answers through
the flow leads to the stored state, at most one conversation is active, versions only move
forward, and events that must change nothing (stale clicks, duplicates, clicks on someone else's
conversation, invalid options) change nothing.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from bot.conversation.engine import Engine
from bot.conversation.events import (
    Actor,
    Back,
    Cancel,
    Choose,
    ConfirmEscalation,
    DeclineEscalation,
    Event,
    FreeText,
    Restart,
    Start,
    Why,
)
from bot.conversation.replies import (
    EscalationSent,
    Explanation,
    Feedback,
    FlowChoice,
    Notice,
    NoticeKind,
    Outcome,
    Question,
    Reply,
)
from bot.language.flow_model import OUTCOME, QUESTION
from bot.store.records import ABANDONED, ACTIVE, DONE, SET_ASIDE, Conversation
from bot.store.schema import audit, conversations
from tests.production.kit import BRANCHY_FLOW, chain_flow, make_engine, write_flows

REPLY_TYPES = (Question, Outcome, Notice, Explanation, Feedback, FlowChoice, EscalationSent)
TYPED = st.one_of(
    st.sampled_from(["1", "2", "3", "0", "99", "yes", "no", "Yes to 1", "back", "restart", "why", "quit", "undo"]),
    st.sampled_from(["A council account", "my own acount", "branchy test flow", "chain of questions", ""]),
    st.text(max_size=40),
)


@lru_cache(maxsize=1)
def shared_engine() -> Engine:
    """One engine and SQLite file for every example; each example is a new person, so none interfere."""
    folder = Path(tempfile.mkdtemp(prefix="policybot-fuzz-"))
    flows = write_flows(folder / "flows", {"chain": chain_flow("chain", 3), "branchy": BRANCHY_FLOW})
    return make_engine(flows, f"sqlite:///{folder / 'fuzz.db'}")


class EngineEvents(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = shared_engine()
        self.actor = Actor(user_id=f"fuzz:{uuid.uuid4().hex}", display_name="Fuzz Tester", platform="slack")
        self.intruder = Actor(user_id=f"fuzz:{uuid.uuid4().hex}", platform="slack")
        self.shown: list[Question] = []  # every question the person has been shown, oldest first
        self.conversation_ids: list[str] = []
        self.delivered: list[tuple[Event, str]] = []  # (event, delivery id) already applied once
        self.versions: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def rows(self) -> dict[str, Conversation]:
        with self.engine.store.transaction() as conn:
            ids = conn.execute(select(conversations.c.id).where(conversations.c.user_id == self.actor.user_id))
            found = {row.id: self.engine.store.load_conversation(conn, row.id) for row in ids}
        return {key: conv for key, conv in found.items() if conv is not None}

    def audit_count(self) -> int:
        with self.engine.store.transaction() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(audit).where(audit.c.user_id == self.actor.user_id)
                ).scalar_one()
            )

    def send(self, event: Event, *, actor: Actor | None = None, delivery: bool = True) -> list[Reply]:
        delivery_id = uuid.uuid4().hex if delivery else None
        replies = self.engine.handle(actor or self.actor, event, delivery_id=delivery_id)
        assert replies, f"no reply to {event!r}"
        assert all(isinstance(r, REPLY_TYPES) for r in replies), replies
        if delivery_id and actor is None:
            self.delivered.append((event, delivery_id))
        for reply in replies:
            if isinstance(reply, Question):
                self.shown.append(reply)
            conversation_id = getattr(reply, "conversation_id", None)
            if conversation_id and conversation_id not in self.conversation_ids:
                self.conversation_ids.append(conversation_id)
        return replies

    def unchanged(self, event: Event, expected_kind: NoticeKind, *, actor: Actor | None = None) -> None:
        before, audited = self.rows(), self.audit_count()
        replies = self.send(event, actor=actor)
        first = replies[0]
        assert isinstance(first, Notice) and first.kind == expected_kind, (event, replies)
        assert self.rows() == before, f"{event!r} changed a conversation"
        assert self.audit_count() == audited, f"{event!r} wrote to the audit trail"

    # -- rules -----------------------------------------------------------------------------------
    @rule(flow_id=st.sampled_from(["chain", "branchy", "no-such-flow"]))
    def start_a_flow(self, flow_id: str) -> None:
        self.send(Start(flow_id=flow_id))

    @rule(text=TYPED)
    def describe_a_situation(self, text: str) -> None:
        self.send(Start(text=text))

    @precondition(lambda self: self.shown)
    @rule(pick=st.integers(min_value=0), option=st.integers(min_value=-1, max_value=4))
    def click(self, pick: int, option: int) -> None:
        """Click an option on any question ever shown: the current one, or an old, stale one."""
        question = self.shown[pick % len(self.shown)]
        conv = self.rows()[question.conversation_id]
        event = Choose(question.conversation_id, question.state, option, question.turn)
        current = conv.status == ACTIVE and conv.version == question.turn and conv.state == question.state
        if not current:
            self.unchanged(event, NoticeKind.STALE)
        elif not 0 <= option < len(question.options):
            self.unchanged(event, NoticeKind.INVALID)
        else:
            self.send(event)
            after = self.rows()[question.conversation_id]
            assert after.version == conv.version + 1
            assert after.answers[:-1] == conv.answers and after.answers[-1].option == option

    @rule(text=TYPED, on_latest=st.booleans())
    def type_text(self, text: str, on_latest: bool) -> None:
        conversation_id = self.conversation_ids[-1] if on_latest and self.conversation_ids else None
        self.send(FreeText(text, conversation_id))

    @precondition(lambda self: self.conversation_ids)
    @rule(
        pick=st.integers(min_value=0),
        command=st.sampled_from([Back, Restart, Why, Cancel, ConfirmEscalation, DeclineEscalation]),
    )
    def command(self, pick: int, command: type[Any]) -> None:
        self.send(command(self.conversation_ids[pick % len(self.conversation_ids)]))

    @precondition(lambda self: self.delivered)
    @rule(pick=st.integers(min_value=0))
    def platform_retries_an_earlier_delivery(self, pick: int) -> None:
        event, delivery_id = self.delivered[pick % len(self.delivered)]
        before, audited = self.rows(), self.audit_count()
        replies = self.engine.handle(self.actor, event, delivery_id=delivery_id)
        assert isinstance(replies[0], Notice) and replies[0].kind == NoticeKind.DUPLICATE, replies
        assert self.rows() == before and self.audit_count() == audited

    @precondition(lambda self: self.shown)
    @rule(pick=st.integers(min_value=0))
    def someone_else_clicks_this_persons_question(self, pick: int) -> None:
        question = self.shown[pick % len(self.shown)]
        event = Choose(question.conversation_id, question.state, 0, question.turn)
        self.unchanged(event, NoticeKind.NOT_YOURS, actor=self.intruder)

    @rule(option=st.integers(min_value=0, max_value=3), turn=st.integers(min_value=-1, max_value=9))
    def click_on_a_conversation_that_does_not_exist(self, option: int, turn: int) -> None:
        self.unchanged(Choose(uuid.uuid4().hex, "q1", option, turn), NoticeKind.STALE)

    # -- what must always hold -------------------------------------------------------------------
    @invariant()
    def stored_conversations_are_consistent(self) -> None:
        rows = self.rows()
        assert sum(conv.status == ACTIVE for conv in rows.values()) <= 1, "more than one active conversation"
        for conv in rows.values():
            assert conv.version >= self.versions.get(conv.id, 1), "a conversation's version went backwards"
            self.versions[conv.id] = conv.version
            compiled = self.engine.library.compiled_version(conv.flow_id, conv.flow_version, None)
            state = compiled.state(conv.state)
            assert conv.status in (ACTIVE, DONE, ABANDONED, SET_ASIDE)
            if conv.status in (ACTIVE, SET_ASIDE):
                assert state.kind == QUESTION
            if conv.status == DONE:
                assert state.kind == OUTCOME
            assert replay(self.engine, self.actor, conv) == conv.state, "stored state disagrees with the answers"


def replay(engine: Engine, actor: Actor, conv: Conversation) -> str:
    """Where the stored answers lead, walked through the shared machine from the start."""
    compiled = engine.library.compiled_version(conv.flow_id, conv.flow_version, None)
    context = engine.presenter.context  # the engine's own template context: the same branches are taken
    state = compiled.settle(compiled.flow.start, context(replace(conv, answers=()), actor, compiled))
    for i, answer in enumerate(conv.answers):
        assert answer.state == state, f"answer {i} was given to '{answer.state}' but the flow was at '{state}'"
        so_far = replace(conv, answers=conv.answers[: i + 1])
        state = compiled.settle(compiled.choose(state, answer.option), context(so_far, actor, compiled))
    return state


EngineEvents.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_random_event_sequences_keep_every_conversation_consistent = EngineEvents.TestCase
