"""Reports: flow statistics, the onboarding report, and purging data past its retention age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.cases.tables import case_events, cases, outbox
from bot.clock import FakeClock
from bot.conversation.events import Actor, Cancel, FreeText, Start
from bot.conversation.replies import Question
from bot.errors import NotAllowed, PolicybotError
from bot.ops.reports import flow_stats, onboarding_report, parse_age, parse_since, purge
from bot.runtime import Runtime
from bot.store.inbound import InboundJournal
from bot.store.schema import audit, conversations, deliveries, inbound_events
from tests.cases.conftest import AMARA, BEN, CARA, DEV, FRIDAY_3PM, Org, escalate


def _start(runtime: Runtime, actor: Actor, flow_id: str = "threat", *, delivery_id: str | None = None) -> str:
    question = runtime.engine.handle(actor, Start(flow_id=flow_id), delivery_id=delivery_id)[-1]
    assert isinstance(question, Question)
    return question.conversation_id


def _quiz(runtime: Runtime, actor: Actor, answers: list[str]) -> None:
    conversation_id = _start(runtime, actor, "walkthrough")
    for answer in answers:
        runtime.engine.handle(actor, FreeText(answer, conversation_id))


def test_flow_statistics(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    assert runtime.cases is not None
    early = _start(runtime, AMARA)  # before the --since window below
    runtime.engine.handle(AMARA, Cancel(early))
    clock.advance(timedelta(days=2))
    since = clock.now()
    first = escalate(runtime, AMARA, "Yes").case_id or ""
    second = escalate(runtime, AMARA, "No").case_id or ""
    escalate(runtime, AMARA, "It is an HR matter")  # an offered escalation, not sent
    cancelled = _start(runtime, BEN)
    runtime.engine.handle(BEN, Cancel(cancelled))
    _start(runtime, DEV)  # left without an answer; counts as abandoned once idle for a day
    clock.advance(timedelta(minutes=30))
    runtime.cases.acknowledge(second, CARA)
    clock.advance(timedelta(minutes=90))
    runtime.cases.acknowledge(first, DEV)
    _start(runtime, CARA)  # still in progress

    [threat, walkthrough] = flow_stats(runtime.store, runtime.library, clock.now(), since=since)
    assert threat.to_json() == {
        "flow": "threat",
        "title": "A legal threat (case test flow)",
        "started": 6,
        "completed": 3,
        "abandoned": 1,
        "abandoned_at": {"manager": 1},
        "in_progress": 2,
        "verdicts": {"act": 2, "care": 1},
        "escalations": 2,
        "acknowledged": 2,
        "median_seconds_to_acknowledge": 75 * 60.0,  # 30 min and 2 h
    }
    assert walkthrough.started == 0 and walkthrough.median_seconds_to_acknowledge is None

    clock.advance(timedelta(days=1))  # Dev's and Cara's untouched conversations are now abandoned
    [threat, _] = flow_stats(runtime.store, runtime.library, clock.now())
    assert (threat.started, threat.abandoned, threat.in_progress) == (7, 4, 0)
    assert threat.abandoned_at == {"manager": 4}

    result = org.cli("stats", "--json", "--since", since.date().isoformat())
    data = json.loads(result.stdout)
    assert data["since"] == "2026-11-29T00:00:00+00:00"
    assert [f["flow"] for f in data["flows"]] == ["threat", "walkthrough"]
    assert data["flows"][0]["verdicts"] == {"act": 2, "care": 1}
    assert data["totals"]["escalations"] == 2
    text = org.cli("stats").stdout
    assert "threat" in text and "act 2, care 1" in text and "left at: manager" in text


def test_since_and_ages_are_read_as_people_write_them() -> None:
    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert parse_since("30d", now) == now - timedelta(days=30)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_age("12w") == timedelta(weeks=12) and parse_age("36h") == timedelta(hours=36)
    for bad in ("90", "0d", "ninety days", "-3d"):
        with pytest.raises(PolicybotError, match="is not an age like 90d"):
            parse_age(bad)
    with pytest.raises(PolicybotError, match="neither an age like 30d nor a date"):
        parse_since("last tuesday", now)


def test_onboarding_report(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    _quiz(runtime, AMARA, ["No", "Nobody"])  # first try: 0 of 2
    clock.advance(timedelta(days=1))
    _quiz(runtime, AMARA, ["Yes", "Nobody"])  # the latest completion counts: 1 of 2
    _start(runtime, BEN, "walkthrough")  # started, not finished
    _quiz(runtime, DEV, ["Yes", "My line manager"])
    _quiz(runtime, Actor(user_id="slack:T1:U0SOMEONE", platform="slack"), ["Yes", "Nobody"])  # not in the directory
    assert runtime.directory is not None

    manager, rows = onboarding_report(runtime.store, runtime.library, runtime.directory, "dev", flow_id="walkthrough")
    assert manager.name == "Dev Patel"
    assert [(r.person.id, r.status, r.score) for r in rows] == [
        ("ben", "started", None),
        ("amara", "completed", (1, 2)),
    ]
    assert rows[1].completed_at == FRIDAY_3PM + timedelta(days=1)

    _, everyone = onboarding_report(
        runtime.store, runtime.library, runtime.directory, "claire", flow_id="walkthrough", indirect=True
    )
    statuses = {r.person.id: r.status for r in everyone}
    assert statuses == {
        "amara": "completed",
        "ben": "started",
        "dev": "completed",
        "cara": "not started",
        "lee": "not started",
        "hana": "not started",
    }
    with pytest.raises(PolicybotError, match=r"nobody with the id 'deb'.*did you mean 'dev'"):
        onboarding_report(runtime.store, runtime.library, runtime.directory, "deb")

    result = org.cli("onboarding-report", "--manager", "dev", "--flow", "walkthrough")
    assert result.stdout.splitlines() == [
        "Dev Patel's team (2 people): 1 completed the 'walkthrough' walkthrough.",
        "  ben    Ben Hughes                started",
        "  amara  Amara Okafor              completed 28 Nov 2026 (score 1/2)",
    ]
    data = json.loads(org.cli("onboarding-report", "--manager", "dev", "--flow", "walkthrough", "--json").stdout)
    assert [(p["id"], p["status"]) for p in data["team"]] == [("ben", "started"), ("amara", "completed")]


def _count(runtime: Runtime, table: object) -> int:
    with runtime.store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_purge_deletes_what_is_past_retention_and_keeps_open_cases(org: Org) -> None:
    old = FakeClock(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    runtime = org.runtime(old)
    assert runtime.cases is not None
    kept_case = escalate(runtime, AMARA, "Yes").case_id or ""  # stays open: kept whatever its age
    closed_case = escalate(runtime, AMARA, "No").case_id or ""
    runtime.cases.resolve(closed_case, CARA, "Dealt with")
    abandoned = _start(runtime, BEN, delivery_id="Ev001")
    runtime.engine.handle(BEN, Cancel(abandoned))
    # A request Slack sent then, still in the inbound journal (its text is personal data).
    InboundJournal(runtime.store, old, platform="slack").record("event_id:Ev001", BEN.user_id, {"text": "hi"})

    recent_clock = FakeClock(datetime.now(UTC) - timedelta(days=1))
    recent = org.runtime(recent_clock)
    recent_conversation = _start(recent, DEV)

    tables = (conversations, audit, cases, case_events, outbox, deliveries, inbound_events)
    before = {t.name: _count(runtime, t) for t in tables}
    dry = json.loads(org.cli("purge", "--older-than", "90d", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True
    assert dry["deleted"] == {
        "conversations": 2,
        "audit_rows": 6,
        "closed_cases": 1,
        "delivery_keys": 1,
        "routing_messages": 0,
        # no Teams here; the flow library's reviews and review notifications go with their change
        "other_tables": {
            "library_outbox": 0,
            "library_reviews": 0,
            "person_languages": 0,
            "teams_references": 0,
            "teams_sent_cards": 0,
        },
        "inbound_events": 1,
    }
    assert dry["kept_open_cases"] == 1
    assert {t.name: _count(runtime, t) for t in tables} == before

    done = org.cli("purge", "--older-than", "90d")
    assert done.stdout.startswith(
        "Deleted 2 conversation(s), 6 audit row(s), 1 closed case(s), 1 delivery key(s) and 0 routing log message(s)"
    )
    assert "Kept 1 open case(s) whatever their age." in done.stdout

    # The open case, its conversation and its history are all still there.
    case = runtime.cases.get(kept_case, DEV)
    assert case.state == "open" and [e.action for e in case.events] == ["opened"]
    with runtime.store.transaction() as conn:
        left = {r.id for r in conn.execute(select(conversations.c.id))}
        audit_left = {r.conversation_id for r in conn.execute(select(audit.c.conversation_id))}
        cases_left = {r.id for r in conn.execute(select(cases.c.id))}
        orphans = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.case_id == closed_case))
        assert orphans.scalar_one() == 0
    assert left == {case.conversation_id, recent_conversation}
    assert audit_left == {case.conversation_id, recent_conversation}
    assert cases_left == {kept_case}
    assert _count(runtime, inbound_events) == 0
    with pytest.raises(NotAllowed):
        runtime.cases.get(closed_case, CARA)

    # Nothing more to do on a second run; the default age comes from retention_days (90).
    again = purge(runtime.store, datetime.now(UTC) - timedelta(days=90))
    assert (again.conversations, again.audit_rows, again.cases, again.kept_live_cases) == (0, 0, 0, 1)
    assert "Deleted 0 conversation(s)" in org.cli("purge").stdout
