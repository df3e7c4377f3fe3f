"""What a case is, as the service hands it to adapters and the CLI: plain frozen values.

A ``Case`` carries everything a renderer needs (who, which flow, the answers, the advice, the
cited paragraphs, who it went to and why, its history and its deliveries), so an adapter never
queries the store itself and never decides who may see what: the service has already checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.cases.notify import Recipient
from bot.errors import PolicybotError
from bot.language.i18n.wording import Wording

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
WITHDRAWN = "withdrawn"
STATES = (OPEN, ACKNOWLEDGED, RESOLVED, WITHDRAWN)
LIVE = (OPEN, ACKNOWLEDGED)  # still needs someone
CLOSED = (RESOLVED, WITHDRAWN)

SYSTEM_ACTOR = "policybot"  # the actor recorded for what the scheduler does


class UnknownCase(PolicybotError):
    """No case has this id (only raised where the caller may know that: the operator's CLI)."""


@dataclass(frozen=True)
class CaseRecipient:
    """Someone (or a team's channel) a case was sent to, and why."""

    kind: str  # person or channel
    key: str  # directory id, or the target name for a channel
    target: str  # the escalation target this recipient stands for (line_manager, comms, ...)
    round: int  # 0: first recipients; 1, 2, ...: added when nobody acknowledged in time
    name: str
    email: str | None = None
    slack_id: str | None = None
    teams_id: str | None = None
    slack_channel: str | None = None
    teams_channel: str | None = None
    role: str | None = None  # for a channel: the directory role whose members may act for it
    note: str | None = None  # why this recipient, when not the one the flow asked for
    language: str | None = None  # the language their notifications are written in

    def recipient(self) -> Recipient:
        return Recipient(
            kind=self.kind,
            key=self.key,
            name=self.name,
            email=self.email,
            slack_id=self.slack_id,
            teams_id=self.teams_id,
            slack_channel=self.slack_channel,
            teams_channel=self.teams_channel,
            language=self.language,
        )


@dataclass(frozen=True)
class CaseEvent:
    """One step in a case's history: what happened, who did it, when."""

    at: datetime
    action: str
    actor: str
    actor_name: str
    detail: str | None = None


@dataclass(frozen=True)
class DeliveryState:
    """One notification of the case and how its delivery is going."""

    id: str
    kind: str
    recipient: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    failed_at: datetime | None


@dataclass(frozen=True)
class Answered:
    question: str
    answer: str


@dataclass(frozen=True)
class Cited:
    id: str
    policy_title: str
    clause: str
    summary: str


@dataclass(frozen=True)
class Case:
    """A case as stored, with its recipients, history and deliveries."""

    id: str
    state: str
    conversation_id: str
    employee_user_id: str
    employee_key: str | None
    employee_name: str
    employee_recipient: Recipient
    platform: str
    flow_id: str
    flow_version: str
    flow_title: str
    outcome_state: str
    verdict: str
    advice: str
    summary: str
    note: str | None
    answers: tuple[Answered, ...]
    citations: tuple[Cited, ...]
    targets: tuple[str, ...]
    then: tuple[str, ...]
    deadline_seconds: int | None
    deadline_working_hours: bool
    urgency: str
    round: int
    ack_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_by_key: str | None = None
    acknowledged_by_name: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    closed_by_name: str | None = None
    resolution: str | None = None
    recipients: tuple[CaseRecipient, ...] = ()
    events: tuple[CaseEvent, ...] = ()
    deliveries: tuple[DeliveryState, ...] = field(default=())
    # The case's words in each language the bot speaks, rendered from the same answers when it
    # opened: {"cy": {"summary": ..., "flow_title": ...}}; a recipient reads their own language.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def words(self, language: str | None) -> tuple[str, str]:
        """(summary, flow title) in ``language`` when the case has them, else as first written."""
        found = self.translations.get(language or "") or {}
        return found.get("summary", self.summary), found.get("flow_title", self.flow_title)

    @property
    def short_id(self) -> str:
        """The first eight characters: what people read out and type (the CLI accepts any unique prefix)."""
        return self.id[:8]

    @property
    def is_live(self) -> bool:
        return self.state in LIVE

    @property
    def failed_deliveries(self) -> list[DeliveryState]:
        return [d for d in self.deliveries if d.status == "failed"]

    def recipient_names(self) -> list[str]:
        return [r.name for r in self.recipients]


@dataclass(frozen=True)
class CaseResult:
    """What an action did: the case as it is now, whether this action changed it, and what to say.

    ``changed`` is False when the action had already been done (a double click, a platform
    retry, a second manager acknowledging): the adapter shows ``words`` in the clicker's language
    (``message_in``) and the current case; ``message`` is the English, for the terminal and logs.
    """

    case: Case
    changed: bool
    words: Wording

    @property
    def message(self) -> str:
        return str(self.words)

    def message_in(self, language: str | None) -> str:
        return self.words.said_in(language)
