"""Policy sources in the database (SQLite and PostgreSQL), and what changed between versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.errors import PolicybotError
from bot.language.policy_docs.changes import compare
from bot.language.policy_docs.structure import parse_text
from bot.store import Store
from bot.store.policy_sources import PolicySources, policy_source_versions

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
V1 = "# Rules\n1. Say the views are your own, every time.\n2. Never share a password with anyone.\n- not even IT\n"
V2 = V1.replace("every time", "on every profile")


def test_a_new_version_only_when_the_clauses_change(database_url: str) -> None:
    store, sources = Store(database_url), PolicySources()
    try:
        with store.transaction() as conn:
            first = sources.save(conn, "ours", parse_text(V1), filename="rules.txt", title="Our rules", now=NOW)
            again = sources.save(conn, "ours", parse_text(V1), filename="rules.docx", title="Our rules", now=NOW)
            second = sources.save(conn, "ours", parse_text(V2), filename="rules.txt", title="", now=NOW + timedelta(1))
        assert (first.created, first.current.version, first.previous) == (True, 1, None)
        assert (again.created, again.current.version) == (False, 1)
        assert (second.created, second.current.version, second.previous and second.previous.version) == (True, 2, 1)
        with store.transaction() as conn:
            assert sources.current(conn, "ours") == second.current
            old = sources.version(conn, "ours", 1)
            assert old is not None and old.document == parse_text(V1) and old.current_version == 2
            assert [v.source_id for v in sources.all_current(conn)] == ["ours"]
            assert sources.current(conn, "theirs") is None and sources.version(conn, "ours", 3) is None
        assert second.current.title == "ours"  # an empty title falls back to the id
        assert second.current.imported_at == NOW + timedelta(1)
    finally:
        store.close()


def test_a_changed_title_alone_is_not_a_new_version(database_url: str) -> None:
    store, sources = Store(database_url), PolicySources()
    try:
        with store.transaction() as conn:
            sources.save(conn, "ours", parse_text(V1), filename="a.txt", title="Old", now=NOW)
            result = sources.save(conn, "ours", parse_text(V1), filename="a.txt", title="New title", now=NOW)
        assert (result.created, result.current.version, result.current.title) == (False, 1, "New title")
    finally:
        store.close()


def test_two_imports_at_once_cannot_both_write_a_version(database_url: str) -> None:
    """Another replica's version 2 lands between our read and our write: ours is refused, kindly."""
    store, sources = Store(database_url), PolicySources()
    try:
        with store.transaction() as conn:
            sources.save(conn, "ours", parse_text(V1), filename="a.txt", title="Ours", now=NOW)
            row = {"source_id": "ours", "version": 2, "digest": "x" * 64, "filename": "b.txt", "clauses": "[]",
                   "imported_at": NOW}  # fmt: skip
            conn.execute(insert(policy_source_versions).values(row))
        with (
            pytest.raises(PolicybotError, match="at the same moment; run the import again"),
            store.transaction() as conn,
        ):
            sources.save(conn, "ours", parse_text(V2), filename="a.txt", title="Ours", now=NOW)
        with store.transaction() as conn:
            current = sources.current(conn, "ours")
        assert current is not None and current.version == 1  # nothing half written
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["", "Ours", "our policy", "-x", "a" * 101, "ours/../x"])
def test_a_policy_id_must_be_a_registry_key(bad: str) -> None:
    from bot.store.policy_sources import check_id

    with pytest.raises(PolicybotError, match="cannot be a policy id"):
        check_id(bad)


# -- what changed ---------------------------------------------------------------------------------------


def test_one_edited_paragraph_is_one_changed_clause() -> None:
    changes = compare(parse_text(V1), parse_text(V2))
    assert [(a.label, b.label) for a, b in changes.changed] == [("paragraph 1", "paragraph 1")]
    assert changes.added == [] and changes.removed == []
    assert changes.counts() == "1 changed, 0 new, 0 removed"


def test_an_inserted_bullet_is_new_and_renumbers_nothing_into_a_change() -> None:
    before = parse_text("Rules\n- one rule here\n- two rule here\n- three rule here\n")
    after = parse_text(
        "Rules\n- one rule here\n- a brand new obligation about AI tools\n- two rule here\n- three rule here\n"
    )
    changes = compare(before, after)
    assert [c.label for c in changes.added] == ["heading 'Rules', bullet 2"]
    assert changes.changed == [] and changes.removed == []


def test_a_removed_and_a_rewritten_clause() -> None:
    before = parse_text("1. Keep passwords secret at all times please.\n2. Tell comms about a journalist.\n")
    after = parse_text("1. Something else entirely, about parking permits and car sharing.\n")
    changes = compare(before, after)
    assert [c.label for c in changes.removed] == ["paragraph 1", "paragraph 2"]
    assert [c.label for c in changes.added] == ["paragraph 1"]
    assert not compare(before, before)
