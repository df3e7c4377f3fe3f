"""Benchmark: the web studio's pages against a store of 100,000 conversations.

1. A SQLite database is seeded with ``--conversations`` stored conversations (default 100,000),
   copies of ones the real engine produced: nine in ten a short check (start, one answer,
   outcome), one in ten a colleague-breach check that escalated (its case, recipients and case
   history, a third of them acknowledged). Times are spread over the last 30 days.
2. The studio (``adapters.studio.app.create_app``, local mode) is served on 127.0.0.1 in this
   process; a client signs in as a comms officer and requests each page ``--requests`` times.
3. Reported per page: the first request (cold: scenario tests run once per process for the
   flows list; the insights figures are worked out, then kept for a minute), then p50/p95/max of
   the following ones over HTTP; and the insights figures worked out from scratch each time
   (``adapters.studio.insights.compute``, what a cold page pays), p50/p95.
4. Page weight: each page's HTML plus the CSS and script it loads (no images; the pictures are
   inline SVG, counted in the HTML).

Usage: ``.venv/bin/python bench/bench_studio.py [--conversations 100000] [--requests 200] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

from adapters.studio.app import STUDIO, create_app  # noqa: E402
from adapters.studio.config import StudioConfig  # noqa: E402
from adapters.studio.insights import compute  # noqa: E402
from bot.cases.tables import case_events, case_recipients, cases  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.store.schema import audit, conversations  # noqa: E402
from tests.studio.cases_kit import raise_case  # noqa: E402
from tests.studio.conftest import SETTINGS, Client  # noqa: E402
from tests.studio.servers import ThreadedServer  # noqa: E402

PAGES = ("/flows", "/insights", "/flows/negative-comment", "/cases")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seed(runtime: Any, total: int) -> None:
    """Copy two real conversations (one short, one escalated) ``total`` times in all."""
    from bot.conversation.events import Actor, FreeText, Start
    from bot.conversation.replies import Question

    actor = Actor("console:emma", "Emma", None, "console")
    replies = runtime.engine.handle(actor, Start(flow_id="negative-comment"))
    question = next(r for r in replies if isinstance(r, Question))
    runtime.engine.handle(actor, FreeText("2", question.conversation_id))
    raise_case(runtime, "emma")
    store = runtime.store
    with store.transaction() as conn:
        convs = [dict(r) for r in conn.execute(select(conversations)).mappings()]
        audits = [dict(r) for r in conn.execute(select(audit)).mappings()]
        case_rows = [dict(r) for r in conn.execute(select(cases)).mappings()]
        recips = [dict(r) for r in conn.execute(select(case_recipients)).mappings()]
        events = [dict(r) for r in conn.execute(select(case_events)).mappings()]
    short = next(c for c in convs if c["case_id"] is None)
    long = next(c for c in convs if c["case_id"] is not None)
    now = datetime.now(UTC)
    batch: dict[str, list[dict[str, Any]]] = {"c": [], "a": [], "k": [], "r": [], "e": []}

    def flush() -> None:
        with store.transaction() as conn:
            for key, table in (("c", conversations), ("a", audit), ("k", cases), ("r", case_recipients),
                               ("e", case_events)):  # fmt: skip
                if batch[key]:
                    conn.execute(insert(table), batch[key])
                    batch[key] = []

    for i in range(total - 2):
        template = long if i % 10 == 0 else short
        at = now - timedelta(seconds=(i * 26) % (30 * 86400))
        shift = at - template["created_at"]
        cid = uuid.uuid4().hex
        case_id = uuid.uuid4().hex if template["case_id"] else None
        user = f"slack:T1:U{i % 5000}"
        batch["c"].append({**template, "id": cid, "user_id": user, "case_id": case_id,
                           "created_at": at, "updated_at": template["updated_at"] + shift})  # fmt: skip
        for row in audits:
            if row["conversation_id"] == template["id"]:
                batch["a"].append({**{k: v for k, v in row.items() if k != "id"}, "conversation_id": cid,
                                   "user_id": user, "at": row["at"] + shift})  # fmt: skip
        if case_id:
            for row in case_rows:
                acked = at + timedelta(minutes=5 + i % 240) if i % 30 == 0 else None
                batch["k"].append({**row, "id": case_id, "conversation_id": cid, "employee_user_id": user,
                                   "created_at": at, "updated_at": at, "ack_due_at": at + timedelta(hours=4),
                                   "state": "acknowledged" if acked else "resolved",
                                   "acknowledged_at": acked})  # fmt: skip
            for row in recips:
                batch["r"].append({**{k: v for k, v in row.items() if k != "id"}, "case_id": case_id, "added_at": at})
            for row in events:
                batch["e"].append({**{k: v for k, v in row.items() if k != "id"}, "case_id": case_id,
                                   "at": row["at"] + shift})  # fmt: skip
        if len(batch["c"]) >= 5000:
            flush()
    flush()


def main() -> None:
    if os.environ.get("BENCH_DEBUG"):
        import faulthandler

        faulthandler.dump_traceback_later(25)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    url = f"sqlite:///{folder / 'studio.db'}"
    os.environ.setdefault("XDG_DATA_HOME", str(folder))
    runtime = build_runtime(SETTINGS, url)
    started = time.perf_counter()
    seed(runtime, args.conversations)
    seeded = time.perf_counter() - started
    server = ThreadedServer()
    config = StudioConfig(host="127.0.0.1", port=server.port, local=True, public_url=server.url, secret=b"b" * 32)
    app = create_app(config, runtime)
    server.start(lambda: app)
    t = time.perf_counter()
    app[STUDIO].scenarios_done.wait(900)
    tests_seconds = time.perf_counter() - t
    client = Client(server.url)
    client.sign_in_local("cara")
    results: dict[str, Any] = {
        "conversations": args.conversations,
        "seed_seconds": round(seeded, 1),
        "scenario_tests_seconds": round(tests_seconds, 1),
        "pages": {},
    }
    try:
        css = len(client.get("/static/studio.css").content)
        script = len(client.get("/static/studio.js").content)
        for page in PAGES:
            t = time.perf_counter()
            first = client.get(page)
            cold = time.perf_counter() - t
            assert first.status_code == 200, (page, first.status_code)
            times = []
            for _ in range(args.requests):
                t = time.perf_counter()
                response = client.get(page)
                times.append(time.perf_counter() - t)
                assert response.status_code == 200
            results["pages"][page] = {
                "first_ms": round(cold * 1000, 1),
                "p50_ms": round(statistics.median(times) * 1000, 1),
                "p95_ms": round(percentile(times, 95) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1),
                "weight_kb": round((len(first.content) + css + script) / 1024, 1),
            }
        computes = []
        for _ in range(5):
            t = time.perf_counter()
            compute(runtime.store, runtime.library, runtime.directory, runtime.clock.now(), 30)
            computes.append(time.perf_counter() - t)
        results["insights_compute_ms"] = {
            "p50": round(statistics.median(computes) * 1000),
            "max": round(max(computes) * 1000),
        }
    finally:
        server.stop()
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.conversations} conversations seeded in {seeded:.1f} s; scenario tests ran in {tests_seconds:.1f} s")
    print(f"{'page':28} {'first':>9} {'p50':>8} {'p95':>8} {'max':>8} {'weight':>9}")
    for page, r in results["pages"].items():
        print(f"{page:28} {r['first_ms']:7.1f}ms {r['p50_ms']:6.1f}ms {r['p95_ms']:6.1f}ms {r['max_ms']:6.1f}ms "
              f"{r['weight_kb']:7.1f}KB")  # fmt: skip
    print(f"insights worked out from scratch: p50 {results['insights_compute_ms']['p50']} ms")
    print(f"load average {results['load_average']}")


if __name__ == "__main__":
    main()
