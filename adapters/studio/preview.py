""" "Try it": a draft flow walked by the real engine, against a database that is thrown away.

Nothing is kept between requests: each one replays the answers given so far from the start (as
``policybot run`` does), so the preview needs no state on the server, works without JavaScript
(every answer is a form button) and can never touch live conversations, cases or the audit.
Escalations are not opened: the preview engine has no case service, and the page says who the
case would go to.

With several languages offered the author picks one; it is given to the engine as the preview
actor's platform locale, so the engine chooses the language exactly as it does for a person
whose Slack or Teams is in that language (bot.conversation.speaking, ``settle``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.library import FlowLibrary
from bot.conversation.replies import Notice, Outcome, Question
from bot.language.flow_model import Flow
from bot.store import Store

PREVIEW_ACTOR = Actor(user_id="studio:preview", display_name="Preview", platform="studio")
MAX_ANSWERS = 100


@dataclass
class PreviewTurn:
    """What the preview chat shows: the replies in order, and the options still open."""

    said: list[tuple[str, object]] = field(default_factory=list)  # (who, reply): "you" with text, "bot" with a reply
    question: Question | None = None
    outcome: Outcome | None = None


def walk(draft: Flow, library: FlowLibrary, answers: Sequence[str], language: str | None = None) -> PreviewTurn:
    """Start the draft and give it ``answers`` (option numbers or words) one by one, in
    ``language`` when the settings offer it (else the organisation's default language)."""
    actor = replace(PREVIEW_ACTOR, locale=language) if language in library.settings.languages else PREVIEW_ACTOR
    others = [f for f in library.all() if f.id != draft.id]
    scoped = FlowLibrary([*others, draft], library.registry, library.settings)
    store = Store("sqlite://")
    try:
        engine = Engine(scoped, store)
        turn = PreviewTurn()
        replies = engine.handle(actor, Start(flow_id=draft.id))
        _take(turn, replies)
        for answer in list(answers)[:MAX_ANSWERS]:
            if turn.question is None:
                break
            shown = _label(turn.question, answer)
            turn.said.append(("you", shown))
            replies = engine.handle(actor, FreeText(answer, turn.question.conversation_id))
            _take(turn, replies)
        return turn
    finally:
        store.close()


def _label(question: Question, answer: str) -> str:
    if answer.isdigit() and 1 <= int(answer) <= len(question.options):
        return question.options[int(answer) - 1].label
    return answer


def _take(turn: PreviewTurn, replies: Sequence[object]) -> None:
    for reply in replies:
        if isinstance(reply, Question):
            turn.question = reply
            turn.outcome = None
        elif isinstance(reply, Outcome):
            turn.question = None
            turn.outcome = reply
        turn.said.append(("bot", reply))


def notice_text(reply: object) -> str | None:
    return reply.text if isinstance(reply, Notice) else None
