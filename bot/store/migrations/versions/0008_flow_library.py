"""flow library: published library versions, change requests, reviews, review notifications

Defined by bot/publishing/tables.py (library_versions, library_changes, library_reviews,
library_outbox).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "library_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("change_id", sa.String(length=32), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "library_changes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("flows", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("decided_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_library_changes_status", "library_changes", ["status"], unique=False)
    op.create_table(
        "library_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("change_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_library_reviews_change", "library_reviews", ["change_id"], unique=False)
    op.create_table(
        "library_outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("delivered_at", _AT, nullable=True),
        sa.Column("failed_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_library_outbox_due", "library_outbox", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_library_outbox_change", "library_outbox", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_library_outbox_change", table_name="library_outbox")
    op.drop_index("ix_library_outbox_due", table_name="library_outbox")
    op.drop_table("library_outbox")
    op.drop_index("ix_library_reviews_change", table_name="library_reviews")
    op.drop_table("library_reviews")
    op.drop_index("ix_library_changes_status", table_name="library_changes")
    op.drop_table("library_changes")
    op.drop_table("library_versions")
