"""`policybot routing-report` from real conversations: misses by first guess and choice, messages
that matched nothing, suggestions for the right flow's examples (never applied by themselves),
and the routing log purged with everything else past the retention age."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.conversation.events import Actor, Start
from bot.conversation.opening import NOT_THIS
from bot.conversation.replies import FlowChoice
from bot.conversation.router import understand
from bot.runtime import Runtime, build_runtime
from bot.store.routing_log import routing_log

POLICYBOT = str(Path(sys.executable).with_name("policybot"))
NOW = datetime.now(UTC) - timedelta(hours=1)
UNCLEAR = "hiya, quick one for you"
CONFUSED = "someone keeps posting adverts in our group, can i take them down"


def runtime(db: Path, when: datetime) -> Runtime:
    return build_runtime(database_url=f"sqlite:///{db}", clock=FakeClock(when))


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYBOT_DATABASE_URL": f"sqlite:///{db}", "NO_COLOR": "1"}
    env.pop("POLICYBOT_SETTINGS", None)
    result = subprocess.run([POLICYBOT, *args], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result


def person(n: int) -> Actor:
    return Actor(user_id=f"slack:U{n:04d}", display_name=f"Person {n}")


def play(rt: Runtime) -> str:
    """Three people say the same unclear thing and then the same clear one; two say "not this" to
    the same confident guess and pick the same other flow; one picks the first guess. Returns the
    flow the "not this" people chose."""
    clock = rt.clock
    assert isinstance(clock, FakeClock)
    for n in range(3):
        rt.engine.handle(person(n), Start(text=UNCLEAR))
        clock.advance(timedelta(seconds=30))
        rt.engine.handle(person(n), Start(text="a client sent me a friend request on facebook"))
    guess = understand(CONFUSED, rt.library.all()).matches[0].flow.id
    chosen = next(m.flow.id for m in understand(CONFUSED, rt.library.all()).matches if m.flow.id != guess)
    for n in (10, 11):
        rt.engine.handle(person(n), Start(text=CONFUSED))
        clock.advance(timedelta(seconds=10))
        offered = next(r for r in rt.engine.handle(person(n), Start(flow_id=NOT_THIS)) if isinstance(r, FlowChoice))
        assert chosen in [c.flow_id for c in offered.candidates]
        rt.engine.handle(person(n), Start(flow_id=chosen))
    unsure = rt.engine.handle(person(20), Start(text="loads of people moaning on fb about the council"))
    offered = next(r for r in unsure if isinstance(r, FlowChoice))
    rt.engine.handle(person(20), Start(flow_id=offered.candidates[0].flow_id))
    return chosen


def test_the_report_shows_misses_unmatched_messages_and_suggestions(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rt = runtime(db, NOW)
    chosen = play(rt)
    guess = understand(CONFUSED, rt.library.all()).matches[0].flow.id
    data = json.loads(cli(db, "routing-report", "--json").stdout)

    summary = data["summary"]
    assert summary["messages"] == 3 * 2 + 2 + 1
    assert summary["no_idea"] == 3 and summary["offered, typed it again"] == 3
    assert summary["confident, then 'not this'"] == 2
    assert summary["offered, picked the first guess"] == 1

    misses = {(m["guess"], m["chosen"]): m for m in data["misses"]}
    assert misses[(guess, chosen)]["count"] == 2 and misses[(guess, chosen)]["texts"] == [CONFUSED]
    assert data["unmatched"] == [{"text": UNCLEAR, "count": 3, "chosen": "friend-request"}]
    suggestions = {(s["flow"], s["text"]): s["count"] for s in data["suggestions"]}
    assert suggestions == {("friend-request", UNCLEAR): 3, (chosen, CONFUSED): 2}

    text = cli(db, "routing-report").stdout
    assert "9 message(s) routed" in text
    assert f"     2  {guess} -> {chosen}" in text
    assert f'     3  "{UNCLEAR}"  (then chose friend-request)' in text
    assert f"  {chosen}.yaml\n    - {CONFUSED}   # 2 people" in text

    # Nothing was learnt: the same words still route exactly as before.
    assert understand(CONFUSED, rt.library.all()).matches[0].flow.id == guess


def test_a_suggestion_already_in_the_flow_is_not_repeated(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rt = runtime(db, NOW)
    example = rt.library.get("friend-request").examples[0]
    rt.engine.handle(person(1), Start(text=UNCLEAR))
    with rt.store.transaction() as conn:  # as if the unclear words had been an existing example
        conn.execute(routing_log.update().values(text=example, choice="friend-request"))
    data = json.loads(cli(db, "routing-report", "--json").stdout)
    assert data["suggestions"] == []


def test_an_empty_log_says_so(tmp_path: Path) -> None:
    assert "No messages have been routed yet." in cli(tmp_path / "empty.db", "routing-report", "--since", "30d").stdout


def test_purge_removes_old_routing_messages_and_keeps_recent_ones(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    runtime(db, datetime(2026, 1, 5, tzinfo=UTC)).engine.handle(person(1), Start(text=UNCLEAR))
    runtime(db, NOW).engine.handle(person(2), Start(text=UNCLEAR))
    data = json.loads(cli(db, "purge", "--older-than", "90d", "--json").stdout)
    assert data["deleted"]["routing_messages"] == 1
    rt = runtime(db, NOW)
    with rt.store.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(routing_log)).scalar_one() == 1
