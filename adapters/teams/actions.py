"""What the buttons on our Adaptive Cards carry, and how a click is read back.

A click reaches the bot in one of two shapes: an ``adaptiveCard/action`` invoke (Action.Execute,
``value.action.data``) or, from clients that fall back to Action.Submit, a message with ``value``
and no text. Both carry the same ``data`` object that the card was rendered with, plus any input
values (the escalation note, a message to the employee) merged in by Teams.

Data carries ids and the little needed to redraw the clicked card without its buttons; identity
never comes from data (who clicked is the activity's ``from``, which Teams vouches for). Data is
read defensively: anything we did not write is refused with a clear message, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MARKER = "pb"  # present in every data object we write, so foreign submits are told apart
MARKER_VERSION = 1

# Conversation verbs
CHOOSE = "choose"
BACK = "back"
RESTART = "restart"
CANCEL = "cancel"
START = "start"
MENU = "menu"
RESUME = "resume"
ESCALATE = "escalate"
DECLINE = "decline"
LANGUAGE = "language"  # the one-tap language switch: SetLanguage(language, conversation)
# Case verbs (on a notification to a manager or a team's channel)
CASE_ACKNOWLEDGE = "case_acknowledge"
CASE_RESOLVE = "case_resolve"
CASE_MESSAGE = "case_message"
CASE_VERBS = {"acknowledge": CASE_ACKNOWLEDGE, "resolve": CASE_RESOLVE, "message_employee": CASE_MESSAGE}
# Review verbs (on a "change waiting for your review" card; bot/publishing/notices.py names them)
APPROVE_CHANGE = "approve_change"
REQUEST_CHANGES = "request_changes"
REVIEW_VERBS = {APPROVE_CHANGE, REQUEST_CHANGES}
NOTIFICATION_VERBS = {*CASE_VERBS.values(), *REVIEW_VERBS}  # buttons on a proactive card, not a check

VERBS = {CHOOSE, BACK, RESTART, CANCEL, START, MENU, RESUME, ESCALATE, DECLINE, LANGUAGE, *NOTIFICATION_VERBS}
CONVERSATION_VERBS = {CHOOSE, BACK, RESTART, CANCEL, RESUME, ESCALATE, DECLINE}

NOTE_INPUT = "note"  # Input.Text id on the escalation offer
MESSAGE_INPUT = "message"  # Input.Text id on a case card ("message the employee")
REASON_INPUT = "why"  # Input.Text id on a review card ("request changes": what should change)
NOTE_MAX = 500
MESSAGE_MAX = 1000
REASON_MAX = 1000


class BadAction(ValueError):
    """Data from a click that this adapter did not write, or that is incomplete."""


@dataclass(frozen=True)
class CardAction:
    """A decoded click."""

    verb: str
    conversation_id: str | None = None
    state: str | None = None
    option: int | None = None
    turn: int | None = None
    flow_id: str | None = None
    case_id: str | None = None  # the case, or for a review button the change
    text: str | None = None  # the note or message typed into the card's input
    shown: dict[str, Any] = field(default_factory=dict)  # what to redraw the clicked card with
    language: str | None = None  # the language the switch button asks for (en, cy)


def data(verb: str, **fields: Any) -> dict[str, Any]:
    """The data object for a button; ``None`` values are left out to keep cards small."""
    out: dict[str, Any] = {MARKER: MARKER_VERSION, "verb": verb}
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


def is_ours(value: Any) -> bool:
    return isinstance(value, dict) and value.get(MARKER) == MARKER_VERSION and isinstance(value.get("verb"), str)


def parse(value: Any) -> CardAction:
    """Decode the data of a click; BadAction if it is not something we rendered."""
    if not isinstance(value, dict):
        raise BadAction("the click carried no data")
    if value.get(MARKER) != MARKER_VERSION:
        raise BadAction("the card is from another app or an older version of this bot")
    verb = value.get("verb")
    if verb not in VERBS:
        raise BadAction(f"unknown button {verb!r}")
    conversation_id = _str(value, "c")
    if verb in CONVERSATION_VERBS and not conversation_id:
        raise BadAction("the button does not say which conversation it belongs to")
    option = turn = None
    state = _str(value, "s")
    if verb == CHOOSE:
        option, turn = _int(value, "o"), _int(value, "t")
        if option is None or turn is None or not state or option < 0:
            raise BadAction("the answer button is incomplete")
    flow_id = _str(value, "f")
    words = _input(value, "x", 200) if verb == START else None  # "start the new check" carries the words typed
    if verb == START and not flow_id and not words:
        raise BadAction("the button does not say which check to start")
    case_id = _str(value, "k")
    if verb in CASE_VERBS.values() and not case_id:
        raise BadAction("the button does not say which case it is about")
    if verb in REVIEW_VERBS and not case_id:
        raise BadAction("the button does not say which change it is about")
    language = _str(value, "lg") if verb == LANGUAGE else None
    if verb == LANGUAGE and (not language or len(language) > 8):
        raise BadAction("the language button does not say which language")
    text = words
    if verb == ESCALATE:
        text = _input(value, NOTE_INPUT, NOTE_MAX)
    elif verb == CASE_MESSAGE:
        text = _input(value, MESSAGE_INPUT, MESSAGE_MAX)
    elif verb == REQUEST_CHANGES:
        text = _input(value, REASON_INPUT, REASON_MAX)
    raw_shown = value.get("v")
    shown: dict[str, Any] = raw_shown if isinstance(raw_shown, dict) else {}
    return CardAction(
        verb=verb,
        conversation_id=conversation_id,
        state=state,
        option=option,
        turn=turn,
        flow_id=flow_id,
        case_id=case_id,
        text=text,
        language=language,
        shown={k: v for k, v in shown.items() if isinstance(k, str) and isinstance(v, str | int)},
    )


def _str(value: dict[str, Any], key: str) -> str | None:
    raw = value.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > 200:
        raise BadAction(f"the button's {key!r} is not an id")
    return raw


def _int(value: dict[str, Any], key: str) -> int | None:
    raw = value.get(key)
    if isinstance(raw, bool):
        raise BadAction(f"the button's {key!r} is not a number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():  # some clients send numbers back as text
        return int(raw)
    if raw is None:
        return None
    raise BadAction(f"the button's {key!r} is not a number")


def _input(value: dict[str, Any], key: str, limit: int) -> str | None:
    raw = value.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadAction("the text box sent something that is not text")
    text = raw.strip()
    return text[:limit] or None
