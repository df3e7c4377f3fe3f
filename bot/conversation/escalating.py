"""Escalating from an outcome: opening the case an outcome requires, or the one the person confirms.

The engine decides when (an outcome was reached, the person pressed Send); this module drafts the
case, hands it to the case opener (bot.cases, through the CaseOpener port) in the turn's own
transaction, and says who it went to.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from bot.clock import Clock
from bot.conversation.case_draft import clean_note, draft_case
from bot.conversation.escalation import CaseOpener
from bot.conversation.events import Actor
from bot.conversation.machine import CompiledFlow
from bot.conversation.presenter import Presenter
from bot.conversation.replies import EscalationSent, Notice, NoticeKind, Outcome, Reply
from bot.language.i18n.catalog import N_, interface
from bot.store import Store
from bot.store.records import DONE, Conversation


class Escalating:
    def __init__(self, store: Store, presenter: Presenter, clock: Clock, cases: CaseOpener | None) -> None:
        self.store = store
        self.presenter = presenter
        self.clock = clock
        self.cases = cases

    def open_required(
        self, conn: Connection, actor: Actor, conv: Conversation, compiled: CompiledFlow, outcome: Outcome
    ) -> tuple[Conversation, Outcome]:
        """An outcome whose escalation is required opens its case at once, without asking."""
        state = compiled.state(conv.state)
        if state.escalate is None or not state.escalate.required or self.cases is None:
            return conv, outcome
        case_id = self.cases.open_case(conn, draft_case(self.presenter, conv, actor, compiled, None))
        conv = replace(conv, case_id=case_id)
        return conv, replace(outcome, case_id=case_id, sent_to=self.cases.first_recipients(conn, case_id))

    def sent_to(self, conn: Connection, outcome: Outcome) -> Outcome:
        """An outcome shown again says where its case went."""
        if outcome.case_id is None or self.cases is None:
            return outcome
        return replace(outcome, sent_to=self.cases.first_recipients(conn, outcome.case_id))

    def confirm(
        self, conn: Connection, actor: Actor, conv: Conversation, compiled: CompiledFlow, note: str | None
    ) -> list[Reply]:
        """The person pressed Send (with or without a note): open the case, once."""
        state = compiled.state(conv.state)
        if conv.status != DONE or state.escalate is None:
            return [Notice(N_("There is nothing to send from this conversation."), NoticeKind.INVALID)]
        if conv.case_id is not None:
            return [Notice(N_("This has already been sent."), NoticeKind.DUPLICATE)]
        settings = self.presenter.library.settings
        _ = interface(actor.language)
        if self.cases is None:
            names = ", ".join(settings.target_name(t, actor.language) for t in state.escalate.to)
            return [
                Notice(
                    _(
                        "Escalations are not switched on in this installation. Please contact {names} "
                        "yourself, and show them this advice."
                    ).format(names=names),
                    NoticeKind.ERROR,
                )
            ]
        now = self.clock.now()
        case_id = self.cases.open_case(conn, draft_case(self.presenter, conv, actor, compiled, clean_note(note)))
        conv = conv.moved(case_id=case_id, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "escalate", now, ",".join(state.escalate.to))
        names = ", ".join(
            self.presenter.name_in(n, actor.language) for n in self.cases.first_recipients(conn, case_id)
        ) or ", ".join(settings.target_name(t, actor.language) for t in state.escalate.to)
        text = _("Sent to {names}. You will be told when they pick it up.").format(names=names)
        return [EscalationSent(conv.id, case_id, text)]

    def decline(self, conn: Connection, conv: Conversation) -> list[Reply]:
        self.store.record(conn, conv, "escalation_declined", self.clock.now())
        return [Notice(N_("Nothing was sent. If you change your mind, type restart to go through it again."))]
