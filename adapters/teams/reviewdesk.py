"""What the buttons on a Teams review card and ``preview CHANGE`` do, through the core's publishing.

Every rule is the core's (bot/publishing): who may approve, request changes or preview is decided
by ``Publishing.review_by_actor`` and ``Runtime.preview`` from the authenticated clicker, never
from the card's data. This desk only turns their answers and refusals into what the bot shows: a
sentence to redraw the card with, or a refusal for the clicker alone with the card left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.conversation.engine import Engine
from bot.conversation.events import Actor
from bot.errors import NotAllowed, PolicybotError
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.wording import said_in
from bot.publishing.changes import Publishing
from bot.publishing.notices import APPROVE_ACTION, REQUEST_CHANGES_ACTION

SAY_WHAT_FIRST = N_("Say what should change first, then press Send back.")
DEAD_BUTTON = N_("That button does nothing any more.")
REVIEWERS_ONLY = N_("Only a reviewer of the flow library can do that.")


@dataclass(frozen=True)
class ReviewClick:
    """The answer to a click on a review card."""

    text: str  # what to show: the card's new status line, or the refusal for the clicker
    update_card: bool  # True: redraw the card with ``text``; False: leave it, tell the clicker


class TeamsReviewDesk:
    def __init__(self, publishing: Publishing, preview: Callable[[str, Actor], Engine]) -> None:
        self.publishing = publishing
        self._preview = preview

    @classmethod
    def for_runtime(cls, runtime: Any) -> TeamsReviewDesk | None:
        """The desk for a ``bot.runtime.Runtime``; None when it has no flow library publishing."""
        publishing = getattr(runtime, "publishing", None)
        if publishing is None:
            return None
        return cls(publishing, lambda change, actor: runtime.preview(change, actor))

    def review(
        self,
        actor: Actor,
        change_id: str,
        action: str,
        why: str | None,
        delivery_id: str | None = None,
        language: str | None = None,
    ) -> ReviewClick:
        """Apply a reviewer's click. ``delivery_id`` (the activity id) makes a repeat that reaches
        another replica a repeat in the core too: it is answered with where the change stands.
        The answer is in the review card's language (the reviewer's directory entry's), else in
        ``language``, the one the bot speaks to them."""
        language = self.publishing.reviewer_language(actor) or language
        _ = interface(language)
        if action == REQUEST_CHANGES_ACTION and not (why or "").strip():
            return ReviewClick(_(SAY_WHAT_FIRST), update_card=False)
        if action not in (APPROVE_ACTION, REQUEST_CHANGES_ACTION):
            return ReviewClick(_(DEAD_BUTTON), update_card=False)
        decision = "approve" if action == APPROVE_ACTION else "request_changes"
        try:
            sentence = self.publishing.review_by_actor(actor, change_id, decision, why, delivery_id=delivery_id)
        except NotAllowed as err:
            return ReviewClick(said_in(err, language) or _(REVIEWERS_ONLY), update_card=False)
        except PolicybotError as err:  # already decided, unknown change, publishing conflict: change nothing
            return ReviewClick(said_in(err, language), update_card=False)
        return ReviewClick(sentence.said_in(language), update_card=True)

    def preview(self, change: str, actor: Actor) -> Engine:
        """The engine on the change's draft; NotAllowed (or PolicybotError) with words for the person."""
        return self._preview(change, actor)
