"""One active conversation per person: starting, resuming or going back to a check sets the
current one aside where it stood (or, with nothing answered, counts it as abandoned), and
``resume`` takes the most recent set-aside check up again.

A unique index in the database guarantees the rule; this module keeps it politely, telling the
person where their other check went.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.clock import Clock
from bot.conversation.events import Actor
from bot.conversation.presenter import Presenter
from bot.conversation.replies import Notice, NoticeKind, Reply
from bot.conversation.standing import Standing
from bot.errors import StaleConversation
from bot.language.i18n.catalog import N_, interface
from bot.store import Store
from bot.store.records import ABANDONED, ACTIVE, SET_ASIDE, Conversation


class OneAtATime:
    """Sets aside, abandons and takes up checks so that each person has one active at a time."""

    def __init__(self, store: Store, clock: Clock, presenter: Presenter, standing: Standing) -> None:
        self.store = store
        self.clock = clock
        self.presenter = presenter
        self.standing = standing

    def kept_notice(self, conn: Connection, kept: Conversation, actor: Actor) -> Notice:
        title = self.presenter.title(self.standing.compiled(conn, kept), actor)
        _ = interface(actor.language)
        text = _('Your check "{title}" is kept where you left it: type resume to carry on with it.')
        return Notice(text.format(title=title))

    def resume_set_aside(self, conn: Connection, actor: Actor, current: Conversation | None) -> list[Reply]:
        """ "resume": take up the check set aside most recently (the current one stays, set aside)."""
        kept = self.store.set_aside_conversation(conn, actor.user_id)
        if kept is None:
            notice = Notice(N_("There is no check set aside to carry on with."), NoticeKind.INFO)
            return [notice, *self.standing.current(conn, actor, current.id)] if current is not None else [notice]
        return self.take_up(conn, actor, kept)

    def take_up(self, conn: Connection, actor: Actor, kept: Conversation) -> list[Reply]:
        """A set-aside check becomes the active one again, at the question where it was left."""
        now = self.clock.now()
        other = self.abandon_active(conn, actor, now, "an earlier check was taken up again")
        conv = kept.moved(status=ACTIVE, updated_at=now)
        self.store.save_conversation(conn, conv)
        self.store.record(conn, conv, "resume", now)
        replies: list[Reply] = [self.presenter.question(conv, actor, self.standing.compiled(conn, conv))]
        if other is not None:
            replies.insert(0, self.kept_notice(conn, other, actor))
        return replies

    def abandon_other_active(self, conn: Connection, actor: Actor, conv: Conversation, now: datetime) -> None:
        """Back or restart on a finished conversation makes it active again: one at a time, so the
        person's other active conversation (if any) counts as abandoned where it stood, as when a new check begins."""
        if conv.status != ACTIVE:
            self.abandon_active(conn, actor, now, "an earlier conversation was taken up again")

    def abandon_active(self, conn: Connection, actor: Actor, now: datetime, why: str) -> Conversation | None:
        """End the person's active conversation for another one: a check with answers is set aside
        (kept, and returned, so the person can be told how to carry on with it); one with nothing
        answered counts as abandoned. One active conversation at a time is guaranteed by a unique
        index.

        If another turn changed it meanwhile (an answer, or a start on another replica that set it
        aside and began its own), look again: the newest active one is set aside instead. Two
        starts at the same instant with nothing active both insert; the database refuses the
        second, whose turn is run again (bot.store.transient) and then sets the first aside. So
        concurrent starts end as sequential ones would: the last one is the active conversation.
        """
        for _ in range(5):
            other = self.store.active_conversation(conn, actor.user_id)
            if other is None:
                return None
            kept = bool(other.answers)
            other = other.moved(status=SET_ASIDE if kept else ABANDONED, updated_at=now)
            try:
                self.store.save_conversation(conn, other)
            except StaleConversation:
                continue  # moved on under us: read it again (a refused UPDATE leaves the transaction usable)
            self.store.record(conn, other, "set_aside" if kept else "abandoned", now, why)
            return other if kept else None
        raise StaleConversation("the person's active conversation kept changing while a new one was started")
