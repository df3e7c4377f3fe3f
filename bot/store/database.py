"""Opening the database and the conversation, audit and delivery rows the engine needs.

The same Core statements run on SQLite and PostgreSQL. SQLite is put in WAL mode so readers do
not block the writer and a crash loses no committed turn. Every write happens inside
``Store.transaction()``, so a turn (conversation, audit row, any case it opens) commits whole or
not at all. The tables are created and kept up to date by Alembic migrations (bot.store.migrate).

On SQLite every transaction starts with ``BEGIN IMMEDIATE``. Python's sqlite3 module otherwise
starts a transaction only at the first INSERT/UPDATE, so a turn's reads ran outside it and a
SAVEPOINT issued first (the delivery claim) committed on its own: a turn that then failed still
left its delivery marked as done, and the platform's retry was dropped as a duplicate. Taking
the write lock at the start also makes concurrent writers queue (busy_timeout) instead of
failing with "database is locked" when a read snapshot goes stale.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from bot.errors import PolicybotError, StaleConversation
from bot.language.flow_model import Flow
from bot.store import migrate
from bot.store.checkpoint import DEFAULT_INTERVAL, WalCheckpointer
from bot.store.connect import BACKSTOP_PAGES, create_db_engine, default_database_url, safe_url, set_wal_autocheckpoint
from bot.store.records import ACTIVE, SET_ASIDE, Answer, Conversation
from bot.store.schema import audit, conversations, deliveries, flow_versions
from bot.store.transient import transient_kind

UPGRADE_ATTEMPTS = 4  # about 2 s in all: a blip passes, a wrong address is reported soon
log = logging.getLogger(__name__)


class Store:
    """Conversations, audit, flow versions and delivery de-duplication."""

    def __init__(self, url: str | None = None, *, create: bool = True) -> None:
        self.url = url or default_database_url()
        self.engine = create_db_engine(self.url)
        self.closed = False  # set by close(): background loops on this store (the library poll) stop
        self.checkpointer: WalCheckpointer | None = None  # servers only: see checkpoint_in_background
        if create:
            self._upgrade()

    def _upgrade(self) -> None:
        """Bring the tables up to date; a transient failure (the connection dropped as a replica
        starts, the server still starting) is tried again a few times rather than ending startup."""
        for attempt in range(1, UPGRADE_ATTEMPTS + 1):
            try:
                migrate.upgrade(self.engine)
                return
            except PolicybotError as err:
                if attempt == UPGRADE_ATTEMPTS or transient_kind(err.__cause__ or err) is None:
                    raise PolicybotError(f"cannot open the database {safe_url(self.url)}: {err}") from None
                log.warning("opening the database failed (%s); trying again", transient_kind(err.__cause__ or err))
                time.sleep(min(2.0, 0.25 * 2**attempt))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def checkpoint_in_background(self, interval: float = DEFAULT_INTERVAL) -> WalCheckpointer | None:
        """For a long-running server on a SQLite file: WAL checkpoints in a thread of their own
        instead of inside whichever turn's commit reaches 1000 pages of WAL (bot.store.checkpoint).
        Nothing to do on PostgreSQL or an in-memory database (None). Called once at start-up."""
        if self.dialect != "sqlite" or self.url in ("sqlite://", "sqlite:///:memory:"):
            return None
        if self.checkpointer is None:
            set_wal_autocheckpoint(self.engine, BACKSTOP_PAGES)
            self.checkpointer = WalCheckpointer(self.engine, interval=interval)
        return self.checkpointer.start()

    def close(self) -> None:
        self.closed = True
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()

    # -- flow versions ---------------------------------------------------------------------
    def remember_flow_version(self, conn: Connection, flow: Flow, now: datetime) -> None:
        """Keep the flow's text so conversations on this version can finish after the file changes."""
        found = conn.execute(select(flow_versions.c.version).where(flow_versions.c.version == flow.version)).first()
        if found is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(flow_versions).values(
                            version=flow.version, flow_id=flow.id, source=flow.source, first_seen=now
                        )
                    )
            except IntegrityError:
                pass  # another replica stored it first: same content, same hash

    def flow_source(self, conn: Connection, version: str) -> str | None:
        row = conn.execute(select(flow_versions.c.source).where(flow_versions.c.version == version)).first()
        return None if row is None else str(row.source)

    # -- conversations -------------------------------------------------------------------------
    def insert_conversation(self, conn: Connection, conv: Conversation) -> None:
        conn.execute(_INSERT_CONVERSATION, _row(conv))

    def save_conversation(self, conn: Connection, conv: Conversation) -> None:
        """Write ``conv`` if the stored row is still at ``conv.version - 1``; else StaleConversation."""
        values = _row(conv)
        values["b_id"] = values.pop("id")
        values["b_previous"] = conv.version - 1
        result = conn.execute(_SAVE_CONVERSATION, values)
        if result.rowcount != 1:
            raise StaleConversation("this conversation was changed by another action at the same time")

    def load_conversation(self, conn: Connection, conversation_id: str) -> Conversation | None:
        row = conn.execute(_LOAD_CONVERSATION, {"b_id": conversation_id}).mappings().first()
        return None if row is None else conversation_from_row(row)

    def active_conversation(self, conn: Connection, user_id: str) -> Conversation | None:
        return self._newest(conn, user_id, ACTIVE)

    def set_aside_conversation(self, conn: Connection, user_id: str) -> Conversation | None:
        """The person's most recently set-aside check (left part-way for another), if any."""
        return self._newest(conn, user_id, SET_ASIDE)

    def latest_conversation(self, conn: Connection, user_id: str) -> Conversation | None:
        return self._newest(conn, user_id, None)

    @staticmethod
    def _newest(conn: Connection, user_id: str, status: str | None) -> Conversation | None:
        """The person's most recently changed conversation, with this status (or any)."""
        query = select(conversations).where(conversations.c.user_id == user_id)
        if status is not None:
            query = query.where(conversations.c.status == status)
        row = conn.execute(query.order_by(conversations.c.updated_at.desc()).limit(1)).mappings().first()
        return None if row is None else conversation_from_row(row)

    # -- audit and de-duplication ---------------------------------------------------------
    def record(
        self, conn: Connection, conv: Conversation, action: str, now: datetime, detail: str | None = None
    ) -> None:
        conn.execute(
            _INSERT_AUDIT,
            {
                "at": now,
                "user_id": conv.user_id,
                "conversation_id": conv.id,
                "flow_id": conv.flow_id,
                "flow_version": conv.flow_version,
                "state": conv.state,
                "action": action,
                "detail": detail,
            },
        )

    def record_action(
        self,
        conn: Connection,
        user_id: str,
        action: str,
        now: datetime,
        detail: str | None = None,
        *,
        flow_id: str = "-",
        subject: str = "-",
    ) -> None:
        """An audit line for something a person did outside a conversation (the web studio's
        sign-ins, edits and case actions). ``subject`` names what it was done to (a case id, a
        page) in the conversation column, so the one audit table answers "who did what, when"."""
        conn.execute(
            _INSERT_AUDIT,
            {
                "at": now,
                "user_id": user_id[:200],
                "conversation_id": subject[:32],
                "flow_id": flow_id[:100],
                "flow_version": "-",
                "state": "-",
                "action": action[:30],
                "detail": detail,
            },
        )

    def claim_delivery(self, conn: Connection, key: str, now: datetime) -> bool:
        """True the first time ``key`` is seen; False for a repeat delivery (applied once already)."""
        row = {"key": key[:250], "at": now}
        claim = _CLAIM_DELIVERY.get(conn.dialect.name)
        if claim is not None:
            # One statement that skips a repeat, instead of a savepoint around an insert that
            # fails (SAVEPOINT, INSERT, RELEASE: three round trips on every turn).
            return conn.execute(claim, row).first() is not None  # no row back: the key was there
        try:
            with conn.begin_nested():
                conn.execute(_INSERT_DELIVERY, row)
        except IntegrityError:
            return False
        return True


# The statements of every turn, built once: building a statement costs more than running it on
# SQLite (bench/bench_engine.py, full turn).
_CONVERSATION_COLUMNS = [c.name for c in conversations.columns]
_INSERT_CONVERSATION = insert(conversations)
_SAVE_CONVERSATION = (
    update(conversations)
    .where(conversations.c.id == bindparam("b_id"), conversations.c.version == bindparam("b_previous"))
    .values({name: bindparam(name) for name in _CONVERSATION_COLUMNS if name != "id"})
)
_LOAD_CONVERSATION = select(conversations).where(conversations.c.id == bindparam("b_id"))
_INSERT_AUDIT = insert(audit)
_INSERT_DELIVERY = insert(deliveries)
# Both databases the store runs on say "insert unless the key is there" in one statement.
_CLAIM_DELIVERY = {
    "sqlite": sqlite_insert(deliveries).on_conflict_do_nothing(index_elements=["key"]).returning(deliveries.c.key),
    "postgresql": postgresql_insert(deliveries)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(deliveries.c.key),
}


def _row(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "user_id": conv.user_id,
        "platform": conv.platform,
        "flow_id": conv.flow_id,
        "flow_version": conv.flow_version,
        "state": conv.state,
        "status": conv.status,
        "answers": json.dumps([a.to_json() for a in conv.answers], separators=(",", ":")),
        "version": conv.version,
        "case_id": conv.case_id,
        "created_at": conv.created_at,
        "updated_at": conv.updated_at,
    }


def conversation_from_row(row: Any) -> Conversation:
    """A conversations row (a mapping) as the Conversation the engine works with."""
    return Conversation(
        id=row["id"],
        user_id=row["user_id"],
        platform=row["platform"],
        flow_id=row["flow_id"],
        flow_version=row["flow_version"],
        state=row["state"],
        status=row["status"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        case_id=row["case_id"],
        answers=tuple(Answer.from_json(a) for a in json.loads(row["answers"])),
    )
