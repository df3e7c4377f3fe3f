"""The engine: one event in, replies out, one transaction per turn.

Every turn loads the conversation row, steps the shared compiled machine for the conversation's
own flow version, renders what to say, and saves the row (with its audit line, and any case it
opens) in one transaction. Nothing here knows which chat platform the event came from.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import Connection

from bot.clock import Clock, SystemClock
from bot.conversation.escalation import CaseDraft, CaseOpener, NoDirectory, PeopleDirectory, default_summary
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
from bot.conversation.library import FlowLibrary
from bot.conversation.machine import CompiledFlow
from bot.conversation.replies import (
    AnswerView,
    CitationView,
    EscalationOffer,
    EscalationSent,
    Explanation,
    Feedback,
    FlowCandidate,
    FlowChoice,
    Notice,
    NoticeKind,
    OptionView,
    Outcome,
    Question,
    Reply,
    Score,
)
from bot.conversation.router import SHOW_AT_LEAST, confident_choice, route
from bot.errors import PolicybotError, StaleConversation, UnknownFlow
from bot.language.citations import Registry
from bot.language.flow_model import OUTCOME, QUESTION, Flow, State
from bot.language.templates import is_plain, render
from bot.store import Store
from bot.store.records import ABANDONED, ACTIVE, DONE, Answer, Conversation
from bot.telemetry import metrics

# Words typed at any step that act as commands rather than answers.
COMMAND_WORDS: dict[str, str] = {
    "back": "back",
    "undo": "back",
    "previous": "back",
    "restart": "restart",
    "start again": "restart",
    "start over": "restart",
    "why": "why",
    "why?": "why",
    "quit": "cancel",
    "cancel": "cancel",
    "stop": "cancel",
    "exit": "cancel",
}
FUZZY_MATCH = 80  # rapidfuzz WRatio a typed answer needs to count as an option ("counsil acount")
FUZZY_MARGIN = 10  # ...and how far ahead of the next option it must be, so a vague answer is asked again
NEW_SITUATION_WORDS = 4  # typed text this long that is no option and clearly names a flow starts that flow
NOTE_LIMIT = 500  # characters kept from an employee's note on an escalation
MENU_PROMPT = "Which of these is closest to your situation?"


@dataclass(frozen=True)
class Unfinished:
    """A conversation the person left part-way, for "carry on where you left off?"."""

    conversation_id: str
    flow_id: str
    flow_title: str
    question: str
    answered: int


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
        self._org = library.settings.template_org()  # read-only in the sandbox, so one copy serves every turn

    @property
    def registry(self) -> Registry:
        return self.library.registry

    # -- the one entry point ---------------------------------------------------------------
    def handle(self, actor: Actor, event: Event, *, delivery_id: str | None = None) -> list[Reply]:
        """Apply one event for one person and return what to say.

        ``delivery_id`` is the platform's id for this delivery (a Slack retry, a Teams activity
        id): a repeat is recognised and applied once. A conversation changed by a concurrent
        action is not merged: the person gets a notice and the current question.
        """
        started = time.perf_counter()
        result = "error"
        try:
            replies = self._handle(actor, event, delivery_id)
            result = _result_of(replies)
            return replies
        finally:
            metrics.observe_turn(actor.platform, time.perf_counter() - started, result)

    def _handle(self, actor: Actor, event: Event, delivery_id: str | None) -> list[Reply]:
        try:
            with self.store.transaction() as conn:
                if delivery_id and not self.store.claim_delivery(
                    conn, f"{actor.platform}:{delivery_id}", self.clock.now()
                ):
                    return [Notice("That was already done.", NoticeKind.DUPLICATE)]
                return self._dispatch(conn, actor, event)
        except StaleConversation:
            conversation_id = getattr(event, "conversation_id", None)
            with self.store.transaction() as conn:
                notice = Notice(
                    "Someone (or another window) answered this at the same moment, so your click "
                    "was not applied. Here is where the conversation is now.",
                    NoticeKind.STALE,
                )
                return [notice, *self._current(conn, actor, conversation_id)]

    def unfinished(self, actor: Actor) -> Unfinished | None:
        """The person's conversation still waiting for an answer, if any."""
        with self.store.transaction() as conn:
            conv = self.store.active_conversation(conn, actor.user_id)
            if conv is None:
                return None
            try:
                compiled = self._compiled(conn, conv)
            except PolicybotError:
                return None
            state = compiled.state(conv.state)
            question = self._text(state.ask or "", conv, actor, compiled) if state.kind == QUESTION else ""
            return Unfinished(conv.id, conv.flow_id, compiled.flow.title, question, len(conv.answers))

    def resume(self, actor: Actor, conversation_id: str) -> list[Reply]:
        """Show the current question of a conversation again."""
        with self.store.transaction() as conn:
            return self._current(conn, actor, conversation_id)

    def menu(self) -> FlowChoice:
        """Every flow, for a person who has not said what the situation is."""
        return FlowChoice("What's the situation?", [FlowCandidate(f.id, f.title, 0.0) for f in self.library.all()])

    # -- dispatch ------------------------------------------------------------------------------
    def _dispatch(self, conn: Connection, actor: Actor, event: Event) -> list[Reply]:
        if isinstance(event, Start):
            return self._start(conn, actor, event)
        if isinstance(event, FreeText):
            return self._free_text(conn, actor, event)
        conv = self._owned(conn, actor, event.conversation_id)
        if conv is None:
            return [
                Notice(
                    "That conversation has ended or is not yours. Say what the situation is to start again.",
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
            return self._confirm_escalation(conn, actor, conv, event.note)
        if isinstance(event, DeclineEscalation):
            return self._decline_escalation(conn, conv)
        raise PolicybotError(f"unknown event {event!r}")

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
            try:
                flow = self.library.get(event.flow_id)
            except UnknownFlow as err:
                return [Notice(str(err), NoticeKind.INVALID), self.menu()]
            return self._begin(conn, actor, flow)
        text = (event.text or "").strip()
        if not text:
            return [self.menu()]
        matches = route(text, self.library.all())
        chosen = confident_choice(matches)
        if chosen is not None:
            return self._begin(conn, actor, chosen)
        likely = [m for m in matches if m.score >= SHOW_AT_LEAST][:5]
        if not likely:
            return [
                Notice("I couldn't match that to a situation I know. Pick the closest one:", NoticeKind.INFO),
                self.menu(),
            ]
        return [FlowChoice(MENU_PROMPT, [FlowCandidate(m.flow.id, m.flow.title, m.score) for m in likely])]

    def _begin(self, conn: Connection, actor: Actor, flow: Flow) -> list[Reply]:
        now = self.clock.now()
        # One conversation at a time: the old one counts as abandoned where it stood.
        self._abandon_active(conn, actor, now, "a new conversation was started")
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
        conv = replace(conv, state=compiled.settle(flow.start, self._context(conv, actor, compiled)))
        self.store.record(conn, conv, "start", now)
        return self._arrive(conn, actor, conv, compiled, new=True)

    # -- answering -------------------------------------------------------------------------------
    def _choose(self, conn: Connection, actor: Actor, conv: Conversation, event: Choose) -> list[Reply]:
        if conv.status != ACTIVE or conv.state != event.state or conv.version != event.turn:
            return [
                Notice(
                    "That button belongs to an earlier question, so I ignored it. Here is where we are now.",
                    NoticeKind.STALE,
                ),
                *self._current(conn, actor, conv.id),
            ]
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        if state.kind != QUESTION or not 0 <= event.option < len(state.options):
            return [
                Notice("That is not one of the options for this question.", NoticeKind.INVALID),
                *self._current(conn, actor, conv.id),
            ]
        return self._answer(conn, actor, conv, compiled, state, event.option)

    def _free_text(self, conn: Connection, actor: Actor, event: FreeText) -> list[Reply]:
        text = event.text.strip()
        conv = self._owned(conn, actor, event.conversation_id) if event.conversation_id else None
        if conv is None and event.conversation_id is None:
            conv = self.store.active_conversation(conn, actor.user_id)
        command = COMMAND_WORDS.get(text.lower())
        answering = conv is not None and conv.status == ACTIVE
        if command is not None and answering and conv is not None and self._is_label(conn, conv, actor, text):
            command = None  # an option called "Stop" or "Back" is an answer, not a command
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
        index = self._match_option(state, text, conv, actor, compiled)
        if index is None and len(text.split()) >= NEW_SITUATION_WORDS:
            other = confident_choice(route(text, self.library.all()))
            if other is not None:  # not an answer but a new situation: start it; the old check is left
                return [
                    Notice(
                        f'That sounds like a new situation, so here is "{other.title}". '
                        "The check you were doing has been set aside.",
                        NoticeKind.INFO,
                    ),
                    *self._begin(conn, actor, other),
                ]
        if index is None:
            labels = ", ".join(f"{i + 1}" for i in range(len(state.options)))
            return [
                Notice(
                    f"Please answer with one of the options ({labels}) or its words. "
                    "You can also type back, restart, why or quit.",
                    NoticeKind.INVALID,
                ),
                *self._current(conn, actor, conv.id),
            ]
        return self._answer(conn, actor, conv, compiled, state, index)

    def _is_label(self, conn: Connection, conv: Conversation, actor: Actor, text: str) -> bool:
        """Whether ``text`` is exactly one of the current question's option labels."""
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        return any(self._text(o.label, conv, actor, compiled).casefold() == text.casefold() for o in state.options)

    def _match_option(
        self, state: State, text: str, conv: Conversation, actor: Actor, compiled: CompiledFlow
    ) -> int | None:
        """An option number, the option's words, or a close enough spelling of them."""
        if text.isascii() and text.isdigit():
            number = int(text)
            return number - 1 if 1 <= number <= len(state.options) else None
        labels = [self._text(o.label, conv, actor, compiled) for o in state.options]
        folded = [label.casefold() for label in labels]
        if text.casefold() in folded:
            return folded.index(text.casefold())
        best = process.extract(text, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=2)
        if best and best[0][1] >= FUZZY_MATCH and (len(best) == 1 or best[0][1] - best[1][1] >= FUZZY_MARGIN):
            return int(best[0][2])
        return None

    def _answer(
        self, conn: Connection, actor: Actor, conv: Conversation, compiled: CompiledFlow, state: State, index: int
    ) -> list[Reply]:
        now = self.clock.now()
        option = state.options[index]
        answer = Answer(
            state=state.name,
            option=index,
            label=self._text(option.label, conv, actor, compiled),
            question=self._text(state.ask or "", conv, actor, compiled),
        )
        answered = conv.moved(answers=(*conv.answers, answer), updated_at=now)
        conv = replace(
            answered,
            state=compiled.settle(compiled.choose(state.name, index), self._context(answered, actor, compiled)),
        )
        replies: list[Reply] = []
        if option.feedback:
            replies.append(Feedback(self._text(option.feedback, conv, actor, compiled), option.correct))
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
            outcome = self._outcome(conv, actor, compiled)
            if state.escalate is not None and state.escalate.required and self.cases is not None:
                case_id = self.cases.open_case(conn, self._draft(conv, actor, compiled, note=None))
                conv = replace(conv, case_id=case_id)
                outcome = replace(outcome, case_id=case_id, sent_to=self.cases.first_recipients(conn, case_id))
            replies = [outcome]
        else:
            replies = [self._question(conv, actor, compiled)]
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
                Notice("This is the first question, so there is nothing to go back to.", NoticeKind.INFO),
                *self._current(conn, actor, conv.id),
            ]
        if conv.case_id is not None:
            return [
                Notice(
                    "An escalation has already been sent from this answer, so it can't be changed. "
                    "Start a new check if the situation has changed.",
                    NoticeKind.INFO,
                )
            ]
        last = conv.answers[-1]
        now = self.clock.now()
        self._abandon_other_active(conn, actor, conv, now)
        conv = conv.moved(state=last.state, answers=conv.answers[:-1], status=ACTIVE, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "back", now, last.label)
        return [self._question(conv, actor, compiled)]

    def _restart(self, conn: Connection, actor: Actor, conv: Conversation) -> list[Reply]:
        compiled = self._compiled(conn, conv)
        now = self.clock.now()
        if conv.case_id is not None:
            return self._begin(conn, actor, self.library.get(conv.flow_id))
        self._abandon_other_active(conn, actor, conv, now)
        fresh = conv.moved(answers=(), status=ACTIVE, updated_at=now)
        fresh = replace(fresh, state=compiled.settle(compiled.flow.start, self._context(fresh, actor, compiled)))
        self.store.record(conn, fresh, "restart", now)
        return self._arrive(conn, actor, fresh, compiled)

    def _abandon_other_active(self, conn: Connection, actor: Actor, conv: Conversation, now: datetime) -> None:
        """Back or restart on a finished conversation makes it active again: one at a time, so the
        person's other active conversation (if any) counts as abandoned where it stood, as in _begin."""
        if conv.status != ACTIVE:
            self._abandon_active(conn, actor, now, "an earlier conversation was taken up again")

    def _abandon_active(self, conn: Connection, actor: Actor, now: datetime, why: str) -> None:
        other = self.store.active_conversation(conn, actor.user_id)
        if other is not None:
            other = other.moved(status=ABANDONED, updated_at=now)
            self.store.save_conversation(conn, other)
            self.store.record(conn, other, "abandoned", now, why)

    def _why(self, conn: Connection, actor: Actor, conv: Conversation) -> Explanation:
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        return Explanation(conv.id, self._citations(state.cite or compiled.flow.cite))

    def _cancel(self, conn: Connection, conv: Conversation) -> list[Reply]:
        if conv.status != ACTIVE:
            return [Notice("That conversation has already finished.", NoticeKind.INFO)]
        now = self.clock.now()
        conv = conv.moved(status=ABANDONED, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "cancel", now)
        return [Notice("Stopped. Nothing was sent to anyone. Describe a situation any time to start again.")]

    def _current(self, conn: Connection, actor: Actor, conversation_id: str | None) -> list[Reply]:
        conv = self._owned(conn, actor, conversation_id)
        if conv is None:
            return [self.menu()]
        compiled = self._compiled(conn, conv)
        if conv.status == ACTIVE:
            return [self._question(conv, actor, compiled)]
        if conv.status == DONE:
            outcome = self._outcome(conv, actor, compiled)
            if conv.case_id is not None and self.cases is not None:
                outcome = replace(outcome, sent_to=self.cases.first_recipients(conn, conv.case_id))
            return [outcome]
        return [Notice("That conversation was stopped. Describe a situation to start a new one.")]

    # -- escalation ----------------------------------------------------------------------------------
    def _confirm_escalation(self, conn: Connection, actor: Actor, conv: Conversation, note: str | None) -> list[Reply]:
        compiled = self._compiled(conn, conv)
        state = compiled.state(conv.state)
        if conv.status != DONE or state.escalate is None:
            return [Notice("There is nothing to send from this conversation.", NoticeKind.INVALID)]
        if conv.case_id is not None:
            return [Notice("This has already been sent.", NoticeKind.DUPLICATE)]
        if self.cases is None:
            names = ", ".join(self.library.settings.target_name(t) for t in state.escalate.to)
            return [
                Notice(
                    f"Escalations are not switched on in this installation. Please contact {names} "
                    "yourself, and show them this advice.",
                    NoticeKind.ERROR,
                )
            ]
        now = self.clock.now()
        clean_note = (note or "").strip()[:NOTE_LIMIT] or None
        case_id = self.cases.open_case(conn, self._draft(conv, actor, compiled, note=clean_note))
        conv = conv.moved(case_id=case_id, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "escalate", now, ",".join(state.escalate.to))
        names = ", ".join(self.cases.first_recipients(conn, case_id)) or ", ".join(
            self.library.settings.target_name(t) for t in state.escalate.to
        )
        return [EscalationSent(conv.id, case_id, f"Sent to {names}. You will be told when they pick it up.")]

    def _decline_escalation(self, conn: Connection, conv: Conversation) -> list[Reply]:
        now = self.clock.now()
        self.store.record(conn, conv, "escalation_declined", now)
        return [Notice("Nothing was sent. If you change your mind, type restart to go through it again.")]

    def _draft(self, conv: Conversation, actor: Actor, compiled: CompiledFlow, note: str | None) -> CaseDraft:
        state = compiled.state(conv.state)
        assert state.escalate is not None and state.verdict is not None
        outcome = self._outcome(conv, actor, compiled)
        answers = tuple(outcome.answers)
        citations = tuple(outcome.citations)
        summary = self._summary(conv, actor, compiled, note)
        return CaseDraft(
            conversation_id=conv.id,
            employee=actor,
            flow_id=conv.flow_id,
            flow_version=conv.flow_version,
            flow_title=compiled.flow.title,
            outcome_state=state.name,
            verdict=state.verdict,
            advice=outcome.text,
            answers=answers,
            citations=citations,
            targets=state.escalate.to,
            then=state.escalate.then,
            deadline=state.escalate.unacknowledged_after,
            urgency=state.escalate.urgency,
            summary=summary,
            note=note,
        )

    def _summary(self, conv: Conversation, actor: Actor, compiled: CompiledFlow, note: str | None) -> str:
        state = compiled.state(conv.state)
        assert state.escalate is not None and state.verdict is not None
        user = self.people.describe(actor)
        if state.escalate.summary:
            text = self._text(state.escalate.summary, conv, actor, compiled)
            return f"{text}\nTheir note: {note}" if note else text
        answers = tuple(AnswerView(a.state, a.question, a.label) for a in conv.answers)
        return default_summary(
            str(user.get("name") or actor.user_id),
            compiled.flow.title,
            state.verdict,
            answers,
            tuple(self._citations(state.cite)),
            note,
        )

    # -- rendering -------------------------------------------------------------------------------------
    def _question(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> Question:
        state = compiled.state(conv.state)
        step = len(conv.answers) + 1
        return Question(
            conversation_id=conv.id,
            flow_id=conv.flow_id,
            flow_title=compiled.flow.title,
            state=state.name,
            text=self._text(state.ask or "", conv, actor, compiled),
            intro=self._text(state.intro, conv, actor, compiled) if state.intro else None,
            options=[OptionView(i, self._text(o.label, conv, actor, compiled)) for i, o in enumerate(state.options)],
            step=step,
            max_steps=step - 1 + compiled.questions_ahead(state.name),
            turn=conv.version,
            can_go_back=bool(conv.answers),
            citations=self._citations(state.cite or compiled.flow.cite),
        )

    def _outcome(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> Outcome:
        state = compiled.state(conv.state)
        assert state.verdict is not None and state.say is not None
        offer = None
        if state.escalate is not None:
            settings = self.library.settings
            wait = state.escalate.unacknowledged_after
            offer = EscalationOffer(
                targets=list(state.escalate.to),
                then=list(state.escalate.then),
                unacknowledged_after_seconds=wait.seconds if wait else None,
                required=state.escalate.required,
                preview=self._summary(conv, actor, compiled, None),
                target_names={t: settings.target_name(t) for t in state.escalate.all_targets},
                deadline=wait.describe() if wait else None,
            )
        score = _score(conv, compiled)
        return Outcome(
            conversation_id=conv.id,
            flow_id=conv.flow_id,
            flow_title=compiled.flow.title,
            state=state.name,
            verdict=state.verdict,
            text=self._text(state.say, conv, actor, compiled),
            checklist=[self._text(item, conv, actor, compiled) for item in state.checklist],
            citations=self._citations(state.cite),
            answers=[AnswerView(a.state, a.question, a.label) for a in conv.answers],
            escalation=offer,
            score=score,
            case_id=conv.case_id,
        )

    def _citations(self, ids: tuple[str, ...]) -> list[CitationView]:
        views = []
        for cid in ids:
            if cid in self.registry:
                c = self.registry.get(cid)
                views.append(CitationView(c.id, c.policy.title, c.clause, c.summary, c.quote))
        return views

    def _context(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> dict[str, Any]:
        """What templates see: the organisation, the person, the answers so far, the quiz score."""
        correct, total = compiled.score(conv.answers)
        return {
            "org": self.library.settings.template_org(),
            "user": self.people.describe(actor),
            "answers": {a.state: a.label for a in conv.answers},
            "score": correct,
            "score_total": total,
        }

    def _text(self, source: str, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> str:
        if is_plain(source):  # most labels and questions: no context to build, nothing to render
            return source.strip()
        return render(source, self._context(conv, actor, compiled))

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


def _score(conv: Conversation, compiled: CompiledFlow) -> Score | None:
    correct, total = compiled.score(conv.answers)
    return Score(correct, total) if total else None
