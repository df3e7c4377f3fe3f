"""What every Slack surface shares: the hand-off after ``ack()``, and posting and editing messages.

The listeners of each surface (conversation, cases, modals, Home tab) live in their own module
and derive from ``SlackSurface``; ``adapters/slack/app.py`` puts them together on one Bolt app.

After ``ack()`` the work has two kinds of cost that need separate limits: a database turn (the
engine, the case service), which SQLite serialises anyway, and Web API calls, which wait tens of
milliseconds on the network and cost nothing while they wait. So the per-person queue
(``Worker``) runs on many I/O threads, and only the database turns inside a job pass through a
small ``TurnGate``; calls that do not depend on each other (the edit of the answered question and
the post of the next one) run at the same time (``update_alongside``). A job still ends before
the person's next one starts, so what a person sees stays in order.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack import render as R
from adapters.slack.config import SlackConfig
from adapters.slack.inbound import SlackInbound, replaying
from adapters.slack.people import SlackPeople
from adapters.slack.worker import TurnGate, Worker
from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Event
from bot.conversation.replies import LanguageSwitch, Notice, NoticeKind, Reply
from bot.errors import PolicybotError
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.wording import said_in
from bot.runtime import Runtime
from bot.telemetry.logging_setup import carry

log = logging.getLogger(__name__)

T = TypeVar("T")
_SIDE_KEYS = itertools.count()

# Said outside a turn, in the language last spoken to the person (SlackPeople.language_spoken).
SORRY = N_(
    "Something went wrong on my side. Nothing you did before is lost: open my Home tab and choose "
    "Carry on, or try again in a moment."
)
GAVE_UP = N_(
    "Sorry: something you asked me a few minutes ago kept failing on my side, so I have stopped trying. "
    "Nothing you did before is lost. Type what the situation is, or open my Home tab and choose Carry on."
)
MOVED_TO_DM = N_("I've sent you a direct message, so this stays between us. Look for *Policy Bot* under Apps.")


def delivery_id(*parts: object) -> str:
    """A short, stable id for one Slack delivery (the store keeps at most 250 characters)."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]


def notice_kinds(replies: list[Reply]) -> set[NoticeKind]:
    return {r.kind for r in replies if isinstance(r, Notice)}


def applied(replies: list[Reply]) -> bool:
    """Did the engine act on the click (rather than refuse it as stale, duplicate or invalid)?"""
    refused = {NoticeKind.STALE, NoticeKind.DUPLICATE, NoticeKind.INVALID, NoticeKind.NOT_YOURS}
    return not (notice_kinds(replies) & refused)


def user_of(body: dict[str, Any], context: Any = None) -> str:
    """Who sent the request: Bolt's ``context.user_id`` (read the same way for events, clicks,
    commands and submissions), the body as a fallback for a request built outside Bolt."""
    user = getattr(context, "user_id", None) if context is not None else None
    if user:
        return str(user)
    nested = body.get("user")
    return str((nested.get("id") if isinstance(nested, dict) else None) or body.get("user_id") or "")


class SlackSurface:
    """The state the listeners share; set up by ``SlackBot`` (adapters/slack/app.py)."""

    runtime: Runtime
    engine: Engine  # passes its database turns through ``gate``
    config: SlackConfig
    web: WebClient
    people: SlackPeople
    worker: Worker  # per person, in order, on I/O threads
    side: Worker  # jobs that must not wait behind the person's queue (opening modals)
    io: ThreadPoolExecutor  # calls that run beside a job's own (update_alongside)
    gate: TurnGate
    inbound: SlackInbound | None
    app: App

    # ------------------------------------------------------------------------------ errors

    @staticmethod
    def on_listener_error(error: Exception, request: BoltRequest, response: BoltResponse | None) -> BoltResponse:
        """A listener raised (a payload in a shape Slack never sends, or a bug). If it had already
        acknowledged, Slack gets that acknowledgement, not a 500 that would make it retry or show
        an error; before the ack, a 400. Either way the traceback is logged."""
        log.error("a Slack listener failed", exc_info=error)
        try:
            acked = request.context.ack.response
        except Exception:
            acked = None
        if acked is not None:
            return BoltResponse(status=acked.status, body=acked.body, headers=acked.headers)
        return BoltResponse(status=400, body="")

    def _report(self, user_id: str, channel: str | None, error: BaseException | None) -> None:
        """Tell the person a job failed, in words that say what to do (in their language)."""
        language = self.people.language_spoken(user_id)
        if isinstance(error, PolicybotError):
            log.warning("policybot refused a Slack request (%s)", type(error).__name__)
            self._tell(user_id, channel, said_in(error, language), NoticeKind.ERROR)
        elif isinstance(error, SlackApiError):
            log.error("Slack Web API call failed: %s", error.response.get("error") if error.response else error)
            self._tell(user_id, channel, interface(language)(SORRY), NoticeKind.ERROR)
        elif error is not None:
            log.error("a Slack request failed", exc_info=error)
            self._tell(user_id, channel, interface(language)(SORRY), NoticeKind.ERROR)

    # ------------------------------------------------------------------------------ after the ack

    def later(self, user_id: str, job: Callable[[], object], *, channel: str | None = None) -> None:
        """Run ``job`` in the background, in order for this person; failures are told to them.

        The request is written to the inbound journal first (adapters/slack/inbound.py), so it is
        run even if this replica dies, and run again later when Slack or the database fails for a
        moment.
        """
        run, entry = True, None
        if self.inbound is not None:
            with self.gate:  # a database write, in the same queue as the turns (not SQLite's busy wait)
                run, entry = self.inbound.entry_for(user_id)
        if not run:
            return

        def guarded() -> None:
            error: BaseException | None = None
            try:
                job()
            except Exception as err:
                error = err
            if self.inbound is not None:
                with self.gate:
                    retried = self.inbound.settle(entry, error)
                if retried:
                    return  # tried again later: the person hears when it works
            self._report(user_id, channel, error)

        self.worker.submit(user_id, guarded)

    def right_away(self, user_id: str, job: Callable[[], object], *, channel: str | None = None) -> None:
        """Run ``job`` now, beside the person's queue rather than behind it: opening a modal, whose
        trigger expires three seconds after the click, must not wait for earlier jobs. Not
        journaled: a modal opened a minute late is no use."""

        def guarded() -> None:
            try:
                job()
            except Exception as err:
                self._report(user_id, channel, err)

        self.side.submit(f"{user_id}#{next(_SIDE_KEYS)}", guarded)  # a key of its own: runs at once

    def _apologise(self, user_id: str) -> None:
        """A request that kept failing and will not be tried again (adapters/slack/inbound.py)."""
        self._tell(user_id, None, interface(self.people.language_spoken(user_id))(GAVE_UP), NoticeKind.ERROR)

    def _tell(self, user_id: str, channel: str | None, text: str, kind: NoticeKind) -> None:
        message = R.render_notice(Notice(text, kind))
        try:
            self.web.chat_postMessage(
                channel=channel or self.people.dm_channel(user_id), text=message.text, blocks=message.blocks
            )
        except Exception:
            log.exception("could not tell the person that their request failed")

    # ------------------------------------------------------------------------------ who

    def work_language(self, actor: Actor, *, offered_only: bool = True) -> str:
        """The language for someone's case and review work (a case's status line, "Message the
        employee", "Request changes"): the language the message it comes from is written in, as
        the core decides it (``CaseService.case_language``; for a review request,
        ``offered_only=False``, ``Publishing.reviewer_language``); else the language the bot
        speaks to them."""
        if offered_only:
            cases = self.runtime.cases
            language = cases.case_language(actor) if cases is not None else None
        else:
            publishing = self.runtime.publishing
            language = publishing.reviewer_language(actor) if publishing is not None else None
        return language or self.engine.language_of(actor)

    def actor_for(self, body: dict[str, Any], user_id: str, context: Any = None) -> Actor:
        """The person as the core knows them. The workspace is Bolt's ``context.team_id`` (an
        Enterprise Grid org-wide install has none: then ``enterprise_id``), else the body's."""
        team_id = None
        if context is not None:
            team_id = getattr(context, "team_id", None) or getattr(context, "enterprise_id", None)
        if not team_id:
            team = body.get("team")
            team_id = (
                (team.get("id") if isinstance(team, dict) else None)
                or body.get("team_id")
                or (body.get("user") or {}).get("team_id")
                or body.get("enterprise_id")
                or "T"
            )
        return self.people.actor(str(team_id), user_id)

    # ------------------------------------------------------------------------------ out

    def post(self, channel: str, replies: list[Reply], *, thread_ts: str | None = None) -> list[str]:
        """Post each reply as its own message; returns the timestamps (message ids) posted.

        The language switch that ends a reply set (when several languages are on) is not a
        message of its own: its buttons go under the last message of the set, so every turn
        shows "Cymraeg" / "English" one tap away without a line of chat for it."""
        language = R.reply_language(replies)
        messages: list[R.SlackMessage] = []
        for reply in replies:
            if isinstance(reply, Notice) and reply.kind == NoticeKind.DUPLICATE and replaying():
                continue  # a replay: the person did nothing twice, they only get their answer late
            if isinstance(reply, LanguageSwitch) and messages:
                block = R.language_switch_block(reply)
                if block is not None:
                    messages[-1].add_block(block)
                continue
            message = R.render_reply(reply, language)
            if message is not None:
                messages.append(message)
        posted = []
        for message in messages:
            kwargs: dict[str, Any] = {"channel": channel, "text": message.text, "blocks": message.blocks}
            if message.in_thread and thread_ts:
                kwargs["thread_ts"] = thread_ts
            posted.append(str(self.web.chat_postMessage(**kwargs)["ts"]))
        return posted

    def update(self, channel: str, ts: str, message: R.SlackMessage) -> None:
        """Edit a message in place. A failure here is logged, not raised: the engine has already
        applied the click, so the next step must still be posted (and an old button clicked
        later is refused by the engine as stale, so nothing can be answered twice)."""
        try:
            self.web.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
        except SlackApiError as err:
            log.warning("chat.update failed (%s); continuing", err.response.get("error") if err.response else err)

    def update_alongside(self, channel: str, ts: str, message: R.SlackMessage, then: Callable[[], T]) -> T:
        """``update`` and ``then()`` at the same time, one network round trip instead of two; both
        are done when this returns, so the person's next job starts after them."""
        edit = self.io.submit(carry(self.update), channel, ts, message)
        try:
            return then()
        finally:
            edit.result()

    def handle_and_post(
        self,
        body: dict[str, Any],
        user_id: str,
        event: Event,
        *,
        delivery: str | None,
        channel: str | None = None,
        context: Any = None,
    ) -> list[Reply]:
        actor = self.actor_for(body, user_id, context)
        replies = self.turn(user_id, actor, event, delivery)
        self.people.remember_language(user_id, R.reply_language(replies))
        self.post(channel or self.people.dm_channel(user_id), replies)
        return replies

    def turn(self, user_id: str, actor: Actor, event: Event, delivery: str | None = None) -> list[Reply]:
        """One engine turn. adapters/slack/previews.py overrides it: a person's preview turns go
        to their preview engine instead."""
        return self.engine.handle(actor, event, delivery_id=delivery)

    # ------------------------------------------------------------------------------ where a click was

    @staticmethod
    def clicked(body: dict[str, Any]) -> tuple[str | None, str | None]:
        """(channel, message ts) of the message whose button was clicked; (None, None) on the Home tab."""
        container = body.get("container") or {}
        if container.get("type") != "message":
            return None, None
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        return channel, container.get("message_ts")

    def own_click(self, body: dict[str, Any], user_id: str) -> tuple[str | None, str | None]:
        """(channel, ts) of the clicked message if it is in the clicker's own DM with the bot, else
        (None, None). Slack only sends clicks people really made, but the adapter still never
        posts into, or edits a message in, a conversation that is not the clicker's own."""
        channel, ts = self.clicked(body)
        if channel and channel == self.people.dm_channel(user_id):
            return channel, ts
        return None, None

    def case_click(self, body: dict[str, Any], user_id: str) -> tuple[str | None, str | None]:
        """(channel, ts) of a clicked case notification: a team channel, or the clicker's own DM."""
        channel, ts = self.clicked(body)
        if channel and channel.startswith(("C", "G")):
            return channel, ts
        return self.own_click(body, user_id)

    @staticmethod
    def click_delivery(body: dict[str, Any], action: dict[str, Any]) -> str:
        """The same button on the same message by the same person is one delivery: a double click
        (or a retried request) is then applied once."""
        container = body.get("container") or {}
        where = container.get("message_ts") or container.get("view_id") or ""
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        return delivery_id("click", (body.get("user") or {}).get("id"), where, action.get("action_id"), value)

    @staticmethod
    def view_delivery(view: dict[str, Any]) -> str:
        """One modal submission is one delivery: Slack's retry, or a replayed request, carries the
        same view id and hash, so what it does (a case message, an escalation) happens once."""
        return delivery_id("view", view.get("id"), view.get("hash"))

    @staticmethod
    def message_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
        blocks = (body.get("message") or {}).get("blocks")
        return blocks if isinstance(blocks, list) else []

    @staticmethod
    def question_parts(body: dict[str, Any]) -> tuple[str, str | None]:
        """The clicked question's text and progress line, as the message shows them."""
        text, progress = "", None
        for block in SlackSurface.message_blocks(body):
            if block.get("block_id") == R.QUESTION_BLOCK:
                text = str((block.get("text") or {}).get("text") or "")
            elif block.get("type") == "context":
                elements = block.get("elements") or []
                if elements and isinstance(elements[0], dict):
                    progress = str(elements[0].get("text") or "") or progress
        return text or "*(question)*", progress
