"""Reading cases: one case for someone allowed to see it, a person's own cases, the cases waiting
for them, and the operator's lists, each with its recipients, history and deliveries loaded in a
fixed number of queries however many cases there are.

Nothing here changes a case; bot.cases.service does that, and uses this to load what it changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, and_, bindparam, or_, select

from bot.cases.access import NOT_YOURS, UNKNOWN_PERSON, CaseAccess
from bot.cases.model import LIVE, Answered, Case, CaseEvent, CaseRecipient, Cited, DeliveryState, UnknownCase
from bot.cases.notify import Recipient
from bot.cases.outbox import Outbox
from bot.cases.tables import case_events, case_recipients, cases, outbox
from bot.conversation.events import Actor
from bot.errors import NotAllowed
from bot.store import Store


class CaseReader:
    """Loads cases, checking who may see them where a person asks."""

    def __init__(self, store: Store, access: CaseAccess, deliveries: Outbox) -> None:
        self.store = store
        self.access = access
        self.outbox = deliveries

    # -- reading -----------------------------------------------------------------------------------
    def get(self, case_id: str, actor: Actor) -> Case:
        """One case, for someone allowed to see it (the employee, its recipients, the comms team)."""
        with self.store.transaction() as conn:
            return self.visible(conn, case_id, actor)

    def cases_for(self, actor: Actor, *, include_closed: bool = True, limit: int = 50) -> list[Case]:
        """The cases this person raised, newest first (for "your cases")."""
        person = self.access.person(actor)
        mine = cases.c.employee_user_id == actor.user_id
        if person is not None:
            mine = or_(mine, cases.c.employee_key == person.id)
        query = select(cases).where(mine)
        if not include_closed:
            query = query.where(cases.c.state.in_(LIVE))
        with self.store.transaction() as conn:
            rows = conn.execute(query.order_by(cases.c.created_at.desc()).limit(limit)).mappings().all()
            return self.cases(conn, rows)

    def waiting_for(self, actor: Actor, *, limit: int = 50) -> list[Case]:
        """Live cases sent to this person or to a team they belong to, oldest first (for "waiting for you")."""
        person = self.access.person(actor)
        if person is None:
            return []
        sent_to_them = or_(
            and_(case_recipients.c.kind == "person", case_recipients.c.key == person.id),
            and_(case_recipients.c.kind == "channel", case_recipients.c.role.in_(list(person.roles) or [""])),
        )
        ids = select(case_recipients.c.case_id).where(sent_to_them)
        query = (
            select(cases)
            .where(cases.c.id.in_(ids), cases.c.state.in_(LIVE), cases.c.employee_user_id != actor.user_id)
            .order_by(cases.c.created_at)
            .limit(limit)
        )
        with self.store.transaction() as conn:
            rows = conn.execute(query).mappings().all()
            return [c for c in self.cases(conn, rows) if not self.access.is_employee(c, actor, person)]

    # -- for the operator's CLI (no actor: whoever runs it already has the database) ----------------
    def find(self, reference: str) -> Case:
        """A case by its id or a unique start of it (as printed by ``policybot cases``)."""
        ref = reference.strip().lower()
        if not ref:
            raise UnknownCase("give a case id, as printed by `policybot cases`")
        with self.store.transaction() as conn:
            ids = [r[0] for r in conn.execute(select(cases.c.id).where(cases.c.id.startswith(ref)).limit(3)).all()]
            if not ids:
                raise UnknownCase(f"there is no case {reference}; `policybot cases` lists them")
            if len(ids) > 1:
                raise UnknownCase(f"more than one case starts with {reference}; type more of its id")
            return self.require(conn, ids[0])

    def list_cases(
        self,
        *,
        state: str | None = None,
        target: str | None = None,
        failed_only: bool = False,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[Case]:
        """Cases newest first, filtered by state, by a target they were sent to, or by failed deliveries."""
        query = select(cases)
        if state:
            query = query.where(cases.c.state.in_(LIVE) if state == "live" else cases.c.state == state)
        if target:
            query = query.where(
                cases.c.id.in_(select(case_recipients.c.case_id).where(case_recipients.c.target == target))
            )
        if since is not None:
            query = query.where(cases.c.created_at >= since)
        if failed_only:
            query = query.where(cases.c.id.in_(select(outbox.c.case_id).where(outbox.c.status == "failed")))
        with self.store.transaction() as conn:
            rows = conn.execute(query.order_by(cases.c.created_at.desc()).limit(limit)).mappings().all()
            return self.cases(conn, rows)

    def visible(self, conn: Connection, case_id: str, actor: Actor) -> Case:
        """The case if ``actor`` may see it; an unknown id gets the same answer as someone else's case."""
        case = self.load(conn, case_id) if case_id else None
        if case is None:
            raise NotAllowed(NOT_YOURS if self.access.person(actor) is not None else UNKNOWN_PERSON)
        self.access.check_view(case, actor)
        return case

    def require(self, conn: Connection, case_id: str) -> Case:
        case = self.load(conn, case_id)
        if case is None:
            raise UnknownCase(f"there is no case {case_id}")
        return case

    def load(self, conn: Connection, case_id: str) -> Case | None:
        row = conn.execute(_LOAD_CASE, {"b_id": case_id}).mappings().first()
        if row is None:
            return None
        return self.cases(conn, [row])[0]

    def cases(self, conn: Connection, rows: Sequence[RowMapping]) -> list[Case]:
        """Cases with their recipients, history and deliveries, in three queries however many there are."""
        ids = [r["id"] for r in rows]
        if not ids:
            return []
        recipients: dict[str, list[CaseRecipient]] = {i: [] for i in ids}
        for r in conn.execute(_RECIPIENTS_OF, {"b_ids": ids}).mappings():
            recipients[r["case_id"]].append(
                CaseRecipient(
                    kind=r["kind"],
                    key=r["key"],
                    target=r["target"],
                    round=r["round"],
                    name=r["name"],
                    email=r["email"],
                    slack_id=r["slack_id"],
                    teams_id=r["teams_id"],
                    slack_channel=r["slack_channel"],
                    teams_channel=r["teams_channel"],
                    role=r["role"],
                    note=r["note"],
                    language=r["language"],
                )
            )
        events: dict[str, list[CaseEvent]] = {i: [] for i in ids}
        for e in conn.execute(_EVENTS_OF, {"b_ids": ids}).mappings():
            events[e["case_id"]].append(CaseEvent(e["at"], e["action"], e["actor"], e["actor_name"], e["detail"]))
        deliveries = self.outbox.deliveries(conn, ids)
        return [_case(row, recipients[row["id"]], events[row["id"]], deliveries[row["id"]]) for row in rows]


# Built once (every case opened is read back in its turn): the ids come as parameters, so
# SQLAlchemy finds the compiled statements in its cache without rebuilding them.
_LOAD_CASE = select(cases).where(cases.c.id == bindparam("b_id"))
_RECIPIENTS_OF = (
    select(case_recipients)
    .where(case_recipients.c.case_id.in_(bindparam("b_ids", expanding=True)))
    .order_by(case_recipients.c.id)
)
_EVENTS_OF = (
    select(case_events)
    .where(case_events.c.case_id.in_(bindparam("b_ids", expanding=True)))
    .order_by(case_events.c.at, case_events.c.id)
)


def _case(
    row: RowMapping, recipients: list[CaseRecipient], events: list[CaseEvent], deliveries: list[DeliveryState]
) -> Case:
    return Case(
        id=row["id"],
        state=row["state"],
        conversation_id=row["conversation_id"],
        employee_user_id=row["employee_user_id"],
        employee_key=row["employee_key"],
        employee_name=row["employee_name"],
        employee_recipient=Recipient(**json.loads(row["employee_recipient"])),
        platform=row["platform"],
        flow_id=row["flow_id"],
        flow_version=row["flow_version"],
        flow_title=row["flow_title"],
        outcome_state=row["outcome_state"],
        verdict=row["verdict"],
        advice=row["advice"],
        summary=row["summary"],
        note=row["note"],
        answers=tuple(Answered(a["question"], a["answer"]) for a in json.loads(row["answers"])),
        citations=tuple(
            Cited(c["id"], c["policy_title"], c["clause"], c["summary"]) for c in json.loads(row["citations"])
        ),
        targets=tuple(json.loads(row["targets"])),
        then=tuple(json.loads(row["then_targets"])),
        deadline_seconds=row["deadline_seconds"],
        deadline_working_hours=bool(row["deadline_working_hours"]),
        urgency=row["urgency"],
        round=row["round"],
        ack_due_at=row["ack_due_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_by_key=row["acknowledged_by_key"],
        acknowledged_by_name=row["acknowledged_by_name"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        closed_by_name=row["closed_by_name"],
        resolution=row["resolution"],
        translations=json.loads(row["translations"]) if row["translations"] else {},
        recipients=tuple(recipients),
        events=tuple(events),
        deliveries=tuple(deliveries),
    )
