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
- next-message p50/p99: from sending the click until the next question or outcome is in Slack.

Usage: ``.venv/bin/python bench/bench_slack.py [--seconds 20] [--clients 1,20] [--pool 8]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
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


def serve(users: int) -> None:
    """The server process: prints the two URLs, then serves until stdin closes."""
    import logging
    import shutil

    from fake_slack_api import BOT_TOKEN, FakeSlackAPI
    from slack_requests import SIGNING_SECRET

    from adapters.slack.app import SlackBot
    from adapters.slack.config import SlackConfig
    from adapters.slack.http_server import SlackHTTPServer
    from bot.runtime import build_runtime

    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    flows = workdir / "flows"
    flows.mkdir()
    for name in ("legal-threat.yaml", "citations.yaml"):
        shutil.copy(REPO / "flows" / name, flows / name)
    fake = FakeSlackAPI().start()
    for n in range(users):
        fake.add_user(user_id(n), f"user{n}", f"user{n}@council.example", f"User {n}")
    runtime = build_runtime(database_url=f"sqlite:///{workdir / 'bench.db'}", flows_dir=flows)
    config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url)
    bot = SlackBot(runtime, config, worker_threads=int(os.environ.get("BENCH_WORKERS", "8")))
    server = SlackHTTPServer(bot.app, port=0)
    url = server.start_in_thread()
    print(json.dumps({"app": url, "fake": fake.base_url.removesuffix("api/")}), flush=True)
    sys.stdin.read()  # the parent closes stdin when done
    server.stop()
    bot.worker.shutdown(10)
    fake.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def user_id(n: int) -> str:
    return f"U{n:07d}"


# ---------------------------------------------------------------------------------------- client


class Client(threading.Thread):
    def __init__(self, app_url: str, fake_url: str, people: list[str], until: float) -> None:
        super().__init__(daemon=True)
        from slack_requests import SlackSender

        self.sender = SlackSender(app_url)
        parsed = urlparse(fake_url)
        self.fake = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        self.people = people
        self.until = until
        self.acks: list[float] = []
        self.next_message: list[float] = []
        self.clicks = 0
        self.errors = 0
        self.current: dict[str, dict[str, Any]] = {}
        self.clicks_in_check: dict[str, int] = {}

    def latest(self, user: str, after: str) -> dict[str, Any]:
        self.fake.request("GET", f"/_fake/latest?channel=D{user}&after={after}&timeout=30")
        resp = self.fake.getresponse()
        body = json.loads(resp.read())
        if resp.status != 200:
            raise RuntimeError(f"the bot posted nothing new for {user} within 30 s")
        return body

    def start_check(self, user: str) -> None:
        from slack_requests import slash_command

        after = self.current[user]["ts"] if user in self.current else "0"
        resp = self.sender.form(slash_command(user, "someone threatened to sue me", channel_id=f"D{user}"))
        if resp.status != 200:
            self.errors += 1
        self.current[user] = self.latest(user, after)
        self.clicks_in_check[user] = 0

    def click(self, user: str) -> None:
        from slack_requests import block_actions

        message = self.current[user]
        block = next(b for b in message["blocks"] if b["type"] == "actions")
        button = block["elements"][0]
        payload = block_actions(
            user,
            {"action_id": button["action_id"], "block_id": block["block_id"], "text": button["text"],
             "value": button["value"]},
            channel_id=message["channel"],
            message={"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
        )
        started = time.perf_counter()
        resp = self.sender.interactive(payload)
        acked = time.perf_counter()
        if resp.status != 200:
            self.errors += 1
        self.current[user] = self.latest(user, message["ts"])
        done = time.perf_counter()
        self.acks.append(acked - started)
        self.next_message.append(done - started)
        self.clicks += 1
        self.clicks_in_check[user] += 1

    def run(self) -> None:
        for user in self.people:
            self.start_check(user)
        self.started = time.perf_counter()
        while time.perf_counter() < self.until:
            for user in self.people:
                if self.clicks_in_check[user] >= 3:  # outcome reached: a new check
                    self.start_check(user)
                self.click(user)
                if time.perf_counter() >= self.until:
                    break
        self.finished = time.perf_counter()
        self.sender.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run_level(app_url: str, fake_url: str, clients: int, pool: int, seconds: float, offset: int) -> dict[str, Any]:
    until = time.perf_counter() + seconds
    threads = [
        Client(app_url, fake_url, [user_id(offset + c * pool + k) for k in range(pool)], until)
        for c in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks = [a for t in threads for a in t.acks]
    nexts = [n for t in threads for n in t.next_message]
    clicks = sum(t.clicks for t in threads)
    wall = max(t.finished for t in threads) - min(t.started for t in threads)
    return {
        "clients": clients,
        "clicks": clicks,
        "errors": sum(t.errors for t in threads),
        "requests_per_s": clicks / wall,
        "ack_p50_ms": percentile(acks, 50) * 1000,
        "ack_p99_ms": percentile(acks, 99) * 1000,
        "ack_mean_ms": statistics.fmean(acks) * 1000,
        "next_p50_ms": percentile(nexts, 50) * 1000,
        "next_p99_ms": percentile(nexts, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed clicking per concurrency level")
    parser.add_argument("--clients", default="1,20", help="comma-separated concurrency levels")
    parser.add_argument("--pool", type=int, default=8, help="people per client (clicked round-robin)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    users = sum(levels) * args.pool
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(users)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        urls = json.loads(server.stdout.readline())
        results, offset = [], 0
        for level in levels:
            results.append(run_level(urls["app"], urls["fake"], level, args.pool, args.seconds, offset))
            offset += level * args.pool
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  seconds per level: {args.seconds}")
    print("clients  clicks  errors  req/s   ack p50  ack p99  next-msg p50  next-msg p99")
    for r in results:
        print(
            f"{r['clients']:>7}  {r['clicks']:>6}  {r['errors']:>6}  {r['requests_per_s']:>5.0f}  "
            f"{r['ack_p50_ms']:>6.1f}ms {r['ack_p99_ms']:>6.1f}ms  {r['next_p50_ms']:>10.1f}ms  "
            f"{r['next_p99_ms']:>10.1f}ms"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main()
