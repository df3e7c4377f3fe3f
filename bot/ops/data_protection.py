"""Retention and subject access over every table that holds personal data.

Both work from the declarations in bot.store.personal_data, made beside each table by its owner,
so a new table is purged and exported as soon as it is declared (and a test fails until it is):

- ``purge_declared`` deletes, in the purge's own transaction, the rows of every declared table
  whose retention is an age (``at``) or a parent row that is gone (``parent``). The tables with
  rules of their own (conversations, audit, cases, delivery keys) are purged by
  bot.ops.reports.purge first, so children follow their cases in the same run.
- ``export_person`` finds every row about one person in every declared table: rows whose person
  columns hold one of the person's identifiers (the id given, and the directory's email, Slack and
  Teams ids for them), and the rows that belong to those (a case's history and notifications).

Tables are read by reflection, so the tables the migrations create from outside definitions
(slack_sdk's, the Teams adapter's) are handled without importing an adapter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, MetaData, Table, delete, func, inspect, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from bot.store import Store, migrate
from bot.store.personal_data import PersonalData, declared

HIDDEN = "(not exported: a credential)"


def declarations() -> dict[str, PersonalData]:
    """Every declaration, after importing every module that defines core tables (and declares them)."""
    migrate.target_metadata()  # imports bot.store.migrate.TABLE_MODULES
    return declared()


def _tables(conn: Connection, names: Iterable[str]) -> dict[str, Table]:
    present = set(inspect(conn).get_table_names())
    metadata = MetaData()
    return {name: Table(name, metadata, autoload_with=conn) for name in names if name in present}


def purge_declared(conn: Connection, cutoff: datetime) -> dict[str, int]:
    """Delete what the declarations say has expired, parents before children; rows deleted per table."""
    entries = declarations()
    tables = _tables(conn, entries)
    deleted: dict[str, int] = {}
    for name, entry in entries.items():
        table = tables.get(name)
        if table is None or entry.rules or entry.kept_because:
            continue
        if entry.parent is not None:
            parent = tables.get(entry.parent.table)
            if parent is None:
                continue
            keys = select(parent.c[entry.parent.key]).scalar_subquery()
            condition: ColumnElement[bool] = table.c[entry.parent.column].not_in(keys)
        else:
            assert entry.at is not None
            condition = table.c[entry.at] < cutoff
        if entry.rows:  # only some rows are about people (Teams channels are not)
            condition = condition & text(entry.rows)
        statement = delete(table).where(condition)
        deleted[name] = int(conn.execute(statement).rowcount or 0)
    return deleted


def identifiers_for(person_id: str, directory: Any = None) -> list[str]:
    """The id given, plus the directory's id, email, Slack and Teams ids for that person, if it knows them."""
    found = [person_id]
    person = None
    if directory is not None:
        wanted = person_id.strip().lower()
        person = directory.get(person_id) or next(
            (p for p in directory if wanted in {str(v).lower() for v in (p.id, p.email, p.slack_id, p.teams_id) if v}),
            None,
        )
    if person is not None:
        found += [v for v in (person.id, person.email, person.slack_id, person.teams_id) if v]
    return list(dict.fromkeys(v.strip() for v in found if v and v.strip()))


def _matches(table: Table, entry: PersonalData, identifiers: list[str]) -> ColumnElement[bool] | None:
    """A row names the person: a person column is one of the ids, or ends with ':' and one
    (``slack:T1:U2``, ``teams:<entra id>``, ``email:a@b``); a JSON column holds one as a value."""
    conditions: list[ColumnElement[bool]] = []
    for value in (v.lower() for v in identifiers):
        for name in entry.person:
            column = func.lower(table.c[name])
            conditions += [column == value, column.endswith(":" + value, autoescape=True)]
        for name in entry.person_json:
            conditions.append(func.lower(table.c[name]).contains(json.dumps(value), autoescape=True))
    return or_(*conditions) if conditions else None


def export_person(store: Store, person_id: str, *, directory: Any = None, now: datetime) -> dict[str, Any]:
    """Everything held about one person, table by table, as JSON-ready data."""
    identifiers = identifiers_for(person_id, directory)
    entries = declarations()
    result: dict[str, Any] = {
        "person": person_id,
        "identifiers_searched": identifiers,
        "exported_at": now.isoformat(),
        "tables": {},
    }
    found_keys: dict[str, set[Any]] = {}
    chat_ids = set(identifiers)  # and every full chat user id found below, for pseudonymised tables
    with store.engine.connect() as conn:
        tables = _tables(conn, entries)
        # pseudonymised tables last, once the person's full chat user ids are known
        for name, entry in sorted(entries.items(), key=lambda item: bool(item[1].pseudonymous)):
            table = tables.get(name)
            if table is None:
                continue
            conditions = []
            direct = _matches(table, entry, identifiers)
            if direct is not None:
                conditions.append(direct)
            if entry.pseudonym is not None:
                hashed = sorted({entry.pseudonym(conn, chat_id) for chat_id in sorted(chat_ids)})
                conditions += [table.c[column].in_(hashed) for column in entry.pseudonymous]
            if entry.parent is not None and found_keys.get(entry.parent.table):
                conditions.append(table.c[entry.parent.column].in_(sorted(found_keys[entry.parent.table])))
            rows = conn.execute(select(table).where(or_(*conditions))).mappings().all() if conditions else []
            key = _key(table)
            found_keys[name] = {row[key] for row in rows} if key else set()
            chat_ids |= {str(row[c]) for row in rows for c in entry.person if ":" in str(row[c] or "")}
            result["tables"][name] = {
                "held_because": entry.retention,
                "rows": [_exported(dict(row), entry) for row in rows],
            }
    return result


def _key(table: Table) -> str | None:
    primary = list(table.primary_key.columns)
    if len(primary) == 1:
        return str(primary[0].name)
    return "id" if "id" in table.c else None


def _exported(row: dict[str, Any], entry: PersonalData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name in entry.secrets and value is not None:
            out[name] = HIDDEN
        elif isinstance(value, datetime | date):
            out[name] = value.isoformat()
        elif isinstance(value, str) and value[:1] in "[{":
            try:
                out[name] = json.loads(value)
            except ValueError:
                out[name] = value
        else:
            out[name] = value
    return out
