"""Checks started in a channel or group chat continue in the person's own chat with the bot.

A check is about one person's situation, and some are sensitive (a legal threat, a safeguarding
concern): none of it is walked through, or even previewed, where colleagues can read it. So when
someone @mentions the bot in a channel or group chat, or clicks a shared card there, everything the
core answers that belongs to a check (questions, outcomes, the topic menu, "Understood: …") goes to
their personal chat, and the shared chat only hears a neutral line naming no topic. Notices with
nothing personal in them ("Your cases are private: message me directly") stay where they were asked.

The personal chat is the reference stored when the person installed the app or last wrote to the
bot; if there is none, a 1:1 chat is created with their Teams id (possible because the app is in
the team or chat they wrote from), and its reference is stored for next time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_agents.activity import ConversationParameters, ConversationReference
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import AuthenticationConstants

from adapters.teams.inbound import aad_object_id, actor_for, tenant_id
from adapters.teams.storage import TeamsStorage, person_keys
from bot.conversation.replies import Notice
from bot.language.i18n.catalog import N_, interface

log = logging.getLogger("policybot.teams")

SHARED_CHATS = ("channel", "groupchat")
TEAMS_CHANNEL_ID = "msteams"


def is_shared(ctx: TurnContext) -> bool:
    conversation = ctx.activity.conversation
    kind = (conversation.conversation_type if conversation else None) or "personal"
    return kind.lower() in SHARED_CHATS


def belongs_to_a_check(replies: list[Any]) -> bool:
    """Anything but a plain notice is part of someone's check (cards: questions, outcomes, menus)."""
    return any(not isinstance(reply, Notice) for reply in replies)


MOVED = N_("{name}, I've sent you a private message to carry on with this.")
MOVED_NO_NAME = N_("I've sent you a private message to carry on with this.")


def moved_line(ctx: TurnContext, language: str | None = None) -> str:
    """The neutral line left in the shared chat, in the language the bot speaks to the person."""
    name = (ctx.activity.from_property.name or "").split(" ")[0] if ctx.activity.from_property else ""
    _ = interface(language)
    return _(MOVED).format(name=name) if name else _(MOVED_NO_NAME)


Send = Callable[[TurnContext, list[Any]], Awaitable[None]]


class PrivateChats:
    """Sends a person's replies to their personal chat with the bot, from a turn elsewhere."""

    def __init__(self, storage: TeamsStorage, call: Callable[..., Awaitable[Any]], *, app_id: str = "") -> None:
        self.storage = storage
        self.call = call  # runs a blocking storage call off the loop (TeamsBot._call)
        self.app_id = app_id

    async def send(self, ctx: TurnContext, replies: list[Any], send: Send) -> None:
        activity = ctx.activity
        who = activity.from_property
        keys = person_keys(teams_id=who.id if who else None, aad_id=aad_object_id(activity))
        stored = await self.call(self.storage.find, keys)

        async def deliver(private: TurnContext) -> None:
            await send(private, replies)

        if stored is not None:
            reference = ConversationReference.model_validate(stored.reference)
            await ctx.adapter.continue_conversation(self.app_id, reference.get_continuation_activity(), deliver)
            return
        await self._create(ctx, deliver)

    async def _create(self, ctx: TurnContext, deliver: Callable[[TurnContext], Awaitable[None]]) -> None:
        activity = ctx.activity
        tenant = tenant_id(activity)
        bot = activity.recipient.model_dump(by_alias=True, exclude_none=True) if activity.recipient else {}
        user = activity.from_property.model_dump(by_alias=True, exclude_none=True) if activity.from_property else {}
        fields: dict[str, Any] = {
            "isGroup": False,
            "bot": bot,
            "members": [{"id": user.get("id")}],
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}} if tenant else None,
        }
        parameters = ConversationParameters.model_validate({k: v for k, v in fields.items() if v is not None})
        created: dict[str, str] = {}

        async def first_turn(private: TurnContext) -> None:
            created["id"] = private.activity.conversation.id if private.activity.conversation else ""
            await deliver(private)

        await ctx.adapter.create_conversation(
            self.app_id,
            TEAMS_CHANNEL_ID,
            activity.service_url,
            AuthenticationConstants.AGENTS_SDK_SCOPE,
            parameters,
            first_turn,
        )
        if not created.get("id"):
            return
        reference = {
            "bot": bot,
            "user": user,
            "channelId": TEAMS_CHANNEL_ID,
            "serviceUrl": activity.service_url,
            "conversation": {
                "id": created["id"],
                "conversationType": "personal",
                **({"tenantId": tenant} if tenant else {}),
            },
        }
        actor = actor_for(activity)
        keys = person_keys(
            teams_id=user.get("id"), aad_id=aad_object_id(activity), email=actor.email, user_id=actor.user_id
        )
        await self.call(self.storage.remember, keys, reference, tenant_id=tenant, name=user.get("name"))
        log.info("teams: opened a personal chat to continue a check started in a shared chat")
