"""Opening a conversation from a person's own words: start a flow, offer the likely few, or the menu.

This is the confidence policy on top of the router's scores (bot.conversation.router): the engine
asks it what the first message means and then starts the flow or shows the replies it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.presenter import MENU_PROMPT, Presenter
from bot.conversation.replies import FlowCandidate, FlowChoice, Notice, NoticeKind, Reply
from bot.conversation.router import SHOW_AT_LEAST, confident_choice, route
from bot.language.flow_model import Flow

NEW_SITUATION_WORDS = 4  # typed text this long that is no option and clearly names a flow starts that flow
OFFER_AT_MOST = 5  # likely flows offered when none is a clear winner


@dataclass(frozen=True)
class Opening:
    """What the first words lead to: a flow to start now, or replies that offer a choice."""

    flow: Flow | None = None
    replies: list[Reply] = field(default_factory=list)


def open_from_text(text: str, presenter: Presenter) -> Opening:
    """Start the flow the router is sure of; else offer the likely ones; else the whole menu."""
    flows = presenter.library.all()
    matches = route(text, flows)
    chosen = confident_choice(matches)
    if chosen is not None:
        return Opening(flow=chosen)
    likely = [m for m in matches if m.score >= SHOW_AT_LEAST][:OFFER_AT_MOST]
    if not likely:
        notice = Notice("I couldn't match that to a situation I know. Pick the closest one:", NoticeKind.INFO)
        return Opening(replies=[notice, presenter.menu()])
    candidates = [FlowCandidate(m.flow.id, m.flow.title, m.score) for m in likely]
    return Opening(replies=[FlowChoice(MENU_PROMPT, candidates)])


def new_situation(text: str, presenter: Presenter) -> Flow | None:
    """A typed line that is no answer to the current question but clearly names another flow."""
    if len(text.split()) < NEW_SITUATION_WORDS:
        return None
    return confident_choice(route(text, presenter.library.all()))
