"""Engine events: what a person did, in transport-neutral terms.

Adapters turn a Slack click, a Teams card submit or a typed line into one of these and hand it
to ``Engine.handle``. Nothing here knows about any chat platform.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The person the bot is talking to.

    ``user_id`` is the stable key conversations and cases are filed under. Adapters build it from
    the platform's id (``slack:T1:U2``, ``teams:29:abc``, ``console:alice``); ``email`` lets the
    directory find the person's entry (line manager, roles) whatever platform they came from.
    """

    user_id: str
    display_name: str = ""
    email: str | None = None
    platform: str = "console"
    # The person's language as their platform gives it (Slack's users.info locale, the Teams
    # activity's locale, the terminal's LANG): "cy-GB", "en_GB.UTF-8". Adapters fill it in.
    locale: str | None = None
    # The language the bot speaks to them in this turn (en, cy): set by the engine from their own
    # choice, else ``locale``, else the organisation's default. Adapters leave it empty.
    language: str | None = None


@dataclass(frozen=True)
class Start:
    """Begin a conversation: a named flow, or free text that the router matches to a flow."""

    flow_id: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Choose:
    """A click on an option button.

    ``state`` and ``turn`` are what the button was rendered with; if the conversation has moved
    on since (another click, another device, a new flow version) the click is stale and refused
    politely instead of being applied to the wrong question.
    """

    conversation_id: str
    state: str
    option: int
    turn: int


@dataclass(frozen=True)
class FreeText:
    """Something typed: an option number or words during a conversation, else a new situation."""

    text: str
    conversation_id: str | None = None


@dataclass(frozen=True)
class Back:
    """Undo the last answer and ask that question again."""

    conversation_id: str


@dataclass(frozen=True)
class Restart:
    """Start the same flow again from its first question."""

    conversation_id: str


@dataclass(frozen=True)
class Why:
    """Show the policy paragraphs behind the current question or outcome."""

    conversation_id: str


@dataclass(frozen=True)
class Cancel:
    """Abandon the conversation (kept for statistics as abandoned at its current state)."""

    conversation_id: str


@dataclass(frozen=True)
class ConfirmEscalation:
    """The employee agreed to send an offered escalation, optionally with a short note."""

    conversation_id: str
    note: str | None = None


@dataclass(frozen=True)
class DeclineEscalation:
    """The employee chose not to send an offered escalation."""

    conversation_id: str


@dataclass(frozen=True)
class SetLanguage:
    """The one-tap language switch ("Cymraeg" / "English"): speak ``language`` from now on.

    Remembered for the person; the current question (or outcome) is shown again at once in the
    new language. ``conversation_id`` is the conversation the switch was pressed under, if any.
    """

    language: str
    conversation_id: str | None = None


Event = Start | Choose | FreeText | Back | Restart | Why | Cancel | ConfirmEscalation | DeclineEscalation | SetLanguage
