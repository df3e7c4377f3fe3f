"""The ids the Slack adapter puts on buttons, menus, modals and shortcuts, and what their values mean.

A Slack click comes back with only what the button was rendered with, so the button carries the
conversation id, the question's state and the conversation's turn counter: the engine can then
tell a fresh click from a stale one. Values are read defensively (a hand-crafted payload is just
another malformed input): anything that does not decode is refused with a clear notice.

Values carry ids only. Identity never comes from a value: who clicked is the Slack user id that
Slack signs for, mapped through the directory by the core.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Entry points (must match manifest/slack/*.yaml; a test checks).
COMMAND = "/policy"
SHORTCUT = "policy_check"
ENDPOINT_PATH = "/slack/events"

# Conversation buttons.
CHOOSE = "choose"  # "choose:<option index>"
CHOOSE_PATTERN = re.compile(r"^choose:\d+$")
MENU = "question_menu"  # overflow: why / back / restart / cancel
START_FLOW = "start_flow"  # "start_flow:<n>" buttons, or the select in a FlowChoice
START_FLOW_PATTERN = re.compile(r"^start_flow(:(\d+|home))?$")  # home: the Home tab's onboarding button
START_CHECK = "start_check"  # Home tab: open the "what is happening?" modal
CONTINUE = "continue_check"  # Home tab: carry on with an unfinished conversation
NEW_CHECK = "new_check"  # after an outcome: start another
AGAIN = "go_through_again"  # after an outcome: the same check again from its first question
WHY_OUTCOME = "why_outcome"

# Escalation offer on an outcome.
ESCALATE_SEND = "escalate_send"
ESCALATE_NOTE = "escalate_with_note"
ESCALATE_DECLINE = "escalate_decline"

# Case buttons on a notification to a manager or a team channel.
CASE_ACKNOWLEDGE = "case_acknowledge"
CASE_RESOLVE = "case_resolve"
CASE_MESSAGE = "case_message_employee"
CASE_WITHDRAW = "case_withdraw"  # the employee's own case, on the Home tab
CASE_ACTIONS = {"acknowledge": CASE_ACKNOWLEDGE, "resolve": CASE_RESOLVE, "message_employee": CASE_MESSAGE}
CASE_ACTION_PATTERN = re.compile(f"^({CASE_ACKNOWLEDGE}|{CASE_RESOLVE}|{CASE_MESSAGE})$")

# Review buttons on a "change waits for your review" message (bot/publishing/notices.py names them).
APPROVE_CHANGE = "approve_change"
REQUEST_CHANGES = "request_changes"

# Modals.
START_MODAL = "start_check_modal"
REQUEST_CHANGES_MODAL = "request_changes_modal"
NOTE_MODAL = "escalation_note_modal"
CASE_MESSAGE_MODAL = "case_message_modal"

# Overflow menu choices on a question.
MENU_WHY = "why"
MENU_BACK = "back"
MENU_RESTART = "restart"
MENU_CANCEL = "cancel"
MENU_CHOICES = (MENU_WHY, MENU_BACK, MENU_RESTART, MENU_CANCEL)


class BadValue(ValueError):
    """A button or menu value that the adapter did not write (or wrote for an older version)."""


@dataclass(frozen=True)
class ChoiceValue:
    conversation_id: str
    state: str
    turn: int
    option: int

    def encode(self) -> str:
        return json.dumps(
            {"c": self.conversation_id, "s": self.state, "t": self.turn, "o": self.option},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: object) -> ChoiceValue:
        data = _load(raw)
        c, s, t, o = data.get("c"), data.get("s"), data.get("t"), data.get("o")
        if not (isinstance(c, str) and c and isinstance(s, str) and s):
            raise BadValue("choice without conversation or state")
        if not (isinstance(t, int) and isinstance(o, int) and t >= 0 and o >= 0):
            raise BadValue("choice without a valid turn or option")
        return cls(c, s, t, o)


def menu_value(choice: str, conversation_id: str) -> str:
    """Overflow option values are limited to 150 characters: "<choice>|<conversation id>"."""
    return f"{choice}|{conversation_id}"


def decode_menu_value(raw: object) -> tuple[str, str]:
    if not isinstance(raw, str) or "|" not in raw:
        raise BadValue("menu value without a conversation")
    choice, conversation_id = raw.split("|", 1)
    if choice not in MENU_CHOICES or not conversation_id:
        raise BadValue(f"unknown menu choice {choice!r}")
    return choice, conversation_id


def decode_plain_id(raw: object, what: str) -> str:
    """A value that is just an id (a conversation, a case, a flow)."""
    if not isinstance(raw, str) or not raw or len(raw) > 200 or any(ch.isspace() for ch in raw):
        raise BadValue(f"{what} missing or malformed")
    return raw


def _load(raw: object) -> dict[str, object]:
    if not isinstance(raw, str):
        raise BadValue("value is not text")
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise BadValue("value is not JSON") from err
    if not isinstance(data, dict):
        raise BadValue("value is not an object")
    return data


# The language switch under a reply set: "set_language:<code>" buttons, valued "<code>|<conversation id>".
SET_LANGUAGE = "set_language"
SET_LANGUAGE_PATTERN = re.compile(r"^set_language:[a-z]{2,3}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def language_value(language: str, conversation_id: str | None) -> str:
    """The switch's value: the language, and the conversation it was pressed under (may be none)."""
    return f"{language}|{conversation_id or ''}"


def decode_language_value(raw: object) -> tuple[str, str | None]:
    if not isinstance(raw, str) or "|" not in raw or len(raw) > 200:
        raise BadValue("language switch without a language")
    language, conversation_id = raw.split("|", 1)
    if not LANGUAGE_CODE.match(language) or any(ch.isspace() for ch in conversation_id):
        raise BadValue(f"unknown language {language!r}")
    return language, conversation_id or None
