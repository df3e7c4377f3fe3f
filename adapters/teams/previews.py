"""Who is previewing which change in Teams: one preview engine per person, in this process.

``preview CHANGE`` in a personal chat gives the person an engine on the change's draft
(bot/publishing/preview.py: every reply marked, nothing escalated). While their preview is
*active*, what they type goes to it; a click on a card of one of its conversations goes to it
even after it ended (an outcome's "send it" button, say), so a draft's card never reaches the
published engine. It ends at an outcome, when they stop the check, or with ``preview end``; a
new ``preview`` replaces the old one.

Kept in memory: a preview is a short walk-through, and a draft's engine keeps its own in-memory
store. With several replicas behind a load balancer that does not keep a person on one, a
message that lands elsewhere is answered by the published engine; saying ``preview CHANGE``
again starts over there (docs/teams.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.conversation.engine import Engine

MAX_SESSIONS = 200  # people previewing at once on one replica; the oldest is dropped beyond this


@dataclass
class PreviewSession:
    engine: Engine
    change_id: str
    active: bool = True
    conversations: set[str] = field(default_factory=set)  # the draft's conversations, for their clicks


class PreviewSessions:
    def __init__(self) -> None:
        self._by_person: OrderedDict[str, PreviewSession] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, person: str, engine: Engine, change_id: str) -> PreviewSession:
        session = PreviewSession(engine, change_id)
        with self._lock:
            self._by_person.pop(person, None)
            self._by_person[person] = session
            while len(self._by_person) > MAX_SESSIONS:
                self._by_person.popitem(last=False)
        return session

    def get(self, person: str) -> PreviewSession | None:
        with self._lock:
            return self._by_person.get(person)

    def active(self, person: str) -> PreviewSession | None:
        session = self.get(person)
        return session if session is not None and session.active else None

    def for_click(self, person: str, conversation_id: str | None) -> PreviewSession | None:
        """The preview a click belongs to: one of its conversations, or (for the menu's buttons,
        which have no conversation yet) the person's active preview."""
        session = self.get(person)
        if session is None:
            return None
        if conversation_id is None:
            return session if session.active else None
        return session if conversation_id in session.conversations else None

    def end(self, person: str) -> PreviewSession | None:
        """``preview end``: forget the person's preview; the one that was going, if any."""
        with self._lock:
            session = self._by_person.pop(person, None)
        return session
