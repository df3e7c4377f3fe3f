"""Modals: opening them the moment the click arrives, and what their submissions do.

A ``trigger_id`` lives three seconds, so a modal is opened from the listener right after
``ack()`` (``right_away``), beside the person's queue of earlier jobs rather than behind it.
Submissions are ordinary jobs (``later``), each with the view's own delivery id: a retried or
replayed submission (same view id and hash) sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.ack import Ack

from adapters.slack import actions as A
from adapters.slack import render as R
from adapters.slack.cases import CaseListeners
from adapters.slack.conversation import ConversationListeners
from adapters.slack.surface import user_of
from bot.conversation.events import Start
from bot.conversation.replies import NoticeKind, Outcome
from bot.errors import NotAllowed
from bot.language.i18n.catalog import interface
from bot.language.i18n.wording import said_in


class ModalListeners(ConversationListeners, CaseListeners):
    """The "what is happening?" modal, the escalation note, and "Message the employee"."""

    def register_modals(self, app: App) -> None:
        app.shortcut(A.SHORTCUT)(self.on_open_start_modal)
        app.action(A.START_CHECK)(self.on_open_start_modal)
        app.action(A.NEW_CHECK)(self.on_open_start_modal)
        app.view(A.START_MODAL)(self.on_start_submitted)
        app.action(A.ESCALATE_NOTE)(self.on_escalate_note)
        app.view(A.NOTE_MODAL)(self.on_note_submitted)
        app.action(A.CASE_MESSAGE)(self.on_case_message)
        app.view(A.CASE_MESSAGE_MODAL)(self.on_case_message_submitted)

    # ------------------------------------------------------------------------------ start a check

    def on_open_start_modal(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """The global shortcut, the Home tab's "Start a check", and "Start another check"."""
        ack()
        user_id = user_of(body, context)
        trigger = body.get("trigger_id")
        if not user_id or not trigger:
            return
        flows = [(f.id, f.title) for f in self.runtime.library.all()]

        def job() -> None:
            language = self.engine.language_of(self.actor_for(body, user_id, context))
            self.web.views_open(trigger_id=trigger, view=R.render_start_modal(flows, language))

        self.right_away(user_id, job)

    def on_start_submitted(self, ack: Ack, body: dict[str, Any], context: BoltContext, view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        text = ((values.get(R.START_TEXT_BLOCK) or {}).get(R.START_TEXT_ACTION) or {}).get("value") or ""
        chosen = ((values.get(R.START_FLOW_BLOCK) or {}).get(A.START_FLOW) or {}).get("selected_option") or {}
        flow_id = chosen.get("value") if isinstance(chosen, dict) else None
        ack()
        user_id = user_of(body, context)
        if not user_id:
            return
        event = Start(flow_id=flow_id) if flow_id else Start(text=str(text).strip() or None)
        delivery = self.view_delivery(view)
        self.later(user_id, lambda: self.handle_and_post(body, user_id, event, context=context, delivery=delivery))

    # ------------------------------------------------------------------------------ escalation note

    def on_escalate_note(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        ack()
        user_id = user_of(body, context)
        trigger = body.get("trigger_id")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            actor = self.actor_for(body, user_id, context)
            outcomes = [r for r in self.resume_turn(user_id, actor, conversation_id) if isinstance(r, Outcome)]
            if not outcomes or outcomes[0].escalation is None or outcomes[0].case_id:
                _ = interface(outcomes[0].language if outcomes else self.engine.language_of(actor))
                self._tell(user_id, channel, _("There is nothing left to send from this check."), NoticeKind.INFO)
                return
            metadata = "|".join([conversation_id, channel or "", ts or ""])
            view = R.render_note_modal(metadata, outcomes[0].escalation.preview, outcomes[0].language)
            self.web.views_open(trigger_id=trigger, view=view)

        self.right_away(user_id, job)

    def on_note_submitted(self, ack: Ack, body: dict[str, Any], context: BoltContext, view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        note = str(((values.get(R.NOTE_BLOCK) or {}).get(R.NOTE_ACTION) or {}).get("value") or "").strip()
        metadata, language = R.metadata_language(str(view.get("private_metadata") or ""))
        if not note:
            ack(response_action="errors", errors={R.NOTE_BLOCK: interface(language)(R.NOTE_EMPTY)})
            return
        ack()
        user_id = user_of(body, context)
        conversation_id, _, rest = metadata.partition("|")
        channel, _, ts = rest.partition("|")
        delivery = self.view_delivery(view)

        def job() -> None:
            A.decode_plain_id(conversation_id, "conversation")
            own = channel and channel == self.people.dm_channel(user_id)
            where, message_ts = (channel, ts or None) if own else (None, None)
            self._send_escalation(body, context, user_id, conversation_id, note, where, message_ts, delivery)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ message the employee

    def on_case_message(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """Message the employee: a modal to write it (only for someone allowed to act on the case)."""
        ack()
        user_id = user_of(body, context)
        trigger = body.get("trigger_id")

        def job() -> None:
            case_id = A.decode_plain_id(action.get("value"), "case")
            actor = self.actor_for(body, user_id, context)
            try:
                case = self.cases.get(case_id, actor)
                self.cases.access.check_act(case, actor)
            except NotAllowed as err:
                self._tell_clicker(body, user_id, said_in(err, self.work_language(actor)), NoticeKind.INFO)
                return
            language = self.work_language(actor)
            view = R.render_case_message_modal(case.id, case.employee_name, language)
            self.web.views_open(trigger_id=trigger, view=view)

        self.right_away(user_id, job)

    def on_case_message_submitted(
        self, ack: Ack, body: dict[str, Any], context: BoltContext, view: dict[str, Any]
    ) -> None:
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(R.MESSAGE_BLOCK) or {}).get(R.MESSAGE_ACTION) or {}).get("value") or "").strip()
        case_id, language = R.metadata_language(str(view.get("private_metadata") or ""))
        if not text:
            ack(response_action="errors", errors={R.MESSAGE_BLOCK: interface(language)(R.MESSAGE_EMPTY)})
            return
        ack()
        user_id = user_of(body, context)
        delivery = self.view_delivery(view)

        def job() -> None:
            actor = self.actor_for(body, user_id, context)
            try:
                result = self.cases.message_employee(
                    A.decode_plain_id(case_id, "case"), actor, text, delivery_id=delivery
                )
            except NotAllowed as err:
                self._tell(user_id, None, said_in(err, language), NoticeKind.INFO)
                return
            self._tell(user_id, None, result.message_in(language), NoticeKind.INFO)

        self.later(user_id, job)
