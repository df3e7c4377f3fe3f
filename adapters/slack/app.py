"""The Bolt app: every Slack entry point turned into engine events, every reply posted as Block Kit.

Each listener does the same two things: ``ack()`` straight away (Slack's three-second window,
and retries when it is missed), then hands the real work to the per-person ``Worker``. The work
is: find who this is (``SlackPeople``), convert the payload to an engine event, call the engine
with a delivery id (so a Slack retry or a double click is applied once), and render the replies.

Private by design: whatever the entry point (a slash command in a busy channel, an @mention), the
conversation itself happens in the person's DM with the bot; the channel only sees a line that
only that person can see.

No policy here: which flow, which question, what verdict and who is told all come from the engine.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt import App
from slack_bolt.context.ack import Ack
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from adapters.slack import actions as A
from adapters.slack import render as R
from adapters.slack.config import SlackConfig
from adapters.slack.inbound import REPLAY, SlackInbound, replaying
from adapters.slack.installs import SlackInstalls, WorkspaceClient
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.worker import Worker
from bot.cases.model import ACKNOWLEDGED, CLOSED, Case
from bot.cases.service import CaseService
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
from bot.conversation.replies import EscalationSent, Notice, NoticeKind, Outcome, Reply
from bot.errors import NotAllowed, PolicybotError
from bot.ops.reports import onboarding_progress
from bot.runtime import Runtime
from bot.telemetry import metrics

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")
SORRY = (
    "Something went wrong on my side. Nothing you did before is lost: open my Home tab and choose "
    "Carry on, or try again in a moment."
)
GAVE_UP = (
    "Sorry: something you asked me a few minutes ago kept failing on my side, so I have stopped trying. "
    "Nothing you did before is lost. Type what the situation is, or open my Home tab and choose Carry on."
)
MOVED_TO_DM = "I've sent you a direct message, so this stays between us. Look for *Policy Bot* under Apps."


class ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """Waits out a 429 only when Slack asks for a short pause: a worker thread asleep for a long
    Retry-After would hold up everyone else's answers, so a long one fails the job instead (the
    person is told and can click again)."""

    MAX_WAIT_SECONDS = 5

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                try:
                    return int(values[0]) <= self.MAX_WAIT_SECONDS
                except (ValueError, IndexError, TypeError):
                    return False
        return True


def make_client(config: SlackConfig, *, timeout: int = 10) -> WebClient:
    """The Web API client for conversations: a brief 429 or 5xx is retried before giving up,
    because the person is waiting for their next question."""
    kwargs: dict[str, Any] = {"token": config.bot_token, "timeout": timeout}
    if config.api_url:
        kwargs["base_url"] = config.api_url
    client = WorkspaceClient(**kwargs)  # sends the token of the workspace being served (installs.py)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=1),
        ShortRateLimitRetry(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=1),
    ]
    return client


ONBOARDING = "onboarding"


def case_status(case: Case) -> str:
    """One line on a case notification saying where the case stands now."""
    if case.state == ACKNOWLEDGED:
        return f"Acknowledged by {case.acknowledged_by_name or 'someone'}. The employee has been told."
    if case.state == "resolved":
        return f"Resolved by {case.closed_by_name or 'someone'}. The employee has been told."
    if case.state == "withdrawn":
        return "Withdrawn by the employee: nothing more is needed."
    return "Waiting for someone to acknowledge it."


def case_buttons(case: Case) -> list[str]:
    """The case buttons still worth showing."""
    if case.state in CLOSED:
        return []
    if case.state == ACKNOWLEDGED:
        return ["resolve", "message_employee"]
    return ["acknowledge", "resolve", "message_employee"]


def home_case(case: Case, *, mine: bool) -> R.HomeCase:
    if mine:
        detail = "Sent to " + (", ".join(case.recipient_names()) or "the right people")
        if case.acknowledged_by_name:
            detail += f"; {case.acknowledged_by_name} is dealing with it"
    else:
        detail = f"From {case.employee_name}, {case.created_at.strftime('%d %b %Y %H:%M')} UTC"
    return R.HomeCase(case.id, case.flow_title, case.state, detail, tuple(case_buttons(case)))


def default_worker_threads(runtime: Runtime) -> int:
    """SQLite takes one writer at a time (the store begins every transaction IMMEDIATE), so more
    threads only queue in its busy handler and lengthen the tail; PostgreSQL takes many."""
    return 2 if runtime.store.dialect == "sqlite" else 8


def delivery_id(*parts: object) -> str:
    """A short, stable id for one Slack delivery (the store keeps at most 250 characters)."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _notice_kinds(replies: list[Reply]) -> set[NoticeKind]:
    return {r.kind for r in replies if isinstance(r, Notice)}


def _applied(replies: list[Reply]) -> bool:
    """Did the engine act on the click (rather than refuse it as stale, duplicate or invalid)?"""
    refused = {NoticeKind.STALE, NoticeKind.DUPLICATE, NoticeKind.INVALID, NoticeKind.NOT_YOURS}
    return not (_notice_kinds(replies) & refused)


class SlackBot:
    """The Bolt ``App`` plus what its listeners share: the engine, the Web API client, the worker."""

    def __init__(
        self,
        runtime: Runtime,
        config: SlackConfig,
        *,
        client: WebClient | None = None,
        worker_threads: int | None = None,
        logger: logging.Logger | None = None,
        installs: SlackInstalls | None = None,
        journal: bool = True,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.config = config
        self.web = client or make_client(config)
        self.people = SlackPeople(self.web)
        self.worker = Worker(worker_threads or default_worker_threads(runtime))
        # process_before_response: the listener body (ack, then a hand-off to the worker) runs
        # before the HTTP response, so the response goes out the moment the listener returns,
        # without Bolt's 10 ms polling for ack; the same code serves Socket Mode unchanged.
        self.app = App(
            client=self.web,
            signing_secret=config.signing_secret,
            process_before_response=True,
            logger=logger,
            raise_error_for_unhandled_request=False,
            # Several workspaces (OAuth): Bolt finds each request's install in the database.
            oauth_settings=installs.oauth_settings() if installs is not None else None,
        )
        if installs is not None:
            installs.attach(self.app)  # the workspace's token for this request; uninstalls, revocations
        self.app.use(self._time_ack)
        # Every acknowledged request is written down before the ack goes out (see later()).
        self.inbound = SlackInbound(self.app, runtime.store, runtime.clock, self._apologise) if journal else None
        if self.inbound is not None:
            self.app.use(self.inbound.middleware)
        self.app.error(self.on_listener_error)
        self._register()

    # ------------------------------------------------------------------------------ registration

    @staticmethod
    def _time_ack(req: BoltRequest, next: Callable[[], Any]) -> Any:
        """Socket Mode's acknowledgement time for /metrics (HTTP mode times whole requests in
        http_server.py, from arrival to response, so it is not counted twice)."""
        if req.mode != "socket_mode" or REPLAY in req.context:
            return next()
        with metrics.ack_timer(PLATFORM):
            return next()

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

    def _register(self) -> None:
        app = self.app
        app.command(A.COMMAND)(self.on_command)
        app.shortcut(A.SHORTCUT)(self.on_shortcut)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.view(A.START_MODAL)(self.on_start_submitted)
        app.view(A.NOTE_MODAL)(self.on_note_submitted)
        app.action(A.CHOOSE_PATTERN)(self.on_choose)
        app.action(A.MENU)(self.on_menu)
        app.action(A.START_FLOW_PATTERN)(self.on_start_flow)
        app.action(A.START_CHECK)(self.on_open_start_modal)
        app.action(A.NEW_CHECK)(self.on_open_start_modal)
        app.action(A.CONTINUE)(self.on_continue)
        app.action(A.AGAIN)(self.on_again)
        app.action(A.ESCALATE_SEND)(self.on_escalate_send)
        app.action(A.ESCALATE_NOTE)(self.on_escalate_note)
        app.action(A.ESCALATE_DECLINE)(self.on_escalate_decline)
        self._register_case_listeners()
        # Catch-alls, registered last (Bolt runs the first listener that matches): Slack never
        # sees a 404, even for an event or button added to the manifest before the code.
        app.event(re.compile(".*"))(self.on_anything_else)
        app.action(re.compile(".*"))(self.on_anything_else)
        app.view(re.compile(".*"))(self.on_anything_else)
        app.shortcut(re.compile(".*"))(self.on_anything_else)
        app.command(re.compile(".*"))(self.on_anything_else)

    def _register_case_listeners(self) -> None:
        """Case buttons (Acknowledge / Resolved / Message the employee) and the message modal."""
        self.app.action(A.CASE_ACKNOWLEDGE)(self.on_case_action)
        self.app.action(A.CASE_RESOLVE)(self.on_case_action)
        self.app.action(A.CASE_MESSAGE)(self.on_case_message)
        self.app.action(A.CASE_WITHDRAW)(self.on_case_withdraw)
        self.app.view(A.CASE_MESSAGE_MODAL)(self.on_case_message_submitted)

    # ------------------------------------------------------------------------------ helpers

    def later(
        self, user_id: str, job: Callable[[], object], *, channel: str | None = None, durable: bool = True
    ) -> None:
        """Run ``job`` in the background, in order for this person; failures are told to them.

        ``durable``: the request is written to the inbound journal first (adapters/slack/inbound.py),
        so it is run even if this replica dies, and run again later when Slack or the database
        fails for a moment. Only work that is useless later (opening a modal, whose trigger
        expires in three seconds) passes False.
        """
        run, entry = self.inbound.entry_for(user_id) if durable and self.inbound else (True, None)
        if not run:
            return

        def guarded() -> None:
            error: BaseException | None = None
            try:
                job()
            except Exception as err:
                error = err
            if self.inbound and self.inbound.settle(entry, error):
                return  # tried again later: the person hears when it works
            if isinstance(error, PolicybotError):
                log.warning("policybot refused a Slack request: %s", error)
                self._tell(user_id, channel, str(error), NoticeKind.ERROR)
            elif isinstance(error, SlackApiError):
                log.error("Slack Web API call failed: %s", error.response.get("error") if error.response else error)
                self._tell(user_id, channel, SORRY, NoticeKind.ERROR)
            elif error is not None:
                log.error("a Slack request failed", exc_info=error)
                self._tell(user_id, channel, SORRY, NoticeKind.ERROR)

        self.worker.submit(user_id, guarded)

    def _apologise(self, user_id: str) -> None:
        """A request that kept failing and will not be tried again (adapters/slack/inbound.py)."""
        self._tell(user_id, None, GAVE_UP, NoticeKind.ERROR)

    def _tell(self, user_id: str, channel: str | None, text: str, kind: NoticeKind) -> None:
        message = R.render_notice(Notice(text, kind))
        try:
            self.web.chat_postMessage(
                channel=channel or self.people.dm_channel(user_id), text=message.text, blocks=message.blocks
            )
        except Exception:
            log.exception("could not tell the person that their request failed")

    def actor_for(self, body: dict[str, Any], user_id: str) -> Actor:
        team = body.get("team")
        team_id = (
            (team.get("id") if isinstance(team, dict) else None)
            or body.get("team_id")
            or (body.get("user") or {}).get("team_id")
            or body.get("enterprise_id")
            or "T"
        )
        return self.people.actor(str(team_id), user_id)

    def post(self, channel: str, replies: list[Reply], *, thread_ts: str | None = None) -> list[str]:
        """Post each reply as its own message; returns the timestamps (message ids) posted."""
        posted = []
        for reply in replies:
            if isinstance(reply, Notice) and reply.kind == NoticeKind.DUPLICATE and replaying():
                continue  # a replay: the person did nothing twice, they only get their answer late
            message = R.render_reply(reply)
            if message is None:
                continue
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

    def handle_and_post(
        self, body: dict[str, Any], user_id: str, event: Event, *, delivery: str | None, channel: str | None = None
    ) -> list[Reply]:
        actor = self.actor_for(body, user_id)
        replies = self.engine.handle(actor, event, delivery_id=delivery)
        self.post(channel or self.people.dm_channel(user_id), replies)
        return replies

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
    def message_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
        blocks = (body.get("message") or {}).get("blocks")
        return blocks if isinstance(blocks, list) else []

    @staticmethod
    def question_parts(body: dict[str, Any]) -> tuple[str, str | None]:
        """The clicked question's text and progress line, as the message shows them."""
        text, progress = "", None
        for block in SlackBot.message_blocks(body):
            if block.get("block_id") == R.QUESTION_BLOCK:
                text = str((block.get("text") or {}).get("text") or "")
            elif block.get("type") == "context":
                elements = block.get("elements") or []
                if elements and isinstance(elements[0], dict):
                    progress = str(elements[0].get("text") or "") or progress
        return text or "*(question)*", progress

    # ------------------------------------------------------------------------------ entry points

    def on_command(self, ack: Ack, body: dict[str, Any]) -> None:
        """``/policy`` or ``/policy <what is happening>``, from any channel or DM."""
        user_id = str(body.get("user_id") or "")
        channel_id = str(body.get("channel_id") or "")
        in_bot_dm = self.people.known_dm(user_id) == channel_id
        if in_bot_dm:
            ack()
        else:
            ack(text=MOVED_TO_DM)
        if not user_id:
            return
        text = str(body.get("text") or "").strip()
        event = Start(text=text or None)
        trigger = body.get("trigger_id") or ""
        self.later(user_id, lambda: self.handle_and_post(body, user_id, event, delivery=delivery_id("cmd", trigger)))

    def on_message(self, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in the bot's DM (its Messages tab): an answer, a command word, or a new situation."""
        ack()
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins and other bots' messages are not someone talking to us
        user_id, text = str(event.get("user") or ""), str(event.get("text") or "").strip()
        if not user_id or not text:
            return
        channel = str(event.get("channel") or "")
        delivery = delivery_id("event", body.get("event_id") or event.get("client_msg_id") or event.get("ts"))
        self.later(
            user_id,
            lambda: self.handle_and_post(body, user_id, FreeText(text), delivery=delivery, channel=channel or None),
            channel=channel or None,
        )

    def on_mention(self, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        """``@policybot ...`` in a channel: answered in private, never in the channel."""
        ack()
        user_id = str(event.get("user") or "")
        if not user_id:
            return
        text = MENTION.sub("", str(event.get("text") or "")).strip()
        channel = str(event.get("channel") or "")
        delivery = delivery_id("event", body.get("event_id") or event.get("ts"))

        def job() -> None:
            self.handle_and_post(body, user_id, Start(text=text or None), delivery=delivery)
            if channel and not channel.startswith("D"):
                self.web.chat_postEphemeral(channel=channel, user=user_id, text=MOVED_TO_DM.replace("*", ""))

        self.later(user_id, job)

    def on_home_opened(self, ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        ack()
        if event.get("tab") != "home":
            return
        user_id = str(event.get("user") or "")
        if user_id:
            self.later(user_id, lambda: self.publish_home(body, user_id))

    def on_shortcut(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self._open_start_modal(body)

    def on_open_start_modal(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        self._open_start_modal(body)

    def _open_start_modal(self, body: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id") or "")
        trigger = body.get("trigger_id")
        if not user_id or not trigger:
            return
        flows = [(f.id, f.title) for f in self.runtime.library.all()]
        view = R.render_start_modal(flows)
        self.later(user_id, lambda: self.web.views_open(trigger_id=trigger, view=view), durable=False)

    def on_start_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        text = ((values.get(R.START_TEXT_BLOCK) or {}).get(R.START_TEXT_ACTION) or {}).get("value") or ""
        chosen = ((values.get(R.START_FLOW_BLOCK) or {}).get(A.START_FLOW) or {}).get("selected_option") or {}
        flow_id = chosen.get("value") if isinstance(chosen, dict) else None
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        if not user_id:
            return
        event = Start(flow_id=flow_id) if flow_id else Start(text=text.strip() or None)
        delivery = delivery_id("view", view.get("id"), view.get("hash"))
        self.later(user_id, lambda: self.handle_and_post(body, user_id, event, delivery=delivery))

    # ------------------------------------------------------------------------------ conversation buttons

    def on_choose(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """An option button: answer the question, then show the answer in place of the buttons."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            try:
                value = A.ChoiceValue.decode(action.get("value"))
            except A.BadValue:
                self._tell(
                    user_id, channel, "That button could not be read. Here is a fresh start.", NoticeKind.INVALID
                )
                self.post(channel or self.people.dm_channel(user_id), [self.engine.menu()])
                return
            event = Choose(value.conversation_id, value.state, value.option, value.turn)
            actor = self.actor_for(body, user_id)
            replies = self.engine.handle(actor, event, delivery_id=self.click_delivery(body, action))
            target = channel or self.people.dm_channel(user_id)
            if _applied(replies) and channel and ts:
                question, progress = self.question_parts(body)
                label = str(((action.get("text") or {}).get("text")) or "")
                self.update(channel, ts, R.render_answered(question, label, progress))
            self.post(target, replies, thread_ts=ts)

        self.later(user_id, job)

    def on_menu(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """The question's overflow menu: Why? / Go back / Start again / Stop."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        raw = (action.get("selected_option") or {}).get("value")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            try:
                choice, conversation_id = A.decode_menu_value(raw)
            except A.BadValue:
                self._tell(user_id, channel, "That menu item could not be read.", NoticeKind.INVALID)
                return
            make: dict[str, Callable[[str], Event]] = {
                A.MENU_WHY: Why,
                A.MENU_BACK: Back,
                A.MENU_RESTART: Restart,
                A.MENU_CANCEL: Cancel,
            }
            event = make[choice](conversation_id)
            actor = self.actor_for(body, user_id)
            replies = self.engine.handle(actor, event, delivery_id=self.click_delivery(body, action))
            target = channel or self.people.dm_channel(user_id)
            if choice != A.MENU_WHY and _applied(replies) and channel and ts:
                question, _ = self.question_parts(body)
                reason = {
                    A.MENU_BACK: "You went back to the previous question.",
                    A.MENU_RESTART: "You started this check again.",
                    A.MENU_CANCEL: "You stopped this check.",
                }[choice]
                self.update(channel, ts, R.render_closed_question(question, reason))
            self.post(target, replies, thread_ts=ts)

        self.later(user_id, job)

    def on_start_flow(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A situation picked from a list of likely flows (buttons or a select menu)."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
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
            actor = self.actor_for(body, user_id)
            replies = self.engine.handle(actor, Start(flow_id=chosen), delivery_id=self.click_delivery(body, action))
            if _applied(replies) and channel and ts:
                self.update(channel, ts, R.render_answered("*What's the situation?*", str(title), None))
            self.post(channel or self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    def on_continue(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Home tab "Carry on": the unfinished conversation's question again, in the DM."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            replies = self.engine.resume(self.actor_for(body, user_id), conversation_id)
            self.post(self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    def on_again(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """After an outcome, "Go through it again": the same flow from its first question.

        The outcome message stays as it is: it is the record of what the person was told."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            channel, _ = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            actor = self.actor_for(body, user_id)
            replies = self.engine.handle(actor, Restart(conversation_id), delivery_id=self.click_delivery(body, action))
            self.post(channel or self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ escalation offer

    def on_escalate_send(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            self._send_escalation(body, user_id, conversation_id, None, channel, ts, self.click_delivery(body, action))

        self.later(user_id, job)

    def _send_escalation(
        self,
        body: dict[str, Any],
        user_id: str,
        conversation_id: str,
        note: str | None,
        channel: str | None,
        ts: str | None,
        delivery: str,
    ) -> None:
        actor = self.actor_for(body, user_id)
        replies = self.engine.handle(actor, ConfirmEscalation(conversation_id, note), delivery_id=delivery)
        if channel and ts and any(isinstance(r, EscalationSent) for r in replies):
            # Re-render the outcome from the engine: it now carries the case, so the offer shows as sent.
            current = [r for r in self.engine.resume(actor, conversation_id) if isinstance(r, Outcome)]
            if current:
                self.update(channel, ts, R.render_outcome(current[0]))
        self.post(channel or self.people.dm_channel(user_id), replies)

    def on_escalate_note(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        trigger = body.get("trigger_id")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            actor = self.actor_for(body, user_id)
            outcomes = [r for r in self.engine.resume(actor, conversation_id) if isinstance(r, Outcome)]
            if not outcomes or outcomes[0].escalation is None or outcomes[0].case_id:
                self._tell(user_id, channel, "There is nothing left to send from this check.", NoticeKind.INFO)
                return
            metadata = "|".join([conversation_id, channel or "", ts or ""])
            view = R.render_note_modal(metadata, outcomes[0].escalation.preview)
            self.web.views_open(trigger_id=trigger, view=view)

        self.later(user_id, job, durable=False)  # a modal: its trigger expires in 3 s

    def on_note_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        note = str(((values.get(R.NOTE_BLOCK) or {}).get(R.NOTE_ACTION) or {}).get("value") or "").strip()
        if not note:
            ack(response_action="errors", errors={R.NOTE_BLOCK: "Write a short note, or close this and use Send."})
            return
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        conversation_id, _, rest = str(view.get("private_metadata") or "").partition("|")
        channel, _, ts = rest.partition("|")
        delivery = delivery_id("view", view.get("id"), view.get("hash"))

        def job() -> None:
            A.decode_plain_id(conversation_id, "conversation")
            own = channel and channel == self.people.dm_channel(user_id)
            where, message_ts = (channel, ts or None) if own else (None, None)
            self._send_escalation(body, user_id, conversation_id, note, where, message_ts, delivery)

        self.later(user_id, job)

    def on_escalate_decline(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            channel, ts = self.own_click(body, user_id)
            conversation_id = A.decode_plain_id(action.get("value"), "conversation")
            actor = self.actor_for(body, user_id)
            replies = self.engine.handle(
                actor, DeclineEscalation(conversation_id), delivery_id=self.click_delivery(body, action)
            )
            if _applied(replies) and channel and ts:
                settled = R.render_outcome_escalation_settled(
                    self.message_blocks(body), "Not sent: you chose not to.", conversation_id
                )
                self.update(channel, ts, settled)
            self.post(channel or self.people.dm_channel(user_id), replies)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ cases

    @property
    def cases(self) -> CaseService:
        if self.runtime.cases is None:
            raise PolicybotError("Escalation cases are switched off in this installation.")
        return self.runtime.cases

    def _tell_clicker(self, body: dict[str, Any], user_id: str, text: str, kind: NoticeKind) -> None:
        """Something only the person who clicked should see: ephemeral in a channel, a DM line elsewhere."""
        channel, _ = self.case_click(body, user_id)
        if channel and channel.startswith(("C", "G")):
            message = R.render_notice(Notice(text, kind))
            self.web.chat_postEphemeral(channel=channel, user=user_id, text=message.text, blocks=message.blocks)
            return
        self._tell(user_id, None, text, kind)

    def on_case_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Acknowledge or Resolved, on a case notification (DM or team channel) or the Home tab.

        Who may act is decided by the case service from the directory entry of the Slack user
        who clicked; the case id in the button is only which case, never a permission."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            channel, ts = self.case_click(body, user_id)
            case_id = A.decode_plain_id(action.get("value"), "case")
            actor = self.actor_for(body, user_id)
            try:
                if action.get("action_id") == A.CASE_RESOLVE:
                    result = self.cases.resolve(case_id, actor)
                else:
                    result = self.cases.acknowledge(case_id, actor)
            except NotAllowed as err:
                self._tell_clicker(body, user_id, str(err), NoticeKind.INFO)
                return
            if channel and ts:
                self.update(
                    channel,
                    ts,
                    R.render_case_message_settled(
                        self.message_blocks(body), case_status(result.case), case_buttons(result.case), result.case.id
                    ),
                )
            self._tell_clicker(body, user_id, result.message, NoticeKind.INFO)
            if not channel:  # clicked on the Home tab: show it as it is now
                self.publish_home(body, user_id)

        self.later(user_id, job)

    def on_case_withdraw(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """The employee no longer needs their case (Home tab); only they may, the service checks."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")

        def job() -> None:
            case_id = A.decode_plain_id(action.get("value"), "case")
            try:
                result = self.cases.withdraw(case_id, self.actor_for(body, user_id))
            except NotAllowed as err:
                self._tell(user_id, None, str(err), NoticeKind.INFO)
                return
            self._tell(user_id, None, result.message, NoticeKind.INFO)
            self.publish_home(body, user_id)

        self.later(user_id, job)

    def on_case_message(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Message the employee: a modal to write it (only for someone allowed to act on the case)."""
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        trigger = body.get("trigger_id")

        def job() -> None:
            case_id = A.decode_plain_id(action.get("value"), "case")
            actor = self.actor_for(body, user_id)
            try:
                case = self.cases.get(case_id, actor)
                self.cases.access.check_act(case, actor)
            except NotAllowed as err:
                self._tell_clicker(body, user_id, str(err), NoticeKind.INFO)
                return
            self.web.views_open(trigger_id=trigger, view=R.render_case_message_modal(case.id, case.employee_name))

        self.later(user_id, job, durable=False)  # a modal: its trigger expires in 3 s

    def on_case_message_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(R.MESSAGE_BLOCK) or {}).get(R.MESSAGE_ACTION) or {}).get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={R.MESSAGE_BLOCK: "Write a message, or close this."})
            return
        ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        case_id = str(view.get("private_metadata") or "")

        def job() -> None:
            actor = self.actor_for(body, user_id)
            try:
                result = self.cases.message_employee(A.decode_plain_id(case_id, "case"), actor, text)
            except NotAllowed as err:
                self._tell(user_id, None, str(err), NoticeKind.INFO)
                return
            self._tell(user_id, None, result.message, NoticeKind.INFO)

        self.later(user_id, job)

    # ------------------------------------------------------------------------------ Home tab

    def home_data(self, actor: Actor) -> R.HomeData:
        unfinished = self.engine.unfinished(actor)
        data = R.HomeData(
            unfinished=R.HomeUnfinished(unfinished.conversation_id, unfinished.flow_title, unfinished.question)
            if unfinished is not None
            else None,
        )
        notes = []
        try:
            onboarding, done = self.onboarding_status(actor)
            data = replace(data, onboarding=onboarding, onboarding_done=done)
        except Exception:
            log.exception("could not read the onboarding status for the Home tab")
            notes.append("Your onboarding status could not be loaded just now.")
        if self.runtime.cases is not None:
            try:
                own = self.cases.cases_for(actor, include_closed=False)
                waiting = self.cases.waiting_for(actor)
                person = self.cases.access.person(actor)
                manages = bool(person and (person.roles or self._manages_anyone(person.id)))
                data = replace(
                    data,
                    open_cases=[home_case(c, mine=True) for c in own],
                    waiting_cases=[home_case(c, mine=False) for c in waiting] if (waiting or manages) else None,
                )
            except Exception:
                log.exception("could not read cases for the Home tab")
                notes.append("Your cases could not be loaded just now; open the Home tab again in a moment.")
        return replace(data, note=" ".join(notes) or None)

    def _manages_anyone(self, person_id: str) -> bool:
        directory = self.runtime.directory
        return bool(directory is not None and directory.reports_of(person_id))

    def onboarding_status(self, actor: Actor) -> tuple[str | None, bool]:
        """A sentence about the person's onboarding check, and whether it is done (None: no such flow)."""
        if ONBOARDING not in self.runtime.library:
            return None, False
        progress = onboarding_progress(self.runtime.store, self.runtime.library, actor.user_id, flow_id=ONBOARDING)
        if progress.completed_at is None:
            if progress.in_progress:
                return "You started the onboarding check but have not finished it.", False
            if progress.attempts:
                return "You stopped the onboarding check before the end. You can do it again any time.", False
            return "You have not done the onboarding check yet. It takes about five minutes.", False
        score = f", with {progress.score[0]} of {progress.score[1]} right" if progress.score else ""
        return f"✅ Done on {progress.completed_at.strftime('%d %b %Y')}{score}.", True

    def publish_home(self, body: dict[str, Any], user_id: str) -> None:
        actor = self.actor_for(body, user_id)
        self.web.views_publish(user_id=user_id, view=R.render_home(self.home_data(actor)))

    # ------------------------------------------------------------------------------ the rest

    def on_anything_else(self, ack: Ack, body: dict[str, Any]) -> None:
        """Acknowledge what this version does not handle, so Slack neither retries nor shows an error."""
        ack()
        log.info("ignored a Slack request of type %s", body.get("type") or body.get("command") or "unknown")
