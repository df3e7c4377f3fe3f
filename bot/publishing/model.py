"""A change request to the flow library and its reviews, as the rest of bot.publishing reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.publishing.snapshot import Files

PENDING = "pending"
PUBLISHED = "published"
REJECTED = "rejected"
APPROVE = "approve"
REJECT = "reject"


@dataclass(frozen=True)
class Review:
    reviewer: str
    decision: str
    why: str | None
    at: datetime


@dataclass(frozen=True)
class Change:
    id: str
    kind: str
    author: str
    note: str | None
    base_version: int
    files: Files
    flows: list[str]
    status: str
    approvals_needed: int
    published_version: int | None
    created_at: datetime
    decided_at: datetime | None
    reviews: list[Review] = field(default_factory=list)

    @property
    def approvals(self) -> list[str]:
        return [r.reviewer for r in self.reviews if r.decision == APPROVE]


def change_json(change: Change) -> dict[str, Any]:
    """A change for ``library history --json``."""
    return {
        "change": change.id,
        "kind": change.kind,
        "status": change.status,
        "flows": change.flows,
        "files": sorted(change.files),
        "author": change.author,
        "note": change.note,
        "submitted_at": change.created_at.isoformat(),
        "approvals_needed": change.approvals_needed,
        "reviews": [
            {"reviewer": r.reviewer, "decision": r.decision, "why": r.why, "at": r.at.isoformat()}
            for r in change.reviews
        ],
        "published_version": change.published_version,
        "decided_at": change.decided_at.isoformat() if change.decided_at else None,
    }
