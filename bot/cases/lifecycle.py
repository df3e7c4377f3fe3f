"""The case lifecycle: open -> acknowledged -> resolved, or withdrawn by the employee.

Each action names the states it may start from and the state it leads to. The service applies
it with a conditional UPDATE on the current state, so two people clicking at once cannot both
win, and a repeat (double click, platform retry) changes nothing and says what already happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.cases.model import ACKNOWLEDGED, OPEN, RESOLVED, WITHDRAWN, Case

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


def when(at: datetime | None) -> str:
    return at.strftime("%d %b %Y %H:%M UTC") if at else "an unknown time"


def why_unchanged(action: str, case: Case, fmt: Callable[[datetime | None], str] = when) -> str:
    """Why ``action`` did nothing on ``case``, in words for the person who clicked."""
    if case.state == RESOLVED:
        return f"This case was already resolved by {case.closed_by_name} on {fmt(case.closed_at)}."
    if case.state == WITHDRAWN:
        return f"{case.employee_name} withdrew this case on {fmt(case.closed_at)}, so nothing more is needed."
    if case.state == ACKNOWLEDGED and action == ACKNOWLEDGE:
        return f"{case.acknowledged_by_name} already picked this case up on {fmt(case.acknowledged_at)}."
    return f"Nothing changed: the case is {case.state}."
