"""Incoming Teams activities, read into what the person meant.

Teams delivers the same intent in several shapes: typed text in a 1:1 chat; text with an
``<at>Policybot</at>`` mention in a channel or group chat (the mention must go before routing, or
the router would try to match the bot's own name); a command picked from the manifest's command
list (arrives as plain text); a card click as an ``adaptiveCard/action`` invoke; or, from clients
without Universal Actions, a message with the card's data in ``value`` and no text at all.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity

from adapters.teams import actions as act
from bot.conversation.events import Actor

PLATFORM = "teams"

# The manifest's command lists (manifest/teams/manifest.json; a test keeps them in step).
COMMAND_FLOWS = {
    "check a post": "can-i-post",
    "new starter walkthrough": "onboarding",
}
# Typed words for the menu and "my cases", in English and in Welsh (a person speaking Cymraeg
# types Welsh; the bot's language for them does not matter, so both always work).
MENU_WORDS = {"help", "menu", "start", "hi", "hello", "?", "cymorth", "dewislen", "dechrau", "helo", "shwmae"}
CASES_WORDS = {"my cases", "cases", "fy achosion", "achosion"}

_AT_TAG = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_CHANGE_ID = re.compile(r"[0-9a-f]{4,32}")  # a change id or its first characters (bot/publishing)


@dataclass(frozen=True)
class Said:
    """Typed text (mentions removed)."""

    text: str


@dataclass(frozen=True)
class Clicked:
    """A card button, from an invoke or from a Submit message."""

    action: act.CardAction


@dataclass(frozen=True)
class Unreadable:
    """A click whose data we did not write; ``reason`` is for the log, not the person."""

    reason: str


Intent = Said | Clicked | Unreadable


def actor_for(activity: Activity, email: str | None = None) -> Actor:
    """The person: keyed by their Entra object id when Teams gives it (stable across bots and
    chats), else by the Teams user id. ``locale`` is the language of their Teams client
    ("cy-GB"); which language to speak is the core's to decide from it."""
    who = activity.from_property
    aad = aad_object_id(activity)
    key = aad if aad else who.id
    return Actor(
        user_id=f"{PLATFORM}:{key}",
        display_name=who.name or "",
        email=email,
        platform=PLATFORM,
        locale=locale_of(activity),
    )


def locale_of(activity: Activity) -> str | None:
    """The activity's locale, else the one the clientInfo entity carries (older clients)."""
    if isinstance(activity.locale, str) and activity.locale.strip():
        return activity.locale.strip()[:35]
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True) if hasattr(entity, "model_dump") else entity
        if isinstance(data, dict) and data.get("type") == "clientInfo" and isinstance(data.get("locale"), str):
            return str(data["locale"]).strip()[:35] or None
    return None


def aad_object_id(activity: Activity) -> str | None:
    who = activity.from_property
    aad = who.aad_object_id if who is not None else None
    return aad.lower() if aad else None


def tenant_id(activity: Activity) -> str | None:
    conversation = activity.conversation
    tenant = getattr(conversation, "tenant_id", None) if conversation else None
    if tenant:
        return str(tenant)
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    return (data.get("tenant") or {}).get("id")


def intent_of(activity: Activity) -> Intent:
    """Read a message activity: a Submit fallback click, or typed text."""
    value = activity.value
    text = clean_text(activity)
    if value is not None and not text:
        if act.is_ours(value):
            try:
                return Clicked(act.parse(value))
            except act.BadAction as err:
                return Unreadable(str(err))
        return Unreadable("a card submit that this bot did not render")
    return Said(text)


def invoke_intent(value: Any) -> Intent:
    """Read an ``adaptiveCard/action`` invoke's ``value`` ({"action": {"type", "verb", "data"}})."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return Unreadable("the invoke carried no action")
    data = action.get("data")
    if isinstance(data, dict) and "verb" not in data and action.get("verb"):
        data = {**data, "verb": action["verb"]}
    try:
        return Clicked(act.parse(data))
    except act.BadAction as err:
        return Unreadable(str(err))


def clean_text(activity: Activity) -> str:
    """The text without the bot's @mention (the SDK's ``remove_recipient_mention``), any other
    mention tag, markup or extra spaces."""
    if not activity.text:
        return ""
    try:
        text = activity.remove_recipient_mention()
    except (AttributeError, TypeError, ValueError):  # a mention entity the SDK cannot read
        text = activity.text or ""
    text = _AT_TAG.sub(" ", text)  # a mention tag whose entity was missing or differently spelt
    text = html.unescape(_TAG.sub(" ", text))
    return _SPACE.sub(" ", text).strip()


PREVIEW_WORD = "preview"
PREVIEW_END_WORDS = {"end", "stop", "off", "done"}


def command_of(text: str) -> tuple[str, str | None] | None:
    """("start", flow id) for a command-list entry, ("menu", None), ("cases", None),
    ("preview", change id or None), ("preview_end", None), or None."""
    folded = text.strip().lower().rstrip(".!")
    words = folded.split()
    if words and words[0] == PREVIEW_WORD and len(words) <= 2:
        if len(words) == 2 and words[1] in PREVIEW_END_WORDS:
            return "preview_end", None
        if len(words) == 1 or _CHANGE_ID.fullmatch(words[1]):  # "preview this" is someone's situation
            return "preview", words[1] if len(words) == 2 else None
    if folded in COMMAND_FLOWS:
        return "start", COMMAND_FLOWS[folded]
    if folded in MENU_WORDS:
        return "menu", None
    if folded in CASES_WORDS:
        return "cases", None
    return None
