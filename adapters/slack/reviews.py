"""Review listeners: Approve and Request changes on a "change waits for your review" message.

Who may review is decided by the core (``Publishing.review_by_actor``) from the directory entry
of the Slack user who pressed, exactly as for the case buttons (adapters/slack/cases.py); the
change id in a button is only which change, never a permission. The press is a delivery (the
button on that message by that person; a modal's view id and hash), so a double click, Slack's
retry or a replay from the inbound journal applies once.

"Request changes" first asks why, in a modal opened the moment the click arrives (its trigger
lives three seconds; adapters/slack/modals.py); the submission does the rest.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.ack import Ack
from slack_sdk.errors import SlackApiError

from adapters.slack import actions as A
from adapters.slack import render as R
from adapters.slack import render_review as RR
from adapters.slack.previews import PreviewRouting
from adapters.slack.surface import user_of
from bot.conversation.replies import NoticeKind
from bot.errors import PolicybotError
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.wording import said_in
from bot.publishing.changes import Publishing

APPROVE = "approve"  # Publishing.review_by_actor's words for the two buttons
REQUEST_CHANGES = "request_changes"


class ReviewListeners(PreviewRouting):
    """Approve, Request changes, and the reason modal's submission."""

    gated_publishing: Publishing | None

    def register_reviews(self, app: App) -> None:
        app.action(A.APPROVE_CHANGE)(self.on_approve_change)
        app.action(A.REQUEST_CHANGES)(self.on_request_changes)
        app.view(A.REQUEST_CHANGES_MODAL)(self.on_request_changes_submitted)

    @property
    def publishing(self) -> Publishing:
        """Publishing, its calls holding a database turn (``TurnGate``)."""
        if self.gated_publishing is None:
            raise PolicybotError(N_("Reviewing changes is not available here: the flow library is not in a database."))
        return self.gated_publishing

    def on_approve_change(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            where, _ = self.clicked(body)
            channel, ts = self.own_click(body, user_id)
            change_id = A.decode_plain_id(action.get("value"), "change")
            actor = self.actor_for(body, user_id, context)
            language = self.work_language(actor, offered_only=False)  # the review message's language
            delivery = self.click_delivery(body, action)
            try:
                sentence = self.publishing.review_by_actor(actor, change_id, APPROVE, delivery_id=delivery)
            except PolicybotError as err:  # NotAllowed too: the author, a non-reviewer, a stranger
                self.tell_privately(user_id, where, said_in(err, language))
                return
            self._settle(user_id, channel, ts, self.message_blocks(body), sentence.said_in(language))

        self.later(user_id, job)

    def on_request_changes(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """Open the "what should change?" modal at once; who may is checked on submission."""
        ack()
        user_id = user_of(body, context)
        trigger = body.get("trigger_id")
        if not user_id or not trigger:
            return

        def job() -> None:
            change_id = A.decode_plain_id(action.get("value"), "change")
            channel, ts = self.own_click(body, user_id)
            metadata = "|".join([change_id, channel or "", ts or ""])
            language = self.work_language(self.actor_for(body, user_id, context), offered_only=False)
            self.web.views_open(trigger_id=trigger, view=RR.render_request_changes_modal(change_id, metadata, language))

        self.right_away(user_id, job)

    def on_request_changes_submitted(
        self, ack: Ack, body: dict[str, Any], context: BoltContext, view: dict[str, Any]
    ) -> None:
        values = (view.get("state") or {}).get("values") or {}
        why = str(((values.get(RR.WHY_BLOCK) or {}).get(RR.WHY_ACTION) or {}).get("value") or "").strip()
        metadata, language = R.metadata_language(str(view.get("private_metadata") or ""))
        if not why:
            ack(response_action="errors", errors={RR.WHY_BLOCK: interface(language)(RR.WHY_EMPTY)})
            return
        ack()
        user_id = user_of(body, context)
        change_id, _, rest = metadata.partition("|")
        channel, _, ts = rest.partition("|")
        delivery = self.view_delivery(view)

        def job() -> None:
            A.decode_plain_id(change_id, "change")
            own = bool(channel) and channel == self.people.dm_channel(user_id)
            actor = self.actor_for(body, user_id, context)
            try:
                sentence = self.publishing.review_by_actor(actor, change_id, REQUEST_CHANGES, why, delivery_id=delivery)
            except PolicybotError as err:
                self.tell_privately(user_id, channel if own else None, said_in(err, language))
                return
            if own and ts:
                self._settle(user_id, channel, ts, self._blocks_of(channel, ts), sentence.said_in(language))
            else:
                self._tell(user_id, None, sentence.said_in(language), NoticeKind.INFO)

        self.later(user_id, job)

    def _settle(
        self, user_id: str, channel: str | None, ts: str | None, blocks: list[dict[str, Any]], sentence: str
    ) -> None:
        """The review message shows what the press did in place of its buttons; without the
        message (the Home tab, or it could not be read back), the sentence as a DM line."""
        if channel and ts and blocks:
            self.update(channel, ts, RR.render_review_settled(blocks, sentence))
        else:
            self._tell(user_id, None, sentence, NoticeKind.INFO)

    def _blocks_of(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The review message as it is now (a modal submission does not carry it)."""
        try:
            page = self.web.conversations_history(channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1)
        except SlackApiError:
            return []
        for message in page.get("messages") or []:
            if message.get("ts") == ts and isinstance(message.get("blocks"), list):
                return list(message["blocks"])
        return []
