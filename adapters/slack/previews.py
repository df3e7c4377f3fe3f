"""Previewing a change in Slack: ``/policy preview CHANGE``, and routing a person's turns to it.

``Runtime.preview(change, actor)`` decides who may preview (the change's author and the
reviewers; anyone else gets its sentence, privately) and returns a ``PreviewEngine`` whose
replies are already marked as a preview and which escalates to nobody. This module only keeps
one such engine per person and sends that person's turns to it:

- while a preview is *going* (from the command until its check reaches an outcome, is stopped,
  or ``/policy preview end``), whatever the person writes and every new check they start goes
  to the preview engine;
- a click on a preview's own messages (found by conversation id: the Send on its escalation
  offer, "Go through it again") goes to the preview engine even after the preview has ended,
  so nothing from a draft ever reaches the live engine; clicks on the person's live
  conversations go on going to the live engine throughout.

A preview lives in this process's memory (the PreviewEngine's store is in memory by design:
nothing of a draft is written anywhere). With several replicas behind one URL, a click that lands
on another replica finds no preview there and is answered by the live engine, which does not
know the conversation ("That conversation has ended or is not yours"); start the preview again.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack import render as R
from adapters.slack.surface import SlackSurface
from bot.conversation.events import Actor, Event, Start
from bot.conversation.replies import Notice, NoticeKind, Outcome, Question, Reply
from bot.errors import PolicybotError
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.wording import said_in
from bot.publishing.preview import PreviewEngine

PREVIEW_WORD = "preview"
END_WORD = "end"
CHANGE_REFERENCE = re.compile(r"^[0-9a-fA-F]{4,32}$")  # what `library submit` prints, or its start
MAX_PREVIEWS = 200  # people previewing at once in one process; the oldest is dropped beyond that
ENDED = N_(
    "That is the end of the preview. What you write now goes to the live bot again; "
    "`/policy preview {change}` goes through the draft again."
)
NO_PREVIEW = N_("You have no preview going.")
NO_PREVIEWS_HERE = N_("Previews are not available here: the flow library is not in a database.")


def preview_words(text: str) -> list[str] | None:
    """``/policy preview 6651e17b [situation]`` or ``/policy preview end``: the words after
    "preview"; None when the text is an ordinary situation that merely starts with the word."""
    words = text.split()
    if len(words) < 2 or words[0].lower() != PREVIEW_WORD:
        return None
    if words[1].lower() == END_WORD or CHANGE_REFERENCE.match(words[1]):
        return words[1:]
    return None


@dataclass
class PreviewSession:
    engine: PreviewEngine
    going: bool = True  # new messages and checks go to the preview
    conversations: set[str] = field(default_factory=set)  # the preview's own conversations


class PreviewSessions:
    """One preview per person (their Slack user id), safe to use from the I/O threads."""

    def __init__(self, limit: int = MAX_PREVIEWS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._by_person: OrderedDict[str, PreviewSession] = OrderedDict()

    def begin(self, user_id: str, engine: PreviewEngine) -> PreviewSession:
        session = PreviewSession(engine)
        with self._lock:
            self._by_person.pop(user_id, None)
            self._by_person[user_id] = session
            while len(self._by_person) > self.limit:
                self._by_person.popitem(last=False)
        return session

    def end(self, user_id: str) -> PreviewSession | None:
        with self._lock:
            return self._by_person.pop(user_id, None)

    def for_turn(self, user_id: str, conversation_id: str | None) -> PreviewSession | None:
        """The preview this turn belongs to, if any: by conversation id when the turn names one,
        else the person's preview while it is going."""
        with self._lock:
            session = self._by_person.get(user_id)
        if session is None:
            return None
        if conversation_id is not None:
            return session if conversation_id in session.conversations else None
        return session if session.going else None

    @staticmethod
    def after_turn(session: PreviewSession, replies: list[Reply], had_open: bool, has_open: bool) -> bool:
        """Note the turn's conversations; True when this turn ended a preview that was going (its
        check reached an outcome, or was stopped: it had a check open and now has none)."""
        for reply in replies:
            conversation_id = getattr(reply, "conversation_id", None)
            if isinstance(conversation_id, str):
                session.conversations.add(conversation_id)
        if any(isinstance(r, Outcome) for r in replies) or (had_open and not has_open):
            was_going, session.going = session.going, False
            return was_going
        if has_open or any(isinstance(r, Question) for r in replies):
            session.going = True  # "Go through it again" on a preview's outcome: the preview goes on
        return False


class PreviewRouting(SlackSurface):
    """The engine of each turn: the person's preview, or the live engine."""

    previews: PreviewSessions

    def turn(self, user_id: str, actor: Actor, event: Event, delivery: str | None = None) -> list[Reply]:
        conversation_id = getattr(event, "conversation_id", None)
        session = self.previews.for_turn(user_id, conversation_id if isinstance(conversation_id, str) else None)
        if session is None:
            return self.engine.handle(actor, event, delivery_id=delivery)
        engine = session.engine  # its own store, in memory: no database turn to queue for
        had_open = engine.unfinished(actor) is not None
        replies = engine.handle(actor, event, delivery_id=delivery)
        if self.previews.after_turn(session, replies, had_open, engine.unfinished(actor) is not None):
            ended = interface(engine.language_of(actor))(ENDED).format(change=engine.change_id[:8])
            replies = [*replies, Notice(engine.mark + ended, NoticeKind.INFO)]
        return replies

    def resume_turn(self, user_id: str, actor: Actor, conversation_id: str) -> list[Reply]:
        session = self.previews.for_turn(user_id, conversation_id)
        return (session.engine if session is not None else self.engine).resume(actor, conversation_id)

    def tell_privately(self, user_id: str, channel: str | None, text: str) -> None:
        """Only the person sees it: ephemeral where they are, else (the bot is not in that channel)
        a line in their DM with the bot."""
        if channel:
            message = R.render_notice(Notice(text, NoticeKind.INFO))
            try:
                self.web.chat_postEphemeral(channel=channel, user=user_id, text=message.text, blocks=message.blocks)
                return
            except SlackApiError:
                pass
        self._tell(user_id, None, text, NoticeKind.INFO)

    def preview_command(self, body: dict[str, Any], user_id: str, context: Any, words: list[str]) -> None:
        """``/policy preview CHANGE [situation]`` or ``/policy preview end`` (after the ack)."""
        channel = str(body.get("channel_id") or "") or None
        dm = self.people.dm_channel(user_id)
        if words[0].lower() == END_WORD:
            ended = self.previews.end(user_id)
            _ = interface(self.engine.language_of(self.actor_for(body, user_id, context)))
            if ended is None:
                self.tell_privately(user_id, channel, _(NO_PREVIEW))
                return
            change = ended.engine.change_id[:8]
            self.post(dm, [Notice(ended.engine.mark + _(ENDED).format(change=change), NoticeKind.INFO)])
            return
        actor = self.actor_for(body, user_id, context)
        try:
            if self.runtime.publishing is None:
                raise PolicybotError(NO_PREVIEWS_HERE)
            with self.gate:  # reads the change and the live library
                engine = self.runtime.preview(words[0], actor)
        except PolicybotError as err:  # NotAllowed included: anyone but the author and the reviewers
            self.tell_privately(user_id, channel, said_in(err, self.engine.language_of(actor)))
            return
        self.previews.begin(user_id, engine)
        situation = " ".join(words[1:])
        replies: list[Reply] = [engine.menu()]
        if situation:
            replies = self.turn(user_id, actor, Start(text=situation))
        self.post(dm, replies)
