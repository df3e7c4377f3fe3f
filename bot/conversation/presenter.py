"""The presenter: a conversation's state turned into reply views (questions, outcomes, citations).

The engine decides where a conversation goes; the presenter decides what that looks like in
transport-neutral terms, so every adapter shows the same words. It renders templates with the
person's context and never touches the database.
"""

from __future__ import annotations

from dataclasses import replace
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
from bot.language.flow_model import State
from bot.language.i18n.catalog import N_, in_words, interface
from bot.language.i18n.languages import ENGLISH
from bot.language.templates import TemplateProblem, is_plain, render_for_employee
from bot.store.records import Answer, Conversation

MENU_PROMPT = N_("Which of these is closest to your situation?")
MENU_TITLE = N_("What's the situation?")


class ShownAnswer(str):
    """An answer as templates see it in another language: compared as the English it was chosen
    as (so ``answers.where.startswith("On someone else")`` works in every language, and a
    translator copies conditions unchanged), shown as the option's words in the reader's language."""

    shown: str

    def __new__(cls, english: str, shown: str) -> ShownAnswer:
        made = super().__new__(cls, english)
        made.shown = shown
        return made

    def __str__(self) -> str:
        return self.shown


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
        return FlowChoice(MENU_TITLE, [FlowCandidate(f.id, f.title, 0.0) for f in self.library.all()])

    def question(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> Question:
        state = compiled.state(conv.state)
        step = len(conv.answers) + 1
        base = f"states.{state.name}"
        return Question(
            conversation_id=conv.id,
            flow_id=conv.flow_id,
            flow_title=self.title(compiled, actor),
            state=state.name,
            text=self.said(f"{base}.ask", state.ask or "", conv, actor, compiled),
            intro=self.said(f"{base}.intro", state.intro, conv, actor, compiled) if state.intro else None,
            options=[
                OptionView(i, self.said(f"{base}.options.{i}.label", o.label, conv, actor, compiled))
                for i, o in enumerate(state.options)
            ],
            step=step,
            max_steps=step - 1 + compiled.questions_ahead(state.name),
            turn=conv.version,
            can_go_back=bool(conv.answers),
            citations=self.citations(state.cite or compiled.flow.cite, actor.language),
            language=actor.language or ENGLISH,
        )

    def title(self, compiled: CompiledFlow, actor: Actor) -> str:
        flow = compiled.flow
        return flow.text_in("title", flow.title, actor.language)

    def said(self, path: str, english: str, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> str:
        """The text at ``path`` as the person reads it: in their language when a current
        translation exists (a broken one falls back to the English), filled in with their context."""
        translated = compiled.flow.text_in(path, english, actor.language)
        if translated is english:
            return self.text(english, conv, actor, compiled)
        try:
            return self.text(translated, conv, actor, compiled)
        except TemplateProblem:  # validate reports it; the person still gets the advice, in English
            return self.text(english, conv, actor, compiled)

    def english(self, source: str, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> str:
        """A text as it reads in English: what a conversation stores as the answer chosen."""
        if actor.language in (None, ENGLISH) or is_plain(source):  # plain: English as it stands
            return self.text(source, conv, actor, compiled)
        return self.text(source, conv, replace(actor, language=ENGLISH), compiled)

    def answer_view(self, answer: Answer, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> AnswerView:
        """A stored answer (English) as the person, or a recipient, reads it."""
        if actor.language in (None, ENGLISH) or answer.state not in compiled.flow.states:
            return AnswerView(answer.state, answer.question, answer.label)
        state = compiled.flow.states[answer.state]
        base = f"states.{state.name}"
        question = self.said(f"{base}.ask", state.ask or "", conv, actor, compiled) if state.ask else answer.question
        return AnswerView(answer.state, question, self._label_in(state, answer.label, conv, actor, compiled))

    def _label_in(self, state: State, english: str, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> str:
        for index, option in enumerate(state.options):
            same = option.label.strip() == english
            if not same and not is_plain(option.label):  # a label that is a template: compare it filled in
                same = self.english(option.label, conv, actor, compiled) == english
            if same:
                return self.said(f"states.{state.name}.options.{index}.label", option.label, conv, actor, compiled)
        return english

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
                target_names={t: settings.target_name(t, actor.language) for t in state.escalate.all_targets},
                deadline=in_words(wait.describe(), actor.language) if wait else None,
                recipients=self.recipients(actor, state.escalate.to),
            )
        correct, total = compiled.score(conv.answers)
        base = f"states.{state.name}"
        return Outcome(
            conversation_id=conv.id,
            flow_id=conv.flow_id,
            flow_title=self.title(compiled, actor),
            state=state.name,
            verdict=state.verdict,
            text=self.said(f"{base}.say", state.say, conv, actor, compiled),
            checklist=self.checklist(state, conv, actor, compiled),
            citations=self.citations(state.cites_for(self.context(conv, actor, compiled)), actor.language),
            answers=[self.answer_view(a, conv, actor, compiled) for a in conv.answers],
            escalation=offer,
            score=Score(correct, total) if total else None,
            case_id=conv.case_id,
            language=actor.language or ENGLISH,
        )

    def summary(self, conv: Conversation, actor: Actor, compiled: CompiledFlow, note: str | None) -> str:
        """What a case's recipients read: the flow's own summary template, or the default one."""
        state = compiled.state(conv.state)
        assert state.escalate is not None and state.verdict is not None
        if state.escalate.summary:
            path = f"states.{state.name}.escalate.summary"
            text = self.said(path, state.escalate.summary, conv, actor, compiled)
            _ = interface(actor.language)
            return f"{text}\n{_('Their note:')} {note}" if note else text
        user = self.people.describe(actor)
        answers = tuple(self.answer_view(a, conv, actor, compiled) for a in conv.answers)
        return default_summary(
            str(user.get("name") or actor.user_id),
            self.title(compiled, actor),
            state.verdict,
            answers,
            tuple(self.citations(state.cites_for(self.context(conv, actor, compiled)), actor.language)),
            note,
            actor.language,
        )

    def recipients(self, actor: Actor, targets: tuple[str, ...]) -> list[str]:
        """Who an escalation to ``targets`` reaches first, by name, before anything is sent: the
        case service's own routing (a line manager missing from the directory means the comms
        team), or with no case service (scenario tests) the person's manager by name where the
        directory knows one and the targets' names from the settings otherwise."""
        if self.cases is not None:
            return [self.name_in(name, actor.language) for name in self.cases.recipients_for(actor, targets)]
        settings = self.library.settings
        manager = self.people.describe(actor).get("manager_name") if "line_manager" in targets else None
        names = [
            str(manager) if t == "line_manager" and manager else settings.target_name(t, actor.language)
            for t in targets
        ]
        return list(dict.fromkeys(names))

    def name_in(self, name: str, language: str | None) -> str:
        """A recipient's name in ``language``: a team's name is translated (the settings' own
        translation, else the catalogue's); a person's name stays as it is."""
        if language in (None, ENGLISH):
            return name
        settings = self.library.settings
        for target in settings.targets:
            if settings.target_name(target) == name:
                return settings.target_name(target, language)
        return name

    def citations(self, ids: tuple[str, ...], language: str | None = None) -> list[CitationView]:
        """The cited paragraphs. In another language the summary is translated where the registry
        has it, while the quote stays in the language the policy is written in (``source_language``)."""
        views = []
        for cid in ids:
            if cid in self.registry:
                c = self.registry.get(cid)
                label = readable_clause(c.clause, language)
                summary = c.summary_in(language)
                views.append(CitationView(c.id, c.policy.title, c.clause, summary, c.quote, label, c.policy.language))
        return views

    def context(self, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> dict[str, Any]:
        """What templates see: the organisation, the person, the answers so far, the quiz score."""
        correct, total = compiled.score(conv.answers)
        escalate = compiled.state(conv.state).escalate
        language = actor.language
        if language in (None, ENGLISH):
            answers: dict[str, str] = {a.state: a.label for a in conv.answers}
        else:
            answers = {a.state: ShownAnswer(a.label, self._shown_label(a, compiled, language)) for a in conv.answers}
        return {
            "org": self.library.settings.template_org(language),
            "user": self.people.describe(actor),
            "answers": answers,
            "score": correct,
            "score_total": total,
            "escalation": escalation_context(self.recipients(actor, escalate.to) if escalate else [], language),
        }

    def _shown_label(self, answer: Answer, compiled: CompiledFlow, language: str) -> str:
        """The chosen option's words in ``language`` (plain labels only: a label that is itself a
        template is shown as chosen)."""
        state = compiled.flow.states.get(answer.state)
        if state is None:
            return answer.label
        for index, option in enumerate(state.options):
            if option.label.strip() == answer.label and is_plain(option.label):
                path = f"states.{state.name}.options.{index}.label"
                return compiled.flow.text_in(path, option.label, language).strip()
        return answer.label

    def checklist(self, state: State, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> list[str]:
        """The steps as shown. An item whose ``{% if %}`` leaves nothing is dropped, so an outcome
        that gathers conditions from several answers lists only the ones that apply."""
        base = f"states.{state.name}.checklist"
        rendered = (self.said(f"{base}.{i}", item, conv, actor, compiled) for i, item in enumerate(state.checklist))
        return [item for item in rendered if item]

    def text(self, source: str, conv: Conversation, actor: Actor, compiled: CompiledFlow) -> str:
        if is_plain(source):  # most labels and questions: no context to build, nothing to render
            return source.strip()
        # a text past the template limits becomes a polite apology and a log line for comms
        where = f"{compiled.flow.id}@{compiled.flow.version}:{conv.state}"
        return render_for_employee(source, self.context(conv, actor, compiled), where, actor.language)

    def owner_name(self, conv: Conversation) -> str | None:
        """The name of the person a conversation belongs to, when the directory knows it."""
        described = self.people.describe(Actor(user_id=conv.user_id, platform=conv.platform))
        name = str(described.get("name") or "")
        return name if name and name != conv.user_id else None
