"""What leaves the engine when an outcome escalates, and the ports that take it from there.

The engine builds a ``CaseDraft`` and hands it to a ``CaseOpener`` inside the same database
transaction that finishes the conversation, so a case is never opened for a turn that did not
commit, and a committed escalating turn always has its case. The case lifecycle itself (outbox,
re-escalation, acknowledgement) lives behind that port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.conversation.events import Actor
from bot.conversation.replies import AnswerView, CitationView, group_citations
from bot.language.flow_model import Duration
from bot.language.i18n.catalog import interface
from bot.language.i18n.languages import join_names
from bot.language.verdicts import Verdict

if TYPE_CHECKING:  # a type only: `policybot paths` reads this module and needs no database
    from sqlalchemy import Connection


@dataclass(frozen=True)
class CaseDraft:
    """Everything a case records about the conversation that opened it."""

    conversation_id: str
    employee: Actor
    flow_id: str
    flow_version: str
    flow_title: str
    outcome_state: str
    verdict: Verdict
    advice: str
    answers: tuple[AnswerView, ...]
    citations: tuple[CitationView, ...]
    targets: tuple[str, ...]
    then: tuple[str, ...]
    deadline: Duration | None
    urgency: str
    summary: str
    note: str | None = None
    # The summary and title in each other language the bot speaks, rendered from the same answers
    # (the note stays as the employee wrote it): {"cy": {"summary": ..., "flow_title": ...}}.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


class CaseOpener(Protocol):
    def open_case(self, conn: Connection, draft: CaseDraft) -> str:
        """Record the case and queue its first notifications; return the case id."""
        ...

    def first_recipients(self, conn: Connection, case_id: str) -> list[str]:
        """Who the case actually went to (names), which can differ from the flow's targets: an
        employee with no line manager on file goes to the comms team instead."""
        ...

    def recipients_for(self, employee: Actor, targets: tuple[str, ...]) -> list[str]:
        """Who a case for these targets would go to first (names), worked out before anything is
        sent, by the same rules ``open_case`` uses: what the consent question and advice name."""
        ...


class PeopleDirectory(Protocol):
    """Who a chat user is in the organisation: name, manager, roles (for templates and targets)."""

    def describe(self, actor: Actor) -> dict[str, Any]:
        """The ``user`` that templates see: id, name, first_name, email, manager_name, roles, platform."""
        ...


class NoDirectory:
    """Used when no directory file is configured: the person is known only by what the chat says."""

    def describe(self, actor: Actor) -> dict[str, Any]:
        name = actor.display_name or actor.user_id
        return {
            "id": actor.user_id,
            "name": name,
            "first_name": name.split()[0] if name.split() else name,
            "email": actor.email,
            "manager_name": None,
            "roles": [],
            "platform": actor.platform,
        }


def escalation_context(recipients: list[str], language: str | None = None) -> dict[str, Any]:
    """What templates see as ``escalation``: ``to``, who this outcome's case goes to first, in
    words ("Dev Patel", "the Communications team and Legal Services"); "" where none escalates.

    Advice that says "the bot has sent the details to {{ escalation.to }}" is then true whoever
    the case really reaches (with no line manager on file, the comms team).
    """
    if len(recipients) <= 1:
        return {"to": "".join(recipients)}
    _ = interface(language)
    # Translators: the word that joins the last two names of a list ("A, B and C")
    return {"to": join_names(recipients, language, _("and"))}


def default_summary(
    employee_name: str,
    flow_title: str,
    verdict: Verdict,
    answers: tuple[AnswerView, ...],
    citations: tuple[CitationView, ...],
    note: str | None,
    language: str | None = None,
) -> str:
    """The text a recipient gets when the flow gives no summary template of its own (``answers``
    and ``citations`` already in ``language``; the note stays as the employee wrote it)."""
    _ = interface(language)
    lines = [
        _('{name} used the policy check "{title}" and was told: {verdict}.').format(
            name=employee_name, title=flow_title, verdict=verdict.headline_in(language)
        )
    ]
    if answers:
        lines.append(_("Their answers:"))
        lines += [f"- {a.question} {a.answer}" for a in answers]
    if citations:
        # each policy named once, each clause once
        cited = [f"{g.policy_title}, {', '.join(c.label for c in g.clauses)}" for g in group_citations(citations)]
        lines.append(_("Policy:") + " " + "; ".join(cited))
    if note:
        lines.append(_("Their note:") + f" {note}")
    return "\n".join(lines)
