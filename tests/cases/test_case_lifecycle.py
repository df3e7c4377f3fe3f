"""The whole case lifecycle on a fake clock and a real SQLite file: escalate, no acknowledgement,
re-escalation after a working-hours deadline, acknowledge, resolve; restarts lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cases.notify import Notification
from bot.cases.tables import outbox, timers
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.conversation.events import ConfirmEscalation
from bot.conversation.replies import EscalationSent
from tests.cases.conftest import AMARA, DEV, FRIDAY_3PM, LEE, STRANGER, Inbox, Org, escalate


def test_escalate_chase_after_working_hours_acknowledge_resolve_across_a_restart(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    inbox = Inbox()
    outcome = escalate(runtime, AMARA)
    assert outcome.case_id is not None
    assert runtime.cases is not None
    case = runtime.cases.get(outcome.case_id, DEV)

    # Everything the case records about the conversation that opened it.
    assert case.state == "open"
    assert (case.flow_id, case.flow_version) == ("threat", runtime.library.get("threat").version)
    assert case.employee_name == "Amara Okafor" and case.employee_key == "amara"
    assert [(a.question, a.answer) for a in case.answers] == [("Can you reach your line manager today?", "Yes")]
    assert [c.id for c in case.citations] == ["notts-27"]
    assert case.verdict == "act" and case.urgency == "urgent" and case.outcome_state == "tell_manager"
    assert (case.targets, case.then) == (("line_manager",), ("comms", "legal"))
    assert case.created_at == FRIDAY_3PM
    assert case.recipient_names() == ["Dev Patel"]
    assert outcome.sent_to == ["Dev Patel"]  # the employee is told who it really went to
    # 4 working hours from Friday 15:00: two on Friday, none at the weekend or on the bank
    # holiday (Monday 30 November in these settings), two on Tuesday morning.
    assert case.ack_due_at == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)

    Worker(runtime, inbox).run_once()
    [opened] = inbox.to("Dev Patel")
    assert opened.kind == "case_opened" and opened.actions == ["acknowledge", "resolve", "message_employee"]
    assert opened.text == case.summary and opened.urgency == "urgent"

    # The worker process stops over the weekend; a new one starts on Tuesday morning.
    runtime.store.close()
    clock.set(datetime(2026, 12, 1, 10, 59, tzinfo=UTC))
    runtime = org.runtime(clock)
    worker = Worker(runtime, inbox)
    assert worker.run_once().timers_fired == 0

    clock.set(datetime(2026, 12, 1, 11, 0, tzinfo=UTC))
    assert worker.run_once().timers_fired == 1
    assert [n.kind for n in inbox.to("Cara Williams")] == ["re_escalated"]  # comms, by directory role
    assert [n.kind for n in inbox.to("Legal Services")] == ["re_escalated"]  # legal, by its Slack channel
    assert [n.kind for n in inbox.to("Dev Patel")] == ["case_opened", "reminder"]
    [passed_on] = inbox.to("Amara Okafor")
    assert passed_on.kind == "re_escalated" and "Cara Williams and Legal Services" in passed_on.text

    assert runtime.cases is not None
    ack = runtime.cases.acknowledge(case.id, LEE)  # Lee is in Legal: the case went to Legal's channel
    assert ack.changed and ack.case.state == "acknowledged" and ack.case.acknowledged_by_name == "Lee Morgan"
    late = runtime.cases.acknowledge(case.id, DEV)
    assert not late.changed and "Lee Morgan already picked this case up" in late.message
    done = runtime.cases.resolve(case.id, DEV, "Post removed; Legal has replied to the solicitor.")
    assert done.changed and done.case.state == "resolved" and done.case.closed_by_name == "Dev Patel"

    worker.run_once()
    assert [n.kind for n in inbox.to("Amara Okafor")] == ["re_escalated", "acknowledged", "resolved"]
    assert "Legal has replied" in inbox.to("Amara Okafor", "resolved")[0].text

    history = runtime.cases.get(case.id, AMARA).events
    assert [(e.action, e.actor_name) for e in history] == [
        ("opened", "Amara Okafor"),
        ("chased", "policybot"),
        ("acknowledged", "Lee Morgan"),
        ("resolved", "Dev Patel"),
    ]
    assert [e.at for e in history] == [FRIDAY_3PM, *[datetime(2026, 12, 1, 11, 0, tzinfo=UTC)] * 3]

    # Acknowledged and resolved: nothing chases it any more, however long we wait.
    clock.advance(timedelta(days=14))
    assert worker.run_once().timers_fired == 0
    assert len(inbox.calls) == len(inbox.shown) == 7  # every notification delivered once


def test_an_employee_with_no_manager_on_file_is_told_it_went_to_comms(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    outcome = escalate(runtime, STRANGER)
    assert outcome.case_id is not None and outcome.escalation is not None
    assert outcome.escalation.targets == ["line_manager"]  # what the flow asks for
    # Comms has no channel in these settings, so its members from the directory get it.
    assert outcome.sent_to == ["Cara Williams"]
    assert outcome.sent_to == runtime.engine.resume(STRANGER, outcome.conversation_id)[-1].sent_to  # type: ignore[union-attr]


def test_an_unanswered_case_is_chased_a_limited_number_of_times(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    inbox = Inbox()
    worker = Worker(runtime, inbox)
    case_id = escalate(runtime, AMARA).case_id
    assert case_id is not None and runtime.cases is not None
    for _ in range(6):  # well past three chase rounds
        clock.advance(timedelta(days=3))
        worker.run_once()
    case = runtime.cases.get(case_id, DEV)
    assert [e.action for e in case.events].count("chased") == 3
    assert case.round == 3 and case.ack_due_at is None and case.state == "open"
    # Round 1 added the flow's next targets; later rounds remind everyone it was sent to.
    assert [n.kind for n in inbox.to("Dev Patel")] == ["case_opened", "reminder", "reminder", "reminder"]
    assert [n.kind for n in inbox.to("Cara Williams")] == ["re_escalated", "reminder", "reminder"]
    with runtime.store.transaction() as conn:
        statuses = [r.status for r in conn.execute(select(timers.c.status).where(timers.c.case_id == case_id))]
    assert sorted(statuses) == ["fired", "fired", "fired"]


def test_no_deadline_means_no_timer_and_no_next_targets_means_comms(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    inbox = Inbox()
    teams_case = escalate(runtime, AMARA, "No").case_id
    assert teams_case is not None and runtime.cases is not None
    case = runtime.cases.get(teams_case, LEE)
    assert case.recipient_names() == ["Cara Williams", "Legal Services"] and case.ack_due_at is None

    # An offered escalation to HR with a 2-hour (clock hours) deadline and no next targets.
    offered = escalate(runtime, AMARA, "It is an HR matter")
    assert offered.case_id is None and offered.escalation is not None and not offered.escalation.required
    [sent] = runtime.engine.handle(AMARA, ConfirmEscalation(offered.conversation_id, "  Please call me after 2pm.  "))
    assert isinstance(sent, EscalationSent)
    hr_case = runtime.cases.get(sent.case_id, AMARA)
    assert hr_case.recipient_names() == ["Hana Ali"]
    assert hr_case.ack_due_at == FRIDAY_3PM + timedelta(hours=2)
    # The employee saw exactly what is sent: the preview, then their note.
    assert hr_case.summary == offered.escalation.preview + "\nTheir note: Please call me after 2pm."
    assert hr_case.note == "Please call me after 2pm."

    clock.advance(timedelta(hours=2))
    Worker(runtime, inbox).run_once()
    [hana_first, hana_reminder] = inbox.to("Hana Ali")
    assert (hana_first.kind, hana_first.text) == ("case_opened", hr_case.summary)
    assert hana_reminder.kind == "reminder"
    assert [n.kind for n in inbox.to("Cara Williams") if n.case_id == hr_case.id] == ["re_escalated"]


class Crash(BaseException):
    """Stands in for the worker process dying in the middle of a platform call."""


class CrashingNotifier:
    def deliver(self, notification: Notification) -> None:
        raise Crash()


def test_a_worker_dying_mid_delivery_loses_nothing(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    case_id = escalate(runtime, AMARA).case_id
    with pytest.raises(Crash):
        Worker(runtime, CrashingNotifier()).run_once()
    runtime.store.close()

    restarted = org.runtime(clock)
    inbox = Inbox()
    worker = Worker(restarted, inbox)
    # The dead worker's lease still holds: a second worker does not deliver the same row at once.
    assert worker.run_once().deliveries.attempted == 0
    assert restarted.cases is not None
    clock.advance(timedelta(seconds=restarted.cases.outbox.policy.lease_seconds + 1))
    report = worker.run_once()
    assert len(report.deliveries.delivered) == 1
    [opened] = inbox.to("Dev Patel")
    assert opened.case_id == case_id
    with restarted.store.transaction() as conn:
        row = conn.execute(select(outbox).where(outbox.c.id == opened.id)).mappings().one()
    assert row["status"] == "delivered" and row["lease_owner"] is None


def test_the_worker_runs_in_a_background_thread(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    escalate(runtime, AMARA)
    inbox = Inbox()
    worker = Worker(runtime, inbox, interval=0.01).start()
    try:
        for _ in range(500):
            if inbox.shown:
                break
            worker._stop.wait(0.01)
        assert worker.running
    finally:
        worker.stop()
    assert not worker.running
    assert [n.kind for n in inbox.to("Dev Patel")] == ["case_opened"]
