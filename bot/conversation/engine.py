"""The engine: one event in, replies out, one transaction per turn.

Every turn loads the conversation row, steps the shared compiled machine for the conversation's
own flow version, renders what to say, and saves the row (with its audit line, and any case it
opens) in one transaction. Nothing here knows which chat platform the event came from.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime

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
from bot.conversation.opening import Opener, is_routing_choice, new_situation
from bot.conversation.presenter import Presenter
from bot.conversation.replies import (
    Explanation,
    Feedback,
    FlowChoice,
    Notice,
    NoticeKind,
    Reply,
    SwitchOffer,
    Unfinished,
)
from bot.conversation.speaking import Speaking
from bot.conversation.typed_answers import command_for, not_an_answer, read_answer
from bot.errors import PolicybotError, StaleConversation, UnknownFlow
from bot.language.citations import Registry
from bot.language.flow_model import OUTCOME, QUESTION, Flow, State
from bot.language.i18n.catalog import N_, interface
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
                    return self.speaking.finish(self._repeat(conn, actor, event), actor)
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
                return self.speaking.finish([notice, *self._current(conn, actor, conversation_id)], actor)

    def _set_language(self, conn: Connection, actor: Actor, event: SetLanguage) -> tuple[Actor, list[Reply]]:
        """The switch was pressed: remember the language, and show where the person is in it at once."""
        if not self.speaking.offers(event.language):
            notice = Notice(N_("That language is not switched on here."), NoticeKind.INVALID)
            return actor, [notice, *self._current(conn, actor, event.conversation_id)]
        actor = self.speaking.choose(conn, actor, event.language, self.clock.now())
        notice = Notice(N_("I will speak English from now on."))
        conversation_id = event.conversation_id
        if conversation_id is None:
            active = self.store.active_conversation(conn, actor.user_id)
            conversation_id = active.id if active is not None else None
        current = self._current(conn, actor, conversation_id) if conversation_id else []
        return actor, [notice, *current]

    def _repeat(self, conn: Connection, actor: Actor, event: Event) -> list[Reply]:
        """A delivery already applied once: never silence, but where the person stands now.

        The first delivery may have been applied and then lost on its way to the screen (a replica
        died, the platform failed), so the repeat shows the conversation's current question or
        outcome, with where its case went. Every adapter renders these replies as they are.
        """
        notice = Notice(N_("That was already done. Here is where you are now."), NoticeKind.DUPLICATE)
        conversation_id = getattr(event, "conversation_id", None)
        conv = self._owned(conn, actor, conversation_id)
        if conv is None:
            conv = self.store.active_conversation(conn, actor.user_id) or self.store.latest_conversation(
                conn, actor.user_id
            )
        if conv is None:
            return [notice, self.menu()]
        return [notice, *self._current(conn, actor, conv.id)]

    def unfinished(self, actor: Actor) -> Unfinished | None:
        """The person's conversation still waiting for an answer (or, failing that, the check they
        set aside most recently), if any."""
        with self.library.pin():
            return retry_transient(lambda: self._unfinished(actor), "reading an unfinished conversation")

    def _unfinished(self, actor: Actor) -> Unfinished | None:
        with self.store.transaction() as conn:
            conv = self.store.active_conversation(conn, actor.user_id) or self.store.set_aside_conversation(
                conn, actor.user_id
            )
            if conv is None:
                return None
            try:
                compiled = self._compiled(conn, conv)
            except PolicybotError:
                return None
            actor = self.speaking.settle(conn, actor)
            state = compiled.state(conv.state)
            ask = f"states.{state.name}.ask"
            question = ""
            if state.kind == QUESTION:
                question = self.presenter.said(ask, state.ask or "", conv, actor, compiled)
            return Unfinished(conv.id, conv.flow_id, self.presenter.title(compiled, actor), question, len(conv.answers))

    def resume(self, actor: Actor, conversation_id: str) -> list[Reply]:
        """Show the current question of a conversation again; a set-aside check is taken up again."""

        def read() -> list[Reply]:
            with self.store.transaction() as conn:
                speaker = self.speaking.settle(conn, actor)
                conv = self._owned(conn, speaker, conversation_id)
                if conv is not None and conv.status == SET_ASIDE:
                    return self.speaking.finish(self._take_up(conn, speaker, conv), speaker)
                return self.speaking.finish(self._current(conn, speaker, conversation_id), speaker)

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
            return [self._not_yours(conv, actor)]
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
            return self.escalating.confirm(conn, actor, conv, self._compiled(conn, conv), event.note)
        if isinstance(event, DeclineEscalation):
            return self.escalating.decline(conn, conv)
        raise PolicybotError(f"unknown event {event!r}")

    def _not_yours(self, conv: Conversation, actor: Actor) -> Notice:
        """A click on someone else's check (a Teams group chat, a forwarded card): answered to the
        clicker alone, and nothing about the owner's conversation changes or is redrawn."""
        _ = interface(actor.language)
        owner = self.presenter.owner_name(conv)
        if owner:
            text = _(
                "This check belongs to {owner}, so your click was not applied. "
                "To check a situation of your own, tell me what it is."
            ).format(owner=owner)
        else:
            text = _(
                "This check belongs to someone else, so your click was not applied. "
                "To check a situation of your own, tell me what it is."
            )
        return Notice(text, NoticeKind.NOT_YOURS)

    def _owned(self, conn: Connection, actor: Actor, conversation_id: str | None) -> Conversation | None:
        if not conversation_id:
            return None
        conv = self.store.load_conversation(conn, conversation_id)
        if conv is None or conv.user_id != actor.user_id:
            return None
        return conv

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
        kept = self._abandon_active(conn, actor, now, "a new conversation was started")
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
            replies.insert(0, self._kept_notice(conn, kept, actor))
        return replies

    def _kept_notice(self, conn: Connection, kept: Conversation, actor: Actor) -> Notice:
        title = self.presenter.title(self._compiled(conn, kept), actor)
        _ = interface(actor.language)
        text = _('Your check "{title}" is kept where you left it: type resume to carry on with it.')
        return Notice(text.format(title=title))

    # -- answering -------------------------------------------------------------------------------
    def _choose(self, conn: Connection, actor: Actor, conv: Conversation, event: Choose) -> list[Reply]:
        if conv.status != ACTIVE or conv.state != event.state or conv.version != event.turn:
            return [
                Notice(
                    N_("That button belongs to an earlier question, so I ignored it. Here is where we are now."),
                    NoticeKind.STALE,
                ),
                *self._current(conn, actor, conv.id),
            ]
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        if state.kind != QUESTION or not 0 <= event.option < len(state.options):
            return [
                Notice(N_("That is not one of the options for this question."), NoticeKind.INVALID),
                *self._current(conn, actor, conv.id),
            ]
        return self._answer(conn, actor, conv, compiled, state, event.option)

    def _free_text(self, conn: Connection, actor: Actor, event: FreeText) -> list[Reply]:
        """Typed text: a command, an answer, a new situation (offered, never switched to unasked),
        or something close to an option (offered back as "did you mean…?")."""
        text = event.text.strip()
        conv = self._owned(conn, actor, event.conversation_id) if event.conversation_id else None
        if conv is None and event.conversation_id is None:
            conv = self.store.active_conversation(conn, actor.user_id)
        command = command_for(text)
        answering = conv is not None and conv.status == ACTIVE
        if command is not None and answering and conv is not None and self._is_label(conn, conv, actor, text):
            command = None  # an option called "Stop" or "Back" is an answer, not a command
        if command == "resume":
            return self._resume_set_aside(conn, actor, conv)
        if conv is not None and command is not None:
            commands: dict[str, type[Back | Restart | Why | Cancel]] = {
                "back": Back,
                "restart": Restart,
                "why": Why,
                "cancel": Cancel,
            }
            return self._dispatch(conn, actor, commands[command](conv.id))
        if conv is None or conv.status != ACTIVE:
            return self._start(conn, actor, Start(text=text))
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        base = f"states.{state.name}.options"
        said = self.presenter.said
        labels = [said(f"{base}.{i}.label", o.label, conv, actor, compiled) for i, o in enumerate(state.options)]
        reading = read_answer(text, labels)
        if reading.index is None and actor.language not in (None, "en"):  # the English words work too
            english = read_answer(text, [self.presenter.english(o.label, conv, actor, compiled) for o in state.options])
            reading = english if english.index is not None else reading
        if reading.index is not None:
            return self._answer(conn, actor, conv, compiled, state, reading.index)
        other = new_situation(text, self.presenter)
        if other is not None and other.id != conv.flow_id:
            offer = SwitchOffer(
                conv.id,
                self.presenter.title(compiled, actor),
                other.id,
                other.text_in("title", other.title, actor.language),
                actor.language or "en",
            )
            return [offer, *self._current(conn, actor, conv.id)]
        return [not_an_answer(reading, labels, actor.language), *self._current(conn, actor, conv.id)]

    def _resume_set_aside(self, conn: Connection, actor: Actor, current: Conversation | None) -> list[Reply]:
        """"resume": take up the check set aside most recently (the current one stays, set aside)."""
        kept = self.store.set_aside_conversation(conn, actor.user_id)
        if kept is None:
            notice = Notice(N_("There is no check set aside to carry on with."), NoticeKind.INFO)
            return [notice, *self._current(conn, actor, current.id)] if current is not None else [notice]
        return self._take_up(conn, actor, kept)

    def _take_up(self, conn: Connection, actor: Actor, kept: Conversation) -> list[Reply]:
        """A set-aside check becomes the active one again, at the question where it was left."""
        now = self.clock.now()
        other = self._abandon_active(conn, actor, now, "an earlier check was taken up again")
        conv = kept.moved(status=ACTIVE, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "resume", now)
        replies: list[Reply] = [self.presenter.question(conv, actor, self._compiled(conn, conv))]
        if other is not None:
            replies.insert(0, self._kept_notice(conn, other, actor))
        return replies

    def _is_label(self, conn: Connection, conv: Conversation, actor: Actor, text: str) -> bool:
        """Whether ``text`` is exactly one of the current question's option labels."""
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        wanted = text.casefold()
        base = f"states.{state.name}.options"
        return any(
            self.presenter.said(f"{base}.{i}.label", o.label, conv, actor, compiled).casefold() == wanted
            or self.presenter.english(o.label, conv, actor, compiled).casefold() == wanted
            for i, o in enumerate(state.options)
        )

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
        compiled = self._compiled(conn, conv)
        if not conv.answers:
            return [
                Notice(N_("This is the first question, so there is nothing to go back to."), NoticeKind.INFO),
                *self._current(conn, actor, conv.id),
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
        self._abandon_other_active(conn, actor, conv, now)
        conv = conv.moved(state=last.state, answers=conv.answers[:-1], status=ACTIVE, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "back", now, last.label)
        return [self.presenter.question(conv, actor, compiled)]

    def _restart(self, conn: Connection, actor: Actor, conv: Conversation) -> list[Reply]:
        compiled = self._compiled(conn, conv)
        now = self.clock.now()
        if conv.case_id is not None:
            return self._begin(conn, actor, self.library.get(conv.flow_id))
        self._abandon_other_active(conn, actor, conv, now)
        fresh = conv.moved(answers=(), status=ACTIVE, updated_at=now)
        context = self.presenter.context(fresh, actor, compiled)
        fresh = replace(fresh, state=compiled.settle(compiled.flow.start, context))
        self.store.record(conn, fresh, "restart", now)
        return self._arrive(conn, actor, fresh, compiled)

    def _abandon_other_active(self, conn: Connection, actor: Actor, conv: Conversation, now: datetime) -> None:
        """Back or restart on a finished conversation makes it active again: one at a time, so the
        person's other active conversation (if any) counts as abandoned where it stood, as in _begin."""
        if conv.status != ACTIVE:
            self._abandon_active(conn, actor, now, "an earlier conversation was taken up again")

    def _abandon_active(self, conn: Connection, actor: Actor, now: datetime, why: str) -> Conversation | None:
        """End the person's active conversation for another one: a check with answers is set aside
        (kept, and returned, so the person can be told how to carry on with it); one with nothing
        answered counts as abandoned. One active conversation at a time is guaranteed by a unique
        index.

        If another turn changed it meanwhile (an answer, or a start on another replica that set it
        aside and began its own), look again: the newest active one is set aside instead. Two
        starts at the same instant with nothing active both insert; the database refuses the
        second, whose turn is run again (bot.store.transient) and then sets the first aside. So
        concurrent starts end as sequential ones would: the last one is the active conversation.
        """
        for _ in range(5):
            other = self.store.active_conversation(conn, actor.user_id)
            if other is None:
                return None
            kept = bool(other.answers)
            other = other.moved(status=SET_ASIDE if kept else ABANDONED, updated_at=now)
            try:
                self.store.save_conversation(conn, other)
            except StaleConversation:
                continue  # moved on under us: read it again (a refused UPDATE leaves the transaction usable)
            self.store.record(conn, other, "set_aside" if kept else "abandoned", now, why)
            return other if kept else None
        raise StaleConversation("the person's active conversation kept changing while a new one was started")

    def _why(self, conn: Connection, actor: Actor, conv: Conversation) -> Explanation:
        compiled = self._compiled(conn, conv)
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

    def _current(self, conn: Connection, actor: Actor, conversation_id: str | None) -> list[Reply]:
        conv = self._owned(conn, actor, conversation_id)
        if conv is None:
            return [self.menu()]
        compiled = self._compiled(conn, conv)
        if conv.status == ACTIVE:
            return [self.presenter.question(conv, actor, compiled)]
        if conv.status == DONE:
            return [self.escalating.sent_to(conn, self.presenter.outcome(conv, actor, compiled))]
        if conv.status == SET_ASIDE:
            _ = interface(actor.language)
            text = _('Your check "{title}" is set aside: type resume to carry on with it.')
            return [Notice(text.format(title=self.presenter.title(compiled, actor)))]
        return [Notice(N_("That conversation was stopped. Describe a situation to start a new one."))]

    def _compiled(self, conn: Connection, conv: Conversation) -> CompiledFlow:
        """The machine for the conversation's own flow version, even if the file has changed since."""
        try:
            return self.library.compiled_version(conv.flow_id, conv.flow_version, None)
        except UnknownFlow:
            source = self.store.flow_source(conn, conv.flow_version)
            return self.library.compiled_version(conv.flow_id, conv.flow_version, source)


def _result_of(replies: list[Reply]) -> str:
    """How a turn ended, for the metrics: a refusal shows as the kind of its first notice."""
    first = replies[0] if replies else None
    if isinstance(first, Notice) and first.kind in (NoticeKind.STALE, NoticeKind.DUPLICATE, NoticeKind.INVALID):
        return first.kind.value
    return "applied"

