"""The database tables, as SQLAlchemy Core metadata shared by SQLite and PostgreSQL.

Other parts of the core add their tables to the same ``metadata`` (cases, outbox, timers), so
one ``create_all`` (or one Alembic migration history) covers the whole store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.types import TypeDecorator

from bot.store.personal_data import PersonalData, declare


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite keeps no zone, PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

flow_versions = Table(
    "flow_versions",
    metadata,
    Column("version", String(32), primary_key=True),  # content hash of the flow file
    Column("flow_id", String(100), nullable=False),
    Column("source", Text, nullable=False),
    Column("first_seen", UTCDateTime(), nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("platform", String(20), nullable=False),
    Column("flow_id", String(100), nullable=False),
    Column("flow_version", String(32), nullable=False),
    Column("state", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("answers", Text, nullable=False),  # JSON list of {state, option, label, question}
    Column("version", Integer, nullable=False),  # optimistic concurrency counter
    Column("case_id", String(32), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_conversations_user_status", "user_id", "status"),
    Index("ix_conversations_updated", "updated_at"),
    # One active conversation per person, whatever the replicas do: two starts at the same instant
    # cannot both insert one. The loser's turn fails with an IntegrityError naming this index and
    # is run again (bot.store.transient), and then sets the winner's conversation aside as any
    # new start does. A partial index, which SQLite and PostgreSQL both support.
    Index(
        "uq_conversations_one_active",
        "user_id",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)
declare(
    PersonalData(
        "conversations",
        person=("user_id",),
        details=("answers",),
        at="updated_at",
        rules="deleted when last changed before the retention age, unless an open case came from it",
    )
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("conversation_id", String(32), nullable=False),
    Column("flow_id", String(100), nullable=False),
    Column("flow_version", String(32), nullable=False),
    Column("state", String(100), nullable=False),
    Column("action", String(30), nullable=False),  # start, answer, back, restart, cancel, outcome, ...
    Column("detail", Text, nullable=True),  # the answer given, or what happened
    Index("ix_audit_conversation", "conversation_id"),
    Index("ix_audit_at", "at"),
)
declare(
    PersonalData(
        "audit",
        person=("user_id",),
        details=("detail",),
        at="at",
        rules="deleted when older than the retention age, unless its conversation is kept for an open case",
    )
)

inbound_events = Table(
    "inbound_events",
    metadata,
    # The inbound journal (bot.store.inbound): every platform event is written here before it is
    # acknowledged, and processed from here, so an acknowledged event survives the replica dying.
    Column("id", Integer, primary_key=True, autoincrement=True),  # arrival order: replayed in it, per person
    Column("key", String(250), nullable=False, unique=True),  # the platform's id for this delivery
    Column("platform", String(20), nullable=False),
    Column("person", String(200), nullable=False),  # whose event: replayed in order per person
    Column("payload", Text, nullable=True),  # the event as received (JSON); cleared once processed
    Column("status", String(10), nullable=False),  # pending, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(100), nullable=True),  # the replica processing it now
    Column("lease_until", UTCDateTime(), nullable=True),  # taken over by another replica after this
    Column("received_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Index("ix_inbound_events_pending", "status", "person", "id"),
    Index("ix_inbound_events_received", "received_at"),
)
declare(
    PersonalData(
        "inbound_events",
        person=("person",),
        details=("payload",),  # the event as the platform sent it: what the person typed or clicked
        not_personal=("key",),  # the platform's id for one delivery
        at="received_at",
        rules="the payload is cleared once the event is handled; the row is deleted when received before the "
        "retention age",
    )
)

deliveries = Table(
    "deliveries",
    metadata,
    # One row per platform delivery id (Slack retry, Teams activity id) already applied.
    Column("key", String(250), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)
declare(
    PersonalData(
        "deliveries",
        not_personal=("key",),  # the platform's id for one delivery ("slack:<event id>"), nobody's id
        at="at",
        rules="deleted when older than the retention age",
    )
)
