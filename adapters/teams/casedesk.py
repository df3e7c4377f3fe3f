"""What the buttons on a Teams case card do, through the core's case service.

The case service checks every action against the staff directory (the person clicking must be a
recipient of the case, or in the team it went to); the card only carries the case id, never who
may act. A refusal leaves the card as it is for everyone else (a channel card is shared), and the
clicker is told why; an action already taken by someone else redraws the card with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.model import Case
from bot.cases.service import CaseService
from bot.conversation.events import Actor
from bot.errors import NotAllowed, PolicybotError
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.wording import said_in

WRITE_FIRST = N_("Write a message first, then press Send.")
DEAD_BUTTON = N_("That button does nothing any more.")
NOT_SENT_TO_YOU = N_("Only the people this case was sent to can act on it.")


@dataclass(frozen=True)
class CaseClick:
    """The answer to a click on a case card."""

    text: str  # what to show
    update_card: bool  # redraw the card with ``text`` as its status line
    closed: bool = False  # the case is over: no buttons left


class TeamsCaseDesk:
    def __init__(self, service: CaseService) -> None:
        self.service = service

    def act(self, actor: Actor, case_id: str, action: str, text: str | None, language: str | None = None) -> CaseClick:
        """Apply a click. Every sentence back is in the language of the clicker's case cards (the
        case service's ``case_language``), else in ``language``, the one the bot speaks to them."""
        language = self.service.case_language(actor) or language
        _ = interface(language)
        try:
            if action == "acknowledge":
                result = self.service.acknowledge(case_id, actor)
            elif action == "resolve":
                result = self.service.resolve(case_id, actor)
            elif action == "message_employee":
                if not text:
                    return CaseClick(_(WRITE_FIRST), update_card=False)
                result = self.service.message_employee(case_id, actor, text)
            else:
                return CaseClick(_(DEAD_BUTTON), update_card=False)
        except NotAllowed as err:
            return CaseClick(said_in(err, language) or _(NOT_SENT_TO_YOU), update_card=False)
        except PolicybotError as err:  # unknown case, empty or too long message: say so, change nothing
            return CaseClick(said_in(err, language), update_card=False)
        return CaseClick(result.message_in(language), update_card=True, closed=not result.case.is_live)

    def summary_for(self, actor: Actor) -> tuple[list[Case], list[Case]]:
        """(the person's own cases, live cases waiting for them), for "my cases"."""
        return self.service.cases_for(actor, limit=10), self.service.waiting_for(actor, limit=10)
