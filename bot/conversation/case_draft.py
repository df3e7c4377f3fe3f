"""What the engine hands the case opener when an outcome escalates: the outcome, as a case draft.

Kept apart from the engine so that the engine only orchestrates: it asks for a draft and passes it
to bot.cases through the CaseOpener port.
"""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.escalation import CaseDraft
from bot.conversation.events import Actor
from bot.conversation.machine import CompiledFlow
from bot.conversation.presenter import Presenter
from bot.store.records import Conversation

NOTE_LIMIT = 500  # characters kept from an employee's note on an escalation


def clean_note(note: str | None) -> str | None:
    """The employee's note as it will be sent: trimmed and cut to NOTE_LIMIT; None when empty."""
    return (note or "").strip()[:NOTE_LIMIT] or None


def draft_case(
    presenter: Presenter, conv: Conversation, actor: Actor, compiled: CompiledFlow, note: str | None
) -> CaseDraft:
    state = compiled.state(conv.state)
    assert state.escalate is not None and state.verdict is not None
    outcome = presenter.outcome(conv, actor, compiled)
    return CaseDraft(
        conversation_id=conv.id,
        employee=actor,
        flow_id=conv.flow_id,
        flow_version=conv.flow_version,
        flow_title=compiled.flow.title,
        outcome_state=state.name,
        verdict=state.verdict,
        advice=outcome.text,
        answers=tuple(outcome.answers),
        citations=tuple(outcome.citations),
        targets=state.escalate.to,
        then=state.escalate.then,
        deadline=state.escalate.unacknowledged_after,
        urgency=state.escalate.urgency,
        summary=presenter.summary(conv, actor, compiled, note),
        note=note,
        translations=_in_other_languages(presenter, conv, actor, compiled, note),
    )


def _in_other_languages(
    presenter: Presenter, conv: Conversation, actor: Actor, compiled: CompiledFlow, note: str | None
) -> dict[str, dict[str, str]]:
    """The summary and title in every language the bot speaks, so that each recipient reads the
    case in their own (docs/languages.md). The employee's note is passed on as they wrote it."""
    offered = presenter.library.settings.languages
    if len(offered) < 2:
        return {}
    words = {}
    for language in offered:
        reader = replace(actor, language=language)
        words[language] = {
            "summary": presenter.summary(conv, reader, compiled, note),
            "flow_title": presenter.title(compiled, reader),
        }
    return words
