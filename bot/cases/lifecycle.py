"""The case lifecycle: open -> acknowledged -> resolved, or withdrawn by the employee.

Each action names the states it may start from and the state it leads to. The service applies
it with a conditional UPDATE on the current state, so two people clicking at once cannot both
win, and a repeat (double click, platform retry) changes nothing and says what already happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.cases.model import ACKNOWLEDGED, OPEN, RESOLVED, WITHDRAWN, Case
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.wording import Wording

ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
WITHDRAW = "withdraw"

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    ACKNOWLEDGE: (frozenset({OPEN}), ACKNOWLEDGED),
    RESOLVE: (frozenset({OPEN, ACKNOWLEDGED}), RESOLVED),
    WITHDRAW: (frozenset({OPEN, ACKNOWLEDGED}), WITHDRAWN),
}


def can(action: str, state: str) -> bool:
    return state in TRANSITIONS[action][0]


def leads_to(action: str) -> str:
    return TRANSITIONS[action][1]


# A time in words, in a language (MessageComposer.local: the organisation's timezone).
TimeInWords = Callable[[datetime | None, str | None], str]


def when(at: datetime | None, language: str | None = None) -> str:
    return at.strftime("%d %b %Y %H:%M UTC") if at else "an unknown time"


def why_unchanged(action: str, case: Case, fmt: TimeInWords = when) -> Wording:
    """Why ``action`` did nothing on ``case``, in words for the person who clicked."""
    if case.state == RESOLVED:
        return Wording(
            N_("This case was already resolved by {name} on {when}."),
            {"name": case.closed_by_name or "", "when": partial(fmt, case.closed_at)},
        )
    if case.state == WITHDRAWN:
        return Wording(
            N_("{name} withdrew this case on {when}, so nothing more is needed."),
            {"name": case.employee_name, "when": partial(fmt, case.closed_at)},
        )
    if case.state == ACKNOWLEDGED and action == ACKNOWLEDGE:
        return Wording(
            N_("{name} already picked this case up on {when}."),
            {"name": case.acknowledged_by_name or "", "when": partial(fmt, case.acknowledged_at)},
        )
    # the state's word is the catalogue's ("open", "acknowledged"), as the case status lines use it
    return Wording(
        N_("Nothing changed: the case is {state}."), {"state": lambda language: interface(language)(case.state)}
    )
