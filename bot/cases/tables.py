"""The case, outbox and timer tables, on the store's shared ``metadata``.

They live beside the engine's tables (bot/store/schema.py) in one MetaData, so one Alembic
history covers the whole store (bot/store/migrate.py lists this module in TABLE_MODULES, and
migration 0003 creates these tables). A change here needs a new migration. Everything is plain
SQLAlchemy Core types that mean the same on SQLite and PostgreSQL; JSON is kept as text so both
backends read it the same way.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from bot.store.personal_data import Parent, PersonalData, declare
from bot.store.schema import UTCDateTime, metadata

cases = Table(
    "cases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("conversation_id", String(32), nullable=False),
    Column("employee_user_id", String(200), nullable=False),  # the chat actor's user_id
    Column("employee_key", String(200), nullable=True),  # their directory id, when the directory knows them
    Column("employee_name", String(200), nullable=False),
    Column("employee_recipient", Text, nullable=False),  # JSON Recipient: where progress reaches them
    Column("platform", String(20), nullable=False),
    Column("flow_id", String(100), nullable=False),
    Column("flow_version", String(32), nullable=False),
    Column("flow_title", String(300), nullable=False),
    Column("outcome_state", String(100), nullable=False),
    Column("verdict", String(10), nullable=False),
    Column("advice", Text, nullable=False),
    Column("summary", Text, nullable=False),  # exactly the text the employee was shown as what will be sent
    Column("note", Text, nullable=True),
    Column("answers", Text, nullable=False),  # JSON [{state, question, answer}]
    Column("citations", Text, nullable=False),  # JSON [{id, policy_title, clause (as readers see it), summary}]
    Column("targets", Text, nullable=False),  # JSON list: the flow's first targets
    Column("then_targets", Text, nullable=False),  # JSON list: the flow's targets when nobody acknowledges
    Column("deadline_seconds", Integer, nullable=True),
    Column("deadline_working_hours", Boolean, nullable=False, default=False),
    Column("urgency", String(10), nullable=False),
    Column("state", String(20), nullable=False),  # open, acknowledged, resolved, withdrawn
    Column("round", Integer, nullable=False, default=0),  # times the case has been chased for want of an ack
    Column("ack_due_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    Column("acknowledged_by", String(200), nullable=True),  # chat user id
    Column("acknowledged_by_key", String(200), nullable=True),  # their directory id
    Column("acknowledged_by_name", String(200), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closed_by", String(200), nullable=True),
    Column("closed_by_name", String(200), nullable=True),
    Column("resolution", Text, nullable=True),
    Column("translations", Text, nullable=True),  # JSON {language: {summary, flow_title}} (docs/languages.md)
    Index("ix_cases_state", "state"),
    Index("ix_cases_employee", "employee_user_id"),
    Index("ix_cases_created", "created_at"),
)
declare(
    PersonalData(
        "cases",
        person=("employee_user_id", "employee_key", "acknowledged_by", "acknowledged_by_key", "closed_by"),
        person_json=("employee_recipient",),
        details=(
            "employee_name",
            "acknowledged_by_name",
            "closed_by_name",
            "advice",
            "summary",
            "note",
            "answers",
            "resolution",
            "translations",
        ),
        not_personal=("flow_title",),
        at="closed_at",
        rules="closed cases are deleted when closed before the retention age; open and acknowledged cases are kept",
    )
)

case_recipients = Table(
    "case_recipients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), nullable=False),
    Column("kind", String(10), nullable=False),  # person or channel
    Column("key", String(200), nullable=False),  # directory id, or the target name for a channel
    Column("target", String(50), nullable=False),  # which escalation target this recipient stands for
    Column("round", Integer, nullable=False),  # 0: first recipients; 1, 2, ...: added when chasing
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=True),
    Column("slack_id", String(100), nullable=True),
    Column("teams_id", String(200), nullable=True),
    Column("slack_channel", String(200), nullable=True),
    Column("teams_channel", String(400), nullable=True),
    Column("role", String(100), nullable=True),  # for a channel: the directory role that may act for it
    Column("note", Text, nullable=True),  # why this recipient, when not the one the flow asked for
    Column("language", String(8), nullable=True),  # the language their notifications are written in
    Column("added_at", UTCDateTime(), nullable=False),
    UniqueConstraint("case_id", "kind", "key", name="uq_case_recipient"),
    Index("ix_case_recipients_key", "kind", "key"),
)
declare(
    PersonalData(
        "case_recipients",
        person=("key", "email", "slack_id", "teams_id"),  # a channel's key is its target name, nobody's id
        details=("name", "note"),
        parent=Parent("cases", "case_id"),
    )
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("action", String(30), nullable=False),  # opened, acknowledged, resolved, withdrawn, chased, ...
    Column("actor", String(200), nullable=False),  # the chat user id, or "policybot" for the scheduler
    Column("actor_name", String(200), nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_case_events_case", "case_id"),
)
declare(
    PersonalData("case_events", person=("actor",), details=("actor_name", "detail"), parent=Parent("cases", "case_id"))
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(32), primary_key=True),  # the Notification.id receivers use to show it once
    Column("case_id", String(32), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("recipient", Text, nullable=False),  # JSON Recipient
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("actions", Text, nullable=False),  # JSON list
    Column("facts", Text, nullable=False),  # JSON [[label, value], ...]
    Column("urgency", String(10), nullable=False),
    Column("status", String(10), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("lease_owner", String(100), nullable=True),  # the worker delivering it right now
    Column("lease_until", UTCDateTime(), nullable=True),  # after this another worker may take it over
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("failed_at", UTCDateTime(), nullable=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_case", "case_id"),
)
declare(
    PersonalData(
        "outbox",
        person_json=("recipient",),
        details=("title", "text", "facts"),
        parent=Parent("cases", "case_id"),
    )
)

timers = Table(
    "timers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), nullable=False),
    Column("kind", String(30), nullable=False),  # ack_deadline
    Column("due_at", UTCDateTime(), nullable=False),
    Column("status", String(10), nullable=False),  # pending, fired, cancelled
    Column("created_at", UTCDateTime(), nullable=False),
    Column("fired_at", UTCDateTime(), nullable=True),
    Index("ix_timers_due", "status", "due_at"),
    Index("ix_timers_case", "case_id"),
)

CASE_TABLES = [cases, case_recipients, case_events, outbox, timers]
