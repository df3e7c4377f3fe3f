"""Raising a real case for the studio tests: an employee walks an escalating flow in the engine."""

from __future__ import annotations

from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.replies import Outcome, Question
from bot.runtime import Runtime


def raise_case(
    runtime: Runtime, person: str, flow_id: str = "colleague-breach", answers: tuple[str, ...] = ("1", "1")
) -> str:
    """Walk ``flow_id`` as the directory person ``person`` (in the terminal) and return the case it opened."""
    actor = Actor(f"console:{person}", person.title(), None, "console")
    replies = runtime.engine.handle(actor, Start(flow_id=flow_id))
    for answer in answers:
        question = next(r for r in reversed(replies) if isinstance(r, Question))
        replies = runtime.engine.handle(actor, FreeText(answer, question.conversation_id))
    outcome = next(r for r in replies if isinstance(r, Outcome))
    assert outcome.case_id, "the flow's outcome should have opened a case"
    return outcome.case_id
