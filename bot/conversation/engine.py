"""The engine: one event in, replies out, one transaction per turn.

Every turn loads the conversation row, steps the shared compiled machine for the conversation's
own flow version, renders what to say, and saves the row (with its audit line, and any case it
opens) in one transaction. Nothing here knows which chat platform the event came from.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from sqlalchemy import Connection

from bot.clock import Clock, SystemClock
from bot.conversation.escalating import Escalating
from bot.conversation.escalation import CaseOpener, NoDirectory, PeopleDirectory
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
    SetLanguage,
    Start,
    Why,
)
from bot.conversation.library import FlowLibrary
from bot.conversation.machine import CompiledFlow
from bot.conversation.one_at_a_time import OneAtATime
from bot.conversation.opening import Opener, is_routing_choice
from bot.conversation.presenter import Presenter
from bot.conversation.replies import (
    Explanation,
    Feedback,
    FlowChoice,
    Notice,
    NoticeKind,
    Reply,
    Unfinished,
)
from bot.conversation.speaking import Speaking
from bot.conversation.standing import Standing
from bot.conversation.typed_text import TypedText
from bot.errors import PolicybotError, StaleConversation, UnknownFlow
from bot.language.citations import Registry
from bot.language.flow_model import OUTCOME, QUESTION, Flow, State
from bot.language.i18n.catalog import N_
from bot.store import Store
from bot.store.records import ABANDONED, ACTIVE, DONE, SET_ASIDE, Answer, Conversation
from bot.store.transient import retry_transient
from bot.telemetry import metrics


class Engine:
    """Walks every conversation through its flow. Safe to share between threads and replicas."""

    def __init__(
        self,
        library: FlowLibrary,
        store: Store,
        *,
        clock: Clock | None = None,
        people: PeopleDirectory | None = None,
        cases: CaseOpener | None = None,
    ) -> None:
        self.library = library
        self.store = store
        self.clock = clock or SystemClock()
        self.people = people or NoDirectory()
        self.cases = cases
        self.presenter = Presenter(library, self.people, cases)
        self.escalating = Escalating(store, self.presenter, self.clock, cases)
        self.opener = Opener(self.presenter, self.clock)
        self.speaking = Speaking(library)
        self.standing = Standing(store, library, self.presenter, self.escalating, self.menu)
        self.one_at_a_time = OneAtATime(store, self.clock, self.presenter, self.standing)
        self.typed = TypedText(store, self.presenter, self.standing)

    @property
    def registry(self) -> Registry:
        return self.library.registry

    # -- the one entry point ---------------------------------------------------------------
    def handle(self, actor: Actor, event: Event, *, delivery_id: str | None = None) -> list[Reply]:
        """Apply one event for one person and return what to say.

        ``delivery_id`` is the platform's id for this delivery (a Slack retry, a Teams activity
        id): a repeat is recognised and applied once. A conversation changed by a concurrent
        action is not merged: the person gets a notice and the current question.

        A transient database error (a dropped connection, a serialisation failure, a lock
        timeout, SQLite busy, or losing a race to start the person's one active conversation) runs
        the whole turn again, a few times with jitter (bot.store.transient): the failed attempt
        kept nothing, and if its commit did land, the delivery id makes the retry a repeat. Past
        the last attempt ``DatabaseUnavailable`` is raised, whose message is for the person.
        """
        started = time.perf_counter()
        result = "error"
        try:
            with self.library.pin():  # one library version for the whole turn, even if a new one is published now
                replies = retry_transient(lambda: self._handle(actor, event, delivery_id), f"a {actor.platform} turn")
            result = _result_of(replies)
            return replies
        finally:
            metrics.observe_turn(actor.platform, time.perf_counter() - started, result)

    def _handle(self, actor: Actor, event: Event, delivery_id: str | None) -> list[Reply]:
        try:
            with self.store.transaction() as conn:
                actor = self.speaking.settle(conn, actor)
                if delivery_id and not self.store.claim_delivery(
                    conn, f"{actor.platform}:{delivery_id}", self.clock.now()
                ):
                    return self.speaking.finish(self.standing.repeat(conn, actor, event), actor)
                if isinstance(event, SetLanguage):
                    actor, replies = self._set_language(conn, actor, event)
                    return self.speaking.finish(replies, actor)
                replies = self._dispatch(conn, actor, event)
                if isinstance(event, Start | FreeText) and self.speaking.several:
                    actor = self.speaking.after_words(conn, actor, replies)  # first words in Welsh switch to Welsh
                return self.speaking.finish(replies, actor)
        except StaleConversation:
            conversation_id = getattr(event, "conversation_id", None)
            with self.store.transaction() as conn:
                actor = self.speaking.settle(conn, actor)
                notice = Notice(
                    N_(
                        "Someone (or another window) answered this at the same moment, so your click "
                        "was not applied. Here is where the conversation is now."
                    ),
                    NoticeKind.STALE,
                )
                return self.speaking.finish([notice, *self.standing.current(conn, actor, conversation_id)], actor)

    def _set_language(self, conn: Connection, actor: Actor, event: SetLanguage) -> tuple[Actor, list[Reply]]:
        """The switch was pressed: remember the language, and show where the person is in it at once."""
        if not self.speaking.offers(event.language):
            notice = Notice(N_("That language is not switched on here."), NoticeKind.INVALID)
            return actor, [notice, *self.standing.current(conn, actor, event.conversation_id)]
        actor = self.speaking.choose(conn, actor, event.language, self.clock.now())
        notice = Notice(N_("I will speak English from now on."))
        conversation_id = event.conversation_id
        if conversation_id is None:
            active = self.store.active_conversation(conn, actor.user_id)
            conversation_id = active.id if active is not None else None
        current = self.standing.current(conn, actor, conversation_id) if conversation_id else []
        return actor, [notice, *current]

    def unfinished(self, actor: Actor) -> Unfinished | None:
        """The person's conversation still waiting for an answer (or, failing that, the check they
        set aside most recently), if any."""
        with self.library.pin():
            return retry_transient(lambda: self._unfinished(actor), "reading an unfinished conversation")

    def _unfinished(self, actor: Actor) -> Unfinished | None:
        with self.store.transaction() as conn:
            return self.standing.unfinished(conn, actor, self.speaking)

    def resume(self, actor: Actor, conversation_id: str) -> list[Reply]:
        """Show the current question of a conversation again; a set-aside check is taken up again."""

        def read() -> list[Reply]:
            with self.store.transaction() as conn:
                speaker = self.speaking.settle(conn, actor)
                conv = self.standing.owned(conn, speaker, conversation_id)
                if conv is not None and conv.status == SET_ASIDE:
                    return self.speaking.finish(self.one_at_a_time.take_up(conn, speaker, conv), speaker)
                return self.speaking.finish(self.standing.current(conn, speaker, conversation_id), speaker)

        with self.library.pin():
            return retry_transient(read, "showing a conversation again")

    def menu(self, actor: Actor | None = None) -> FlowChoice:
        """Every flow, for a person who has not said what the situation is (in their language)."""
        with self.library.pin():
            menu = self.presenter.menu()
        if actor is None or not actor.language or actor.language == "en":
            return menu
        localised = self.speaking.localise(menu, actor.language)
        assert isinstance(localised, FlowChoice)
        return localised

    def language_of(self, actor: Actor) -> str:
        """The language the bot speaks to this person now (their choice, platform, or default)."""

        def read() -> str:
            with self.store.transaction() as conn:
                return self.speaking.settle(conn, actor).language or "en"

        return retry_transient(read, "reading a person's language")

    # -- dispatch ------------------------------------------------------------------------------
    def _dispatch(self, conn: Connection, actor: Actor, event: Event) -> list[Reply]:
        if isinstance(event, Start):
            return self._start(conn, actor, event)
        if isinstance(event, FreeText):
            return self._free_text(conn, actor, event)
        if isinstance(event, SetLanguage):  # handled before dispatch; here only for completeness
            return self._set_language(conn, actor, event)[1]
        conv = self.store.load_conversation(conn, event.conversation_id)
        if conv is not None and conv.user_id != actor.user_id:
            return [self.standing.not_yours(conv, actor)]
        if conv is None:
            return [
                Notice(
                    N_("That conversation has ended or is not yours. Say what the situation is to start again."),
                    NoticeKind.STALE,
                )
            ]
        if isinstance(event, Choose):
            return self._choose(conn, actor, conv, event)
        if isinstance(event, Back):
            return self._back(conn, actor, conv)
        if isinstance(event, Restart):
            return self._restart(conn, actor, conv)
        if isinstance(event, Why):
            return [self._why(conn, actor, conv)]
        if isinstance(event, Cancel):
            return self._cancel(conn, conv)
        if isinstance(event, ConfirmEscalation):
            return self.escalating.confirm(conn, actor, conv, self.standing.compiled(conn, conv), event.note)
        if isinstance(event, DeclineEscalation):
            return self.escalating.decline(conn, conv)
        raise PolicybotError(f"unknown event {event!r}")

    # -- starting ------------------------------------------------------------------------------
    def _start(self, conn: Connection, actor: Actor, event: Start) -> list[Reply]:
        if event.flow_id:
            if is_routing_choice(event.flow_id):  # "Something else", a topic: not a flow yet
                return self.opener.follow(conn, actor, event.flow_id)
            try:
                flow = self.library.get(event.flow_id)
            except UnknownFlow as err:
                return [Notice(str(err), NoticeKind.INVALID), self.menu()]
            self.opener.picked(conn, actor, flow.id)
            return self._begin(conn, actor, flow)
        text = (event.text or "").strip()
        if not text:
            return [self.menu()]
        opening = self.opener.open(conn, actor, text)
        if opening.language != actor.language and self.speaking.first_words(conn, actor, opening.language):
            actor = self.speaking.choose(conn, actor, opening.language, self.clock.now())
        if opening.flow is not None:  # "Understood: ... Not this?" goes before the first question
            return [*opening.replies, *self._begin(conn, actor, opening.flow)]
        return opening.replies

    def _begin(self, conn: Connection, actor: Actor, flow: Flow) -> list[Reply]:
        now = self.clock.now()
        # One conversation at a time: the old one is set aside where it stood (or, with nothing
        # answered yet, counts as abandoned).
        kept = self.one_at_a_time.abandon_active(conn, actor, now, "a new conversation was started")
        self.store.remember_flow_version(conn, flow, now)
        compiled = self.library.compiled(flow)
        conv = Conversation(
            id=uuid.uuid4().hex,
            user_id=actor.user_id,
            platform=actor.platform,
            flow_id=flow.id,
            flow_version=flow.version,
            state=flow.start,
            status=ACTIVE,
            version=1,
            created_at=now,
            updated_at=now,
        )
        conv = replace(conv, state=compiled.settle(flow.start, self.presenter.context(conv, actor, compiled)))
        self.store.record(conn, conv, "start", now)
        replies = self._arrive(conn, actor, conv, compiled, new=True)
        if kept is not None:
            replies.insert(0, self.one_at_a_time.kept_notice(conn, kept, actor))
        return replies

    # -- answering -------------------------------------------------------------------------------
    def _choose(self, conn: Connection, actor: Actor, conv: Conversation, event: Choose) -> list[Reply]:
        if conv.status != ACTIVE or conv.state != event.state or conv.version != event.turn:
            return [
                Notice(
                    N_("That button belongs to an earlier question, so I ignored it. Here is where we are now."),
                    NoticeKind.STALE,
                ),
                *self.standing.current(conn, actor, conv.id),
            ]
        compiled = self.standing.compiled(conn, conv)
        state = compiled.state(conv.state)
        if state.kind != QUESTION or not 0 <= event.option < len(state.options):
            return [
                Notice(N_("That is not one of the options for this question."), NoticeKind.INVALID),
                *self.standing.current(conn, actor, conv.id),
            ]
        return self._answer(conn, actor, conv, compiled, state, event.option)

    def _free_text(self, conn: Connection, actor: Actor, event: FreeText) -> list[Reply]:
        """Typed text: what it means here is read by ``TypedText``; the engine acts on it."""
        meaning = self.typed.read(conn, actor, event)
        if meaning.resume:
            return self.one_at_a_time.resume_set_aside(conn, actor, meaning.conv)
        if meaning.command is not None and meaning.conv is not None:
            return self._dispatch(conn, actor, meaning.command(meaning.conv.id))
        if meaning.start is not None:
            return self._start(conn, actor, Start(text=meaning.start))
        if meaning.answer is not None and meaning.conv is not None and meaning.compiled is not None:
            state = meaning.compiled.state(meaning.conv.state)
            return self._answer(conn, actor, meaning.conv, meaning.compiled, state, meaning.answer)
        return meaning.replies

    def _answer(
        self, conn: Connection, actor: Actor, conv: Conversation, compiled: CompiledFlow, state: State, index: int
    ) -> list[Reply]:
        now = self.clock.now()
        option = state.options[index]
        answer = Answer(
            state=state.name,
            option=index,
            # stored as the English (conditions compare it; each reader sees their own language)
            label=self.presenter.english(option.label, conv, actor, compiled),
            question=self.presenter.english(state.ask or "", conv, actor, compiled),
        )
        answered = conv.moved(answers=(*conv.answers, answer), updated_at=now)
        conv = replace(
            answered,
            state=compiled.settle(
                compiled.choose(state.name, index), self.presenter.context(answered, actor, compiled)
            ),
        )
        replies: list[Reply] = []
        if option.feedback:
            path = f"states.{state.name}.options.{index}.feedback"
            feedback = self.presenter.said(path, option.feedback, conv, actor, compiled)
            replies.append(Feedback(feedback, option.correct))
        self.store.record(conn, replace(conv, state=state.name), "answer", now, answer.label)
        return replies + self._arrive(conn, actor, conv, compiled)

    def _arrive(
        self, conn: Connection, actor: Actor, conv: Conversation, compiled: CompiledFlow, *, new: bool = False
    ) -> list[Reply]:
        """Save and show the state the conversation has just reached; an outcome finishes it.

        ``new`` inserts the row; otherwise ``conv`` is one version ahead of the stored row and the
        save is refused if someone else moved it first.
        """
        state = compiled.state(conv.state)
        replies: list[Reply]
        if state.kind == OUTCOME:
            conv = replace(conv, status=DONE)
            conv, outcome = self.escalating.open_required(
                conn, actor, conv, compiled, self.presenter.outcome(conv, actor, compiled)
            )
            replies = [outcome]
        else:
            replies = [self.presenter.question(conv, actor, compiled)]
        if new:
            self.store.insert_conversation(conn, conv)
        else:
            self.store.save_conversation(conn, conv)
        if state.kind == OUTCOME:
            now = self.clock.now()
            self.store.record(conn, conv, "outcome", now, state.verdict.value if state.verdict else None)
            if conv.case_id is not None and state.escalate is not None:
                self.store.record(conn, conv, "escalate", now, ",".join(state.escalate.to))
        return replies

    # -- back, restart, why, cancel ---------------------------------------------------------------
    def _back(self, conn: Connection, actor: Actor, conv: Conversation) -> list[Reply]:
        compiled = self.standing.compiled(conn, conv)
        if not conv.answers:
            return [
                Notice(N_("This is the first question, so there is nothing to go back to."), NoticeKind.INFO),
                *self.standing.current(conn, actor, conv.id),
            ]
        if conv.case_id is not None:
            return [
                Notice(
                    N_(
                        "An escalation has already been sent from this answer, so it can't be changed. "
                        "Start a new check if the situation has changed."
                    ),
                    NoticeKind.INFO,
                )
            ]
        last = conv.answers[-1]
        now = self.clock.now()
        self.one_at_a_time.abandon_other_active(conn, actor, conv, now)
        conv = conv.moved(state=last.state, answers=conv.answers[:-1], status=ACTIVE, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "back", now, last.label)
        return [self.presenter.question(conv, actor, compiled)]

    def _restart(self, conn: Connection, actor: Actor, conv: Conversation) -> list[Reply]:
        compiled = self.standing.compiled(conn, conv)
        now = self.clock.now()
        if conv.case_id is not None:
            return self._begin(conn, actor, self.library.get(conv.flow_id))
        self.one_at_a_time.abandon_other_active(conn, actor, conv, now)
        fresh = conv.moved(answers=(), status=ACTIVE, updated_at=now)
        context = self.presenter.context(fresh, actor, compiled)
        fresh = replace(fresh, state=compiled.settle(compiled.flow.start, context))
        self.store.record(conn, fresh, "restart", now)
        return self._arrive(conn, actor, fresh, compiled)

    def _why(self, conn: Connection, actor: Actor, conv: Conversation) -> Explanation:
        compiled = self.standing.compiled(conn, conv)
        state = compiled.state(conv.state)
        return Explanation(conv.id, self.presenter.citations(state.cite or compiled.flow.cite, actor.language))

    def _cancel(self, conn: Connection, conv: Conversation) -> list[Reply]:
        if conv.status != ACTIVE:
            return [Notice(N_("That conversation has already finished."), NoticeKind.INFO)]
        now = self.clock.now()
        conv = conv.moved(status=ABANDONED, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "cancel", now)
        return [Notice(N_("Stopped. Nothing was sent to anyone. Describe a situation any time to start again."))]


def _result_of(replies: list[Reply]) -> str:
    """How a turn ended, for the metrics: a refusal shows as the kind of its first notice."""
    first = replies[0] if replies else None
    if isinstance(first, Notice) and first.kind in (NoticeKind.STALE, NoticeKind.DUPLICATE, NoticeKind.INVALID):
        return first.kind.value
    return "applied"
