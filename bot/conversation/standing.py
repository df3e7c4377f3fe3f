"""Where a person's conversation stands, as replies: the current question or outcome, a repeat
delivery, a click on someone else's check, a check waiting to be carried on with.

These are the views every refusal and every "here is where you are now" ends with, so the engine
asks for them here instead of building them in each branch of a turn.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from bot.conversation.escalating import Escalating
from bot.conversation.events import Actor, Event
from bot.conversation.library import FlowLibrary
from bot.conversation.machine import CompiledFlow
from bot.conversation.presenter import Presenter
from bot.conversation.replies import FlowChoice, Notice, NoticeKind, Reply, Unfinished
from bot.conversation.speaking import Speaking
from bot.errors import PolicybotError, UnknownFlow
from bot.language.flow_model import QUESTION
from bot.language.i18n.catalog import N_, interface
from bot.store import Store
from bot.store.records import ACTIVE, DONE, SET_ASIDE, Conversation


class Standing:
    """Reads where a conversation stands and says it; changes nothing."""

    def __init__(
        self,
        store: Store,
        library: FlowLibrary,
        presenter: Presenter,
        escalating: Escalating,
        menu: Callable[[], FlowChoice],
    ) -> None:
        self.store = store
        self.library = library
        self.presenter = presenter
        self.escalating = escalating
        self.menu = menu

    def repeat(self, conn: Connection, actor: Actor, event: Event) -> list[Reply]:
        """A delivery already applied once: never silence, but where the person stands now.

        The first delivery may have been applied and then lost on its way to the screen (a replica
        died, the platform failed), so the repeat shows the conversation's current question or
        outcome, with where its case went. Every adapter renders these replies as they are.
        """
        notice = Notice(N_("That was already done. Here is where you are now."), NoticeKind.DUPLICATE)
        conversation_id = getattr(event, "conversation_id", None)
        conv = self.owned(conn, actor, conversation_id)
        if conv is None:
            conv = self.store.active_conversation(conn, actor.user_id) or self.store.latest_conversation(
                conn, actor.user_id
            )
        if conv is None:
            return [notice, self.menu()]
        return [notice, *self.current(conn, actor, conv.id)]

    def not_yours(self, conv: Conversation, actor: Actor) -> Notice:
        """A click on someone else's check (a Teams group chat, a forwarded card): answered to the
        clicker alone, and nothing about the owner's conversation changes or is redrawn."""
        _ = interface(actor.language)
        owner = self.presenter.owner_name(conv)
        if owner:
            text = _(
                "This check belongs to {owner}, so your click was not applied. "
                "To check a situation of your own, tell me what it is."
            ).format(owner=owner)
        else:
            text = _(
                "This check belongs to someone else, so your click was not applied. "
                "To check a situation of your own, tell me what it is."
            )
        return Notice(text, NoticeKind.NOT_YOURS)

    def owned(self, conn: Connection, actor: Actor, conversation_id: str | None) -> Conversation | None:
        if not conversation_id:
            return None
        conv = self.store.load_conversation(conn, conversation_id)
        if conv is None or conv.user_id != actor.user_id:
            return None
        return conv

    def current(self, conn: Connection, actor: Actor, conversation_id: str | None) -> list[Reply]:
        conv = self.owned(conn, actor, conversation_id)
        if conv is None:
            return [self.menu()]
        compiled = self.compiled(conn, conv)
        if conv.status == ACTIVE:
            return [self.presenter.question(conv, actor, compiled)]
        if conv.status == DONE:
            return [self.escalating.sent_to(conn, self.presenter.outcome(conv, actor, compiled))]
        if conv.status == SET_ASIDE:
            _ = interface(actor.language)
            text = _('Your check "{title}" is set aside: type resume to carry on with it.')
            return [Notice(text.format(title=self.presenter.title(compiled, actor)))]
        return [Notice(N_("That conversation was stopped. Describe a situation to start a new one."))]

    def compiled(self, conn: Connection, conv: Conversation) -> CompiledFlow:
        """The machine for the conversation's own flow version, even if the file has changed since."""
        try:
            return self.library.compiled_version(conv.flow_id, conv.flow_version, None)
        except UnknownFlow:
            source = self.store.flow_source(conn, conv.flow_version)
            return self.library.compiled_version(conv.flow_id, conv.flow_version, source)

    def unfinished(self, conn: Connection, actor: Actor, speaking: Speaking) -> Unfinished | None:
        conv = self.store.active_conversation(conn, actor.user_id) or self.store.set_aside_conversation(
            conn, actor.user_id
        )
        if conv is None:
            return None
        try:
            compiled = self.compiled(conn, conv)
        except PolicybotError:
            return None
        actor = speaking.settle(conn, actor)
        state = compiled.state(conv.state)
        ask = f"states.{state.name}.ask"
        question = ""
        if state.kind == QUESTION:
            question = self.presenter.said(ask, state.ask or "", conv, actor, compiled)
        return Unfinished(conv.id, conv.flow_id, self.presenter.title(compiled, actor), question, len(conv.answers))
