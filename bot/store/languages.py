"""Each person's chosen language: what the "Cymraeg / English" switch remembers.

One small row per person who has pressed the switch (or whose language was set for them).
A person with no row gets their platform's language, else the organisation's default
(bot.conversation.speaking). The row is personal data: it names the chat user, and goes with
everything else past the retention age unless the person chose again since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection, String, Table, bindparam, insert, select, update

from bot.store.personal_data import PersonalData, declare
from bot.store.schema import UTCDateTime, metadata

person_languages = Table(
    "person_languages",
    metadata,
    Column("user_id", String(200), primary_key=True),  # the chat actor's user_id
    Column("language", String(8), nullable=False),  # en, cy
    Column("chosen_at", UTCDateTime(), nullable=False),
)

declare(PersonalData("person_languages", person=("user_id",), at="chosen_at"))


# Built once: this is read on every turn of a bot that speaks several languages (docs/benchmarks.md).
_CHOSEN = select(person_languages.c.language).where(person_languages.c.user_id == bindparam("b_user"))


# The same read as plain SQL for the two databases policybot runs on, sent on the DBAPI
# connection itself (in the turn's transaction): a tenth of the cost of going through
# SQLAlchemy's execute, on the one read a bilingual bot adds to every turn (docs/benchmarks.md,
# "With two languages"). Any other database goes through ``_CHOSEN``.
_CHOSEN_SQL = {
    "qmark": "SELECT language FROM person_languages WHERE user_id = ?",  # sqlite3
    "format": "SELECT language FROM person_languages WHERE user_id = %s",  # psycopg
    "pyformat": "SELECT language FROM person_languages WHERE user_id = %s",
}


def chosen_language(conn: Connection, user_id: str) -> str | None:
    """The language this person chose, or None when they never chose one."""
    sql = _CHOSEN_SQL.get(conn.dialect.paramstyle) if conn.dialect.name in ("sqlite", "postgresql") else None
    if sql is None:
        found = conn.execute(_CHOSEN, {"b_user": user_id}).scalar()
    else:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, (user_id,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        found = row[0] if row else None
    return None if found is None else str(found)


def choose_language(conn: Connection, user_id: str, language: str, now: datetime) -> None:
    """Remember the person's choice (the latest choice wins)."""
    done = conn.execute(
        update(person_languages).where(person_languages.c.user_id == user_id).values(language=language, chosen_at=now)
    )
    if not done.rowcount:
        conn.execute(insert(person_languages).values(user_id=user_id, language=language, chosen_at=now))
