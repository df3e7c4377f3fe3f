"""Case listeners: the buttons on a case notification and on the Home tab's case list.

Who may act is decided by the case service from the directory entry of the Slack user who
clicked; the case id in a button is only which case, never a permission. The "Message the
employee" modal is in adapters/slack/modals.py.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.ack import Ack

from adapters.slack import actions as A
from adapters.slack import render as R
from adapters.slack.home import HomeTab, case_buttons, case_status
from adapters.slack.surface import user_of
from bot.cases.service import CaseService
from bot.conversation.replies import Notice, NoticeKind
from bot.errors import NotAllowed, PolicybotError
from bot.language.i18n.catalog import N_
from bot.language.i18n.wording import said_in


class CaseListeners(HomeTab):
    """Acknowledge, Resolved and Withdraw."""

    gated_cases: CaseService | None

    def register_cases(self, app: App) -> None:
        app.action(A.CASE_ACKNOWLEDGE)(self.on_case_action)
        app.action(A.CASE_RESOLVE)(self.on_case_action)
        app.action(A.CASE_WITHDRAW)(self.on_case_withdraw)

    @property
    def cases(self) -> CaseService:
        """The case service, its calls holding a database turn (``TurnGate``)."""
        if self.gated_cases is None:
            raise PolicybotError(N_("Escalation cases are switched off in this installation."))
        return self.gated_cases

    def _tell_clicker(self, body: dict[str, Any], user_id: str, text: str, kind: NoticeKind) -> None:
        """Something only the person who clicked should see: ephemeral in a channel, a DM line elsewhere."""
        channel, _ = self.case_click(body, user_id)
        if channel and channel.startswith(("C", "G")):
            message = R.render_notice(Notice(text, kind))
            self.web.chat_postEphemeral(channel=channel, user=user_id, text=message.text, blocks=message.blocks)
            return
        self._tell(user_id, None, text, kind)

    def on_case_action(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """Acknowledge or Resolved, on a case notification (DM or team channel) or the Home tab.

        Who may act is decided by the case service from the directory entry of the Slack user
        who clicked; the case id in the button is only which case, never a permission."""
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            channel, ts = self.case_click(body, user_id)
            case_id = A.decode_plain_id(action.get("value"), "case")
            actor = self.actor_for(body, user_id, context)
            try:
                if action.get("action_id") == A.CASE_RESOLVE:
                    result = self.cases.resolve(case_id, actor)
                else:
                    result = self.cases.acknowledge(case_id, actor)
            except NotAllowed as err:
                self._tell_clicker(body, user_id, said_in(err, self.work_language(actor)), NoticeKind.INFO)
                return
            if channel and ts:
                # In the person's own DM the status is in their language; a team channel has none on file.
                language = self.work_language(actor) if channel.startswith("D") else None
                settled = R.render_case_message_settled(
                    self.message_blocks(body),
                    case_status(result.case, language),
                    case_buttons(result.case),
                    result.case.id,
                    language,
                )
                self.update(channel, ts, settled)
            self._tell_clicker(body, user_id, result.message_in(self.work_language(actor)), NoticeKind.INFO)
            if not channel:  # clicked on the Home tab: show it as it is now
                self.publish_home(body, user_id, context)

        self.later(user_id, job)

    def on_case_withdraw(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """The employee no longer needs their case (Home tab); only they may, the service checks."""
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            case_id = A.decode_plain_id(action.get("value"), "case")
            actor = self.actor_for(body, user_id, context)
            language = self.engine.language_of(actor)  # the employee's own case: the bot's language with them
            try:
                result = self.cases.withdraw(case_id, actor)
            except NotAllowed as err:
                self._tell(user_id, None, said_in(err, language), NoticeKind.INFO)
                return
            self._tell(user_id, None, result.message_in(language), NoticeKind.INFO)
            self.publish_home(body, user_id, context)

        self.later(user_id, job)
