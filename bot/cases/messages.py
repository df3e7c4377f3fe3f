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
from bot.language.i18n.catalog import in_words, interface
from bot.language.i18n.languages import ENGLISH, join_names
from bot.language.verdicts import Verdict

# Each notification is written in its recipient's language (``Recipient.language``, from the
# directory's ``language:``; the employee's is the language they used). The case's summary and
# title are the ones rendered in that language when the case opened (``Case.words``); the
# employee's note and any message between the two are passed on exactly as written.

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


def names_in_words(names: list[str], language: str | None = None) -> str:
    """ "A, B and C" in ``language``."""
    if len(names) <= 1:
        return "".join(names)
    _ = interface(language)
    # Translators: the word that joins the last two names of a list ("A, B and C")
    return join_names(names, language, _("and"))


class Composer:
    """Builds notifications; knows the org's timezone so deadlines read as local times."""

    def __init__(self, hours: WorkingHours) -> None:
        self.hours = hours

    def local(self, when: datetime | None, language: str | None = None) -> str:
        if when is None:
            return ""
        local = when.astimezone(self.hours.timezone)
        if language in (None, ENGLISH):
            return local.strftime("%a %d %b %Y %H:%M %Z")
        from babel.dates import format_datetime  # CLDR's day and month names for the language

        return f"{format_datetime(local, 'EEE d MMM y HH:mm', locale=language)} {local.strftime('%Z')}"

    def deadline_text(self, case: Case, language: str | None = None) -> str:
        if case.deadline_seconds is None:
            return ""
        return in_words(describe_duration(Duration(case.deadline_seconds, case.deadline_working_hours)), language)

    def _facts(
        self, case: Case, recipient: CaseRecipient | None = None, language: str | None = None
    ) -> list[tuple[str, str]]:
        _ = interface(language)
        _summary, title = case.words(language)
        facts = [
            (_("Employee"), case.employee_name),
            (_("Situation"), title),
            (_("Advice given"), _headline(case.verdict, language)),
            (_("Case"), case.short_id),
        ]
        if case.state == "open" and case.ack_due_at is not None:
            facts.append((_("Please acknowledge by"), self.local(case.ack_due_at, language)))
        if recipient is not None and recipient.note:
            facts.append((_("Why you"), recipient.note))
        return facts

    def _urgent(self, case: Case, title: str, language: str | None = None) -> str:
        _ = interface(language)
        return _("URGENT: {title}").format(title=title) if case.urgency == "urgent" else title

    # -- to the people a case is sent to -----------------------------------------------------
    def case_opened(self, case: Case, recipient: CaseRecipient) -> Notification:
        language = recipient.language
        _ = interface(language)
        summary, title = case.words(language)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=CASE_OPENED,
            recipient=recipient.recipient(),
            title=self._urgent(
                case, _("{name} needs you: {title}").format(name=case.employee_name, title=title), language
            ),
            text=summary,
            actions=list(ACT_ACTIONS),
            facts=self._facts(case, recipient, language),
            urgency=case.urgency,
        )

    def re_escalated(self, case: Case, recipient: CaseRecipient, earlier: list[str]) -> Notification:
        language = recipient.language
        _ = interface(language)
        summary, title = case.words(language)
        lead = _(
            "This was sent to {earlier} on {when} and nobody acknowledged it within {waited}, "
            "so it now comes to you as well."
        ).format(
            earlier=names_in_words(earlier, language),
            when=self.local(case.created_at, language),
            waited=self.deadline_text(case, language),
        )
        heading = _("Nobody has picked this up: {name}, {title}").format(name=case.employee_name, title=title)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=RE_ESCALATED,
            recipient=recipient.recipient(),
            title=self._urgent(case, heading, language),
            text=f"{lead}\n\n{summary}",
            actions=list(ACT_ACTIONS),
            facts=self._facts(case, recipient, language),
            urgency=case.urgency,
        )

    def reminder(self, case: Case, recipient: CaseRecipient, added: list[str]) -> Notification:
        language = recipient.language
        _ = interface(language)
        summary, title = case.words(language)
        lead = _("Nobody has acknowledged this case since it was sent on {when}.").format(
            when=self.local(case.created_at, language)
        )
        if added:
            lead += " " + _("It has now also gone to {names}.").format(names=names_in_words(added, language))
        heading = _("Reminder: {name} is still waiting ({title})").format(name=case.employee_name, title=title)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=REMINDER,
            recipient=recipient.recipient(),
            title=self._urgent(case, heading, language),
            text=f"{lead}\n\n{summary}",
            actions=list(ACT_ACTIONS),
            facts=self._facts(case, recipient, language),
            urgency=case.urgency,
        )

    def withdrawn(self, case: Case, recipient: CaseRecipient) -> Notification:
        language = recipient.language
        _ = interface(language)
        _summary, title = case.words(language)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=WITHDRAWN,
            recipient=recipient.recipient(),
            title=_("Withdrawn: {name}, {title}").format(name=case.employee_name, title=title),
            text=_("{name} withdrew this case, so nothing more is needed from you.").format(name=case.employee_name),
            facts=self._facts(case, language=language),
            urgency="normal",
        )

    # -- to the employee ----------------------------------------------------------------------
    def passed_on(self, case: Case, added: list[str]) -> Notification:
        language = case.employee_recipient.language
        _ = interface(language)
        _summary, title = case.words(language)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=RE_ESCALATED,
            recipient=case.employee_recipient,
            title=_("Your case has been passed on"),
            text=_(
                'Nobody picked up your case about "{title}" within {waited}, so it has now also gone to {names}.'
            ).format(title=title, waited=self.deadline_text(case, language), names=names_in_words(added, language)),
            facts=[(_("Case"), case.short_id)],
            urgency=case.urgency,
        )

    def acknowledged(self, case: Case, by: str) -> Notification:
        language = case.employee_recipient.language
        _ = interface(language)
        _summary, title = case.words(language)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=ACKNOWLEDGED,
            recipient=case.employee_recipient,
            title=_("{by} has picked up your case").format(by=by),
            text=_('{by} has acknowledged your case about "{title}" and will be in touch.').format(by=by, title=title),
            facts=[(_("Case"), case.short_id)],
            urgency="normal",
        )

    def resolved(self, case: Case, by: str, note: str | None) -> Notification:
        language = case.employee_recipient.language
        _ = interface(language)
        _summary, title = case.words(language)
        text = _('{by} has marked your case about "{title}" as resolved.').format(by=by, title=title)
        if note:
            text += "\n\n" + _("They wrote:") + f" {note}"
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=RESOLVED,
            recipient=case.employee_recipient,
            title=_("Your case is resolved"),
            text=text,
            facts=[(_("Case"), case.short_id)],
            urgency="normal",
        )

    # -- between the two -----------------------------------------------------------------------
    def message(self, case: Case, to: Recipient, sender: str, text: str, *, to_employee: bool) -> Notification:
        language = to.language
        _ = interface(language)
        _summary, title = case.words(language)
        if to_employee:
            heading = _("Message from {sender} about your case").format(sender=sender)
        else:
            heading = _("Message from {sender} about {name}'s case").format(sender=sender, name=case.employee_name)
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=MESSAGE,
            recipient=to,
            title=heading,
            text=text,
            actions=[] if to_employee or not case.is_live else ["acknowledge", "resolve", "message_employee"],
            facts=[(_("Case"), case.short_id), (_("Situation"), title)],
            urgency="normal",
        )

    # -- to the comms team, when something could not be delivered ------------------------------
    def delivery_failed(
        self, case: Case, to: CaseRecipient, failed: Notification, reason: str, attempts: int
    ) -> Notification:
        language = to.language
        _ = interface(language)
        summary, title = case.words(language)
        text = _(
            "policybot could not deliver a message to {recipient} about {name}'s case ({title}) after {attempts} "
            "attempt(s). The last error was: {reason}\nPlease make sure they know, or deal with the case yourselves."
        ).format(
            recipient=failed.recipient.name, name=case.employee_name, title=title, attempts=attempts, reason=reason
        )
        if failed.kind in (CASE_OPENED, REMINDER, RE_ESCALATED):
            text += "\n\n" + _("What they should have received:") + f"\n{summary}"
        return Notification(
            id=_id(),
            case_id=case.id,
            kind=DELIVERY_FAILED,
            recipient=to.recipient(),
            title=_("Not delivered: {title}").format(title=failed.title),
            text=text,
            actions=list(ACT_ACTIONS) if case.is_live else [],
            facts=[*self._facts(case, language=language), (_("Not delivered to"), failed.recipient.name)],
            urgency=case.urgency,
        )


def _headline(verdict: str, language: str | None = None) -> str:
    try:
        return Verdict(verdict).headline_in(language)
    except ValueError:
        return verdict
