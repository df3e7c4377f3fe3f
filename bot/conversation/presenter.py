"""The presenter: a conversation's state turned into reply views (questions, outcomes, citations).

The engine decides where a conversation goes; the presenter decides what that looks like in
transport-neutral terms, so every adapter shows the same words. It renders templates with the
person's context and never touches the database.
"""

from __future__ import annotations

from typing import Any

from bot.conversation.escalation import CaseOpener, PeopleDirectory, default_summary, escalation_context
from bot.conversation.events import Actor
from bot.conversation.library import FlowLibrary
from bot.conversation.machine import CompiledFlow
from bot.conversation.replies import (
    AnswerView,
    CitationView,
    EscalationOffer,
    FlowCandidate,
    FlowChoice,
    OptionView,
    Outcome,
    Question,
    Score,
)
from bot.language.citations import Registry, readable_clause
from bot.language.templates import is_plain, render_for_employee
from bot.store.records import Conversation

MENU_PROMPT = "Which of these is closest to your situation?"



class Presenter:
    """Builds replies for one flow library and staff directory. Safe to share between threads."""

    def __init__(self, library: FlowLibrary, people: PeopleDirectory, cases: CaseOpener | None = None) -> None:
        self.library = library
        self.people = people
        self.cases = cases

    @property
    def registry(self) -> Registry:
        return self.library.registry

    def menu(self) -> FlowChoice:
        """Every flow, for a person who has not said what the situation is."""
        return FlowChoice("What's the situation?", [FlowCandidate(f.id, f.title, 0.0) for f in self.library.all()])

    def question(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> Question:
        state = compiled.state(conv.state)
        step = len(conv.answers) + 1
        return Question(
            conversation_id=conv.id,
            flow_id=conv.flow_id,
            flow_title=compiled.flow.title,
            state=state.name,
            text=self.text(state.ask or "", conv, actor, compiled),
            intro=self.text(state.intro, conv, actor, compiled) if state.intro else None,
            options=[OptionView(i, self.text(o.label, conv, actor, compiled)) for i, o in enumerate(state.options)],
            step=step,
            max_steps=step - 1 + compiled.questions_ahead(state.name),
            turn=conv.version,
            can_go_back=bool(conv.answers),
            citations=self.citations(state.cite or compiled.flow.cite),
        )

    def outcome(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> Outcome:
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
                preview=self.summary(conv, actor, compiled, None),
                target_names={t: settings.target_name(t) for t in state.escalate.all_targets},
                deadline=wait.describe() if wait else None,
                recipients=self.recipients(actor, state.escalate.to),
            )
        correct, total = compiled.score(conv.answers)
        return Outcome(
            conversation_id=conv.id,
            flow_id=conv.flow_id,
            flow_title=compiled.flow.title,
            state=state.name,
            verdict=state.verdict,
            text=self.text(state.say, conv, actor, compiled),
            checklist=self.checklist(state.checklist, conv, actor, compiled),
            citations=self.citations(state.cites_for(self.context(conv, actor, compiled))),
            answers=[AnswerView(a.state, a.question, a.label) for a in conv.answers],
            escalation=offer,
            score=Score(correct, total) if total else None,
            case_id=conv.case_id,
        )

    def summary(self, conv: Conversation, actor: Actor, compiled: CompiledFlow, note: str | None) -> str:
        """What a case's recipients read: the flow's own summary template, or the default one."""
        state = compiled.state(conv.state)
        assert state.escalate is not None and state.verdict is not None
        if state.escalate.summary:
            text = self.text(state.escalate.summary, conv, actor, compiled)
            return f"{text}\nTheir note: {note}" if note else text
        user = self.people.describe(actor)
        answers = tuple(AnswerView(a.state, a.question, a.label) for a in conv.answers)
        return default_summary(
            str(user.get("name") or actor.user_id),
            compiled.flow.title,
            state.verdict,
            answers,
            tuple(self.citations(state.cites_for(self.context(conv, actor, compiled)))),
            note,
        )

    def recipients(self, actor: Actor, targets: tuple[str, ...]) -> list[str]:
        """Who an escalation to ``targets`` reaches first, by name, before anything is sent: the
        case service's own routing (a line manager missing from the directory means the comms
        team), or with no case service (scenario tests) the person's manager by name where the
        directory knows one and the targets' names from the settings otherwise."""
        if self.cases is not None:
            return self.cases.recipients_for(actor, targets)
        settings = self.library.settings
        manager = self.people.describe(actor).get("manager_name") if "line_manager" in targets else None
        names = [str(manager) if t == "line_manager" and manager else settings.target_name(t) for t in targets]
        return list(dict.fromkeys(names))

    def citations(self, ids: tuple[str, ...]) -> list[CitationView]:
        views = []
        for cid in ids:
            if cid in self.registry:
                c = self.registry.get(cid)
                label = readable_clause(c.clause)
                views.append(CitationView(c.id, c.policy.title, c.clause, c.summary, c.quote, label))
        return views

    def context(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> dict[str, Any]:
        """What templates see: the organisation, the person, the answers so far, the quiz score."""
        correct, total = compiled.score(conv.answers)
        escalate = compiled.state(conv.state).escalate
        return {
            "org": self.library.settings.template_org(),
            "user": self.people.describe(actor),
            "answers": {a.state: a.label for a in conv.answers},
            "score": correct,
            "score_total": total,
            "escalation": escalation_context(self.recipients(actor, escalate.to) if escalate else []),
        }

    def checklist(self, items: tuple[str, ...], conv: Conversation, actor: Actor, compiled: CompiledFlow) -> list[str]:
        """The steps as shown. An item whose ``{% if %}`` leaves nothing is dropped, so an outcome
        that gathers conditions from several answers lists only the ones that apply."""
        rendered = (self.text(item, conv, actor, compiled) for item in items)
        return [item for item in rendered if item]

    def text(self, source: str, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> str:
        if is_plain(source):  # most labels and questions: no context to build, nothing to render
            return source.strip()
        # a text past the template limits becomes a polite apology and a log line for comms
        where = f"{compiled.flow.id}@{compiled.flow.version}:{conv.state}"
        return render_for_employee(source, self.context(conv, actor, compiled), where)

    def owner_name(self, conv: Conversation) -> str | None:
        """The name of the person a conversation belongs to, when the directory knows it."""
        described = self.people.describe(Actor(user_id=conv.user_id, platform=conv.platform))
        name = str(described.get("name") or "")
        return name if name and name != conv.user_id else None
