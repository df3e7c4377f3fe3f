"""A conversation is a small row, not an object graph: which flow and version, where it is, what
was answered, and a version counter for optimistic concurrency."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

ACTIVE = "active"  # asking questions
DONE = "done"  # reached an outcome
ABANDONED = "abandoned"  # cancelled, or replaced by a newer conversation of the same person
# Left part-way for another check (one active conversation at a time), never dropped: offered
# again ("carry on with it?") and taken up again with ``resume``.
SET_ASIDE = "set_aside"


@dataclass(frozen=True)
class Answer:
    state: str
    option: int
    label: str
    question: str

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "option": self.option, "label": self.label, "question": self.question}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        return cls(state=data["state"], option=int(data["option"]), label=data["label"], question=data["question"])


@dataclass(frozen=True)
class Conversation:
    id: str
    user_id: str
    platform: str
    flow_id: str
    flow_version: str
    state: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    answers: tuple[Answer, ...] = field(default_factory=tuple)
    case_id: str | None = None

    def moved(self, **changes: Any) -> Conversation:
        """A copy with changes and the version counter moved on by one."""
        return replace(self, version=self.version + 1, **changes)
