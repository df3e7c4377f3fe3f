"""The case service: opens cases for the engine, and is what adapters call when people act on them.

Adapter-facing API (every method takes the acting ``Actor`` the adapter built from the
platform's signed identity, checks it against the staff directory, and raises
bot.errors.NotAllowed when the directory says no, whatever a button payload claims):

- ``acknowledge(case_id, actor)``, ``resolve(case_id, actor, note=None)``,
  ``withdraw(case_id, actor)`` -> CaseResult (the case now, whether this call changed it, and a
  sentence to show; a repeat changes nothing and says who did it first);
- ``message_employee(case_id, actor, text)`` and ``message_recipients(case_id, actor, text)``;
- ``get(case_id, actor)`` -> Case; ``cases_for(actor)`` (the person's own cases) and
  ``waiting_for(actor)`` (live cases sent to them or to their team) for "your cases" views.

The scheduler side: ``fire_due_timers()`` chases unacknowledged cases; ``outbox.deliver_due``
delivers notifications (bot.cases.worker runs both). Every state change, its audit event and the
notifications it causes are written in one transaction.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, insert, select, update

from bot.cases import lifecycle
from bot.cases.access import CaseAccess
from bot.cases.directory import COMMS, Directory, Person, Resolution
from bot.cases.messages import DELIVERY_FAILED, Composer, names_in_words
from bot.cases.model import (
    ACKNOWLEDGED,
    OPEN,
    SYSTEM_ACTOR,
    Case,
    CaseRecipient,
    CaseResult,
)
from bot.cases.notify import Notification, Recipient
from bot.cases.outbox import Outbox, RetryPolicy
from bot.cases.reading import CaseReader
from bot.cases.tables import case_events, case_recipients, cases
from bot.cases.timers import ACK_DEADLINE, Scheduler, Timer, cancel, schedule
from bot.cases.working_hours import WorkingHours, describe_duration
from bot.clock import Clock
from bot.conversation.escalation import CaseDraft
from bot.conversation.events import Actor
from bot.errors import PolicybotError
from bot.language.flow_model import Duration
from bot.language.i18n.catalog import N_
from bot.language.i18n.wording import Wording
from bot.language.settings import Settings
from bot.store import Store

# Built once: the values come as parameters, so SQLAlchemy finds the compiled insert in its
# cache instead of rebuilding the statement and its cache key on every case opened.
_INSERT_CASES = insert(cases)
_INSERT_CASE_RECIPIENTS = insert(case_recipients)
_INSERT_CASE_EVENTS = insert(case_events)

MESSAGE_LIMIT = 2000  # characters in a message between a recipient and the employee
RESOLUTION_LIMIT = 1000


class CaseService:
    """Implements bot.conversation.escalation.CaseOpener; the adapters' way to see and act on cases."""

    def __init__(
        self,
        store: Store,
        directory: Directory,
        settings: Settings,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.settings = settings
        self.clock = clock
        self.access = CaseAccess(directory, settings)
        self.hours = WorkingHours.from_settings(settings.working_hours)
        self.compose = Composer(self.hours)
        self.outbox = Outbox(
            store, clock, policy or RetryPolicy.from_settings(settings), rng=rng, on_give_up=self._gave_up
        )
        self.scheduler = Scheduler(store, clock)
        self.reader = CaseReader(store, self.access, self.outbox)
        self.chase_rounds = int(settings.cases.get("chase_rounds", 3))

    # -- the engine's port ---------------------------------------------------------------------
    def first_recipients(self, conn: Connection, case_id: str) -> list[str]:
        rows = conn.execute(
            select(case_recipients.c.name)
            .where(case_recipients.c.case_id == case_id, case_recipients.c.round == 0)
            .order_by(case_recipients.c.id)
        ).scalars()
        return list(dict.fromkeys(str(name) for name in rows))

    def recipients_for(self, employee: Actor, targets: tuple[str, ...]) -> list[str]:
        person = self.directory.find(employee)
        name = person.name if person else (employee.display_name or employee.user_id)
        seen: dict[tuple[str, str], str] = {}
        for resolution in self._resolve(targets, person, name):
            seen.setdefault((resolution.recipient.kind, resolution.recipient.key), resolution.recipient.name)
        return list(dict.fromkeys(seen.values()))

    def open_case(self, conn: Connection, draft: CaseDraft) -> str:
        """Record the case, who it goes to (and why), its first notifications and its deadline.

        Runs inside the engine's turn transaction: if the turn does not commit, none of this exists.
        """
        now = self.clock.now()
        case_id = uuid.uuid4().hex
        employee = self.directory.find(draft.employee)
        employee_name = employee.name if employee else (draft.employee.display_name or draft.employee.user_id)
        ack_due = self.hours.deadline(now, draft.deadline) if draft.deadline is not None else None
        conn.execute(
            _INSERT_CASES,
            dict(
                id=case_id,
                conversation_id=draft.conversation_id,
                employee_user_id=draft.employee.user_id,
                employee_key=employee.id if employee else None,
                employee_name=employee_name,
                employee_recipient=_dump_recipient(
                    replace(
                        employee.recipient() if employee else _actor_recipient(draft.employee, employee_name),
                        language=draft.employee.language,  # progress reaches them in the language they used
                    )
                ),
                platform=draft.employee.platform,
                flow_id=draft.flow_id,
                flow_version=draft.flow_version,
                flow_title=draft.flow_title,
                outcome_state=draft.outcome_state,
                verdict=draft.verdict.value,
                advice=draft.advice,
                summary=draft.summary,
                translations=json.dumps(draft.translations, ensure_ascii=False) if draft.translations else None,
                note=draft.note,
                answers=json.dumps([{"question": a.question, "answer": a.answer} for a in draft.answers]),
                citations=json.dumps(
                    [
                        {"id": c.id, "policy_title": c.policy_title, "clause": c.where, "summary": c.summary}
                        for c in draft.citations
                    ]
                ),
                targets=json.dumps(list(draft.targets)),
                then_targets=json.dumps(list(draft.then)),
                deadline_seconds=draft.deadline.seconds if draft.deadline else None,
                deadline_working_hours=bool(draft.deadline and draft.deadline.working_hours),
                urgency=draft.urgency,
                state=OPEN,
                round=0,
                ack_due_at=ack_due,
                created_at=now,
                updated_at=now,
            ),
        )
        added = self._add_recipients(conn, case_id, self._resolve(draft.targets, employee, employee_name), 0, now)
        self._event(
            conn,
            case_id,
            "opened",
            draft.employee.user_id,
            employee_name,
            "sent to " + ", ".join(r.name for r in added),
        )
        for note in dict.fromkeys(r.note for r in added if r.note):
            self._event(conn, case_id, "fallback", SYSTEM_ACTOR, "policybot", note)
        case = self.reader.require(conn, case_id)
        for recipient in added:
            self.outbox.enqueue(conn, self.compose.case_opened(case, recipient))
        if ack_due is not None:
            schedule(conn, case_id, ACK_DEADLINE, ack_due, now)
        return case_id

    # -- acting on a case ----------------------------------------------------------------------
    def acknowledge(self, case_id: str, actor: Actor) -> CaseResult:
        """The recipient has seen the case and is dealing with it; the employee is told."""
        return self._transition(case_id, actor, lifecycle.ACKNOWLEDGE)

    def resolve(self, case_id: str, actor: Actor, note: str | None = None) -> CaseResult:
        """The matter is dealt with (acknowledging it too if nobody had); the employee is told."""
        return self._transition(case_id, actor, lifecycle.RESOLVE, note)

    def withdraw(self, case_id: str, actor: Actor) -> CaseResult:
        """The employee no longer needs the case; its recipients are told to stop."""
        return self._transition(case_id, actor, lifecycle.WITHDRAW)

    def _transition(self, case_id: str, actor: Actor, action: str, note: str | None = None) -> CaseResult:
        with self.store.transaction() as conn:
            case = self.reader.visible(conn, case_id, actor)
            if action == lifecycle.WITHDRAW:
                self.access.check_employee(case, actor)
                name = case.employee_name
                person = None
            else:
                person = self.access.check_act(case, actor)
                name = person.name
            if not lifecycle.can(action, case.state):
                return CaseResult(case, False, self._unchanged(action, case, actor))
            now = self.clock.now()
            clean_note = (note or "").strip()[:RESOLUTION_LIMIT] or None
            values: dict[str, object] = {"state": lifecycle.leads_to(action), "updated_at": now}
            acknowledges = action == lifecycle.ACKNOWLEDGE or (
                action == lifecycle.RESOLVE and case.acknowledged_at is None
            )
            if acknowledges:
                values |= {
                    "acknowledged_at": now,
                    "acknowledged_by": actor.user_id,
                    "acknowledged_by_key": person.id if person else None,
                    "acknowledged_by_name": name,
                }
            if action in (lifecycle.RESOLVE, lifecycle.WITHDRAW):
                values |= {
                    "closed_at": now,
                    "closed_by": actor.user_id,
                    "closed_by_name": name,
                    "resolution": clean_note,
                }
            won = conn.execute(update(cases).where(cases.c.id == case.id, cases.c.state == case.state).values(**values))
            if won.rowcount != 1:  # someone else acted on it at the same moment and got there first
                current = self.reader.require(conn, case.id)
                return CaseResult(current, False, self._unchanged(action, current, actor))
            cancel(conn, case.id, now)
            if acknowledges:
                self._event(conn, case.id, "acknowledged", actor.user_id, name)
            if action != lifecycle.ACKNOWLEDGE:
                self._event(conn, case.id, lifecycle.leads_to(action), actor.user_id, name, clean_note)
            case = self.reader.require(conn, case.id)
            if action == lifecycle.ACKNOWLEDGE:
                self.outbox.enqueue(conn, self.compose.acknowledged(case, name))
                message = Wording(
                    N_("Thanks, {name}: {employee} has been told you are dealing with it."),
                    {"name": name, "employee": case.employee_name},
                )
            elif action == lifecycle.RESOLVE:
                self.outbox.enqueue(conn, self.compose.resolved(case, name, clean_note))
                message = Wording(N_("Resolved. {employee} has been told."), {"employee": case.employee_name})
            else:
                for recipient in case.recipients:
                    self.outbox.enqueue(conn, self.compose.withdrawn(case, recipient))
                message = Wording(N_("Withdrawn. The people it was sent to have been told nothing more is needed."))
            return CaseResult(case, True, message)

    def _unchanged(self, action: str, case: Case, actor: Actor) -> Wording:
        if action == lifecycle.ACKNOWLEDGE and case.state == ACKNOWLEDGED and case.acknowledged_by == actor.user_id:
            return Wording(N_("You have already acknowledged this case."))
        return lifecycle.why_unchanged(action, case, self.compose.local)

    def message_employee(self, case_id: str, actor: Actor, text: str, *, delivery_id: str | None = None) -> CaseResult:
        """A recipient (or the comms team) writes to the employee through the bot.

        ``delivery_id``: the platform's id for this one submission; the same id again (a retry, a
        replayed request) sends nothing a second time."""
        body = _message_text(text)
        with self.store.transaction() as conn:
            case = self.reader.visible(conn, case_id, actor)
            sender = self.access.check_act(case, actor)
            if delivery_id is not None and not self.store.claim_delivery(conn, delivery_id, self.clock.now()):
                return CaseResult(case, False, Wording(N_("Already sent to {names}."), {"names": case.employee_name}))
            self._event(conn, case.id, "message", actor.user_id, sender.name, f"to {case.employee_name}: {body}")
            self.outbox.enqueue(
                conn, self.compose.message(case, case.employee_recipient, sender.name, body, to_employee=True)
            )
            sent = Wording(N_("Sent to {names}."), {"names": case.employee_name})
            return CaseResult(self.reader.require(conn, case.id), True, sent)

    def message_recipients(self, case_id: str, actor: Actor, text: str) -> CaseResult:
        """The employee writes to whoever picked the case up (or, before that, to everyone it went to)."""
        body = _message_text(text)
        with self.store.transaction() as conn:
            case = self.reader.visible(conn, case_id, actor)
            self.access.check_employee(case, actor)
            targets = self._reply_targets(case)
            names = ", ".join(r.name for r in targets)
            self._event(conn, case.id, "message", actor.user_id, case.employee_name, f"to {names}: {body}")
            for recipient in targets:
                self.outbox.enqueue(
                    conn, self.compose.message(case, recipient, case.employee_name, body, to_employee=False)
                )
            sent = Wording(N_("Sent to {names}."), {"names": partial(names_in_words, [r.name for r in targets])})
            return CaseResult(self.reader.require(conn, case.id), True, sent)

    def _reply_targets(self, case: Case) -> list[Recipient]:
        if case.acknowledged_by_key:
            acker = self.directory.get(case.acknowledged_by_key)
            for r in case.recipients:
                if r.kind == "person" and acker is not None and r.key == acker.id:
                    return [r.recipient()]
            if acker is not None:
                return [acker.recipient()]
        return [r.recipient() for r in case.recipients]

    # -- reading (bot.cases.reading) -------------------------------------------------------------
    def case_language(self, actor: Actor) -> str | None:
        """The language someone's case messages reach them in: their directory entry's, when the
        settings offer it. None when the directory gives none: the adapter then uses the
        language the bot speaks to them. A click on a case card is answered in the card's language."""
        person = self.access.person(actor)
        language = person.language if person is not None else None
        return language if language in self.settings.languages else None

    def get(self, case_id: str, actor: Actor) -> Case:
        """One case, for someone allowed to see it (the employee, its recipients, the comms team)."""
        return self.reader.get(case_id, actor)

    def cases_for(self, actor: Actor, *, include_closed: bool = True, limit: int = 50) -> list[Case]:
        """The cases this person raised, newest first (for "your cases")."""
        return self.reader.cases_for(actor, include_closed=include_closed, limit=limit)

    def waiting_for(self, actor: Actor, *, limit: int = 50) -> list[Case]:
        """Live cases sent to this person or to a team they belong to, oldest first."""
        return self.reader.waiting_for(actor, limit=limit)

    def find(self, reference: str) -> Case:
        """A case by its id or a unique start of it (as printed by ``policybot cases``)."""
        return self.reader.find(reference)

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
        return self.reader.list_cases(state=state, target=target, failed_only=failed_only, since=since, limit=limit)

    # -- the scheduler's side --------------------------------------------------------------------------
    def fire_due_timers(self, *, limit: int = 100) -> int:
        """Chase every case whose acknowledgement deadline has passed; returns how many timers fired."""
        return len(self.scheduler.fire_due(self._deadline_passed, limit=limit))

    def _deadline_passed(self, conn: Connection, timer: Timer) -> None:
        """Nobody acknowledged in time: tell the flow's next targets, remind the first ones."""
        case = self.reader.load(conn, timer.case_id)
        if case is None or case.state != OPEN or case.deadline_seconds is None:
            return
        now = self.clock.now()
        round_no = case.round + 1
        duration = Duration(case.deadline_seconds, case.deadline_working_hours)
        more = round_no < self.chase_rounds
        next_due = self.hours.deadline(now, duration) if more else None
        claimed = conn.execute(
            update(cases)
            .where(cases.c.id == case.id, cases.c.state == OPEN, cases.c.round == case.round)
            .values(round=round_no, updated_at=now, ack_due_at=next_due)
        )
        if claimed.rowcount != 1:
            return  # acknowledged or chased by someone else in the meantime
        done_targets = {r.target for r in case.recipients}
        new_targets = [t for t in case.then if t not in done_targets]
        if not new_targets and COMMS not in done_targets:
            new_targets = [COMMS]  # nobody is answering and the flow names nobody else: comms owns it now
        employee = self.directory.get(case.employee_key)
        added = self._add_recipients(
            conn, case.id, self._resolve(new_targets, employee, case.employee_name), round_no, now
        )
        earlier = [r for r in case.recipients]
        case = self.reader.require(conn, case.id)
        added_names = [r.name for r in added]
        for recipient in added:
            self.outbox.enqueue(conn, self.compose.re_escalated(case, recipient, [r.name for r in earlier]))
        for recipient in earlier:
            self.outbox.enqueue(conn, self.compose.reminder(case, recipient, added_names))
        if added:
            self.outbox.enqueue(conn, self.compose.passed_on(case, added_names))
        waited = describe_duration(duration)
        detail = f"not acknowledged within {waited}"
        if added:
            detail += "; sent to " + ", ".join(added_names)
        if earlier:
            detail += "; reminded " + ", ".join(r.name for r in earlier)
        self._event(conn, case.id, "chased", SYSTEM_ACTOR, "policybot", detail)
        if next_due is not None:
            schedule(conn, case.id, ACK_DEADLINE, next_due, now)

    def _gave_up(self, conn: Connection, failed: Notification, reason: str, attempts: int) -> None:
        """A notification could not be delivered: record it on the case and tell the comms team."""
        self._event(
            conn,
            failed.case_id,
            "delivery_failed",
            SYSTEM_ACTOR,
            "policybot",
            f"{failed.kind} to {failed.recipient.name}: {reason} (after {attempts} attempt(s))",
        )
        if failed.kind == DELIVERY_FAILED:
            return  # a report that could not reach comms stays visible in `policybot cases`; no cascade
        case = self.reader.load(conn, failed.case_id)
        if case is None:
            return
        now = self.clock.now()
        for resolution in self.directory.team(self.settings, COMMS):
            if resolution.recipient == failed.recipient:
                continue  # the comms route itself is what failed; the CLI shows it
            to = _case_recipient(resolution, case.round, now, self.settings)
            self.outbox.enqueue(conn, self.compose.delivery_failed(case, to, failed, reason, attempts))

    # -- helpers -------------------------------------------------------------------------------------------
    def _resolve(self, targets: Iterable[str], employee: Person | None, employee_name: str) -> list[Resolution]:
        found: list[Resolution] = []
        for target in targets:
            found += self.directory.resolve(self.settings, target, employee, employee_name)
        return found

    def _add_recipients(
        self, conn: Connection, case_id: str, resolutions: list[Resolution], round_no: int, now: datetime
    ) -> list[CaseRecipient]:
        """Record new recipients (each person or channel once per case); returns the ones added."""
        existing = {
            (r.kind, r.key)
            for r in conn.execute(
                select(case_recipients.c.kind, case_recipients.c.key).where(case_recipients.c.case_id == case_id)
            ).all()
        }
        added: list[CaseRecipient] = []
        for resolution in resolutions:
            recipient = _case_recipient(resolution, round_no, now, self.settings)
            if (recipient.kind, recipient.key) in existing:
                continue
            existing.add((recipient.kind, recipient.key))
            conn.execute(
                _INSERT_CASE_RECIPIENTS,
                dict(
                    case_id=case_id,
                    kind=recipient.kind,
                    key=recipient.key,
                    target=recipient.target,
                    round=round_no,
                    name=recipient.name,
                    email=recipient.email,
                    slack_id=recipient.slack_id,
                    teams_id=recipient.teams_id,
                    slack_channel=recipient.slack_channel,
                    teams_channel=recipient.teams_channel,
                    role=recipient.role,
                    note=recipient.note,
                    language=recipient.language,
                    added_at=now,
                ),
            )
            added.append(recipient)
        return added

    def _event(
        self, conn: Connection, case_id: str, action: str, actor: str, actor_name: str, detail: str | None = None
    ) -> None:
        conn.execute(
            _INSERT_CASE_EVENTS,
            dict(
                case_id=case_id, at=self.clock.now(), action=action, actor=actor, actor_name=actor_name, detail=detail
            ),
        )


# -- plain functions ---------------------------------------------------------------------------------------


def _message_text(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise PolicybotError("The message is empty: write something to send.")
    if len(body) > MESSAGE_LIMIT:
        raise PolicybotError(f"The message is {len(body)} characters long; please keep it under {MESSAGE_LIMIT}.")
    return body


def _actor_recipient(actor: Actor, name: str) -> Recipient:
    """Where to reach an employee the directory does not know: the platform account they used."""
    platform, _, rest = actor.user_id.partition(":")
    return Recipient(
        kind="person",
        key=actor.user_id,
        name=name,
        email=actor.email,
        slack_id=rest.rsplit(":", 1)[-1] if platform == "slack" and rest else None,
        teams_id=rest if platform == "teams" and rest else None,
    )


def _dump_recipient(recipient: Recipient) -> str:
    from dataclasses import asdict

    return json.dumps(asdict(recipient), separators=(",", ":"))


def _case_recipient(resolution: Resolution, round_no: int, now: datetime, settings: Settings) -> CaseRecipient:
    """A recipient as recorded: a person in their directory language when the settings offer it,
    anyone else (a team's channel, a person with no language on file) in the default language."""
    r = resolution.recipient
    return CaseRecipient(
        kind=r.kind,
        key=r.key,
        target=resolution.target,
        round=round_no,
        name=r.name,
        email=r.email,
        slack_id=r.slack_id,
        teams_id=r.teams_id,
        slack_channel=r.slack_channel,
        teams_channel=r.teams_channel,
        role=resolution.role,
        note=resolution.note,
        language=settings.language_for(r.language),
    )
