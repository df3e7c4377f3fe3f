"""The notifier port: how a case notification leaves the core.

The outbox (in the store) holds one row per notification and calls a ``Notifier`` until it
succeeds. Each adapter supplies one: Slack posts a DM or a channel message, Teams sends a
proactive card, the terminal prints what would be sent. Delivery is at least once, so every
notification carries a stable ``id`` that the receiving side uses to show it only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Recipient:
    """Where a notification goes: a person from the directory, or a team's channel.

    Only the fields the adapter needs are filled: a Slack adapter uses ``slack_id`` or
    ``slack_channel``, a Teams adapter ``teams_id`` or ``teams_channel``, any adapter may fall
    back to ``email`` to look the person up.
    """

    kind: str  # "person" or "channel"
    key: str  # directory id of the person, or the escalation target name for a channel
    name: str
    email: str | None = None
    slack_id: str | None = None
    teams_id: str | None = None
    slack_channel: str | None = None
    teams_channel: str | None = None
    language: str | None = None  # what the notification is written in: en, cy (None: English)


@dataclass(frozen=True)
class Notification:
    """One message about a case, to one recipient.

    ``kind`` says what happened: ``case_opened`` (to a target, with actions), ``reminder`` and
    ``re_escalated`` (nobody acknowledged in time), ``acknowledged`` / ``resolved`` /
    ``withdrawn`` (progress, to the employee), ``message`` (a free message between the two),
    ``delivery_failed`` (to comms, when another notification could not be delivered).
    ``actions`` are the buttons to show: ``acknowledge``, ``resolve``, ``message_employee``.
    """

    id: str
    case_id: str
    kind: str
    recipient: Recipient
    title: str
    text: str
    actions: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value) rows: employee, flow, answers...
    urgency: str = "normal"  # "normal" or "urgent"
    # Set when an earlier attempt may have reached the platform (it timed out, or its worker died
    # before recording the answer): the notifier should look for it from then on before posting
    # again, where the platform lets it look (Slack: message metadata; docs/escalations.md).
    maybe_delivered_since: datetime | None = None


class DeliveryFailed(Exception):
    """The platform refused or did not answer; the outbox will retry.

    ``retry_after`` is the platform's own hint in seconds (Slack's and the Bot Connector's 429
    Retry-After), honoured instead of the outbox's backoff when given. ``permanent`` means retrying
    cannot help (the channel does not exist, the bot was removed): the outbox stops and reports it.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class Notifier(Protocol):
    """Delivers one notification or raises DeliveryFailed. Must be safe to call again with the
    same ``Notification.id`` (the outbox retries after timeouts whose outcome it cannot know);
    when ``maybe_delivered_since`` is set, a notifier that can check whether the platform already
    has the notification does so, and returns without posting it again."""

    def deliver(self, notification: Notification) -> None: ...
