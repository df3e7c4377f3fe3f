"""routing log: what the router guessed and what the person chose, pseudonymised

Defined by bot/store/routing_log.py (routing_log, routing_secret).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("guess", sa.String(length=100), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("choice", sa.String(length=100), nullable=True),
        sa.Column("rephrased_to", sa.String(length=32), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_routing_log_at", "routing_log", ["at"], unique=False)
    op.create_index("ix_routing_log_person_at", "routing_log", ["person", "at"], unique=False)
    op.create_table(
        "routing_secret",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("routing_secret")
    op.drop_index("ix_routing_log_person_at", table_name="routing_log")
    op.drop_index("ix_routing_log_at", table_name="routing_log")
    op.drop_table("routing_log")
