"""Each person's chosen language, read on every turn of a bilingual bot (bot.store.languages):
the same answers through the DBAPI fast path on SQLite and PostgreSQL, inside the turn's
transaction (a choice made earlier in it is seen)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store import Store
from bot.store.languages import choose_language, chosen_language


def test_a_choice_is_read_back_on_both_databases(database_url: str) -> None:
    store = Store(database_url)
    try:
        now = datetime(2026, 12, 1, tzinfo=UTC)
        with store.transaction() as conn:
            assert chosen_language(conn, "slack:T1:U1") is None
            choose_language(conn, "slack:T1:U1", "cy", now)
            assert chosen_language(conn, "slack:T1:U1") == "cy"  # in the same transaction
        with store.transaction() as conn:
            choose_language(conn, "slack:T1:U1", "en", now)
        with store.transaction() as conn:
            assert chosen_language(conn, "slack:T1:U1") == "en"  # the latest choice wins
            assert chosen_language(conn, "slack:T1:U2") is None
            assert chosen_language(conn, "slack:T1:U1' OR '1'='1") is None  # a parameter, never SQL
    finally:
        store.close()
