"""durability: inbound event journal, and one active conversation per person

- ``inbound_events``: every platform event is written here before it is acknowledged and
  processed from here (bot/store/inbound.py), so a replica that dies after the ack loses nothing.
- ``uq_conversations_one_active``: a unique partial index on conversations(user_id) where the
  status is 'active'. Databases from before it may hold several active conversations for one
  person (two starts at the same instant on two replicas); all but the newest are set aside first,
  exactly as a new start sets the old one aside, with an audit line saying why.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SET_ASIDE = "set aside by an upgrade: one active conversation per person"


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_events_pending", ["status", "person", "id"], unique=False)
        batch_op.create_index("ix_inbound_events_received", ["received_at"], unique=False)

    _set_aside_all_but_the_newest_active()
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_conversations_one_active",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def _set_aside_all_but_the_newest_active() -> None:
    bind = op.get_bind()
    older = (
        bind.execute(
            sa.text(
                "SELECT c.id FROM conversations c WHERE c.status = 'active' AND EXISTS ("
                " SELECT 1 FROM conversations n WHERE n.user_id = c.user_id AND n.status = 'active'"
                " AND (n.updated_at > c.updated_at OR (n.updated_at = c.updated_at AND n.id > c.id)))"
            )
        )
        .scalars()
        .all()
    )
    for conversation_id in older:
        bind.execute(
            sa.text(
                "INSERT INTO audit (at, user_id, conversation_id, flow_id, flow_version, state, action, detail) "
                "SELECT updated_at, user_id, id, flow_id, flow_version, state, 'abandoned', :why "
                "FROM conversations WHERE id = :id"
            ),
            {"id": conversation_id, "why": SET_ASIDE},
        )
        bind.execute(
            sa.text("UPDATE conversations SET status = 'abandoned', version = version + 1 WHERE id = :id"),
            {"id": conversation_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("uq_conversations_one_active")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_events_received")
        batch_op.drop_index("ix_inbound_events_pending")
    op.drop_table("inbound_events")
