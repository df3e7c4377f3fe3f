"""The words of every case notification, in one place.

Adapters render a Notification (title, text, facts, actions) as a Slack message, a Teams card or
terminal text; what it says is decided here, once, for every platform. The text a recipient
first receives is the case summary itself: exactly what the employee was shown as "this is what
will be sent" (with their note), so nothing is added behind their back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.cases.model import Case, CaseRecipient
from bot.cases.notify import Notification, Recipient
from bot.cases.working_hours import WorkingHours, describe_duration
from bot.language.flow_model import Duration
from bot.language.verdicts import Verdict

CASE_OPENED = "case_opened"
REMINDER = "reminder"
RE_ESCALATED = "re_escalated"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
WITHDRAWN = "withdrawn"
MESSAGE = "message"
DELIVERY_FAILED = "delivery_failed"

ACT_ACTIONS = ["acknowledge", "resolve", "message_employee"]


def _id() -> str:
    return uuid.uuid4().hex


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


class Composer:
    """Builds notifications; knows the org's timezone so deadlines read as local times."""

    def __init__(self, hours: WorkingHours) -> None:
        self.hours = hours

    def local(self, when: datetime | None) -> str:
        if when is None:
            return ""
        return when.astimezone(self.hours.timezone).strftime("%a %d %b %Y %H:%M %Z")

    def deadline_text(self, case: Case) -> str:
        if case.deadline_seconds is None:
            return ""
        return describe_duration(Duration(case.deadline_seconds, case.deadline_working_hours))

    def _facts(self, case: Case, recipient: CaseRecipient | None = None) -> list[tuple[str, str]]:
        facts = [
            ("Employee", case.employee_name),
            ("Situation", case.flow_title),
            ("Advice given", _headline(case.verdict)),
            ("Case", case.short_id),
        ]
        if case.state == "open" and case.ack_due_at is not None:
            facts.append(("Please acknowledge by", self.local(case.ack_due_at)))
        if recipient is not None and recipient.note:
            facts.append(("Why you", recipient.note))
        return facts

    def _urgent(self, case: Case, title: str) -> str:
        return f"URGENT: {title}" if case.urgency == "urgent" else title

    # -- to the people a case is sent to -----------------------------------------------------
    def case_opened(self, case: Case, recipient: CaseRecipient) -> Notification:
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=CASE_OPENED,
            recipient=recipient.recipient(),
            title=self._urgent(case, f"{case.employee_name} needs you: {case.flow_title}"),
            text=case.summary,
            actions=list(ACT_ACTIONS),
            facts=self._facts(case, recipient),
            urgency=case.urgency,
        )

    def re_escalated(self, case: Case, recipient: CaseRecipient, earlier: list[str]) -> Notification:
        waited = self.deadline_text(case)
        lead = (
            f"This was sent to {_names(earlier)} on {self.local(case.created_at)} and nobody acknowledged it "
            f"within {waited}, so it now comes to you as well."
        )
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=RE_ESCALATED,
            recipient=recipient.recipient(),
            title=self._urgent(case, f"Nobody has picked this up: {case.employee_name}, {case.flow_title}"),
            text=f"{lead}\n\n{case.summary}",
            actions=list(ACT_ACTIONS),
            facts=self._facts(case, recipient),
            urgency=case.urgency,
        )

    def reminder(self, case: Case, recipient: CaseRecipient, added: list[str]) -> Notification:
        lead = f"Nobody has acknowledged this case since it was sent on {self.local(case.created_at)}."
        if added:
            lead += f" It has now also gone to {_names(added)}."
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=REMINDER,
            recipient=recipient.recipient(),
            title=self._urgent(case, f"Reminder: {case.employee_name} is still waiting ({case.flow_title})"),
            text=f"{lead}\n\n{case.summary}",
            actions=list(ACT_ACTIONS),
            facts=self._facts(case, recipient),
            urgency=case.urgency,
        )

    def withdrawn(self, case: Case, recipient: CaseRecipient) -> Notification:
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=WITHDRAWN,
            recipient=recipient.recipient(),
            title=f"Withdrawn: {case.employee_name}, {case.flow_title}",
            text=f"{case.employee_name} withdrew this case, so nothing more is needed from you.",
            facts=self._facts(case),
            urgency="normal",
        )

    # -- to the employee ----------------------------------------------------------------------
    def passed_on(self, case: Case, added: list[str]) -> Notification:
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=RE_ESCALATED,
            recipient=case.employee_recipient,
            title="Your case has been passed on",
            text=(
                f'Nobody picked up your case about "{case.flow_title}" within {self.deadline_text(case)}, '
                f"so it has now also gone to {_names(added)}."
            ),
            facts=[("Case", case.short_id)],
            urgency=case.urgency,
        )

    def acknowledged(self, case: Case, by: str) -> Notification:
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=ACKNOWLEDGED,
            recipient=case.employee_recipient,
            title=f"{by} has picked up your case",
            text=f'{by} has acknowledged your case about "{case.flow_title}" and will be in touch.',
            facts=[("Case", case.short_id)],
            urgency="normal",
        )

    def resolved(self, case: Case, by: str, note: str | None) -> Notification:
        text = f'{by} has marked your case about "{case.flow_title}" as resolved.'
        if note:
            text += f"\n\nThey wrote: {note}"
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=RESOLVED,
            recipient=case.employee_recipient,
            title="Your case is resolved",
            text=text,
            facts=[("Case", case.short_id)],
            urgency="normal",
        )

    # -- between the two -----------------------------------------------------------------------
    def message(self, case: Case, to: Recipient, sender: str, text: str, *, to_employee: bool) -> Notification:
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=MESSAGE,
            recipient=to,
            title=f"Message from {sender} about " + ("your case" if to_employee else f"{case.employee_name}'s case"),
            text=text,
            actions=[] if to_employee or not case.is_live else ["acknowledge", "resolve", "message_employee"],
            facts=[("Case", case.short_id), ("Situation", case.flow_title)],
            urgency="normal",
        )

    # -- to the comms team, when something could not be delivered ------------------------------
    def delivery_failed(
        self, case: Case, to: CaseRecipient, failed: Notification, reason: str, attempts: int
    ) -> Notification:
        text = (
            f"policybot could not deliver a message to {failed.recipient.name} about {case.employee_name}'s case "
            f"({case.flow_title}) after {attempts} attempt(s). The last error was: {reason}\n"
            "Please make sure they know, or deal with the case yourselves."
        )
        if failed.kind in (CASE_OPENED, REMINDER, RE_ESCALATED):
            text += f"\n\nWhat they should have received:\n{case.summary}"
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=DELIVERY_FAILED,
            recipient=to.recipient(),
            title=f"Not delivered: {failed.title}",
            text=text,
            actions=list(ACT_ACTIONS) if case.is_live else [],
            facts=[*self._facts(case), ("Not delivered to", failed.recipient.name)],
            urgency=case.urgency,
        )


def _headline(verdict: str) -> str:
    try:
        return Verdict(verdict).headline
    except ValueError:
        return verdict
