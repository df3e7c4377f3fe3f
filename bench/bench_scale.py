"""Benchmark: the Slack HTTP path at scale, two replicas on PostgreSQL against one on SQLite.

For each configuration:

1. A fresh database is migrated and seeded with ``--conversations`` stored conversations (default
   100,000), so the run happens against a store the size of a few years of a council's use. The
   rows are copies of conversations the real engine produced: three in four are short ones that
   ended without escalating (start, one answer, outcome: 3 audit rows); one in four went through
   five questions and escalated, so it has a case, its recipients and events, delivered outbox
   rows and a fired timer. Only the ids, people and times differ between copies.
2. The database size per stored conversation is measured (SQLite: pages in use after a
   checkpoint; PostgreSQL: ``pg_total_relation_size`` of every table, indexes and TOAST included).
3. The replicas start as real ``policybot serve slack`` processes (HTTP mode, each with its outbox
   worker), the fake Slack Web API runs in a process of its own, and this process runs
   ``--clients`` client threads, each a pool of people who click through a five-question check
   that ends in a required escalation, then start again. Each request goes to the next replica
   in turn (a round-robin load balancer). A client clicks only once the bot has posted the
   question, so the rate is what the whole system sustains.

Reported: requests/s (clicks acknowledged per second), ack latency p50/p99 (what Slack's 3 s
timeout measures), next-message latency p50/p99 (click to the next question in Slack), the
database size per conversation before and after, and the outbox delivery lag (row written to
notification posted in Slack) p50/p99/max for the escalations made during the run.

Usage: ``.venv/bin/python bench/bench_scale.py [--conversations 100000] [--seconds 30]
[--clients 16] [--pool 2] [--configs sqlite1,postgres2] [--json]`` (``--quick`` for a smoke run).
PostgreSQL: $POLICYBOT_TEST_POSTGRES_URL or postgres@127.0.0.1:5432/test; a schema of its own is
created and dropped.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "slack"))

POSTGRES_URL = os.environ.get("POLICYBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED_TABLES = ("conversations", "audit", "cases", "case_recipients", "case_events", "outbox", "timers")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# ------------------------------------------------------------------------------------------ fake


def run_fake(people: int) -> None:
    """The fake Slack Web API in a process of its own: prints its URL, serves until stdin closes."""
    from tests.production.replicas import slack_workspace

    fake = slack_workspace(people)
    print(json.dumps({"fake": fake.base_url}), flush=True)
    sys.stdin.read()
    fake.stop()


class FakeProcess:
    def __init__(self, people: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--fake", str(people)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        self.base_url = json.loads(self.process.stdout.readline())["fake"]

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


# ------------------------------------------------------------------------------------------ seeding


def template_rows(flows: Path, org_settings: Path) -> list[dict[str, list[dict[str, Any]]]]:
    """Rows the real engine wrote for one short and one escalated conversation (from a scratch store)."""
    from sqlalchemy import select, update

    from bot.cases.notify import Notification
    from bot.cases.tables import timers
    from bot.cases.worker import Worker
    from bot.conversation.events import Actor, Choose, Start
    from bot.conversation.replies import Question
    from bot.runtime import build_runtime
    from bot.store.migrate import target_metadata

    class Quiet:
        def deliver(self, notification: Notification) -> None:
            pass

    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-template-"))
    runtime = build_runtime(org_settings, f"sqlite:///{scratch / 't.db'}", flows_dir=flows)
    short = Actor(user_id="slack:T0COUNCIL:USHORT", display_name="Short", platform="slack")
    replies = runtime.engine.handle(short, Start(flow_id="branchy"))
    q = replies[-1]
    assert isinstance(q, Question)
    runtime.engine.handle(short, Choose(q.conversation_id, q.state, 1, q.turn))  # "My own account": an outcome
    long = Actor(user_id="slack:T0COUNCIL:U0EMP00000", display_name="Employee 0", platform="slack")
    replies = runtime.engine.handle(long, Start(flow_id="chain"))
    while isinstance(replies[-1], Question):
        q = replies[-1]
        replies = runtime.engine.handle(long, Choose(q.conversation_id, q.state, 0, q.turn))
    Worker(runtime, Quiet()).run_once()
    with runtime.store.transaction() as conn:
        conn.execute(update(timers).values(status="fired", fired_at=timers.c.due_at))
    tables = target_metadata().tables
    templates: list[dict[str, list[dict[str, Any]]]] = []
    with runtime.store.engine.connect() as conn:
        for user in (short.user_id, long.user_id):
            conv = conn.execute(select(tables["conversations"]).where(tables["conversations"].c.user_id == user))
            conv_rows = [dict(r) for r in conv.mappings()]
            conv_id = conv_rows[0]["id"]
            rows: dict[str, list[dict[str, Any]]] = {"conversations": conv_rows}
            rows["audit"] = [
                dict(r)
                for r in conn.execute(
                    select(tables["audit"]).where(tables["audit"].c.conversation_id == conv_id)
                ).mappings()
            ]
            case_ids = [
                r["id"] for r in conn.execute(select(tables["cases"])).mappings() if r["conversation_id"] == conv_id
            ]
            for name in ("cases", "case_recipients", "case_events", "outbox", "timers"):
                column = tables[name].c.id if name == "cases" else tables[name].c.case_id
                rows[name] = [
                    dict(r) for r in conn.execute(select(tables[name]).where(column.in_(case_ids))).mappings()
                ]
            templates.append(rows)
    runtime.store.close()
    return templates


def seed(url: str, templates: list[dict[str, list[dict[str, Any]]]], count: int, batch: int = 2000) -> float:
    """Insert ``count`` copies (3 short : 1 escalated) with fresh ids, people and times; seconds taken."""
    from sqlalchemy import insert

    from bot.store import Store
    from bot.store.migrate import target_metadata

    store = Store(url)
    tables = target_metadata().tables
    flow_versions_needed = True
    started = time.perf_counter()
    now = datetime.now(UTC)
    ids_in = [_ids(t) for t in templates]
    done = 0
    while done < count:
        pending: dict[str, list[dict[str, Any]]] = {name: [] for name in SEED_TABLES}
        for n in range(done, min(count, done + batch)):
            template = templates[1 if n % 4 == 3 else 0]
            ids = ids_in[1 if n % 4 == 3 else 0]
            mapping = {old: uuid.uuid4().hex for old in ids}
            mapping[template["conversations"][0]["user_id"]] = f"slack:T0COUNCIL:USEED{n:07d}"
            shift = now - timedelta(minutes=n * 2 + 60) - template["conversations"][0]["created_at"]
            for name in SEED_TABLES:
                for row in template.get(name, []):
                    pending[name].append(_copy(row, mapping, shift))
        with store.transaction() as conn:
            if flow_versions_needed:
                _copy_flow_versions(conn)
                flow_versions_needed = False
            for name in SEED_TABLES:
                if pending[name]:
                    conn.execute(insert(tables[name]), pending[name])
        done = min(count, done + batch)
    store.close()
    return time.perf_counter() - started


def _ids(template: dict[str, list[dict[str, Any]]]) -> set[str]:
    found = {row["id"] for row in template["conversations"]}
    for name in ("cases", "outbox", "timers"):
        found |= {row["id"] for row in template.get(name, [])}
    return found


def _copy(row: dict[str, Any], mapping: dict[str, str], shift: timedelta) -> dict[str, Any]:
    copy: dict[str, Any] = {}
    for key, value in row.items():
        if key == "id" and isinstance(value, int):
            continue  # autoincrement: the database numbers the copy
        if isinstance(value, datetime):
            value = value + shift
        elif isinstance(value, str):
            for old, new in mapping.items():
                if old in value:
                    value = value.replace(old, new)
        copy[key] = value
    return copy


_FLOW_VERSIONS: list[dict[str, Any]] = []


def _copy_flow_versions(conn: Any) -> None:
    from sqlalchemy import insert, select

    from bot.store.schema import flow_versions

    existing = set(conn.execute(select(flow_versions.c.version)).scalars())
    rows = [r for r in _FLOW_VERSIONS if r["version"] not in existing]
    if rows:
        conn.execute(insert(flow_versions), rows)


def database_bytes(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")  # VACUUM cannot run in a transaction
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                pages = conn.execute(text("PRAGMA page_count")).scalar_one()
                free = conn.execute(text("PRAGMA freelist_count")).scalar_one()
                size = conn.execute(text("PRAGMA page_size")).scalar_one()
                return int((pages - free) * size)
            conn.execute(text("VACUUM ANALYZE"))
            return int(
                conn.execute(
                    text(
                        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def conversation_count(url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from bot.store.schema import conversations

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(conversations)).scalar_one())
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------ clients


class Client(threading.Thread):
    """People clicking through the chain check, with keep-alive connections to every replica."""

    def __init__(self, urls: list[str], fake_url: str, people: list[str], until: list[float], ready: threading.Barrier):
        super().__init__(daemon=True)
        from slack_requests import SlackSender

        self.senders = [SlackSender(url) for url in urls]
        parsed = urlparse(fake_url)
        self.fake = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
        self.people = people
        self.until = until
        self.ready = ready
        self.turn = 0
        self.acks: list[float] = []
        self.answered: list[float] = []
        self.clicks = 0
        self.errors = 0
        self.current: dict[str, dict[str, Any]] = {}
        self.started = self.finished = 0.0

    def sender(self) -> Any:
        self.turn += 1
        return self.senders[self.turn % len(self.senders)]

    def latest(self, user: str, after: str) -> dict[str, Any]:
        """The bot's newest message to ``user`` after ``after`` that has a button to click."""
        while True:
            self.fake.request("GET", f"/_fake/latest?channel=D{user}&after={after}&timeout=120")
            resp = self.fake.getresponse()
            body = json.loads(resp.read())
            if resp.status != 200:
                raise RuntimeError(f"the bot posted nothing new for {user} within 120 s")
            if _button(body) is not None:
                return dict(body)
            after = body["ts"]  # a notification about the case, not a question: read on

    def start_check(self, user: str) -> None:
        from slack_requests import slash_command

        resp = self.sender().form(slash_command(user, "chain of questions", channel_id=f"D{user}"))
        if resp.status != 200:
            self.errors += 1
        self.current[user] = self.latest(user, "0")

    def click(self, user: str) -> tuple[float, str]:
        from slack_requests import block_actions

        message = self.current[user]
        found = _button(message)
        assert found is not None
        block, button = found
        action = {"action_id": button["action_id"], "block_id": block["block_id"], "text": button["text"]}
        action["value"] = button.get("value")
        clicked = {"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]}
        payload = block_actions(user, action, channel_id=message["channel"], message=clicked)
        started = time.perf_counter()
        resp = self.sender().interactive(payload)
        self.acks.append(time.perf_counter() - started)
        if resp.status != 200:
            self.errors += 1
        self.clicks += 1
        return started, str(message["ts"])

    def run(self) -> None:
        for user in self.people:
            self.start_check(user)
        self.ready.wait()
        self.started = time.perf_counter()
        while time.perf_counter() < self.until[0]:
            for user in self.people:
                sent, ts = self.click(user)
                self.current[user] = self.latest(user, ts)
                self.answered.append(time.perf_counter() - sent)
        self.finished = time.perf_counter()
        for sender in self.senders:
            sender.close()


def _button(message: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for block in message.get("blocks", []):
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                action_id = str(element.get("action_id", ""))
                if action_id.startswith("choose") or action_id == "go_through_again":
                    return block, element
    return None


# ------------------------------------------------------------------------------------------ a run


@dataclass
class Config:
    name: str
    backend: str  # sqlite | postgresql
    replicas: int


CONFIGS = {
    "sqlite1": Config("1 replica, SQLite", "sqlite", 1),
    "postgres2": Config("2 replicas, PostgreSQL", "postgresql", 2),
    "postgres1": Config("1 replica, PostgreSQL", "postgresql", 1),
}


def run_config(config: Config, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from sqlalchemy import create_engine, select, text

    from bot.cases.tables import outbox
    from bot.store import Store
    from tests.production.kit import BRANCHY_FLOW, chain_flow, write_flows
    from tests.production.replicas import Org, Replica, employee

    people = args.clients * args.pool
    folder = work / config.backend / str(config.replicas)
    flows = write_flows(folder / "flows", {"chain": chain_flow(), "branchy": BRANCHY_FLOW})
    org = Org.create(folder / "org", flows, people)
    schema = None
    if config.backend == "sqlite":
        url = f"sqlite:///{folder / 'policybot.db'}"
    else:
        schema = f"bench_scale_{os.getpid()}_{config.replicas}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        Store(url).close()
        templates = template_rows(flows, org.settings)
        if not _FLOW_VERSIONS:
            _FLOW_VERSIONS.extend(_flow_version_rows(flows))
        seconds = seed(url, templates, args.conversations)
        stored = conversation_count(url)
        size_before = database_bytes(url)
        print(
            f"  seeded {stored:,} conversations in {seconds:.0f}s; {size_before / stored:,.0f} bytes each", flush=True
        )

        fake = FakeProcess(people)
        replicas = [Replica(f"replica-{i}", org, url, fake, threads=args.threads) for i in range(config.replicas)]  # type: ignore[arg-type]
        try:
            for replica in replicas:
                replica.start()
            for replica in replicas:
                replica.wait_ready()
            until = [float("inf")]
            ready = threading.Barrier(args.clients + 1)
            clients = [
                Client(
                    [r.url for r in replicas],
                    fake.base_url,
                    [employee(c * args.pool + k) for k in range(args.pool)],
                    until,
                    ready,
                )
                for c in range(args.clients)
            ]
            for client in clients:
                client.start()
            ready.wait()
            began = datetime.now(UTC)
            until[0] = time.perf_counter() + args.seconds
            for client in clients:
                client.join()
            # Let the outbox catch up, then read each delivery's lag from the rows themselves.
            engine = create_engine(url)
            deadline = time.monotonic() + 120
            rows: list[Any] = []
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    rows = conn.execute(
                        select(outbox.c.status, outbox.c.created_at, outbox.c.delivered_at).where(
                            outbox.c.created_at >= began
                        )
                    ).all()
                if rows and all(r.status != "pending" for r in rows):
                    break
                time.sleep(0.5)
            engine.dispose()
            lags = [
                (_aware(r.delivered_at) - _aware(r.created_at)).total_seconds()
                for r in rows
                if r.delivered_at is not None
            ]
            load = os.getloadavg()[0]
        finally:
            for replica in replicas:
                replica.stop()
            fake.stop()
        stored_after = conversation_count(url)
        size_after = database_bytes(url)
    finally:
        if schema is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    acks = [a for c in clients for a in c.acks]
    answered = [a for c in clients for a in c.answered]
    clicks = sum(c.clicks for c in clients)
    wall = max(c.finished for c in clients) - min(c.started for c in clients)
    return {
        "config": config.name,
        "replicas": config.replicas,
        "backend": config.backend,
        "stored_conversations": stored,
        "bytes_per_conversation": round(size_before / stored),
        "bytes_per_conversation_after": round(size_after / stored_after),
        "clients": args.clients,
        "people": people,
        "clicks": clicks,
        "errors": sum(c.errors for c in clients),
        "requests_per_s": round(clicks / wall, 1),
        "ack_p50_ms": round(percentile(acks, 50) * 1000, 1),
        "ack_p99_ms": round(percentile(acks, 99) * 1000, 1),
        "next_message_p50_ms": round(percentile(answered, 50) * 1000, 1),
        "next_message_p99_ms": round(percentile(answered, 99) * 1000, 1),
        "escalation_notifications": len(rows),
        "undelivered": sum(1 for r in rows if r.delivered_at is None),
        "outbox_lag_p50_ms": round(percentile(lags, 50) * 1000),
        "outbox_lag_p99_ms": round(percentile(lags, 99) * 1000),
        "outbox_lag_max_ms": round(max(lags) * 1000) if lags else None,
        "load_average_1m": round(load, 2),
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _flow_version_rows(flows: Path) -> list[dict[str, Any]]:
    from bot.conversation.library import FlowLibrary
    from bot.language.settings import load_settings

    library = FlowLibrary.load(flows, load_settings(None))
    now = datetime.now(UTC)
    return [{"version": f.version, "flow_id": f.id, "source": f.source, "first_seen": now} for f in library.all()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000, help="stored conversations to seed first")
    parser.add_argument("--seconds", type=float, default=30.0, help="clicking time per configuration")
    parser.add_argument(
        "--clients", type=int, default=16, help="client threads (each a keep-alive connection per replica)"
    )
    parser.add_argument("--pool", type=int, default=2, help="people per client, clicked in turn")
    parser.add_argument("--threads", type=int, default=8, help="Slack worker threads per replica")
    parser.add_argument("--configs", default="sqlite1,postgres2", help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2,000 conversations, 5 seconds")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--fake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake is not None:
        run_fake(args.fake)
        return
    if args.quick:
        args.conversations, args.seconds = 2000, 5.0
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = []
    for key in args.configs.split(","):
        config = CONFIGS[key.strip()]
        print(f"{config.name}:", flush=True)
        results.append(run_config(config, args, work))
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
        return
    print(f"\nmachine: {machine}; {args.clients} clients x {args.pool} people, {args.seconds:.0f}s per configuration")
    columns = [
        ("configuration", "config"),
        ("stored", "stored_conversations"),
        ("bytes/conv", "bytes_per_conversation"),
        ("req/s", "requests_per_s"),
        ("ack p50 ms", "ack_p50_ms"),
        ("ack p99 ms", "ack_p99_ms"),
        ("next msg p50 ms", "next_message_p50_ms"),
        ("next msg p99 ms", "next_message_p99_ms"),
        ("outbox lag p50 ms", "outbox_lag_p50_ms"),
        ("outbox lag p99 ms", "outbox_lag_p99_ms"),
        ("errors", "errors"),
    ]
    print("| " + " | ".join(c for c, _ in columns) + " |")
    print("|" + "---|" * len(columns))
    for r in results:
        print("| " + " | ".join(f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for _, k in columns) + " |")


if __name__ == "__main__":
    main()
