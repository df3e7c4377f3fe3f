"""Benchmark: signed Slack button clicks (block_actions) against the HTTP app, with the fake Web API.

Two processes, so the load generator does not share a GIL with the server:

- the server process runs the real ``SlackBot`` behind ``SlackHTTPServer`` (aiohttp, HTTP mode),
  a SQLite store in a temporary folder, and the fake Slack Web API (tests/slack/fake_slack_api.py)
  that the bot posts and updates messages in;
- this process runs N client threads. Each owns a pool of people, starts a legal-threat check for
  each (``/policy``, not timed), then clicks through it: every click is a signed ``payload=`` form
  body exactly as Slack sends it, answering the question the bot really posted. After three
  clicks the outcome is reached and the client starts again with ``/policy``.

Reported per concurrency level:

- requests/s: block_actions requests completed per second of wall time. A client only clicks a
  question once the bot has posted it, so this is the rate the whole system sustains (the
  engine's turn, the chat.update of the answered question and the chat.postMessage of the next
  one included), not just how fast acknowledgements come back;
- ack p50/p99: HTTP latency of the click request (what Slack's 3-second timeout measures);
- next-message p50/p99: from sending the click until the next question or outcome is in Slack;
- cpu/click: the server processes' CPU time (all threads, user and system) per click.

Usage: ``.venv/bin/python bench/bench_slack.py [--seconds 20] [--clients 1,20] [--pool 8]
[--api-latency-ms 60] [--replicas 2 --db postgresql+psycopg://...]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "slack"))


# ---------------------------------------------------------------------------------------- server


def run_fake(users: int, latency_ms: float = 0.0) -> None:
    """The fake Slack Web API process: prints its URL, serves until stdin closes. ``latency_ms``
    is added to every Web API call: the network between the bot and Slack (real Slack answers in
    tens to hundreds of milliseconds, loopback in one)."""
    from fake_slack_api import FakeSlackAPI

    fake = FakeSlackAPI(latency=latency_ms / 1000).start()
    for n in range(users):
        fake.add_user(user_id(n), f"user{n}", f"user{n}@council.example", f"User {n}")
    print(json.dumps({"fake": fake.base_url}), flush=True)
    sys.stdin.read()
    fake.stop()


def serve(api_url: str, port: int = 0, db: str = "") -> None:
    """The server process: the real app in HTTP mode; prints its URL, serves until stdin closes."""
    import logging
    import shutil

    from fake_slack_api import BOT_TOKEN
    from slack_requests import SIGNING_SECRET

    from adapters.slack.app import SlackBot
    from adapters.slack.config import SlackConfig
    from adapters.slack.http_server import SlackHTTPServer
    from bot.runtime import build_runtime

    logging.basicConfig(level=logging.WARNING)
    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
    workdir = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    flows = workdir / "flows"
    flows.mkdir()
    for name in ("legal-threat.yaml", "citations.yaml"):
        shutil.copy(REPO / "flows" / name, flows / name)
    settings = workdir / "policybot.yaml"
    settings.write_text("# defaults\n", encoding="utf-8")
    runtime = build_runtime(settings, db or f"sqlite:///{workdir / 'bench.db'}", flows_dir=flows)
    config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=api_url)
    threads = int(os.environ.get("BENCH_WORKERS", "0")) or None  # None: the adapter's default
    turns = int(os.environ.get("BENCH_DB_TURNS", "0")) or None
    bot = SlackBot(runtime, config, worker_threads=threads, db_turns=turns)
    # As `policybot serve slack` runs it: with the inbound journal, off the event loop.
    inline = os.environ.get("BENCH_INLINE", "") == "1"
    server = SlackHTTPServer(bot.app, port=port, reuse_port=True, inline=inline)
    url = server.start_in_thread()
    if os.environ.get("BENCH_PREPARE", "1") == "1":  # 0: as before issue 15's last change, for comparison
        from bot.runtime import prepare_to_serve

        prepare_to_serve(runtime)  # as `policybot serve slack` does before taking requests
    print(json.dumps({"app": url, "port": server.bound_port}), flush=True)
    sys.stdin.read()  # the parent closes stdin when done
    server.stop()
    bot.shutdown(10)
    shutil.rmtree(workdir, ignore_errors=True)


def user_id(n: int) -> str:
    return f"U{n:07d}"


# ---------------------------------------------------------------------------------------- client


def clickable(message: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The (block, button) pairs of a message that a person working through a check clicks."""
    return [
        (block, element)
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
        if str(element.get("action_id") or "").startswith("choose:") or element.get("action_id") == "go_through_again"
    ]


class Client(threading.Thread):
    """One simulated Slack user agent: a keep-alive connection to the app, one to the fake Slack."""

    def __init__(self, app_url: str, fake_url: str, people: list[str], mode: str, ready: threading.Barrier) -> None:
        super().__init__(daemon=True)
        from slack_requests import SlackSender

        self.sender = SlackSender(app_url)
        parsed = urlparse(fake_url)
        self.fake = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
        self.fake.connect()
        self.fake.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.people = people
        self.mode = mode
        self.ready = ready
        self.seconds = 0.0
        self.until = 0.0
        self.acks: list[float] = []
        self.answered: list[float] = []  # from sending the click to the bot's next message in Slack
        self.clicks = 0
        self.errors = 0
        self.current: dict[str, dict[str, Any]] = {}
        self.started = self.finished = self.all_answered = 0.0

    def latest(self, user: str, after: str) -> dict[str, Any]:
        """The bot's newest message to ``user`` after ``after`` that has something to click (waits
        for it): a line without buttons, such as the router's "Understood: ..." before the first
        question, is passed over, as a person reads on to the question."""
        while True:
            self.fake.request("GET", f"/_fake/latest?channel=D{user}&after={after}&timeout=120")
            resp = self.fake.getresponse()
            body: dict[str, Any] = json.loads(resp.read())
            if resp.status != 200:
                raise RuntimeError(f"the bot posted nothing new for {user} within 120 s")
            if clickable(body):
                return body
            after = str(body["ts"])

    def start_check(self, user: str) -> None:
        from slack_requests import slash_command

        resp = self.sender.form(slash_command(user, "someone threatened to sue me", channel_id=f"D{user}"))
        if resp.status != 200:
            self.errors += 1
        self.current[user] = self.latest(user, "0")

    def send_click(self, user: str) -> tuple[float, str]:
        """Click on the person's latest message: the first option of a question, or "Go through it
        again" on an outcome (which starts the same check over). Every click is real work.
        Returns (when it was sent, the clicked message's ts)."""
        from slack_requests import block_actions

        message = self.current[user]
        found = clickable(message)
        if not found:
            raise RuntimeError(f"nothing to click in {message['text'][:80]!r}")
        block, button = found[0]
        action = {
            "action_id": button["action_id"],
            "block_id": block["block_id"],
            "text": button["text"],
            "value": button["value"],
        }
        payload = block_actions(
            user,
            action,
            channel_id=message["channel"],
            message={"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
        )
        started = time.perf_counter()
        resp = self.sender.interactive(payload)
        self.acks.append(time.perf_counter() - started)
        if resp.status != 200:
            self.errors += 1
        self.clicks += 1
        return started, message["ts"]

    def run(self) -> None:
        for user in self.people:
            self.start_check(user)
        self.ready.wait()  # everyone set up: the timed part starts together
        self.started = time.perf_counter()
        self.until = self.started + self.seconds
        if self.mode == "closed":
            # People who read each answer before clicking again: each click waits for the bot.
            while time.perf_counter() < self.until:
                for user in self.people:
                    sent, ts = self.send_click(user)
                    self.current[user] = self.latest(user, ts)
                    self.answered.append(time.perf_counter() - sent)
                    if time.perf_counter() >= self.until:
                        break
            self.finished = self.all_answered = time.perf_counter()
        else:
            # A burst: one click per person, as fast as the app acknowledges, then wait for the bot.
            sent = {user: self.send_click(user) for user in self.people}
            self.finished = time.perf_counter()
            for user, (when, ts) in sent.items():
                self.current[user] = self.latest(user, ts)
                self.answered.append(time.perf_counter() - when)  # an upper bound: checked in order
            self.all_answered = time.perf_counter()
        self.sender.close()


def fresh_schema(url: str) -> str:
    """A new, empty schema in the PostgreSQL database at ``url`` (so the bench shares nothing)."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"pbench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (Linux /proc), 0 elsewhere."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def run_level(
    app_url: str,
    fake_url: str,
    mode: str,
    clients: int,
    pool: int,
    seconds: float,
    offset: int,
    server_pids: list[int] | None = None,
) -> dict[str, Any]:
    ready = threading.Barrier(clients + 1)
    threads = [
        Client(app_url, fake_url, [user_id(offset + c * pool + k) for k in range(pool)], mode, ready)
        for c in range(clients)
    ]
    for t in threads:
        t.seconds = seconds
        t.start()
    ready.wait()
    cpu_before = cpu_seconds(server_pids or [])
    for t in threads:
        t.join()
    server_cpu = cpu_seconds(server_pids or []) - cpu_before
    acks = [a for t in threads for a in t.acks]
    answered = [n for t in threads for n in t.answered]
    clicks = sum(t.clicks for t in threads)
    begin = min(t.started for t in threads)
    sending = max(t.finished for t in threads) - begin
    done = max(t.all_answered for t in threads) - begin
    return {
        "mode": mode,
        "clients": clients,
        "clicks": clicks,
        "errors": sum(t.errors for t in threads),
        "requests_per_s": clicks / sending,  # clicks acknowledged per second
        "answered_per_s": clicks / done,  # clicks fully handled (next message in Slack) per second
        "ack_p50_ms": percentile(acks, 50) * 1000,
        "ack_p99_ms": percentile(acks, 99) * 1000,
        "ack_max_ms": max(acks) * 1000,
        "answer_p50_ms": percentile(answered, 50) * 1000,
        "answer_p99_ms": percentile(answered, 99) * 1000,
        # The server processes' CPU time per click, all threads: what limits the rate when the
        # cores are busy (the fake and the load generator use CPU of their own besides).
        "server_cpu_ms_per_click": server_cpu * 1000 / clicks if clicks else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="closed mode: clicking time per level")
    parser.add_argument("--clients", default="1,20", help="comma-separated concurrency levels")
    parser.add_argument("--modes", default="closed,burst", help="closed (wait for each answer), burst, or both")
    parser.add_argument("--pool", type=int, default=1, help="closed mode: people per client, clicked in turn")
    parser.add_argument("--burst", type=int, default=50, help="burst mode: clicks per client (one per person)")
    parser.add_argument("--replicas", type=int, default=1, help="server processes sharing the port and database")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--api-latency-ms", type=float, default=0.0, help="added to every Web API call of the fake (network)"
    )
    parser.add_argument("--db", default="", help="database URL shared by the replicas (default: a new SQLite file)")
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL URL: the replicas share a fresh schema in it, dropped afterwards",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    modes = [m.strip() for m in args.modes.split(",")]
    per_client = {"closed": args.pool, "burst": args.burst}
    users = sum(level * per_client[m] for m in modes for level in levels)
    fake = subprocess.Popen(
        [sys.executable, __file__, "--fake", str(users), str(args.api_latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    servers: list[subprocess.Popen[str]] = []
    results = []
    schema = fresh_schema(args.postgres) if args.postgres else None
    if schema is not None:
        separator = "&" if "?" in args.postgres else "?"
        args.db = f"{args.postgres}{separator}options=-csearch_path%3D{schema}"
    try:
        assert fake.stdout is not None
        api_url = json.loads(fake.stdout.readline())["fake"]
        # Replicas: processes on one port (SO_REUSEPORT), one SQLite database, like replicas
        # behind a load balancer sharing PostgreSQL; the kernel spreads the connections.
        db = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='bench-slack-db-')}/bench.db"
        port = 0
        for _ in range(args.replicas):
            process = subprocess.Popen(
                [sys.executable, __file__, "--serve", api_url, str(port), db],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            servers.append(process)
            assert process.stdout is not None
            started = json.loads(process.stdout.readline())
            app_url, port = started["app"], started["port"]
        fake_url = api_url.removesuffix("api/")
        offset = 0
        for mode in modes:
            for level in levels:
                pids = [p.pid for p in servers]
                results.append(run_level(app_url, fake_url, mode, level, per_client[mode], args.seconds, offset, pids))
                offset += level * per_client[mode]
    finally:
        for process in (*servers, fake):
            if process.stdin:
                process.stdin.close()
                process.wait(30)
        if schema is not None:
            drop_schema(args.postgres, schema)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    if args.json:
        run = {"api_latency_ms": args.api_latency_ms, "replicas": args.replicas, "db": db.split(":")[0], "load": load}
        print(json.dumps({"run": run, "results": results}, indent=2))
        return
    print(
        f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  replicas: {args.replicas}  "
        f"api latency: {args.api_latency_ms:g} ms  db: {db.split(':')[0]}  load avg: {load}"
    )
    print("mode    clients  clicks  errors  acked/s  answered/s  ack p50  ack p99  answer p50  answer p99  cpu/click")
    for r in results:
        print(
            f"{r['mode']:<7} {r['clients']:>7}  {r['clicks']:>6}  {r['errors']:>6}  {r['requests_per_s']:>7.0f}  "
            f"{r['answered_per_s']:>10.0f}  {r['ack_p50_ms']:>5.1f}ms  {r['ack_p99_ms']:>5.1f}ms  "
            f"{r['answer_p50_ms']:>8.0f}ms  {r['answer_p99_ms']:>8.0f}ms  {r['server_cpu_ms_per_click']:>6.1f}ms"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "--fake":
        run_fake(int(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
