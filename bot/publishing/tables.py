"""The flow library's tables: published versions, change requests, reviews, review notifications.

A *library version* is a whole-library number (1, 2, 3, ...) holding the full text of every file
that makes up the library: each flow, each scenario test file, the citation registry and the
organisation settings file. A version row is written once and never changed, so rolling back is
publishing an old version's files again as a new number. Conversations do not pin to library
numbers: they pin to their flow's content hash (``flow_versions`` in bot.store.schema), which a
new library version leaves alone for every flow it does not change.

Migration 0008 creates these tables (bot/store/migrate.py lists this module in TABLE_MODULES).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from bot.store.personal_data import Parent, PersonalData, declare
from bot.store.schema import UTCDateTime, metadata

library_versions = Table(
    "library_versions",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3 ...: two publishers cannot share one
    Column("files", Text, nullable=False),  # JSON {file name: text}: the whole library
    Column("fingerprint", String(64), nullable=False),  # sha256 of the files, to compare with a folder cheaply
    Column("source", String(20), nullable=False),  # seed (from the flows folder), change, rollback
    Column("change_id", String(32), nullable=True),  # the change request that published it
    Column("published_by", String(200), nullable=False),  # directory id of the approver; "policybot" for a seed
    Column("published_at", UTCDateTime(), nullable=False),
)
declare(
    PersonalData(
        "library_versions",
        person=("published_by",),
        kept_because="a published library version is the record of what the bot advised and who approved it",
    )
)

library_changes = Table(
    "library_changes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),  # change or rollback
    Column("author", String(200), nullable=False),  # directory id
    Column("note", Text, nullable=True),
    Column("base_version", Integer, nullable=False),  # the live version the change was made against
    Column("files", Text, nullable=False),  # JSON {file name: new text, or null to remove the file}
    Column("flows", Text, nullable=False),  # JSON list: the flow ids the change touches (history by flow)
    Column("status", String(20), nullable=False),  # pending, published, rejected
    Column("approvals_needed", Integer, nullable=False),
    Column("published_version", Integer, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    Index("ix_library_changes_status", "status"),
)
declare(
    PersonalData(
        "library_changes",
        person=("author",),
        details=("note",),
        kept_because="the history of who changed the advice, and why, is kept for as long as the advice is",
    )
)

library_reviews = Table(
    "library_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_id", String(32), nullable=False),
    Column("reviewer", String(200), nullable=False),  # directory id
    Column("decision", String(20), nullable=False),  # approve, reject (request changes)
    Column("why", Text, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_library_reviews_change", "change_id"),
)
declare(
    PersonalData(
        "library_reviews",
        person=("reviewer",),
        details=("why",),
        parent=Parent("library_changes", "change_id"),
    )
)

# Review notifications ("a change is waiting for you"), delivered like case notifications by the
# same Outbox class and the adapter's Notifier; ``case_id`` holds the change id (the
# Notification field of that name), so the outbox code is shared as it is.
library_outbox = Table(
    "library_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), nullable=False),  # the change id
    Column("kind", String(30), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("actions", Text, nullable=False),
    Column("facts", Text, nullable=False),
    Column("urgency", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("failed_at", UTCDateTime(), nullable=True),
    Index("ix_library_outbox_due", "status", "next_attempt_at"),
    Index("ix_library_outbox_change", "case_id"),
)
declare(
    PersonalData(
        "library_outbox",
        person_json=("recipient",),
        details=("title", "text", "facts"),
        parent=Parent("library_changes", "case_id"),
    )
)

LIBRARY_TABLES = [library_versions, library_changes, library_reviews, library_outbox]
