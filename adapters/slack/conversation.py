"""Conversation listeners: what someone types or clicks while working through a check.

Each listener acknowledges at once and hands the work to ``later`` (adapters/slack/surface.py):
find who this is, turn the payload into an engine event with a delivery id (so a Slack retry or
a double click is applied once), and render the replies. Private by design: whatever the entry
point (a slash command in a busy channel, an @mention), the conversation itself happens in the
person's DM with the bot; the channel only sees a line that only that person can see.

No policy here: which flow, which question, what verdict and who is told all come from the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.ack import Ack

from adapters.slack import actions as A
from adapters.slack import render as R
from adapters.slack.previews import PreviewRouting, preview_words
from adapters.slack.surface import MOVED_TO_DM, applied, delivery_id, user_of
from bot.conversation.events import (
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
from bot.conversation.replies import EscalationSent, NoticeKind, Outcome, Question
from bot.language.i18n.catalog import N_, interface

# A button whose value was altered or is from an older version: said in the language last spoken.
UNREADABLE_BUTTON_RESTART = N_("That button could not be read. Here is a fresh start.")
UNREADABLE_MENU_ITEM = N_("That menu item could not be read.")
UNREADABLE_BUTTON = N_("That button could not be read.")
MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")
# The message subtypes that are someone writing to the bot; Bolt leaves the rest (edits, joins,
# deletions) to the catch-all, acknowledged and ignored.
MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")
CLOSED_REASONS = {
    A.MENU_BACK: N_("You went back to the previous question."),
    A.MENU_RESTART: N_("You started this check again."),
    A.MENU_CANCEL: N_("You stopped this check."),
}
NOT_SENT = N_("Not sent: you chose not to.")
SITUATION = N_("What's the situation?")
ASKED_AGAIN = N_("Asked again below.")  # a question redrawn in the language just chosen


class ConversationListeners(PreviewRouting):
    """Slash command, DMs, @mentions, the question buttons and the escalation offer."""

    def register_conversation(self, app: App) -> None:
        app.command(A.COMMAND)(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event({"type": "message", "subtype": MESSAGE_SUBTYPES})(self.on_message)
        app.action(A.CHOOSE_PATTERN)(self.on_choose)
        app.action(A.MENU)(self.on_menu)
        app.action(A.START_FLOW_PATTERN)(self.on_start_flow)
        app.action(A.CONTINUE)(self.on_continue)
        app.action(A.AGAIN)(self.on_again)
        app.action(A.ESCALATE_SEND)(self.on_escalate_send)
        app.action(A.ESCALATE_DECLINE)(self.on_escalate_decline)
        app.action(A.SET_LANGUAGE_PATTERN)(self.on_set_language)

    def on_command(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """``/policy`` or ``/policy <what is happening>``, from any channel or DM."""
        user_id = user_of(body, context)
        channel_id = str(body.get("channel_id") or "")
        in_bot_dm = self.people.known_dm(user_id) == channel_id
        if in_bot_dm:
            ack()
        else:
            ack(text=self.engine.speaking.to_everyone(MOVED_TO_DM))  # before any lookup: every language
        if not user_id:
            return
        text = str(body.get("text") or "").strip()
        words = preview_words(text)
        if words is not None:  # /policy preview CHANGE, /policy preview end (adapters/slack/previews.py)
            self.later(user_id, lambda: self.preview_command(body, user_id, context, words))
            return
        event = Start(text=text or None)
        trigger = body.get("trigger_id") or ""
        delivery = delivery_id("cmd", trigger)
        self.later(user_id, lambda: self.handle_and_post(body, user_id, event, context=context, delivery=delivery))

    def on_message(self, ack: Ack, body: dict[str, Any], context: BoltContext, event: dict[str, Any]) -> None:
        """A message in the bot's DM (its Messages tab): an answer, a command word, or a new situation.

        Bolt only sends this listener plain messages, ``file_share`` (a screenshot with words) and
        ``thread_broadcast`` (a thread reply also sent to the conversation): MESSAGE_SUBTYPES.
        Of a file share only the words are read; the file itself is never fetched."""
        ack()
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return  # other bots' messages (the bot's own included) are not someone talking to us
        user_id, text = str(event.get("user") or ""), str(event.get("text") or "").strip()
        if not user_id or not text:
            return
        channel = str(event.get("channel") or "")
        delivery = delivery_id("event", body.get("event_id") or event.get("client_msg_id") or event.get("ts"))
        self.later(
            user_id,
            lambda: self.handle_and_post(
                body, user_id, FreeText(text), context=context, delivery=delivery, channel=channel or None
            ),
            channel=channel or None,
        )

    def on_mention(self, ack: Ack, body: dict[str, Any], context: BoltContext, event: dict[str, Any]) -> None:
        """``@policybot ...`` in a channel: answered in private, never in the channel."""
        ack()
        user_id = str(event.get("user") or "") or user_of(body, context)
        if not user_id:
            return
        text = MENTION.sub("", str(event.get("text") or "")).strip()
        channel = str(event.get("channel") or "")
        delivery = delivery_id("event", body.get("event_id") or event.get("ts"))

        def job() -> None:
            replies = self.handle_and_post(body, user_id, Start(text=text or None), context=context, delivery=delivery)
            if channel and not channel.startswith("D"):
                moved = interface(R.reply_language(replies))(MOVED_TO_DM).replace("*", "")
                self.web.chat_postEphemeral(channel=channel, user=user_id, text=moved)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ buttons

    def on_choose(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """An option button: answer the question, then show the answer in place of the buttons."""
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            try:
                value = A.ChoiceValue.decode(action.get("value"))
            except A.BadValue:
                unread = interface(self.people.language_spoken(user_id))(UNREADABLE_BUTTON_RESTART)
                self._tell(user_id, channel, unread, NoticeKind.INVALID)
                self.post(channel or self.people.dm_channel(user_id), [self.engine.menu()])
                return
            event = Choose(value.conversation_id, value.state, value.option, value.turn)
            actor = self.actor_for(body, user_id, context)
            replies = self.turn(user_id, actor, event, self.click_delivery(body, action))
            target = channel or self.people.dm_channel(user_id)
            if applied(replies) and channel and ts:
                question, progress = self.question_parts(body)
                label = str(((action.get("text") or {}).get("text")) or "")
                answered = R.render_answered(question, label, progress, R.reply_language(replies))
                self.update_alongside(channel, ts, answered, lambda: self.post(target, replies, thread_ts=ts))
                return
            self.post(target, replies, thread_ts=ts)

        self.later(user_id, job)

    def on_menu(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """The question's overflow menu: Why? / Go back / Start again / Stop."""
        ack()
        user_id = user_of(body, context)
        raw = (action.get("selected_option") or {}).get("value")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            try:
                choice, conversation_id = A.decode_menu_value(raw)
            except A.BadValue:
                unread = interface(self.people.language_spoken(user_id))(UNREADABLE_MENU_ITEM)
                self._tell(user_id, channel, unread, NoticeKind.INVALID)
                return
            make: dict[str, Callable[[str], Event]] = {
                A.MENU_WHY: Why,
                A.MENU_BACK: Back,
                A.MENU_RESTART: Restart,
                A.MENU_CANCEL: Cancel,
            }
            event = make[choice](conversation_id)
            actor = self.actor_for(body, user_id, context)
            replies = self.turn(user_id, actor, event, self.click_delivery(body, action))
            target = channel or self.people.dm_channel(user_id)
            if choice != A.MENU_WHY and applied(replies) and channel and ts:
                question, _ = self.question_parts(body)
                reason = interface(R.reply_language(replies))(CLOSED_REASONS[choice])
                closed = R.render_closed_question(question, reason)
                self.update_alongside(channel, ts, closed, lambda: self.post(target, replies, thread_ts=ts))
                return
            self.post(target, replies, thread_ts=ts)

        self.later(user_id, job)

    def on_start_flow(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """A situation picked from a list of likely flows (buttons or a select menu)."""
        ack()
        user_id = user_of(body, context)
        option = action.get("selected_option") or {}
        flow_id = action.get("value") or option.get("value")
        title = ((action.get("text") or option.get("text") or {}).get("text")) or flow_id

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            try:
                chosen = A.decode_plain_id(flow_id, "flow")
            except A.BadValue:
                self.post(channel or self.people.dm_channel(user_id), [self.engine.menu()])
                return
            actor = self.actor_for(body, user_id, context)
            replies = self.turn(user_id, actor, Start(flow_id=chosen), self.click_delivery(body, action))
            target = channel or self.people.dm_channel(user_id)
            if applied(replies) and channel and ts:
                language = R.reply_language(replies)
                situation = f"*{R.esc(interface(language)(SITUATION))}*"
                answered = R.render_answered(situation, str(title), None, language)
                self.update_alongside(channel, ts, answered, lambda: self.post(target, replies))
                return
            self.post(target, replies)

        self.later(user_id, job)

    def on_continue(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """Home tab "Carry on": the unfinished conversation's question again, in the DM."""
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            replies = self.resume_turn(user_id, self.actor_for(body, user_id, context), conversation_id)
            self.post(self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    def on_again(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """After an outcome, "Go through it again": the same flow from its first question.

        The outcome message stays as it is: it is the record of what the person was told."""
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            channel, _ = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            actor = self.actor_for(body, user_id, context)
            replies = self.turn(user_id, actor, Restart(conversation_id), self.click_delivery(body, action))
            self.post(channel or self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ escalation offer

    def on_escalate_send(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            delivery = self.click_delivery(body, action)
            self._send_escalation(body, context, user_id, conversation_id, None, channel, ts, delivery)

        self.later(user_id, job)

    def _send_escalation(
        self,
        body: dict[str, Any],
        context: BoltContext | None,
        user_id: str,
        conversation_id: str,
        note: str | None,
        channel: str | None,
        ts: str | None,
        delivery: str,
    ) -> None:
        actor = self.actor_for(body, user_id, context)
        replies = self.turn(user_id, actor, ConfirmEscalation(conversation_id, note), delivery)
        if channel and ts and any(isinstance(r, EscalationSent) for r in replies):
            # Re-render the outcome from the engine: it now carries the case, so the offer shows as sent.
            current = [r for r in self.resume_turn(user_id, actor, conversation_id) if isinstance(r, Outcome)]
            if current:
                self.update(channel, ts, R.render_outcome(current[0]))
        self.post(channel or self.people.dm_channel(user_id), replies)

    def on_escalate_decline(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            actor = self.actor_for(body, user_id, context)
            delivery = self.click_delivery(body, action)
            replies = self.turn(user_id, actor, DeclineEscalation(conversation_id), delivery)
            if applied(replies) and channel and ts:
                language = R.reply_language(replies)
                settled = R.render_outcome_escalation_settled(
                    self.message_blocks(body), interface(language)(NOT_SENT), conversation_id, language
                )
                self.update_alongside(channel, ts, settled, lambda: self.post(channel, replies))
                return
            self.post(channel or self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ language

    def on_set_language(self, ack: Ack, body: dict[str, Any], context: BoltContext, action: dict[str, Any]) -> None:
        """The language switch ("Cymraeg" / "English") under a reply set: speak that language from
        now on. A question it was pressed under is asked again below in that language, so the old
        one is closed; on any other message the switch itself goes (it has been used)."""
        ack()
        user_id = user_of(body, context)

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            target = channel or self.people.dm_channel(user_id)
            try:
                language, conversation_id = A.decode_language_value(action.get("value"))
            except A.BadValue:
                unread = interface(self.people.language_spoken(user_id))(UNREADABLE_BUTTON)
                self._tell(user_id, channel, unread, NoticeKind.INVALID)
                return
            actor = self.actor_for(body, user_id, context)
            event = SetLanguage(language, conversation_id)
            replies = self.turn(user_id, actor, event, self.click_delivery(body, action))
            if not (applied(replies) and channel and ts):
                self.post(target, replies)
                return
            blocks = self.message_blocks(body)
            if any(b.get("block_id") == R.QUESTION_BLOCK for b in blocks) and any(
                isinstance(r, Question) for r in replies
            ):
                question, _ = self.question_parts(body)
                reason = interface(R.reply_language(replies))(ASKED_AGAIN)
                settled = R.render_closed_question(question, reason)
            else:
                settled = R.without_language_switch(blocks, str((body.get("message") or {}).get("text") or ""))
            self.update_alongside(channel, ts, settled, lambda: self.post(target, replies))

        self.later(user_id, job)
