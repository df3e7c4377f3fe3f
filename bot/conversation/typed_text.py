"""What a person's typed words mean in the middle of a conversation.

Typed text can be a command (back, why, stop, resume), an answer in words (the leading words of an
option, yes or no, a close typo, in the person's language or in English), a new situation (offered
as a switch, never switched to unasked), or none of these (the closest options offered back by
number). This module reads which; the engine acts on it, so the reading can be tested and changed
without touching how a turn is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from bot.conversation.events import Actor, Back, Cancel, FreeText, Restart, Why
from bot.conversation.machine import CompiledFlow
from bot.conversation.opening import new_situation
from bot.conversation.presenter import Presenter
from bot.conversation.replies import Reply, SwitchOffer
from bot.conversation.standing import Standing
from bot.conversation.typed_answers import command_for, not_an_answer, read_answer
from bot.store import Store
from bot.store.records import ACTIVE, Conversation

COMMANDS: dict[str, type[Back | Restart | Why | Cancel]] = {
    "back": Back,
    "restart": Restart,
    "why": Why,
    "cancel": Cancel,
}


@dataclass(frozen=True)
class Meaning:
    """One reading of typed text; exactly one of its parts is set."""

    conv: Conversation | None = None
    resume: bool = False  # take up the check set aside most recently
    command: type[Back | Restart | Why | Cancel] | None = None  # on ``conv``
    start: str | None = None  # a new situation, with nothing active to interrupt
    answer: int | None = None  # the option of ``conv``'s current question
    compiled: CompiledFlow | None = None
    replies: list[Reply] = field(default_factory=list)  # an offer or a "did you mean…?", as they are


class TypedText:
    """Reads typed text against the person's conversation and its current question."""

    def __init__(self, store: Store, presenter: Presenter, standing: Standing) -> None:
        self.store = store
        self.presenter = presenter
        self.standing = standing

    def read(self, conn: Connection, actor: Actor, event: FreeText) -> Meaning:
        text = event.text.strip()
        conv = self.standing.owned(conn, actor, event.conversation_id) if event.conversation_id else None
        if conv is None and event.conversation_id is None:
            conv = self.store.active_conversation(conn, actor.user_id)
        command = command_for(text)
        answering = conv is not None and conv.status == ACTIVE
        if command is not None and answering and conv is not None and self._is_label(conn, conv, actor, text):
            command = None  # an option called "Stop" or "Back" is an answer, not a command
        if command == "resume":
            return Meaning(conv=conv, resume=True)
        if conv is not None and command is not None:
            return Meaning(conv=conv, command=COMMANDS[command])
        if conv is None or conv.status != ACTIVE:
            return Meaning(start=text)
        compiled = self.standing.compiled(conn, conv)
        state = compiled.state(conv.state)
        base = f"states.{state.name}.options"
        said = self.presenter.said
        labels = [said(f"{base}.{i}.label", o.label, conv, actor, compiled) for i, o in enumerate(state.options)]
        reading = read_answer(text, labels)
        if reading.index is None and actor.language not in (None, "en"):  # the English words work too
            english = read_answer(text, [self.presenter.english(o.label, conv, actor, compiled) for o in state.options])
            reading = english if english.index is not None else reading
        if reading.index is not None:
            return Meaning(conv=conv, answer=reading.index, compiled=compiled)
        current = self.standing.current(conn, actor, conv.id)
        other = new_situation(text, self.presenter)
        if other is not None and other.id != conv.flow_id:
            offer = SwitchOffer(
                conv.id,
                self.presenter.title(compiled, actor),
                other.id,
                other.text_in("title", other.title, actor.language),
                actor.language or "en",
            )
            return Meaning(conv=conv, replies=[offer, *current])
        return Meaning(conv=conv, replies=[not_an_answer(reading, labels, actor.language), *current])

    def _is_label(self, conn: Connection, conv: Conversation, actor: Actor, text: str) -> bool:
        """Whether ``text`` is exactly one of the current question's option labels."""
        compiled = self.standing.compiled(conn, conv)
        state = compiled.state(conv.state)
        wanted = text.casefold()
        base = f"states.{state.name}.options"
        return any(
            self.presenter.said(f"{base}.{i}.label", o.label, conv, actor, compiled).casefold() == wanted
            or self.presenter.english(o.label, conv, actor, compiled).casefold() == wanted
            for i, o in enumerate(state.options)
        )
