"""Benchmark: a reviewed change, from approval to being served by every replica, and what a turn
costs while it is swapped in.

Two real ``policybot serve slack`` replicas (HTTP mode, each with its outbox worker and its
library poll at the default ``authoring.reload_seconds: 1``) share one PostgreSQL database and
a fake Slack Web API. ``--clients`` people click through a three-question check against both
replicas (round robin) the whole time. Each round, this process submits and approves a change to
the chain flow's advice, in a library that also holds the 14 shipped flows (through
``Publishing``, as ``policybot library approve`` does) and polls both
replicas' ``/readyz`` every 10 ms until each names the new library version.

Reported: approve -> served by every replica (p50, p99, max over ``--rounds``); the turn latency
(click to the next question or outcome on screen, as a person waits for it) overall (median,
p99), within the swap windows (from each approval to one second after the last replica
swapped: median, p99, max) and outside them (p99, max), with the in-swap median and max over
the overall median (the target is no spike above 2x the median).

Usage: ``.venv/bin/python bench/bench_library.py [--rounds 10] [--clients 4] [--json]``.
PostgreSQL: $POLICYBOT_TEST_POSTGRES_URL or postgres@127.0.0.1:5432/test; a schema of its own is
created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "slack"))

from fake_slack_api import FakeSlackAPI  # noqa: E402
from slack_requests import SlackSender, slash_command  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tests.production.kit import chain_flow, write_flows  # noqa: E402
from tests.production.replicas import Org, Person, employee, replica_pair, slack_workspace  # noqa: E402

POSTGRES_URL = os.environ.get("POLICYBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ADVICE = "Take it down and tell your line manager."
LENGTH = 3
PEOPLE = 400
AUTHORING = "\nauthoring:\n  authors: [emp0]\n  reviewers: [manager]\n"
SCENARIOS = """\
flow: chain
scenarios:
  - name: every first option
    answers: [1, 1, 1]
    expect: {state: report, says: [line manager]}
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Talker(Person):
    def finished(self) -> bool:
        return any("line manager" in json.dumps(self.fake.message(m.channel, m.ts).blocks) for m in self.dm()[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    schema = f"pbbench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    fake: FakeSlackAPI = slack_workspace(PEOPLE)
    turn_samples: list[tuple[float, float]] = []  # (when the click was sent, seconds to the next message)
    served: list[float] = []
    windows: list[tuple[float, float]] = []
    failures: list[BaseException] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # the shipped library (14 flows) plus the chain the clients walk: a replica swaps in a
            # change to one flow of a full-size library
            flows = Path(tmp) / "flows"
            shutil.copytree(REPO / "flows", flows, ignore=shutil.ignore_patterns("__*", "*.example.yaml"))
            write_flows(flows, {"chain": chain_flow(length=LENGTH)})
            (flows / "chain.test.yaml").write_text(SCENARIOS, encoding="utf-8")
            org = Org.create(Path(tmp) / "org", flows, PEOPLE)
            org.settings.write_text(org.settings.read_text(encoding="utf-8") + AUTHORING, encoding="utf-8")
            with replica_pair(org, url, fake) as replicas:
                from bot.runtime import build_runtime

                publisher = build_runtime(org.settings, url, flows_dir=org.flows, live_reload=False)
                assert publisher.publishing is not None
                stop = threading.Event()
                counter = iter(range(1, PEOPLE))
                lock = threading.Lock()

                def talk() -> None:
                    local: dict[int, SlackSender] = {}

                    def send(route: int) -> SlackSender:
                        index = route % len(replicas)
                        if index not in local:
                            local[index] = SlackSender(replicas[index].url)
                        return local[index]

                    try:
                        while not stop.is_set():
                            with lock:
                                i = next(counter)
                            someone = Talker(employee(i), fake, send, patience=30.0)
                            someone.post(i, lambda s, u=someone.user: s.form(slash_command(u, "chain of questions")))
                            assert someone.wait_for(lambda p=someone: p.open_question() is not None, "q1", 30)
                            for step in range(LENGTH):
                                began = time.monotonic()
                                someone.answer(i + step)
                                turn_samples.append((began, time.monotonic() - began))
                    except BaseException as err:
                        failures.append(err)

                threads = [threading.Thread(target=talk, daemon=True) for _ in range(args.clients)]
                for thread in threads:
                    thread.start()
                time.sleep(3.0)  # a steady state before the first change
                path = Path(tmp) / "edit" / "chain.yaml"
                path.parent.mkdir()
                for round_no in range(1, args.rounds + 1):
                    wording = f"{ADVICE} Reviewed wording number {round_no}."
                    path.write_text(chain_flow(length=LENGTH).replace(ADVICE, wording), encoding="utf-8")
                    change = publisher.publishing.submit([path], "emp0", f"round {round_no}")
                    started = time.monotonic()
                    number = publisher.publishing.approve(change.id, "manager").published_version
                    approved = time.monotonic()
                    pending = set(range(len(replicas)))
                    while pending and time.monotonic() - approved < 30:
                        for index in list(pending):
                            status, body = replicas[index].get("/readyz")
                            if status == 200 and json.loads(body).get("library_version") == number:
                                pending.discard(index)
                        time.sleep(0.01)
                    if pending:
                        raise SystemExit(f"round {round_no}: replicas {sorted(pending)} never served version {number}")
                    done = time.monotonic()
                    served.append(done - approved)
                    windows.append((started, done + 1.0))
                    time.sleep(1.5)
                stop.set()
                for thread in threads:
                    thread.join(60)
                publisher.close()
    finally:
        fake.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    if failures:
        raise SystemExit(f"{len(failures)} client(s) failed: {failures[0]!r}")
    all_turns = [seconds for _, seconds in turn_samples]
    in_swap = [s for began, s in turn_samples if any(a <= began <= b for a, b in windows)]
    outside = [s for began, s in turn_samples if not any(a <= began <= b for a, b in windows)]
    median = statistics.median(all_turns)
    result = {
        "rounds": args.rounds,
        "clients": args.clients,
        "replicas": 2,
        "approve_to_served_p50_s": round(percentile(served, 50), 3),
        "approve_to_served_p99_s": round(percentile(served, 99), 3),
        "approve_to_served_max_s": round(max(served), 3),
        "turns": len(all_turns),
        "turn_median_s": round(median, 3),
        "turn_p99_s": round(percentile(all_turns, 99), 3),
        "turns_in_swap": len(in_swap),
        "turn_in_swap_median_s": round(statistics.median(in_swap), 3) if in_swap else None,
        "turn_in_swap_max_s": round(max(in_swap), 3) if in_swap else None,
        "turn_in_swap_p99_s": round(percentile(in_swap, 99), 3) if in_swap else None,
        "turn_outside_swap_p99_s": round(percentile(outside, 99), 3) if outside else None,
        "turn_outside_swap_max_s": round(max(outside), 3) if outside else None,
        "swap_median_over_median": round(statistics.median(in_swap) / median, 2) if in_swap else None,
        "swap_max_over_median": round(max(in_swap) / median, 2) if in_swap else None,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
