"""Benchmark: Teams card clicks (adaptiveCard/action invokes) against /api/messages, with the fake Bot Connector.

Three processes, so neither the load generator nor the fake connector shares a GIL with the server:

- the server process runs the real Teams adapter (CloudAdapter behind aiohttp, local mode) and a
  SQLite store in a temporary folder;
- the fake Bot Connector (tests/teams/fake_connector.py) runs in a process of its own; the bot
  posts its cards to it, found through each activity's ``serviceUrl``;
- this process runs N client threads. Each owns a pool of people; for each it starts a
  legal-threat check by typing a message (not timed), then clicks through it: every click is an
  ``adaptiveCard/action`` invoke exactly as Teams sends it, carrying the ``data`` of the button
  on the question card the bot really posted. After three clicks the outcome is reached (which
  opens a case: the required escalation is part of the turn) and the person starts again.

Reported per concurrency level:

- invokes/s: clicks completed per second of wall time. A client clicks a question only once the
  bot has posted it, so this is what the whole system sustains (engine turn, case opening at the
  outcome, the redrawn card in the invoke response, the next card POSTed to the connector);
- invoke p50/p99: HTTP latency of the click (what Teams' 15-second limit measures; the next card
  is already at the connector when the invoke returns);
- errors: non-200 answers or clicks whose next card never arrived.

Usage: ``.venv/bin/python bench/bench_teams.py [--seconds 20] [--clients 1,20] [--pool 8]
[--connector-latency-ms 60]`` (the latency is added to every Bot Connector call, as a real service's
round trip would be).
Write the figures into the Teams section of docs/benchmarks.md.
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
from urllib.parse import quote, urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LEGAL = "someone is threatening to sue me over my tweet"
TENANT = "9f2c1b6e-0000-4000-8000-00000000c0de"
BOT = {"id": "28:bench-bot", "name": "Policybot"}


# ---------------------------------------------------------------------------------------- server


def serve_fake(latency_ms: float) -> None:
    """The fake Bot Connector's own process: prints its URL, serves until stdin closes.

    In its own process so the clients' polling of it does not compete with the bot for the GIL."""
    from tests.teams.fake_connector import FakeConnector

    fake = FakeConnector(latency_seconds=latency_ms / 1000).start()
    print(json.dumps({"fake": fake.service_url}), flush=True)
    sys.stdin.read()
    fake.stop()


def serve(fake_url: str) -> None:
    """The server process: prints the bot's URL, serves until stdin closes."""
    import asyncio
    import logging
    import shutil

    from aiohttp import web

    from adapters.teams.app import build_service, create_app
    from adapters.teams.casedesk import TeamsCaseDesk
    from adapters.teams.config import LOCAL, TeamsConfig
    from adapters.teams.storage import TeamsStorage
    from bot.runtime import build_runtime

    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="bench-teams-"))
    runtime = build_runtime(database_url=f"sqlite:///{folder / 'policybot.db'}", flows_dir=REPO / "tests/teams/flows")
    config = TeamsConfig(mode=LOCAL)
    desk = TeamsCaseDesk(runtime.cases) if runtime.cases is not None else None
    workers = int(os.environ["BENCH_WORKERS"]) if os.environ.get("BENCH_WORKERS") else None
    service = build_service(runtime.engine, TeamsStorage(runtime.store.engine), config, cases=desk, workers=workers)
    app = create_app(service)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(json.dumps({"app": f"http://127.0.0.1:{port}/api/messages", "fake": fake_url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    try:
        asyncio.run(main())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------- client


class Client(threading.Thread):
    def __init__(self, app_url: str, fake_url: str, people: list[str], until: float) -> None:
        super().__init__(daemon=True)
        self.app = urlparse(app_url)
        self.fake = urlparse(fake_url)
        self.fake_url = fake_url
        self.people = people
        self.until = until
        self.latencies: list[float] = []
        self.clicks = 0
        self.errors = 0
        self.started = self.finished = 0.0
        self.counter = 0
        self.seen: dict[str, int] = {}  # person -> cards already handled

    def _activity(self, person: str, kind: str) -> dict[str, Any]:
        self.counter += 1
        return {
            "type": kind,
            "id": f"{person}-{self.counter}",
            "serviceUrl": self.fake_url,
            "channelId": "msteams",
            "from": {"id": f"29:{person}", "name": person, "aadObjectId": person},
            "recipient": BOT,
            "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": f"a:{person}"},
            "channelData": {"tenant": {"id": TENANT}},
        }

    def _post(self, conn: http.client.HTTPConnection, body: dict[str, Any]) -> tuple[int, bytes]:
        conn.request("POST", self.app.path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()

    def _cards(self, fake: http.client.HTTPConnection, person: str) -> list[dict[str, Any]]:
        fake.request("GET", f"/_fake/conversations/{quote(f'a:{person}', safe='')}")
        data = json.loads(fake.getresponse().read())
        return [
            {"id": a["id"], **att["content"]}
            for a in data["activities"]
            for att in a.get("attachments") or []
            if att.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def _next_question(self, fake: http.client.HTTPConnection, person: str) -> dict[str, Any] | None:
        for _ in range(200):
            cards = self._cards(fake, person)
            fresh = cards[self.seen.get(person, 0) :]
            for card in fresh:
                options = [b for b in card.get("body", []) if b.get("type") == "ActionSet"]
                if options:
                    self.seen[person] = len(cards)
                    return {"card": card, "buttons": options[0]["actions"]}
                if any(a.get("title") == "Start again" for a in card.get("actions", [])):  # an outcome
                    self.seen[person] = len(cards)
                    return None
            time.sleep(0.005)
        raise TimeoutError("no card arrived")

    def run(self) -> None:
        app = http.client.HTTPConnection(self.app.hostname or "127.0.0.1", self.app.port, timeout=30)
        fake = http.client.HTTPConnection(self.fake.hostname or "127.0.0.1", self.fake.port, timeout=30)
        pending: dict[str, dict[str, Any] | None] = {p: None for p in self.people}
        self.started = time.perf_counter()
        while time.perf_counter() < self.until:
            for person in self.people:
                if time.perf_counter() >= self.until:
                    break
                try:
                    question = pending[person]
                    if question is None:  # start (again): not timed
                        message = self._activity(person, "message") | {"text": LEGAL}
                        self._post(app, message)
                        question = self._next_question(fake, person)
                        if question is None:
                            continue
                    button = question["buttons"][0]
                    invoke = self._activity(person, "invoke") | {
                        "name": "adaptiveCard/action",
                        "replyToId": question["card"]["id"],
                        "value": {"action": {"type": "Action.Execute", "verb": button["verb"], "data": button["data"]}},
                    }
                    began = time.perf_counter()
                    status, _ = self._post(app, invoke)
                    self.latencies.append(time.perf_counter() - began)
                    self.clicks += 1
                    if status != 200:
                        self.errors += 1
                    pending[person] = self._next_question(fake, person)
                except (OSError, TimeoutError, http.client.HTTPException):
                    self.errors += 1
                    pending[person] = None
                    app.close()
                    fake.close()
        self.finished = time.perf_counter()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def run_level(app_url: str, fake_url: str, clients: int, pool: int, seconds: float, offset: int) -> dict[str, Any]:
    until = time.perf_counter() + seconds
    threads = [Client(app_url, fake_url, [f"p{offset}-{c}-{i}" for i in range(pool)], until) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [x for t in threads for x in t.latencies]
    clicks = sum(t.clicks for t in threads)
    wall = max(t.finished for t in threads) - min(t.started for t in threads)
    return {
        "clients": clients,
        "clicks": clicks,
        "errors": sum(t.errors for t in threads),
        "per_second": clicks / wall if wall else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed clicking per concurrency level")
    parser.add_argument("--clients", default="1,20", help="comma-separated concurrency levels")
    parser.add_argument("--pool", type=int, default=8, help="people per client thread")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--connector-latency-ms", type=float, default=0.0, help="added to every Bot Connector call the bot makes"
    )
    parser.add_argument("--serve", metavar="FAKE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake:
        serve_fake(args.connector_latency_ms)
        return
    if args.serve:
        serve(args.serve)
        return
    fake_command = [sys.executable, __file__, "--fake", "--connector-latency-ms", str(args.connector_latency_ms)]
    fake = subprocess.Popen(fake_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert fake.stdout is not None
    fake_url = json.loads(fake.stdout.readline())["fake"]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", fake_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert server.stdout is not None
        urls = json.loads(server.stdout.readline())
        results = [
            run_level(urls["app"], urls["fake"], int(level), args.pool, args.seconds, n)
            for n, level in enumerate(args.clients.split(","))
        ]
    finally:
        for process in (server, fake):
            if process.stdin:
                process.stdin.close()
            process.wait(30)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  seconds per level: {args.seconds}  "
        f"connector latency: {args.connector_latency_ms:g} ms"
    )
    print("clients  clicks  errors  invokes/s  invoke p50  invoke p99")
    for r in results:
        print(
            f"{r['clients']:>7}  {r['clicks']:>6}  {r['errors']:>6}  {r['per_second']:>9.1f}  "
            f"{r['p50_ms']:>7.1f} ms  {r['p99_ms']:>7.1f} ms"
        )


if __name__ == "__main__":
    main()
