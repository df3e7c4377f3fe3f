"""What the Teams adapter keeps in the database: conversation references and cards it sent.

A bot can only message someone in Teams if it knows a *conversation reference* for them (service
URL, conversation id, tenant), which Teams hands over when the app is installed and with every
message. We keep the latest one per person (under each id a directory might use for them: Teams
user id, Entra object id, email, policybot user id) and per team channel, so escalations can reach
a manager or a channel proactively, even after a restart or on another replica.

``teams_sent_cards`` remembers each case card we delivered, by notification id: a retried
delivery of the same notification is recognised (at-least-once from the outbox, once in Teams),
and a click on a case card can redraw that same card with its new status.

These are the adapter's own tables on the core store's database engine (same SQLite file or
PostgreSQL database, same transactions style), created on start if missing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

references = Table(
    "teams_references",
    metadata,
    Column("key", String(300), primary_key=True),  # "user:29:..", "aad:<guid>", "email:a@b", "channel:19:.."
    Column("reference", Text, nullable=False),  # ConversationReference as JSON
    Column("tenant_id", String(100), nullable=True),
    Column("name", String(200), nullable=True),
    Column("email", String(320), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sent_cards = Table(
    "teams_sent_cards",
    metadata,
    Column("notification_id", String(100), primary_key=True),
    Column("case_id", String(100), nullable=False),
    Column("conversation_id", String(300), nullable=False),
    Column("activity_id", String(300), nullable=False),
    Column("card", Text, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class StoredReference:
    reference: dict[str, Any]
    tenant_id: str | None
    name: str | None
    email: str | None


@dataclass(frozen=True)
class SentCard:
    notification_id: str
    case_id: str
    conversation_id: str
    activity_id: str
    card: dict[str, Any]


def person_keys(
    *, teams_id: str | None = None, aad_id: str | None = None, email: str | None = None, user_id: str | None = None
) -> list[str]:
    """Every key a person's reference is filed under (and looked up by), most specific first."""
    keys = []
    if teams_id:
        keys.append(f"user:{teams_id}")
    if aad_id:
        keys.append(f"aad:{aad_id.lower()}")
    if email:
        keys.append(f"email:{email.strip().lower()}")
    if user_id:
        keys.append(f"pb:{user_id}")
    return keys


def channel_key(channel_id: str) -> str:
    return f"channel:{channel_id}"


class TeamsStorage:
    """Conversation references and sent case cards, on the runtime's SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        self._seen: dict[str, str] = {}  # key -> reference JSON last written by this process
        self._lock = threading.Lock()

    # -- references ---------------------------------------------------------------------------
    def remember(
        self,
        keys: list[str],
        reference: dict[str, Any],
        *,
        tenant_id: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> None:
        """File ``reference`` under every key; skipped when nothing changed since the last write."""
        encoded = json.dumps(reference, sort_keys=True, separators=(",", ":"))
        with self._lock:
            fresh = [k for k in keys if self._seen.get(k) != encoded + (email or "")]
        if not fresh:
            return
        now = datetime.now(UTC)
        values = {"reference": encoded, "tenant_id": tenant_id, "name": name, "updated_at": now}
        with self.engine.begin() as conn:
            for key in fresh:
                row = dict(values)
                if email:
                    row["email"] = email
                changed = conn.execute(update(references).where(references.c.key == key).values(**row)).rowcount
                if not changed:
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(references).values(key=key, **row))
                    except IntegrityError:  # another replica inserted it first: update theirs
                        conn.execute(update(references).where(references.c.key == key).values(**row))
        with self._lock:
            for key in fresh:
                self._seen[key] = encoded + (email or "")

    def find(self, keys: list[str]) -> StoredReference | None:
        """The newest reference filed under any of ``keys``."""
        if not keys:
            return None
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(references).where(references.c.key.in_(keys)).order_by(references.c.updated_at.desc())
                )
                .mappings()
                .all()
            )
        if not rows:
            return None
        by_key = {row["key"]: row for row in rows}
        row = next(by_key[k] for k in keys if k in by_key)
        return StoredReference(json.loads(row["reference"]), row["tenant_id"], row["name"], row["email"])

    def email_of(self, keys: list[str]) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(references.c.email).where(references.c.key.in_(keys), references.c.email.is_not(None)).limit(1)
            ).first()
        return None if row is None else str(row.email)

    def any_reference_in_tenant(self, tenant_id: str | None) -> StoredReference | None:
        """Some recent reference from the tenant: its service URL reaches anyone in that tenant."""
        query = select(references).order_by(references.c.updated_at.desc()).limit(1)
        if tenant_id:
            query = query.where(references.c.tenant_id == tenant_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return (
            None
            if row is None
            else StoredReference(json.loads(row["reference"]), row["tenant_id"], row["name"], row["email"])
        )

    def forget(self, keys: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(references).where(references.c.key.in_(keys)))
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)

    def forget_person(self, keys: list[str]) -> list[str]:
        """Remove every key the person is filed under (uninstall): the ones given, their email's,
        and any other key holding the same personal chat (a policybot user id, an old Teams id).
        Returns the keys removed."""
        person = [k for k in keys if not k.startswith(("channel:", "team:"))]
        if not person:
            return []
        with self.engine.begin() as conn:
            rows = conn.execute(select(references).where(references.c.key.in_(person))).mappings().all()
            doomed = set(person)
            doomed |= {f"email:{row['email'].strip().lower()}" for row in rows if row["email"]}
            chats = {_chat_of(row["reference"]) for row in rows} - {None}
            for chat in chats:
                holders = conn.execute(
                    select(references.c.key, references.c.reference).where(
                        references.c.reference.contains(json.dumps(chat)),
                        ~references.c.key.startswith("channel:"),
                        ~references.c.key.startswith("team:"),
                    )
                ).all()
                doomed |= {row.key for row in holders if _chat_of(row.reference) == chat}
            conn.execute(delete(references).where(references.c.key.in_(doomed)))
        with self._lock:
            for key in doomed:
                self._seen.pop(key, None)
        return sorted(doomed)

    # -- sent case cards ----------------------------------------------------------------------
    def sent_card(self, notification_id: str) -> SentCard | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(sent_cards).where(sent_cards.c.notification_id == notification_id))
                .mappings()
                .first()
            )
        return None if row is None else _sent(row)

    def record_sent_card(self, sent: SentCard) -> None:
        row = {
            "notification_id": sent.notification_id,
            "case_id": sent.case_id,
            "conversation_id": sent.conversation_id,
            "activity_id": sent.activity_id,
            "card": json.dumps(sent.card, separators=(",", ":")),
            "sent_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(sent_cards).values(**row))
            except IntegrityError:
                conn.execute(
                    update(sent_cards).where(sent_cards.c.notification_id == sent.notification_id).values(**row)
                )

    def update_sent_card(self, notification_id: str, card: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sent_cards)
                .where(sent_cards.c.notification_id == notification_id)
                .values(card=json.dumps(card, separators=(",", ":")))
            )

    def cards_for_case(self, case_id: str) -> list[SentCard]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sent_cards).where(sent_cards.c.case_id == case_id)).mappings().all()
        return [_sent(r) for r in rows]


def _chat_of(reference_json: str) -> str | None:
    """The conversation id inside a stored reference (a personal chat identifies its person)."""
    try:
        conversation = json.loads(reference_json).get("conversation") or {}
    except (ValueError, AttributeError):
        return None
    chat = conversation.get("id") if isinstance(conversation, dict) else None
    return chat if isinstance(chat, str) and chat else None


def _sent(row: Any) -> SentCard:
    return SentCard(
        notification_id=row["notification_id"],
        case_id=row["case_id"],
        conversation_id=row["conversation_id"],
        activity_id=row["activity_id"],
        card=json.loads(row["card"]),
    )
