"""Teams adapter tables: conversation references and the case cards it sent

Defined by adapters/teams/storage.py (the core never imports an adapter, so the columns are
written out here); a test compares the migrated database with that module's tables. Created
here so that replicas starting together on a new PostgreSQL database do not race to create
them: by the time the Teams adapter looks, the store has already migrated.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_references",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "teams_sent_cards",
        sa.Column("notification_id", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("activity_id", sa.String(300), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("teams_sent_cards")
    op.drop_table("teams_references")
