"""Previewing a change: the check as it would be once published, for its author and the reviewers.

``PreviewEngine`` is an ordinary Engine over the draft library (the live library with the
change's files applied) and a private in-memory store, with two differences every adapter gets
without doing anything:

- every reply is marked: its text starts with ``PREVIEW_MARK`` (a reply without text is preceded
  by a notice carrying it), so nobody mistakes a draft's advice for the real thing;
- nothing is escalated to anyone: ``PreviewCases`` works out who *would* receive the case, by the
  real directory and the same rules as a real case, and the outcome names them, but no case,
  notification or timer is written anywhere.

The terminal runs it as ``policybot chat --preview CHANGE``; Slack (``/policy preview CHANGE``)
and Teams (``preview CHANGE``) call ``Runtime.preview(change, actor)`` and use the engine it
returns for that person's preview messages.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from bot.cases.service import CaseService
from bot.clock import Clock
from bot.conversation.engine import Engine
from bot.conversation.escalation import CaseDraft, PeopleDirectory
from bot.conversation.events import Actor, Event
from bot.conversation.library import FlowLibrary
from bot.conversation.replies import FlowChoice, Notice, NoticeKind, Reply
from bot.store import Store

if TYPE_CHECKING:
    from sqlalchemy import Connection

PREVIEW_MARK = "[PREVIEW of change {change}: not published; nothing is sent to anyone] "


class PreviewCases:
    """The CaseOpener port for a preview: who would receive the case, and nothing sent."""

    def __init__(self, real: CaseService | None) -> None:
        self.real = real
        self.would_have: dict[str, list[str]] = {}  # preview case id -> who would have received it

    def recipients_for(self, employee: Actor, targets: tuple[str, ...]) -> list[str]:
        if self.real is None:
            return list(targets)
        return self.real.recipients_for(employee, targets)

    def open_case(self, conn: Connection, draft: CaseDraft) -> str:
        case_id = f"preview-{uuid.uuid4().hex[:8]}"
        self.would_have[case_id] = [
            f"{name} (preview: not sent)" for name in self.recipients_for(draft.employee, draft.targets)
        ]
        return case_id

    def first_recipients(self, conn: Connection, case_id: str) -> list[str]:
        return list(self.would_have.get(case_id, []))


class PreviewEngine(Engine):
    """An Engine whose every reply is marked as a preview of one change."""

    def __init__(
        self,
        library: FlowLibrary,
        change_id: str,
        *,
        clock: Clock | None = None,
        people: PeopleDirectory | None = None,
        cases: CaseService | None = None,
    ) -> None:
        self.change_id = change_id
        self.mark = PREVIEW_MARK.format(change=change_id[:8])
        self.preview_cases = PreviewCases(cases)
        super().__init__(library, Store("sqlite://"), clock=clock, people=people, cases=self.preview_cases)

    def handle(self, actor: Actor, event: Event, *, delivery_id: str | None = None) -> list[Reply]:
        return mark_replies(super().handle(actor, event, delivery_id=delivery_id), self.mark)

    def resume(self, actor: Actor, conversation_id: str) -> list[Reply]:
        return mark_replies(super().resume(actor, conversation_id), self.mark)

    def menu(self, actor: Actor | None = None) -> FlowChoice:
        choice = super().menu(actor)
        return dataclasses.replace(choice, prompt=self.mark + choice.prompt)


def mark_replies(replies: list[Reply], mark: str) -> list[Reply]:
    """Each reply's text starts with the mark; a reply with no text gets a marked notice before it."""
    marked: list[Reply] = []
    for reply in replies:
        field = next((name for name in ("text", "prompt") if isinstance(getattr(reply, name, None), str)), None)
        if field is None:
            marked.append(Notice(mark.strip(), NoticeKind.INFO))
            marked.append(reply)
            continue
        value: Any = getattr(reply, field)
        marked.append(dataclasses.replace(reply, **{field: mark + value}))
    return marked
