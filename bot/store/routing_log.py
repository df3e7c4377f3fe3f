"""What the router guessed and what the person then chose: the raw material of the routing report.

One row per message the router tried to understand: the text (cut short), the router's first
guess, how sure it was, what it offered, and what the person did next: started the flow, picked
another one, typed it again in other words, or left. Comms read the misses in
``policybot routing-report`` and decide which ones to add to a flow's examples; nothing here
ever changes live routing by itself.

People are pseudonymised: a row names a keyed hash of the chat user id, never the id. The key is
``POLICYBOT_PSEUDONYM_KEY`` when set, otherwise a random key made once and kept in the database
(``routing_secret``), so one person's rows can still be linked (a pick to the guess before it)
and found for a purge or an export, while the report and the table alone say nothing about who.
Rows are deleted with everything else past the retention age (``policybot purge``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Float, Index, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.personal_data import PersonalData, declare
from bot.store.schema import UTCDateTime, metadata

KEY_ENV = "POLICYBOT_PSEUDONYM_KEY"
TEXT_CHARS = 300  # what is kept of a message: enough to read it as an example, no more

# What happened after the router's answer.
STARTED = "started"  # sure enough to start the flow at once
OFFERED = "offered"  # offered choices (or asked what it is about); waiting for a pick
PICKED = "picked"  # the person picked a flow from what was offered (``choice``)
NOT_THIS = "not_this"  # a flow was started, and the person said "not this" and took another
REPHRASED = "rephrased"  # the person typed it again in other words instead of picking
OPEN = (STARTED, OFFERED, REPHRASED)

routing_log = Table(
    "routing_log",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("person", String(64), nullable=False),  # keyed hash of the chat user id
    Column("text", Text, nullable=True),  # dropped once the first guess proved right
    Column("language", String(8), nullable=False),
    Column("guess", String(100), nullable=True),  # the router's first flow
    Column("score", Float, nullable=False),  # its probability
    Column("confidence", String(10), nullable=False),  # confident, unsure or no_idea
    Column("shown", Text, nullable=False),  # JSON list of the flow ids offered
    Column("outcome", String(20), nullable=False),
    Column("choice", String(100), nullable=True),  # the flow the person ended up in
    Column("rephrased_to", String(32), nullable=True),  # the row of the words typed next
    Column("resolved_at", UTCDateTime(), nullable=True),
    Index("ix_routing_log_person_at", "person", "at"),
    Index("ix_routing_log_at", "at"),
)

routing_secret = Table(
    "routing_secret",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)
declare(
    PersonalData(
        "routing_log",
        pseudonymous=("person",),
        pseudonym=lambda conn, user_id: RoutingLog().person(conn, user_id),
        details=("text",),
        at="at",
        rules="deleted when older than the retention age",
    )
)
declare(
    PersonalData(
        "routing_secret",
        secrets=("value",),
        not_personal=("name",),  # the name of the key, "pseudonym"
        kept_because="the key that pseudonymises the routing log, no personal data",
    )
)


@dataclass(frozen=True)
class Decision:
    id: str
    at: datetime
    person: str
    text: str | None
    language: str
    guess: str | None
    score: float
    confidence: str
    shown: list[str]
    outcome: str
    choice: str | None
    rephrased_to: str | None

    @classmethod
    def of(cls, row: Any) -> Decision:
        return cls(
            id=row.id,
            at=row.at,
            person=row.person,
            text=row.text,
            language=row.language,
            guess=row.guess,
            score=float(row.score),
            confidence=row.confidence,
            shown=list(json.loads(row.shown or "[]")),
            outcome=row.outcome,
            choice=row.choice,
            rephrased_to=row.rephrased_to,
        )


class RoutingLog:
    """Reads and writes routing decisions inside the caller's transaction."""

    def __init__(self, key: bytes | None = None) -> None:
        env = os.environ.get(KEY_ENV)
        self._key = key or (env.encode("utf-8") if env else None)

    def person(self, conn: Connection, user_id: str) -> str:
        """The pseudonym of a chat user id (the same for the same id, under the same key)."""
        return hmac.new(self._secret(conn), user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _secret(self, conn: Connection) -> bytes:
        if self._key is None:
            row = conn.execute(select(routing_secret.c.value).where(routing_secret.c.name == "pseudonym")).first()
            if row is None:
                made = secrets.token_hex(32)
                try:
                    with conn.begin_nested():
                        conn.execute(insert(routing_secret).values(name="pseudonym", value=made))
                except IntegrityError:  # another replica made one first: use that one
                    pass
                row = conn.execute(select(routing_secret.c.value).where(routing_secret.c.name == "pseudonym")).first()
            assert row is not None
            self._key = str(row.value).encode("utf-8")
        return self._key

    def record(
        self,
        conn: Connection,
        *,
        person: str,
        at: datetime,
        text: str,
        language: str,
        guess: str | None,
        score: float,
        confidence: str,
        shown: list[str],
        outcome: str,
    ) -> str:
        row_id = uuid.uuid4().hex
        conn.execute(
            insert(routing_log).values(
                id=row_id,
                at=at,
                person=person,
                text=text[:TEXT_CHARS],
                language=language,
                guess=guess,
                score=score,
                confidence=confidence,
                shown=json.dumps(shown),
                outcome=outcome,
                choice=guess if outcome == STARTED else None,
            )
        )
        return row_id

    def latest(self, conn: Connection, person: str, since: datetime) -> Decision | None:
        """The person's last decision since ``since``, if it is still waiting for what happened next."""
        row = conn.execute(
            select(routing_log)
            .where(routing_log.c.person == person, routing_log.c.at >= since)
            .order_by(routing_log.c.at.desc(), routing_log.c.id.desc())
            .limit(1)
        ).first()
        decision = None if row is None else Decision.of(row)
        return decision if decision is not None and decision.outcome in OPEN else None

    def rephrased(self, conn: Connection, decision: Decision, new_id: str, at: datetime, choice: str | None) -> None:
        """The person typed new words (row ``new_id``) instead of picking; ``choice`` is the flow
        those words started, if they were clear enough to start one."""
        conn.execute(
            update(routing_log)
            .where(routing_log.c.id == decision.id)
            .values(outcome=REPHRASED, rephrased_to=new_id, resolved_at=at, choice=choice)
        )

    def chose(self, conn: Connection, decision: Decision, flow_id: str, at: datetime) -> None:
        """The person ended up in ``flow_id``: record it on this decision and on the words they
        typed before it (a rephrase chain), so each of those texts is a miss for that flow."""
        outcome = decision.outcome
        if outcome == OFFERED:
            outcome = PICKED
        elif outcome == STARTED and flow_id != decision.guess:
            outcome = NOT_THIS
        values: dict[str, Any] = {"choice": flow_id, "outcome": outcome, "resolved_at": at}
        if flow_id == decision.guess and outcome == PICKED:
            values["text"] = None  # the first guess was right: nothing to learn, nothing to keep
        conn.execute(update(routing_log).where(routing_log.c.id == decision.id).values(**values))
        target, seen = decision.id, {decision.id}
        for _ in range(10):  # a chain of a few rephrasings at most
            earlier = conn.execute(select(routing_log.c.id).where(routing_log.c.rephrased_to == target)).first()
            if earlier is None or earlier.id in seen:
                break
            conn.execute(update(routing_log).where(routing_log.c.id == earlier.id).values(choice=flow_id))
            target = earlier.id
            seen.add(target)

    def since(self, conn: Connection, since: datetime | None) -> list[Decision]:
        query = select(routing_log).order_by(routing_log.c.at)
        if since is not None:
            query = query.where(routing_log.c.at >= since)
        return [Decision.of(row) for row in conn.execute(query)]

    # -- personal data ----------------------------------------------------------------------
    def for_person(self, conn: Connection, user_id: str) -> list[Decision]:
        """Everything kept about one person, for an export."""
        person = self.person(conn, user_id)
        rows = conn.execute(select(routing_log).where(routing_log.c.person == person).order_by(routing_log.c.at))
        return [Decision.of(row) for row in rows]

    def forget_person(self, conn: Connection, user_id: str) -> int:
        person = self.person(conn, user_id)
        return int(conn.execute(delete(routing_log).where(routing_log.c.person == person)).rowcount)


def purge_before(conn: Connection, cutoff: datetime) -> int:
    """Delete decisions older than ``cutoff`` (the retention purge); returns how many."""
    return int(conn.execute(delete(routing_log).where(routing_log.c.at < cutoff)).rowcount)
