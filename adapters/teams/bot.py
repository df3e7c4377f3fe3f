"""The Teams bot: one turn in, engine events out, Adaptive Cards back.

``TeamsBot`` is the Agents SDK's ActivityHandler with our handlers: messages (typed text, @mentions,
command-list entries, Action.Submit clicks), ``adaptiveCard/action`` invokes (Action.Execute
clicks, answered with the clicked card redrawn in place; the SDK reads the invoke and serialises
the answer), installs and conversation updates (which hand us the conversation references
proactive escalations need).

It holds no policy logic: text and clicks become engine events, replies become cards. Engine and
database calls run on a thread pool so the event loop keeps serving other turns, under a time
budget that keeps every turn well inside Teams' 15 seconds. A failure in a turn gives the person a
short apology with a reference that matches the log line, never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    Attachment,
    InvokeResponse,
)
from microsoft_agents.hosting.core import ActivityHandler, TurnContext

from adapters.teams import actions as act
from adapters.teams import cards
from adapters.teams.casedesk import CaseClick
from adapters.teams.connector import failure_of, limited, status_of
from adapters.teams.inbound import (
    Clicked,
    Said,
    Unreadable,
    aad_object_id,
    actor_for,
    command_of,
    intent_of,
    invoke_intent,
    tenant_id,
)
from adapters.teams.previews import PreviewSessions
from adapters.teams.private import PrivateChats, belongs_to_a_check, is_shared, moved_line
from adapters.teams.reviewdesk import ReviewClick
from adapters.teams.storage import TeamsStorage, channel_key, person_keys
from bot.conversation.engine import Engine
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
    SetLanguage,
    Start,
)
from bot.conversation.replies import (
    EscalationSent,
    Explanation,
    Feedback,
    FlowChoice,
    LanguageSwitch,
    Notice,
    NoticeKind,
    Outcome,
    Question,
    Reply,
    SwitchOffer,
    language_of,
)
from bot.errors import PolicybotError
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.languages import name_of
from bot.language.i18n.wording import said_in
from bot.telemetry.logging_setup import carry, current_correlation_id

log = logging.getLogger("policybot.teams")

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
REVIEW_CLICKS_REMEMBERED = 1000  # recent review clicks kept to answer a repeated invoke
EMAIL_RETRY_SECONDS = 600.0  # after a failed member lookup, don't ask again for a while
SEND_RETRY_LIMIT_SECONDS = 2.0  # a throttled reply is retried once if the wait is this short
LANGUAGES_REMEMBERED = 5000  # people whose language is kept to word an apology when the core can't be asked
LANGUAGE_LOOKUP_SECONDS = 1.0  # how long an apology waits to ask the core which language to say it in

# The adapter's own fixed words, in the person's language (the engine's ``language_of``) where shown.
CHANNEL_HELLO = N_(
    "Hello! I'm Policybot. Mention me with what's happening (for example: "
    "@Policybot check a post), or message me directly to keep it private."
)
STALE_BUTTON = N_("That button is from a card I can't use any more. Type help to start again.")
DEAD_BUTTON = N_("That button does nothing any more.")
DONE = N_("Done.")
CARRYING_ON = N_("Carrying on.")
STARTING_AGAIN = N_("Starting again.")
HERE_ARE_THE_CHECKS = N_("Here are the checks I know.")
CASES_OFF = N_("Case tracking is not switched on in this installation.")
CASES_PRIVATE = N_("Your cases are private: message me directly and say 'my cases'.")
REVIEWS_OFF = N_("Changes to the flow library are not reviewed in this installation.")
PREVIEWS_PRIVATE = N_("Previews are private: message me directly and say preview followed by the change id.")
NO_PREVIEW = N_("You have no preview going. Say preview followed by a change id to start one.")
WHICH_CHANGE = N_("Say which change to preview: preview followed by its id (the review card shows it).")
PREVIEW_ENDED = N_(
    "Preview of change {change} ended. You're back to the published checks; say preview {change} to walk it again."
)

T = TypeVar("T")


class CaseDesk(Protocol):
    """What case cards and "my cases" need (adapters/teams/casedesk.py, over bot/cases)."""

    def act(
        self, actor: Actor, case_id: str, action: str, text: str | None, language: str | None = None
    ) -> CaseClick: ...

    def summary_for(self, actor: Actor) -> tuple[list[Any], list[Any]]: ...


class ReviewDesk(Protocol):
    """What review cards and ``preview CHANGE`` need (adapters/teams/reviewdesk.py, over bot/publishing)."""

    def review(
        self,
        actor: Actor,
        change_id: str,
        action: str,
        why: str | None,
        delivery_id: str | None = None,
        language: str | None = None,
    ) -> ReviewClick: ...

    def preview(self, change: str, actor: Actor) -> Engine: ...


def message_response(text: str) -> AdaptiveCardInvokeResponse:
    """An invoke answer that shows a short message instead of replacing the card."""
    return AdaptiveCardInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=text)


def card_response(card: cards.Card) -> AdaptiveCardInvokeResponse:
    """An invoke answer that replaces the clicked card with ``card``."""
    return AdaptiveCardInvokeResponse(status_code=200, type=CARD_RESPONSE, value=card)


@dataclass
class ClickResult:
    updated_card: cards.Card | None  # the clicked card redrawn, or None to leave it
    replies: list[Reply]
    toast: str | None = None  # for an invoke that leaves the card: a short confirmation


class TeamsBot(ActivityHandler):
    def __init__(
        self,
        engine: Engine,
        storage: TeamsStorage,
        *,
        executor: Executor | None = None,
        turn_seconds: float = 10.0,
        connector_seconds: float = 4.0,
        cases: CaseDesk | None = None,
        reviews: ReviewDesk | None = None,
        app_id: str = "",
    ) -> None:
        super().__init__()
        self.private = PrivateChats(storage, self._call, app_id=app_id)
        self.engine = engine
        self.storage = storage
        self.executor = executor
        self.turn_seconds = turn_seconds
        self.connector_seconds = connector_seconds
        self.cases = cases
        self.reviews = reviews
        self.previews = PreviewSessions()  # one preview engine per person (``preview CHANGE``)
        # review clicks by activity id: a repeated invoke gets the first one's answer, applied once
        self._review_clicks: OrderedDict[str, asyncio.Future[ClickResult]] = OrderedDict()
        self._emails: dict[str, tuple[str | None, float]] = {}  # user id -> (email, when looked up)
        self._languages: OrderedDict[str, str] = OrderedDict()  # user id -> the language last spoken to them

    # ---- the turn ---------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        started = time.monotonic()
        try:
            await asyncio.wait_for(super().on_turn(turn_context), timeout=self.turn_seconds)
        except Exception as err:  # every failure ends here: apology + reference, details in the log
            correlation = current_correlation_id() or uuid.uuid4().hex[:10]
            activity = turn_context.activity
            log.error(
                "teams turn failed [%s]: %s %s (activity %s) after %.1fs: %s",
                correlation,
                activity.type,
                activity.name or "",
                activity.id,
                time.monotonic() - started,
                _describe(err),
                exc_info=not isinstance(err, TimeoutError),
            )
            await self._apologise(turn_context, correlation)

    async def _apologise(self, ctx: TurnContext, correlation: str) -> None:
        text = cards.error_text(correlation, await self._apology_language(ctx))
        try:
            if ctx.activity.type == ActivityTypes.invoke:
                answer = self._create_invoke_response(message_response(text))
                await ctx.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=answer.model_dump(by_alias=True))
                )
            else:
                await limited(
                    ctx.send_activity(Activity(type=ActivityTypes.message, text=text, summary=text[:80])),
                    self.connector_seconds,
                )
        except Exception as err:  # the connector itself may be what failed
            log.warning("could not send the apology [%s]: %s", correlation, _describe(err))

    async def _apology_language(self, ctx: TurnContext) -> str:
        """The person's language for the apology: the core's answer if it can still give one
        quickly, else the language last spoken to them here, else English."""
        try:
            actor = actor_for(ctx.activity)
        except Exception:  # an activity too broken to name its sender
            return "en"
        try:
            return await limited(self._language(actor), LANGUAGE_LOOKUP_SECONDS)
        except Exception as err:  # the store may be what failed
            log.info("teams: apology in the last known language (%s)", _describe(err))
            return self._languages.get(actor.user_id, "en")

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking engine or database call off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, carry(lambda: fn(*args, **kwargs)))  # keeps the log id

    # ---- messages ---------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        ctx = turn_context
        actor = await self._actor(ctx)
        intent = intent_of(ctx.activity)
        if isinstance(intent, Unreadable):
            log.info("teams: unreadable submit from %s: %s", actor.user_id, intent.reason)
            await self._send(ctx, [Notice(await self._say(actor, STALE_BUTTON))])
            return
        if isinstance(intent, Clicked):
            result = await self._click(ctx, actor, intent.action)
            shared = is_shared(ctx) and intent.action.verb not in act.NOTIFICATION_VERBS
            refusal = _not_yours(result.replies)
            if shared and refusal is not None:  # a bystander's Submit click: told privately, the card stays
                await self.private.send(ctx, [refusal], self._send)
                return
            if result.updated_card is not None and ctx.activity.reply_to_id and not shared:
                await self._update_card(ctx, ctx.activity.reply_to_id, result.updated_card)
            await self._reply(ctx, result.replies)
            return
        assert isinstance(intent, Said)
        await self._reply(ctx, await self._said(ctx, actor, intent.text))

    async def _reply(self, ctx: TurnContext, replies: list[Any]) -> None:
        """Send replies here, or, for a check in a channel or group chat, to the person's own chat
        with a neutral line here (adapters/teams/private.py)."""
        if is_shared(ctx) and belongs_to_a_check(replies):
            await self.private.send(ctx, replies, self._send)
            await self._send(ctx, [Notice(moved_line(ctx, language_of_replies(replies)))])
            return
        await self._send(ctx, replies)

    async def _said(self, ctx: TurnContext, actor: Actor, text: str) -> list[Reply | cards.Card]:
        command = command_of(text) if text else ("menu", None)
        if command is not None and command[0] in ("preview", "preview_end"):
            return await self._preview_command(ctx, actor, command)
        session = self.previews.active(actor.user_id)
        if session is not None and _conversation_type(ctx.activity) == "personal":
            # the person is walking a change's draft: their chat goes to its engine until it ends
            if command is not None and command[0] == "menu":
                return [session.engine.menu(await self._speaking(actor, session.engine))]
            if command is None or command[0] == "start":
                event: Event = Start(flow_id=command[1]) if command else FreeText(text=text)
                replies = await self._handle(actor, event, ctx.activity.id, session.engine)
                return list(await self._after_preview(actor, replies))
        if is_shared(ctx) and (command is None or command[0] == "start"):
            # One check at a time: a check started here must not silently set aside the one the
            # person has going in their own chat; ask (privately) which they want.
            unfinished = await self._call(self.engine.unfinished, actor)
            if unfinished is not None:
                speaker = await self._speaking(actor, self.engine)
                return [
                    cards.resume_card(
                        unfinished.conversation_id,
                        unfinished.flow_title,
                        unfinished.question,
                        start_new=(command[1] if command else None, None if command else text),
                        language=speaker.language or "en",
                    )
                ]
        if command is not None:
            kind, flow_id = command
            if kind == "start":
                return list(await self._handle(actor, Start(flow_id=flow_id), ctx.activity.id))
            if kind == "cases":
                if self.cases is None:
                    return [Notice(await self._say(actor, CASES_OFF))]
                if _conversation_type(ctx.activity) != "personal":  # cases name people: not in a channel
                    return [Notice(await self._say(actor, CASES_PRIVATE))]
                mine, waiting = await self._call(self.cases.summary_for, actor)
                return [cards.cases_card(mine, waiting, await self._language(actor))]
            unfinished = await self._call(self.engine.unfinished, actor)
            speaker = await self._speaking(actor, self.engine)
            language = speaker.language or "en"
            out: list[Reply | cards.Card] = []
            if unfinished is not None:
                out.append(
                    cards.resume_card(
                        unfinished.conversation_id, unfinished.flow_title, unfinished.question, language=language
                    )
                )
            out.append(cards.flow_choice_card(self.engine.menu(speaker), language=language))
            return [*out, *self._switch(self.engine, language)]  # the plain menu can change language too
        return list(await self._handle(actor, FreeText(text=text), ctx.activity.id))

    async def _preview_command(
        self, ctx: TurnContext, actor: Actor, command: tuple[str, str | None]
    ) -> list[Reply | cards.Card]:
        """``preview CHANGE``: walk a change's draft (its author and the reviewers only, decided by
        the core); ``preview end``: back to the published checks."""
        if self.reviews is None:
            return [Notice(await self._say(actor, REVIEWS_OFF))]
        if _conversation_type(ctx.activity) != "personal":
            return [Notice(await self._say(actor, PREVIEWS_PRIVATE))]
        kind, change = command
        if kind == "preview_end":
            ended = self.previews.end(actor.user_id)
            if ended is None:
                return [Notice(await self._say(actor, NO_PREVIEW))]
            return [Notice(ended_line(ended.change_id, await self._language(actor)))]
        if not change:
            return [Notice(await self._say(actor, WHICH_CHANGE))]
        try:
            engine = await self._call(self.reviews.preview, change, actor)
        except PolicybotError as err:  # NotAllowed included: not the author or a reviewer, unknown change
            return [Notice(said_in(err, await self._language(actor)))]
        session = self.previews.start(actor.user_id, engine, getattr(engine, "change_id", change))
        return [session.engine.menu()]

    async def _after_preview(self, actor: Actor, replies: list[Reply]) -> list[Reply]:
        """Note which conversations the preview made (their clicks go to it), and end it at an
        outcome or when the person stopped the check."""
        session = self.previews.get(actor.user_id)
        if session is None:
            return replies
        session.conversations.update(str(c) for c in (getattr(r, "conversation_id", None) for r in replies) if c)
        finished = any(isinstance(r, Outcome) for r in replies)
        if not finished and session.active and session.conversations:
            finished = await self._call(session.engine.unfinished, actor) is None
        if finished and session.active:
            session.active = False
            return [*replies, Notice(ended_line(session.change_id, await self._language(actor, session.engine)))]
        return replies

    # ---- card clicks ------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:  # type: ignore[override]
        """``adaptiveCard/action`` (Action.Execute) goes to ``on_adaptive_card_invoke`` through the
        SDK, which reads the value and serialises our answer. A value the SDK would refuse is
        answered here with a short message instead (the SDK's own error answer carries an exception
        object that cannot be serialised)."""
        activity = turn_context.activity
        if activity.name == "adaptiveCard/action" and not _is_execute(activity.value):
            actor = await self._actor(turn_context)
            return self._create_invoke_response(message_response(await self._say(actor, STALE_BUTTON)))
        return await super().on_invoke_activity(turn_context)

    async def on_adaptive_card_invoke(  # type: ignore[override]
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        ctx = turn_context
        actor = await self._actor(ctx)
        intent = invoke_intent(ctx.activity.value)
        if not isinstance(intent, Clicked):
            reason = intent.reason if isinstance(intent, Unreadable) else "unknown"
            log.info("teams: unreadable card action from %s: %s", actor.user_id, reason)
            return message_response(await self._say(actor, STALE_BUTTON))
        result = await self._click(ctx, actor, intent.action)
        refusal = _not_yours(result.replies)
        if refusal is not None:  # someone else's check: the clicker alone is told; the owner's card stays as it was
            return message_response(cards.notice_text(refusal))
        if is_shared(ctx) and intent.action.verb not in act.NOTIFICATION_VERBS:
            # a shared card (the topic menu in a channel) stays as it is for everyone else
            if belongs_to_a_check(result.replies):
                await self.private.send(ctx, result.replies, self._send)
                return message_response(moved_line(ctx, await self._language(actor)))
            await self._send(ctx, result.replies)
            return message_response(result.toast or await self._say(actor, DONE))
        await self._send(ctx, result.replies)
        if result.updated_card is not None:
            return card_response(result.updated_card)
        return message_response(result.toast or await self._say(actor, DONE))

    async def _click(self, ctx: TurnContext, actor: Actor, action: act.CardAction) -> ClickResult:
        if action.verb in act.REVIEW_VERBS:
            return await self._review_click(ctx, actor, action)
        session = self.previews.for_click(actor.user_id, action.conversation_id)
        if session is None or _conversation_type(ctx.activity) != "personal":
            return await self._engine_click(ctx, actor, action, self.engine)
        result = await self._engine_click(ctx, actor, action, session.engine)
        return ClickResult(result.updated_card, await self._after_preview(actor, result.replies), result.toast)

    async def _engine_click(
        self, ctx: TurnContext, actor: Actor, action: act.CardAction, engine: Engine
    ) -> ClickResult:
        """A click on a check's card, handled by ``engine`` (the main one, or a person's preview)."""
        delivery = ctx.activity.id
        verb, shown = action.verb, action.shown
        _ = interface(cards.shown_language(shown))  # the clicked card's own words stay in its language
        event: Event
        if verb in act.CASE_VERBS.values():
            return await self._case_click(ctx, actor, action)
        if verb == act.MENU:
            speaker = await self._speaking(actor, engine)
            language = speaker.language or "en"
            menu = engine.menu(speaker)
            toast = interface(language)(HERE_ARE_THE_CHECKS)
            return ClickResult(None, [menu, *self._switch(engine, language)], toast=toast)
        if verb == act.LANGUAGE:
            assert action.language is not None
            event = SetLanguage(action.language, action.conversation_id)
            replies = await self._handle(actor, event, delivery, engine)
            self._remember_language(actor, action.language)
            if not action.conversation_id:  # the card it sat on is not redrawn: nothing follows it in the new language
                return ClickResult(None, replies, toast=f"🌐 {name_of(action.language)}")
            # the clicked card's question (or outcome) follows at once in the new language
            return ClickResult(cards.answered_card(shown, f"🌐 {name_of(action.language)}"), replies)
        if verb == act.START:
            start = Start(flow_id=action.flow_id) if action.flow_id else Start(text=action.text)
            replies = await self._handle(actor, start, delivery, engine)
            title = shown.get("a") or self._flow_title(action.flow_id, engine)
            return ClickResult(cards.answered_card(shown, f"✔ {title or _('Started')}"), replies)
        conversation_id = action.conversation_id
        assert conversation_id is not None
        if verb == act.RESUME:
            replies = await self._call(engine.resume, actor, conversation_id)
            return ClickResult(None, replies, toast=await self._say(actor, CARRYING_ON, engine))
        if verb == act.CHOOSE:
            assert action.state is not None and action.option is not None and action.turn is not None
            event = Choose(conversation_id, action.state, action.option, action.turn)
            replies = await self._handle(actor, event, delivery, engine)
            moved_on = any(isinstance(r, Notice) and r.kind in (NoticeKind.STALE, NoticeKind.INVALID) for r in replies)
            status = (
                _("This question had already moved on; the current one is below.")
                if moved_on
                else cards.chosen_status(shown, action.option)
            )
            return ClickResult(cards.answered_card(shown, status), replies)
        if verb == act.BACK:
            replies = await self._handle(actor, Back(conversation_id), delivery, engine)
            return ClickResult(cards.answered_card(shown, "↩ " + _("You went back to the previous question.")), replies)
        if verb == act.CANCEL:
            replies = await self._handle(actor, Cancel(conversation_id), delivery, engine)
            return ClickResult(cards.answered_card(shown, _("Stopped. Nothing was sent to anyone.")), replies)
        if verb == act.RESTART:
            replies = await self._handle(actor, Restart(conversation_id), delivery, engine)
            return ClickResult(None, replies, toast=await self._say(actor, STARTING_AGAIN, engine))
        if verb == act.ESCALATE:
            replies = await self._handle(actor, ConfirmEscalation(conversation_id, action.text), delivery, engine)
            sent = any(isinstance(r, EscalationSent) for r in replies) or _is_duplicate(replies)
            updated = await self._outcome_card(actor, conversation_id, "sent", engine) if sent else None
            rest: list[Reply] = [r for r in replies if not isinstance(r, EscalationSent)] if updated else replies
            return ClickResult(updated, rest)
        if verb == act.DECLINE:
            replies = await self._handle(actor, DeclineEscalation(conversation_id), delivery, engine)
            updated = await self._outcome_card(actor, conversation_id, "declined", engine)
            return ClickResult(updated, replies)
        return ClickResult(None, [Notice(await self._say(actor, DEAD_BUTTON, engine))])

    def _flow_title(self, flow_id: str | None, engine: Engine) -> str | None:
        choice = engine.menu()
        return next((c.title for c in choice.candidates if c.flow_id == flow_id), None)

    async def _outcome_card(self, actor: Actor, conversation_id: str, state: str, engine: Engine) -> cards.Card | None:
        current = await self._call(engine.resume, actor, conversation_id)
        outcome = next((r for r in current if isinstance(r, Outcome)), None)
        return None if outcome is None else cards.outcome_card(outcome, escalation_state=state)

    async def _case_click(self, ctx: TurnContext, actor: Actor, action: act.CardAction) -> ClickResult:
        if self.cases is None:
            return ClickResult(None, [], toast=await self._say(actor, CASES_OFF))
        name = next(k for k, v in act.CASE_VERBS.items() if v == action.verb)
        assert action.case_id is not None
        language = await self._language(actor)
        click = await self._call(self.cases.act, actor, action.case_id, name, action.text, language)
        if not click.update_card:  # refused or incomplete: the (possibly shared) card stays as it is
            return ClickResult(None, [Notice(click.text)] if ctx.activity.type != "invoke" else [], toast=click.text)
        notification_id = _notification_id(ctx.activity)
        sent = await self._call(self.storage.sent_card, notification_id) if notification_id else None
        previous = sent.card if sent is not None else None
        updated = cards.case_card_after(previous, click.text, keep_actions=not click.closed)
        if name == "acknowledge":
            updated = _without_actions(updated, {"acknowledge"})
        if notification_id and previous is not None:
            await self._call(self.storage.update_sent_card, notification_id, updated)
        return ClickResult(updated, [])

    async def _review_click(self, ctx: TurnContext, actor: Actor, action: act.CardAction) -> ClickResult:
        """Approve or request changes, by the authenticated clicker (the core decides who may).
        The same activity delivered again (Teams retries an invoke it got no answer to) gets the
        first one's answer: the review is applied once."""
        key = ctx.activity.id
        if key:
            earlier = self._review_clicks.get(key)
            if earlier is not None:
                return await asyncio.shield(earlier)
            future: asyncio.Future[ClickResult] = asyncio.get_running_loop().create_future()
            self._review_clicks[key] = future
            while len(self._review_clicks) > REVIEW_CLICKS_REMEMBERED:
                self._review_clicks.popitem(last=False)
        try:
            result = await self._apply_review(ctx, actor, action)
        except BaseException as err:
            if key:
                self._review_clicks.pop(key, None)
                future.set_exception(err)
                future.exception()  # retrieved: a waiting repeat raises it, nobody else is told
            raise
        if key:
            future.set_result(result)
        return result

    async def _apply_review(self, ctx: TurnContext, actor: Actor, action: act.CardAction) -> ClickResult:
        if self.reviews is None:
            return ClickResult(None, [], toast=await self._say(actor, REVIEWS_OFF))
        assert action.case_id is not None
        delivery = f"teams:{ctx.activity.id}" if ctx.activity.id else None
        language = await self._language(actor)
        click = await self._call(
            self.reviews.review, actor, action.case_id, action.verb, action.text, delivery, language
        )
        if not click.update_card:  # refused: only the clicker is told; the card stays as it was
            return ClickResult(None, [Notice(click.text)] if ctx.activity.type != "invoke" else [], toast=click.text)
        notification_id = _notification_id(ctx.activity)
        sent = await self._call(self.storage.sent_card, notification_id) if notification_id else None
        updated = cards.review_card_after(sent.card if sent is not None else None, click.text)
        if notification_id and sent is not None:
            await self._call(self.storage.update_sent_card, notification_id, updated)
        return ClickResult(updated, [])

    # ---- installs and membership ----------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        ctx = turn_context
        await self._remember_person(ctx)
        if _conversation_type(ctx.activity) == "personal":
            await self._send(ctx, await self._welcome(actor_for(ctx.activity)))
        else:
            # a channel or group chat: nobody's language is known, so every offered language
            await self._send(ctx, [Notice(self.engine.speaking.to_everyone(CHANNEL_HELLO))])

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        ctx = turn_context
        keys = self._reference_keys(ctx.activity)
        await self._call(self.storage.forget_person, keys)  # every key for the person, their email's too
        channels = [k for k in keys if k.startswith(("channel:", "team:"))]
        if channels:
            await self._call(self.storage.forget, channels)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        await self._remember_person(turn_context)
        await super().on_conversation_update_activity(turn_context)

    async def _welcome(self, actor: Actor) -> list[cards.Card | LanguageSwitch]:
        """The first card in a new personal chat, in the language Teams says the person uses, with
        the language switch when the bot speaks several."""
        speaker = await self._speaking(actor, self.engine)
        language = speaker.language or "en"
        _ = interface(language)
        welcome = cards.flow_choice_card(
            self.engine.menu(speaker),
            intro=_(
                "Hello! I help with social media decisions at work: whether to post something, how to answer "
                "a comment, friend requests, legal threats and more. Every answer cites the policy. "
                "Pick a situation, or just tell me what's happening."
            ),
            language=language,
        )
        return [welcome, *self._switch(self.engine, language)]

    async def _speaking(self, actor: Actor, engine: Engine) -> Actor:
        """The actor with the language the engine speaks to them in (their choice, their Teams
        locale, or the organisation's default), for the cards the adapter draws itself (menus)."""
        return replace(actor, language=await self._language(actor, engine))

    async def _language(self, actor: Actor, engine: Engine | None = None) -> str:
        """The language the engine speaks to this person in, remembered for an apology."""
        language = await self._call((engine or self.engine).language_of, actor)
        self._remember_language(actor, language)
        return language

    def _remember_language(self, actor: Actor, language: str) -> None:
        self._languages[actor.user_id] = language
        self._languages.move_to_end(actor.user_id)
        while len(self._languages) > LANGUAGES_REMEMBERED:
            self._languages.popitem(last=False)

    async def _say(self, actor: Actor, message: str, engine: Engine | None = None) -> str:
        """One of the adapter's fixed messages in the person's language."""
        return interface(await self._language(actor, engine))(message)

    @staticmethod
    def _switch(engine: Engine, language: str) -> list[LanguageSwitch]:
        """The core's one-tap language switch for a card the adapter draws outside a conversation
        (a menu, the welcome): nothing when the settings offer one language. Its press is
        ``SetLanguage(language, None)``, which the engine answers like any other."""
        speaking = engine.speaking
        return [speaking.switch(language, None)] if speaking.several else []

    # ---- helpers ------------------------------------------------------------------------------

    async def _handle(
        self, actor: Actor, event: Event, delivery_id: str | None, engine: Engine | None = None
    ) -> list[Reply]:
        return await self._call((engine or self.engine).handle, actor, event, delivery_id=delivery_id)

    async def _remember_person(self, ctx: TurnContext) -> None:
        """An install (by the person or by an admin for them) hands us their chat before they ever
        write: file it under the email the roster gives too, since a staff directory may know a
        manager by nothing else."""
        email = await self._email(ctx) if _conversation_type(ctx.activity) == "personal" else None
        await self._remember(ctx, email=email)

    async def _actor(self, ctx: TurnContext) -> Actor:
        """Who is talking (with their email, for the directory), and remember how to reach them."""
        activity = ctx.activity
        email = await self._email(ctx)
        await self._remember(ctx, email=email)
        return actor_for(activity, email)

    async def _email(self, ctx: TurnContext) -> str | None:
        activity = ctx.activity
        user_id = activity.from_property.id
        cached = self._emails.get(user_id)
        if cached is not None and (cached[0] is not None or time.monotonic() - cached[1] < EMAIL_RETRY_SECONDS):
            return cached[0]
        keys = person_keys(teams_id=user_id, aad_id=aad_object_id(activity))
        email = await self._call(self.storage.email_of, keys)
        if email is None:
            try:
                email = await limited(_member_email(ctx, user_id), self.connector_seconds)
            except Exception as err:  # no roster access, emulator, connector down: carry on without
                log.info("teams: could not look up the member's email (%s)", _describe(err))
        self._emails[user_id] = (email, time.monotonic())
        return email

    def _reference_keys(self, activity: Activity, email: str | None = None) -> list[str]:
        keys: list[str] = []
        conversation_type = _conversation_type(activity)
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        if conversation_type == "personal":
            who = activity.from_property
            if who is not None and who.id:
                actor = actor_for(activity)
                keys += person_keys(teams_id=who.id, aad_id=aad_object_id(activity), email=email, user_id=actor.user_id)
        channel = (data.get("channel") or {}).get("id")
        team = (data.get("team") or {}).get("id")
        if channel:
            keys.append(channel_key(channel))
        if team:
            keys.append(f"team:{team}")
        return keys

    async def _remember(self, ctx: TurnContext, email: str | None = None) -> None:
        activity = ctx.activity
        keys = self._reference_keys(activity, email)
        if not keys:
            return
        reference = activity.get_conversation_reference().model_dump(by_alias=True, exclude_none=True, mode="json")
        if _conversation_type(activity) == "channel":  # the channel itself, not this thread
            conversation = dict(reference.get("conversation") or {})
            conversation["id"] = str(conversation.get("id", "")).split(";messageid=")[0]
            reference["conversation"] = conversation
        reference.pop("activityId", None)
        who = activity.from_property
        await self._call(
            self.storage.remember,
            keys,
            reference,
            tenant_id=tenant_id(activity),
            name=getattr(who, "name", None) if _conversation_type(activity) == "personal" else None,
            email=email,
        )

    async def _send(self, ctx: TurnContext, replies: list[Any]) -> None:
        """Render and send replies in order; a throttled send is retried once if the wait is short."""
        for activity in render_activities(replies):
            try:
                await limited(ctx.send_activity(activity), self.connector_seconds)
            except Exception as err:
                failure = failure_of(err, "sending a reply")
                wait = failure.retry_after if failure.retry_after is not None else 1.0
                if failure.permanent or wait > SEND_RETRY_LIMIT_SECONDS:
                    raise
                await asyncio.sleep(wait)
                await limited(ctx.send_activity(activity), self.connector_seconds)

    async def _update_card(self, ctx: TurnContext, activity_id: str, content: cards.Card) -> None:
        update = Activity(
            id=activity_id,
            type=ActivityTypes.message,
            summary=cards.summary_of(content),
            attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=content)],
        )
        try:
            await limited(ctx.update_activity(update), self.connector_seconds)
        except Exception as err:  # the answer is saved; only the old card keeps its buttons
            log.warning("teams: could not update the clicked card (%s, status %s)", _describe(err), status_of(err))


def language_of_replies(replies: list[Any]) -> str:
    """The language a reply set is in (bot.conversation.replies.language_of), English by default."""
    return language_of(replies) or "en"


def render_activities(replies: list[Any]) -> list[Activity]:
    """Engine replies (or ready-made cards) as outgoing activities, in order. The language switch
    (last in a set when several languages are on) joins the last card as a row of buttons, or
    comes as a small card of its own when the set has no card."""
    language = language_of_replies(replies)
    out: list[Activity] = []
    switch: LanguageSwitch | None = None
    last_card: int | None = None
    for reply in replies:
        content: cards.Card | None = None
        if isinstance(reply, LanguageSwitch):
            switch = reply
            continue
        if isinstance(reply, dict):
            content = reply
        elif isinstance(reply, Question):
            content = cards.question_card(reply)
        elif isinstance(reply, Outcome):
            content = cards.outcome_card(reply)
        elif isinstance(reply, FlowChoice):
            content = cards.flow_choice_card(reply, language=language)
        elif isinstance(reply, Explanation):
            content = cards.explanation_card(reply, language)
        elif isinstance(reply, Feedback):
            content = cards.feedback_card(reply, language)
        elif isinstance(reply, EscalationSent):
            content = cards.escalation_sent_card(reply, language)
        elif isinstance(reply, SwitchOffer):
            content = cards.switch_offer_card(reply)
        elif isinstance(reply, Notice):
            text = cards.notice_text(reply)
            out.append(Activity(type=ActivityTypes.message, text=text, summary=cards.preview(text)))
            continue
        else:
            log.warning("teams: no renderer for %s", type(reply).__name__)
            continue
        last_card = len(out)
        out.append(card_activity(content))
    if switch is not None:
        if last_card is not None:
            attachments = out[last_card].attachments or []
            attached = attachments[0].content if attachments else None
            if isinstance(attached, dict):
                out[last_card] = card_activity(cards.with_language_switch(attached, switch))
        else:
            alone = cards.language_switch_card(switch)
            if alone is not None:
                out.append(card_activity(alone))
    return out


def card_activity(content: cards.Card) -> Activity:
    """A message carrying one Adaptive Card, with its preview text (what a notification shows)."""
    return Activity(
        type=ActivityTypes.message,
        summary=cards.summary_of(content),
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=content)],
    )


async def _member_email(ctx: TurnContext, user_id: str) -> str | None:
    """The person's email from the roster (the team's when in a channel, else the chat's)."""
    client = ctx.turn_state.get("ConnectorClient")  # the SDK's connector for this turn
    getter = getattr(client, "get_conversation_member", None)
    if getter is None:
        return None
    data = ctx.activity.channel_data if isinstance(ctx.activity.channel_data, dict) else {}
    team = (data.get("team") or {}).get("id") if isinstance(data.get("team"), dict) else None
    conversation = team or (ctx.activity.conversation.id if ctx.activity.conversation else None)
    if not conversation:
        return None
    member = await getter(conversation, user_id)
    return getattr(member, "email", None) or getattr(member, "user_principal_name", None)


def ended_line(change_id: str, language: str = "en") -> str:
    return interface(language)(PREVIEW_ENDED).format(change=change_id[:8])


def _is_execute(value: Any) -> bool:
    """An invoke value the SDK's adaptive card handler accepts: an Action.Execute with an action."""
    if not isinstance(value, dict) or not isinstance(value.get("action"), dict):
        return False
    if value["action"].get("type") != "Action.Execute":
        return False
    try:
        AdaptiveCardInvokeValue(**value)
    except Exception:
        return False
    return True


def _not_yours(replies: list[Reply]) -> Notice | None:
    return next((r for r in replies if isinstance(r, Notice) and r.kind == NoticeKind.NOT_YOURS), None)


def _is_duplicate(replies: list[Reply]) -> bool:
    return any(isinstance(r, Notice) and r.kind == NoticeKind.DUPLICATE for r in replies)


def _conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    return str(kind or "personal")


def _notification_id(activity: Activity) -> str | None:
    value = activity.value if isinstance(activity.value, dict) else {}
    data = value.get("action", {}).get("data") if isinstance(value.get("action"), dict) else value
    raw = data.get("n") if isinstance(data, dict) else None
    return raw if isinstance(raw, str) else None


def _without_actions(content: cards.Card, names: set[str]) -> cards.Card:
    """The card without the named case buttons, told apart by verb (their titles are translated)."""
    verbs = {act.CASE_VERBS[n] for n in names}
    kept = [a for a in content.get("actions", []) if a.get("verb") not in verbs]
    out = dict(content)
    if kept:
        out["actions"] = kept
    else:
        out.pop("actions", None)
    return out


def _describe(err: BaseException) -> str:
    """A log-safe description: the exception type and its message, never request headers."""
    return f"{type(err).__name__}: {str(err)[:300]}"
