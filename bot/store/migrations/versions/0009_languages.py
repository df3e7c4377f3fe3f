"""languages: each person's chosen language, cases in their recipients' languages

Defined by bot/store/languages.py (person_languages) and bot/cases/tables.py
(cases.translations, case_recipients.language).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_languages",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("translations", sa.Text(), nullable=True))
    with op.batch_alter_table("case_recipients") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_recipients") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("translations")
    op.drop_table("person_languages")
