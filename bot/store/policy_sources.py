"""A council's policy documents in the database, in versions (issue 17, item 1).

``policybot policy import FILE --id ID`` reads a policy (bot.language.policy_docs) and keeps it
here as a *policy source*: one row per source (its id, title and newest version) and one row per
version (the clauses as JSON, the file name it came from, when). A new version is written only
when the clauses changed (their digest differs); importing the same text again, from the same
file or another format of it, changes nothing. Old versions are kept, so what a quote was checked
against can always be shown again (``policybot policy show ID --version N``).

Policy text is not personal data; the tables are declared in the register as holding none, so
purge and export-person know to leave them alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.errors import PolicybotError
from bot.language.policy_docs.model import PolicyDocument
from bot.store.personal_data import PersonalData, declare
from bot.store.schema import UTCDateTime, metadata

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{0,99}")  # the registry's policy keys (flows/citations.yaml)
TITLE_CHARS = 300
FILENAME_CHARS = 300

policy_sources = Table(
    "policy_sources",
    metadata,
    Column("id", String(100), primary_key=True),  # the registry's policy key: citations name it
    Column("title", String(TITLE_CHARS), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

policy_source_versions = Table(
    "policy_source_versions",
    metadata,
    Column("source_id", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),  # 1, 2, 3 ... per source
    Column("digest", String(64), nullable=False),  # sha256 of the clauses: a new version only when it changes
    Column("filename", String(FILENAME_CHARS), nullable=False),  # the imported file's name, without its folder
    Column("clauses", Text, nullable=False),  # JSON [{label, kind, text}]
    Column("imported_at", UTCDateTime(), nullable=False),
)
declare(
    PersonalData(
        "policy_sources",
        not_personal=("title",),  # the policy document's title
        kept_because="the council's policy documents, no personal data",
    )
)
declare(
    PersonalData(
        "policy_source_versions",
        kept_because="the council's policy documents, every version, no personal data",
    )
)


@dataclass(frozen=True)
class SourceVersion:
    """One stored version of a policy source."""

    source_id: str
    title: str
    version: int
    current_version: int
    digest: str
    filename: str
    imported_at: datetime
    document: PolicyDocument

    @property
    def where(self) -> str:
        """How messages name this text: "imported policy 'notts', version 3"."""
        return f"imported policy '{self.source_id}', version {self.version}"


@dataclass(frozen=True)
class Imported:
    """What an import did: the version now current, the one before it, and whether it is new."""

    current: SourceVersion
    previous: SourceVersion | None
    created: bool


def check_id(source_id: str) -> str:
    if not ID_PATTERN.fullmatch(source_id):
        raise PolicybotError(
            f"'{source_id}' cannot be a policy id: use 1 to 100 of a-z, 0-9, '.' and '-', starting with a "
            "letter or digit, the same key the citation registry gives the policy (flows/citations.yaml)."
        )
    return source_id


_COLUMNS = (
    policy_source_versions.c.source_id,
    policy_sources.c.title,
    policy_source_versions.c.version,
    policy_sources.c.current_version,
    policy_source_versions.c.digest,
    policy_source_versions.c.filename,
    policy_source_versions.c.imported_at,
    policy_source_versions.c.clauses,
)
_JOINED = policy_source_versions.join(policy_sources, policy_sources.c.id == policy_source_versions.c.source_id)


def _version(row: Any) -> SourceVersion:
    return SourceVersion(
        source_id=row.source_id,
        title=row.title,
        version=int(row.version),
        current_version=int(row.current_version),
        digest=row.digest,
        filename=row.filename,
        imported_at=row.imported_at,
        document=PolicyDocument.from_json(json.loads(row.clauses)),
    )


class _Raced(Exception):
    """Another import moved the source to a newer version between our read and our write."""


class PolicySources:
    """Reads and writes policy sources inside the caller's transaction."""

    def current(self, conn: Connection, source_id: str) -> SourceVersion | None:
        """The newest version of a source, or None when nothing was imported with that id."""
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(
                policy_sources.c.id == source_id, policy_source_versions.c.version == policy_sources.c.current_version
            )
        )
        row = conn.execute(query).first()
        return None if row is None else _version(row)

    def version(self, conn: Connection, source_id: str, version: int) -> SourceVersion | None:
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(policy_source_versions.c.source_id == source_id, policy_source_versions.c.version == version)
        )
        row = conn.execute(query).first()
        return None if row is None else _version(row)

    def all_current(self, conn: Connection) -> list[SourceVersion]:
        """The newest version of every source, by id."""
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(policy_source_versions.c.version == policy_sources.c.current_version)
            .order_by(policy_sources.c.id)
        )
        return [_version(row) for row in conn.execute(query)]

    def save(
        self, conn: Connection, source_id: str, document: PolicyDocument, *, filename: str, title: str, now: datetime
    ) -> Imported:
        """Store ``document`` as the newest version of ``source_id`` unless its clauses are unchanged.

        An unchanged document still updates the title when a different one is given. Two imports
        of one id at the same moment (two replicas, two people) cannot both write a version: the
        second one's insert collides and it is told to run again, and then compares with the first.
        """
        check_id(source_id)
        title = " ".join(title.split())[:TITLE_CHARS] or source_id
        previous = self.current(conn, source_id)
        if previous is not None and previous.digest == document.digest:
            if title != previous.title:
                conn.execute(update(policy_sources).where(policy_sources.c.id == source_id).values(title=title))
            current = self.current(conn, source_id)
            assert current is not None
            return Imported(current, previous, created=False)
        number = 1 if previous is None else previous.current_version + 1
        row = {
            "source_id": source_id,
            "version": number,
            "digest": document.digest,
            "filename": filename[-FILENAME_CHARS:],
            "clauses": json.dumps(document.to_json(), ensure_ascii=False, separators=(",", ":")),
            "imported_at": now,
        }
        try:
            with conn.begin_nested():
                conn.execute(insert(policy_source_versions).values(row))
                if previous is None:
                    conn.execute(
                        insert(policy_sources).values(id=source_id, title=title, current_version=number, updated_at=now)
                    )
                else:
                    done = conn.execute(
                        update(policy_sources)
                        .where(policy_sources.c.id == source_id, policy_sources.c.current_version == previous.version)
                        .values(title=title, current_version=number, updated_at=now)
                    )
                    if done.rowcount != 1:
                        raise _Raced
        except (IntegrityError, _Raced):
            raise PolicybotError(
                f"another import of policy '{source_id}' was saved at the same moment; run the import again "
                "to compare with it."
            ) from None
        current = self.current(conn, source_id)
        assert current is not None
        return Imported(current, previous, created=True)
