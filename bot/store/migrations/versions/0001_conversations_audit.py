"""conversations, audit, flow versions and delivery de-duplication

The engine's tables as of the "Engine ready" commit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_versions",
        sa.Column("version", sa.String(32), primary_key=True),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("flow_version", sa.String(32), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_conversations_user_status", "conversations", ["user_id", "status"])
    op.create_index("ix_conversations_updated", "conversations", ["updated_at"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("flow_version", sa.String(32), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_conversation", "audit", ["conversation_id"])
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_index("ix_audit_at", table_name="audit")
    op.drop_index("ix_audit_conversation", table_name="audit")
    op.drop_table("audit")
    op.drop_index("ix_conversations_updated", table_name="conversations")
    op.drop_index("ix_conversations_user_status", table_name="conversations")
    op.drop_table("conversations")
    op.drop_table("flow_versions")
