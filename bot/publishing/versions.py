"""Whole-library versions in the database: the live one, publishing a new one, seeding the first.

The live version is the highest number. Publishing inserts number live+1 in the caller's
transaction; the number is the primary key, so two approvals racing on two replicas cannot both
publish the same number: the loser's transaction fails and nothing of it is kept.

Seeding: the first start on an empty database stores the configured flows folder (with its
registry and settings file) as version 1, so ``policybot chat`` needs no set-up. While no
reviewers are named (``authoring.reviewers``) and nothing but seeds has ever been published, a
start whose folder differs from the live version seeds a new version from it (a developer editing
flows/ sees their edit on the next start, as before). Once reviewers are named, or a reviewed
change has been published, the database is the library: the folder is no longer read (else
anyone starting policybot with ``--flows`` pointing at their own copy would publish it without
review), and a start whose folder differs says so in the log (``policybot library export``
writes the live library out; ``library submit`` sends edits through review).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.publishing.snapshot import fingerprint
from bot.publishing.tables import library_versions
from bot.store import Store

log = logging.getLogger(__name__)

SEED = "seed"
CHANGE = "change"
ROLLBACK = "rollback"
SYSTEM = "policybot"


@dataclass(frozen=True)
class Version:
    number: int
    files: dict[str, str]
    fingerprint: str
    source: str
    change_id: str | None
    published_by: str
    published_at: datetime


def live_number(conn: Connection) -> int | None:
    """The live version's number: one indexed read, cheap enough to poll every second."""
    found = conn.execute(select(func.max(library_versions.c.number))).scalar()
    return None if found is None else int(found)


def read(conn: Connection, number: int) -> Version | None:
    row = conn.execute(select(library_versions).where(library_versions.c.number == number)).mappings().first()
    if row is None:
        return None
    return Version(
        number=int(row["number"]),
        files=dict(json.loads(row["files"])),
        fingerprint=str(row["fingerprint"]),
        source=str(row["source"]),
        change_id=row["change_id"],
        published_by=str(row["published_by"]),
        published_at=row["published_at"],
    )


def live(conn: Connection) -> Version | None:
    number = live_number(conn)
    return None if number is None else read(conn, number)


def publish(
    conn: Connection,
    files: dict[str, str],
    *,
    source: str,
    by: str,
    now: datetime,
    change_id: str | None = None,
    expect_live: int | None = None,
) -> int:
    """Insert the next version in the caller's transaction; its number.

    ``expect_live``: the live version the caller read (0: none yet). On PostgreSQL's READ
    COMMITTED a second read in the same transaction can see a version another replica committed
    meanwhile; publishing on top of anything but what the caller read raises ``Conflict``, so a
    change is never applied to a library it was not checked against.
    """
    current = live_number(conn)
    if expect_live is not None and (current or 0) != expect_live:
        raise Conflict(current)
    number = (current or 0) + 1
    conn.execute(
        insert(library_versions).values(
            number=number,
            files=json.dumps(files, ensure_ascii=False, sort_keys=True),
            fingerprint=fingerprint(files),
            source=source,
            change_id=change_id,
            published_by=by,
            published_at=now,
        )
    )
    return number


class Conflict(Exception):
    """The live version moved on while a change was being published (another approval won)."""

    def __init__(self, live: int | None) -> None:
        super().__init__(f"the live library is now version {live}")
        self.live = live


def ensure_seeded(store: Store, files: dict[str, str], now: datetime, *, reseed: bool = True) -> Version:
    """The live version after seeding from the folder's ``files`` where the rules above say so
    (``reseed``: a changed folder may replace a seeded library, i.e. no reviewers are named)."""
    wanted = fingerprint(files)
    for _ in range(3):  # replicas starting together: one inserts, the others read what it inserted
        try:
            with store.transaction() as conn:
                current = live(conn)
                if current is not None and current.fingerprint == wanted:
                    return current
                if current is not None and (current.source != SEED or not reseed):
                    log.warning(
                        "the flows folder differs from the live flow library (version %d); the live library "
                        "is served (changes go through `policybot library submit`; `policybot library export "
                        "DIR` writes it out).",
                        current.number,
                    )
                    return current
                number = publish(
                    conn, files, source=SEED, by=SYSTEM, now=now, expect_live=current.number if current else 0
                )
            if current is not None:
                log.info("flows folder changed: seeded flow library version %d from it", number)
            with store.transaction() as conn:
                found = read(conn, number)
            assert found is not None
            return found
        except (IntegrityError, Conflict):  # another replica seeded first: read what it stored
            continue
    with store.transaction() as conn:
        found = live(conn)
    assert found is not None
    return found
