"""Fault injection: two Slack replicas on PostgreSQL, killed, cut off and throttled while 20 people
use them. Not a timed test: it reproduces issue 12's fault run and reports what was lost.

What runs: two real ``policybot serve slack`` processes (HTTP mode, each with its outbox worker
and inbound replayer) on one fresh PostgreSQL schema, the fake Slack Web API (this process, with
``--latency-ms`` added to every call), and ``--people`` simulated employees behind a pretend load
balancer (a request goes to a random replica; a refused or cut connection is tried on the other).
Each employee types ``/policy chain of questions``, clicks through five questions to an outcome
that escalates a case to their line manager, and starts again, until ``--seconds`` have passed.
Like a person, after a click that shows nothing for ``--patience`` seconds they click the same
button again, and after a re-click that shows nothing either they type a word to the bot.

Faults, all during the ``--seconds`` (defaults: 60 s, at least 10 kills):

- ``kill -9`` of a random replica that has served for ``--min-uptime`` seconds (3), aiming at
  ``--kills`` kills or more, each restarted at once: the other may still be restarting, so both
  are sometimes down together (a request neither takes is not acknowledged, so it is retried by
  the person's client and not counted). On a machine where restarts are slow there are fewer
  kills: the count is reported;
- ``pg_terminate_backend`` of every database connection of the replicas, every few seconds
  (the replicas' URLs carry an application_name, so nothing else on the server is touched);
- Slack answering 429 with Retry-After, or 500, to bursts of chat.postMessage (and now and then
  chat.update and conversations.history).

Then the faults stop, both replicas serve, and the run waits for the inbound journal and the
outbox to drain. Reported (targets in brackets):

- acknowledged requests lost [0]: HTTP 200 from a replica, and by the end neither handled from
  the inbound journal nor (for a request the journal could not take) applied by the engine;
- re-clicks left silent [0]: a repeated click after which nothing at all appeared in the
  person's DM within ``--give-up-after`` seconds (the person sends nothing else meanwhile);
  likewise acknowledged /policy without a DM, and typed words. Those answered, but only after
  ``--silent-after`` seconds, are counted apart as late;
- cases opened against notifications delivered, and duplicates [0 on Slack]: case
  notifications posted to Slack more than once (each post carries its id in its metadata);
- conversations in an impossible state [0]: two active for one person, a finished one short of
  its answers or without its case, an answer count that disagrees with the audit trail, two cases
  for one conversation;
- HTTP 5xx answers from the replicas [0], plus the faults injected and what the people did.

Usage: ``.venv/bin/python bench/bench_faults.py [--seconds 60] [--people 20] [--kills 10]
[--latency-ms 0] [--seed N] [--json]``. PostgreSQL: $POLICYBOT_TEST_POSTGRES_URL or
postgres@127.0.0.1:5432/test; a schema of its own is created and dropped.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "slack"))

from fake_slack_api import FakeSlackAPI, Message  # noqa: E402
from slack_requests import Response, SlackSender, dm_message, event_callback, slash_command  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from adapters.slack import actions as A  # noqa: E402
from adapters.slack.app import SlackBot, delivery_id  # noqa: E402
from bot.cases.tables import cases, outbox  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.schema import audit, conversations, deliveries, inbound_events  # noqa: E402
from tests.production.kit import CHAIN_LENGTH, write_flows  # noqa: E402
from tests.production.replicas import (  # noqa: E402
    Org,
    Replica,
    buttons,
    click_payload,
    employee,
    notifications,
    slack_workspace,
)

POSTGRES_URL = os.environ.get("POLICYBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Sent:
    """One request a replica acknowledged."""

    person: str
    kind: str  # policy, click, reclick, text
    journal_key: str
    engine_key: str
    at: float


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: list[Sent] = field(default_factory=list)
    server_errors: int = 0
    cut_connections: int = 0
    reclicks: int = 0
    # (what, person, when sent, answered later) for requests that showed nothing within --silent-after
    unanswered: list[tuple[str, str, float, bool]] = field(default_factory=list)
    nudges: int = 0
    stuck: int = 0
    finished: int = 0
    kills: int = 0
    exited_by_themselves: int = 0
    terminations: int = 0
    backends_terminated: int = 0
    slack_faults: Counter[str] = field(default_factory=Counter)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class DmWatcher:
    """When the bot last posted or edited a message in each person's DM (from the fake's calls)."""

    def __init__(self, fake: FakeSlackAPI) -> None:
        self.fake = fake
        self.last: dict[str, float] = {}
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> DmWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            with self.fake._lock:
                new = self.fake.calls[self._seen :]
                self._seen = len(self.fake.calls)
            for call in new:
                if call.ok and call.method in ("chat.postMessage", "chat.update"):
                    channel = str(call.params.get("channel") or "")
                    user = channel[1:] if channel.startswith("D") else channel
                    self.last[user] = max(self.last.get(user, 0.0), call.at)

    def since(self, user: str, at: float) -> bool:
        return self.last.get(user, 0.0) >= at


class Balancer:
    """A pretend load balancer: a random live replica; a refused or cut connection goes to the other."""

    def __init__(self, replicas: list[Replica], tally: Tally, rng: random.Random) -> None:
        self.replicas = replicas
        self.tally = tally
        self.rng = rng
        self._local = threading.local()

    def _sender(self, replica: Replica) -> SlackSender:
        senders: dict[int, SlackSender] = self._local.__dict__.setdefault("senders", {})
        if replica.port not in senders:
            senders[replica.port] = SlackSender(replica.url)
        return senders[replica.port]

    def send(self, body: Any) -> Response | None:
        """Send until a replica answers below 500 (at most ~20 s); None if none would."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            order = list(self.replicas)
            self.rng.shuffle(order)
            for replica in order:
                sender = self._sender(replica)
                try:
                    response: Response = body(sender)
                except (OSError, http.client.HTTPException):
                    sender.close()
                    self.tally.add(cut_connections=1)
                    continue
                if response.status >= 500:
                    self.tally.add(server_errors=1)
                    continue
                return response
            time.sleep(0.2)
        return None


class Employee:
    """One simulated person clicking through the chain flow again and again."""

    def __init__(self, index: int, run: Run) -> None:
        self.user = employee(index)
        self.run = run
        self.rng = random.Random(run.seed * 1000 + index)
        self.answered: set[tuple[str, str]] = set()  # (ts, text) of questions clicked

    # -- what the person sees
    def dm(self) -> list[Message]:
        return [m for m in self.run.fake.messages_in("D" + self.user) if not m.thread_ts]

    def open_question(self, after: str = "0") -> Message | None:
        for message in reversed(self.dm()):
            if float(message.ts) <= float(after):
                break
            current = self.run.fake.message(message.channel, message.ts)
            if buttons(current) and (current.ts, current.text) not in self.answered:
                return copy.copy(current)  # as the person saw it: a late reply may edit it meanwhile
        return None

    def moved_on(self, question: Message) -> bool:
        """A later question of the same conversation is on screen, or its outcome."""
        asked = shown_choice(question)
        if asked is None:
            return True
        for message in reversed(self.dm()):
            if float(message.ts) <= float(question.ts):
                return False
            current = self.run.fake.message(message.channel, message.ts)
            if outcome_of(current) == asked.conversation_id:
                return True
            later = shown_choice(current)
            if later is not None and later.conversation_id == asked.conversation_id and later.turn > asked.turn:
                return True
        return False

    def finished(self, question: Message | None) -> bool:
        asked = shown_choice(question) if question is not None else None
        if asked is None:
            return False
        return any(outcome_of(m) == asked.conversation_id for m in self.dm())

    def wait(self, condition: Any, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return bool(condition())

    # -- what the person does
    def _send(self, kind: str, body: Any, journal_key: str, engine_key: str) -> float | None:
        started = time.monotonic()
        response = self.run.balancer.send(body)
        if response is None or response.status != 200:
            return None
        with self.run.tally.lock:
            self.run.tally.acked.append(Sent(self.user, kind, journal_key, engine_key, started))
        return started

    def policy(self) -> float | None:
        payload = slash_command(self.user, "chain of questions")
        trigger = payload["trigger_id"]
        return self._send(
            "policy",
            lambda s: s.form(payload),
            f"slack:trigger_id:{trigger}",
            "slack:" + delivery_id("cmd", trigger),
        )

    def click(self, question: Message, button: tuple[str, dict[str, Any]], kind: str) -> float | None:
        block_id, element = button
        payload = click_payload(self.user, question, block_id, element)
        action = payload["actions"][0]
        return self._send(
            kind,
            lambda s: s.interactive(payload),
            f"slack:trigger_id:{payload['trigger_id']}",
            "slack:" + SlackBot.click_delivery(payload, action),
        )

    def nudge(self) -> float | None:
        envelope = event_callback(dm_message(self.user, "what was the question?"))
        event_id = envelope["event_id"]
        self.run.tally.add(nudges=1)
        return self._send(
            "text", lambda s: s.event(envelope), f"slack:event_id:{event_id}", "slack:" + delivery_id("event", event_id)
        )

    def answered_at_all(self, what: str, at: float) -> bool:
        """Wait for anything from the bot after ``at``: up to --silent-after seconds as a person
        would, then on, sending nothing else, up to --give-up-after, so that what arrives late is
        told apart from what never arrives (counted as silent)."""
        run = self.run
        if self.wait(lambda: run.watcher.since(self.user, at), run.silent_after):
            return True
        answered = self.wait(lambda: run.watcher.since(self.user, at), run.give_up_after - run.silent_after)
        with run.tally.lock:
            run.tally.unanswered.append((what, self.user, at, answered))
        return answered

    def check_once(self) -> None:
        run = self.run
        newest = self.dm()[-1].ts if self.dm() else "0"
        at = self.policy()
        if at is None:
            return
        if not self.answered_at_all("policy", at):
            return
        if not self.wait(lambda: self.open_question(newest) is not None, run.silent_after):
            return
        last: Message | None = None
        for _ in range(CHAIN_LENGTH + 2):
            question = self.open_question(newest)
            if question is None:
                break
            last = question
            options = buttons(question)  # as the person saw it (a late reply may update it meanwhile)
            if not options:
                continue
            button = options[self.rng.randrange(len(options))]
            self.answered.add((question.ts, question.text))
            if self.click(question, button, "click") is None:
                return
            if self.wait(lambda q=question: self.moved_on(q), run.patience):
                continue
            # Nothing happened. If the buttons are still there, click the same one again, as people
            # do; if the question shows as answered but nothing followed, say something instead.
            if buttons(run.fake.message(question.channel, question.ts)):
                run.tally.add(reclicks=1)
                again = self.click(question, button, "reclick")
                if again is not None:
                    self.answered_at_all("reclick", again)
            else:
                again = self.nudge()
                if again is not None:
                    self.answered_at_all("text", again)
            if self.wait(lambda q=question: self.moved_on(q), run.patience):
                continue
            self.nudge()
            if not self.wait(lambda q=question: self.moved_on(q), run.silent_after):
                run.tally.add(stuck=1)
                return
        if self.finished(last):
            run.tally.add(finished=1)

    def live(self) -> None:
        while time.monotonic() < self.run.chaos_ends:
            try:
                self.check_once()
            except Exception as err:  # a bench bug must not hide the others' results
                print(f"{self.user}: {type(err).__name__}: {err}", file=sys.stderr)
                time.sleep(1)


def shown_choice(message: Message) -> A.ChoiceValue | None:
    """The conversation and turn a question message's buttons answer (None: no buttons now)."""
    options = buttons(message)
    return A.ChoiceValue.decode(options[0][1].get("value")) if options else None


def outcome_of(message: Message) -> str | None:
    """The conversation whose outcome this message shows (its "Go through it again" button)."""
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == A.AGAIN:
                return str(element.get("value"))
    return None


@dataclass
class Run:
    seed: int
    fake: FakeSlackAPI
    replicas: list[Replica]
    balancer: Balancer
    watcher: DmWatcher
    tally: Tally
    chaos_ends: float
    patience: float
    silent_after: float
    give_up_after: float
    min_uptime: float = 3.0
    restart_lock: threading.Lock = field(default_factory=threading.Lock)
    ready_since: dict[str, float] = field(default_factory=dict)  # replica name: when it was last ready


# -- the faults ---------------------------------------------------------------------------------------


def killer(run: Run, kills: int, rng: random.Random) -> None:
    """kill -9 a random serving replica, aiming at ``kills`` kills, restarting it at once. The pause
    before each kill is random, and shrinks when slow restarts have eaten into the time left; the
    other replica may be restarting itself, so now and then both are down for a moment."""
    while True:
        left = max(1, kills - run.tally.kills)
        gap = max(0.5, (run.chaos_ends - time.monotonic()) / (left + 0.5))
        time.sleep(rng.uniform(0.5 * gap, gap))
        serving: list[Replica] = []
        while not serving and time.monotonic() < run.chaos_ends:
            settled = time.monotonic() - run.min_uptime
            serving = [
                r
                for r in run.replicas
                if r.alive and run.ready_since.get(r.name, 0.0) <= settled and r.get("/readyz")[0] == 200
            ]
            time.sleep(0 if serving else 0.1)
        if time.monotonic() >= run.chaos_ends:
            return
        victim = rng.choice(serving)
        with run.restart_lock:
            victim.kill()
            run.tally.add(kills=1)
            run.ready_since[victim.name] = float("inf")
            victim.start()
        threading.Thread(target=_ready, args=(run, victim), daemon=True).start()


def supervisor(run: Run) -> None:
    """What an orchestrator does: a replica that exited by itself (not killed here) is restarted,
    and counted, since none should."""
    while time.monotonic() < run.chaos_ends:
        time.sleep(0.5)
        for replica in run.replicas:
            with run.restart_lock:
                if replica.process is not None and replica.process.poll() is not None:
                    run.tally.add(exited_by_themselves=1)
                    print(f"{replica.name} exited by itself:\n{replica.log_tail(5)}", file=sys.stderr)
                    run.ready_since[replica.name] = float("inf")
                    replica.start()
                    threading.Thread(target=_ready, args=(run, replica), daemon=True).start()


def _ready(run: Run, replica: Replica) -> None:
    try:
        replica.wait_ready(120)
        run.ready_since[replica.name] = time.monotonic()
    except AssertionError as err:
        if replica.process is not None and replica.process.returncode == -9:
            return  # killed again while starting (the killer only spares a replica's partner)
        print(f"{replica.name} did not come back: {err}", file=sys.stderr)


def terminator(run: Run, application_name: str, rng: random.Random) -> None:
    """Drop every database connection of the replicas now and then (a failover, a DBA)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        while time.monotonic() < run.chaos_ends:
            time.sleep(rng.uniform(3.0, 7.0))
            with admin.connect() as conn:
                dropped = conn.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": application_name},
                ).scalar_one()
            run.tally.add(terminations=1, backends_terminated=int(dropped or 0))
    finally:
        admin.dispose()


def slack_faults(run: Run, rng: random.Random) -> None:
    """Bursts of 429 (with Retry-After) and 500 from Slack."""
    while time.monotonic() < run.chaos_ends:
        time.sleep(rng.uniform(3.0, 7.0))
        method = rng.choices(["chat.postMessage", "chat.update", "conversations.history"], [6, 2, 1])[0]
        times = rng.randint(2, 6)
        if rng.random() < 0.5:
            run.fake.fail_next(method, times, status=429, retry_after=rng.randint(1, 3))
            run.tally.slack_faults[f"{method} 429"] += times
        else:
            run.fake.fail_next(method, times, status=500)
            run.tally.slack_faults[f"{method} 500"] += times


# -- the verdict --------------------------------------------------------------------------------------


def wait_drained(store: Store, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        with store.transaction() as conn:
            left = {
                "inbound": conn.execute(select(func.count()).where(inbound_events.c.status == "pending")).scalar_one(),
                "outbox": conn.execute(select(func.count()).where(outbox.c.status == "pending")).scalar_one(),
            }
        if not any(left.values()) or time.monotonic() > deadline:
            return {k: int(v) for k, v in left.items()}
        time.sleep(0.5)


def impossible_states(store: Store) -> list[str]:
    found: list[str] = []
    with store.transaction() as conn:
        rows = conn.execute(select(conversations)).mappings().all()
        answered: dict[str, int] = dict(
            conn.execute(
                select(audit.c.conversation_id, func.count())
                .where(audit.c.action == "answer")
                .group_by(audit.c.conversation_id)
            ).all()
        )
        case_rows = conn.execute(select(cases.c.id, cases.c.conversation_id)).all()
        conversation_ids = {r["id"] for r in rows}
        active = Counter(r["user_id"] for r in rows if r["status"] == "active")
        found += [f"{user}: {n} active conversations" for user, n in active.items() if n > 1]
        per_conversation = Counter(c.conversation_id for c in case_rows)
        found += [f"conversation {cid}: {n} cases" for cid, n in per_conversation.items() if n > 1]
        found += [f"case {c.id}: no conversation" for c in case_rows if c.conversation_id not in conversation_ids]
        for row in rows:
            conv = store.load_conversation(conn, row["id"])
            assert conv is not None
            expected = len(conv.answers) + 1 + (conv.status == "abandoned")
            if conv.version != expected:
                found.append(f"{conv.id}: version {conv.version}, expected {expected}")
            if answered.get(conv.id, 0) != len(conv.answers):
                found.append(f"{conv.id}: {len(conv.answers)} answers, {answered.get(conv.id, 0)} in the audit")
            if conv.status == "done" and (len(conv.answers) != CHAIN_LENGTH or conv.state != "report"):
                found.append(f"{conv.id}: done at {conv.state} after {len(conv.answers)} answers")
            if conv.status == "done" and conv.case_id is None:
                found.append(f"{conv.id}: done without its required case")
    return found


def on_screen(fake: FakeSlackAPI, store: Store) -> dict[str, list[str]]:
    """Nobody left in silence, seen from Slack: every finished conversation's outcome is in its
    owner's DM, and every conversation still going has its current question there, answerable."""
    outcomes: set[str] = set()
    questions: set[tuple[str, int]] = set()
    with fake._lock:
        messages = list(fake.messages.values())
    for message in messages:
        outcome, choice = outcome_of(message), shown_choice(message)
        if outcome is not None:
            outcomes.add(outcome)
        if choice is not None:
            questions.add((choice.conversation_id, choice.turn))
    missing: dict[str, list[str]] = {"outcome_not_shown": [], "question_not_shown": []}
    with store.transaction() as conn:
        for row in conn.execute(select(conversations.c.id, conversations.c.status, conversations.c.version)).all():
            if row.status == "done" and row.id not in outcomes:
                missing["outcome_not_shown"].append(row.id)
            if row.status == "active" and (row.id, row.version) not in questions:
                missing["question_not_shown"].append(row.id)
    return missing


def account(store: Store, tally: Tally) -> dict[str, Any]:
    with store.transaction() as conn:
        journal = dict(conn.execute(select(inbound_events.c.key, inbound_events.c.status)).all())
        applied = set(conn.execute(select(deliveries.c.key)).scalars())
    fates: Counter[str] = Counter()
    lost: list[str] = []
    for sent in tally.acked:
        status = journal.get(sent.journal_key)
        if status == "done":
            fates["handled from the journal"] += 1
        elif status == "failed":
            fates["given up after its last attempt, with an apology"] += 1
        elif status == "pending":
            fates["still pending"] += 1
            lost.append(f"{sent.kind} by {sent.person}: still pending")
        elif sent.engine_key in applied or sent.kind == "text":
            fates["handled from memory (the journal could not be written)"] += 1
        else:
            fates["lost"] += 1
            lost.append(f"{sent.kind} by {sent.person}: never handled")
    return {"fates": dict(fates), "lost": lost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the faults go on")
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--kills", type=int, default=10, help="kill -9s at least, spread over --seconds")
    parser.add_argument("--patience", type=float, default=8.0, help="seconds a person waits before clicking again")
    parser.add_argument("--silent-after", type=float, default=45.0, help="unanswered this long: late (or silent)")
    parser.add_argument("--give-up-after", type=float, default=150.0, help="unanswered this long: silent")
    parser.add_argument("--min-uptime", type=float, default=3.0, help="a replica serves this long before a kill")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every fake Slack Web API call")
    parser.add_argument("--threads", type=int, default=4, help="Slack worker threads per replica")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)

    schema = f"faults_{uuid.uuid4().hex[:10]}"
    application_name = f"policybot-{schema}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    replica_url = f"{url}&application_name={application_name}"
    folder = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    fake = slack_workspace(args.people, latency=args.latency_ms / 1000)
    Store(url).close()  # migrate once, before the replicas race to
    org = Org.create(folder / "org", write_flows(folder / "flows"), args.people)
    replicas = [Replica(name, org, replica_url, fake, threads=args.threads) for name in ("replica-a", "replica-b")]
    tally = Tally()
    watcher = DmWatcher(fake).start()
    store = Store(url)
    started = time.monotonic()
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_ready(120)
        run = Run(
            seed,
            fake,
            replicas,
            Balancer(replicas, tally, random.Random(seed + 1)),
            watcher,
            tally,
            time.monotonic() + args.seconds,
            args.patience,
            args.silent_after,
            args.give_up_after,
            args.min_uptime,
        )
        people = [threading.Thread(target=Employee(i, run).live, daemon=True) for i in range(args.people)]
        chaos = [
            threading.Thread(target=killer, args=(run, args.kills, random.Random(seed + 2))),
            threading.Thread(target=terminator, args=(run, application_name, random.Random(seed + 3))),
            threading.Thread(target=slack_faults, args=(run, random.Random(seed + 4))),
            threading.Thread(target=supervisor, args=(run,)),
        ]
        for thread in people + chaos:
            thread.start()
        for thread in chaos:
            thread.join()
        chaos_done = time.monotonic()
        for replica in replicas:
            if not replica.alive:
                replica.start()
            replica.wait_ready(120)
        for thread in people:
            thread.join(args.give_up_after * 2 + 30)
        left = wait_drained(store, 180)
        drained = time.monotonic()
        fates = account(store, tally)
        wrong = impossible_states(store)
        unseen = on_screen(fake, store)
        with store.transaction() as conn:
            opened = int(conn.execute(select(func.count()).select_from(cases)).scalar_one())
            done = int(conn.execute(select(func.count()).where(conversations.c.status == "done")).scalar_one())
            rows = Counter(conn.execute(select(outbox.c.status)).scalars())
        posted = notifications(fake)
        # Silent: nothing at all in the person's DM after it, within --give-up-after; late: something,
        # but only after --silent-after seconds (both replicas were down, or Slack kept failing).
        silent: Counter[str] = Counter({"policy": 0, "reclick": 0, "text": 0})
        late: Counter[str] = Counter()
        for what, _person, _at, answered in tally.unanswered:
            (late if answered else silent)[what] += 1
        logs = "".join(r.log_path.read_text(errors="replace") for r in replicas)
        report = {
            "seed": seed,
            "seconds_of_faults": args.seconds,
            "drain_seconds": round(drained - chaos_done, 1),
            "people": args.people,
            "latency_ms": args.latency_ms,
            "patience_seconds": args.patience,
            "min_uptime_seconds": args.min_uptime,
            "silent_after_seconds": args.silent_after,
            "give_up_after_seconds": args.give_up_after,
            "faults": {
                "kill_9": tally.kills,
                "replicas_exited_by_themselves": tally.exited_by_themselves,
                "pg_terminate_backend_rounds": tally.terminations,
                "backends_terminated": tally.backends_terminated,
                "slack": dict(tally.slack_faults),
            },
            "requests_acknowledged": len(tally.acked),
            "by_kind": dict(Counter(s.kind for s in tally.acked)),
            "acknowledged_lost": len(fates["lost"]),
            "lost_detail": fates["lost"][:20],
            "acknowledged_fates": fates["fates"],
            "reclicks": tally.reclicks,
            "reclicks_silent": silent["reclick"],
            "policy_without_dm": silent["policy"],
            "typed_nudges_silent": silent["text"],
            "answered_only_after_silent_after": late,
            "typed_nudges": tally.nudges,
            "stuck_conversations": tally.stuck,
            "checks_finished": tally.finished,
            "conversations_done": done,
            "cases_opened": opened,
            "outbox_rows": dict(rows),
            "notifications_posted": len(posted),
            "notification_duplicates": sum(n - 1 for n in posted.values() if n > 1),
            "left_pending": left,
            "outcomes_never_shown": len(unseen["outcome_not_shown"]),
            "current_questions_not_shown": len(unseen["question_not_shown"]),
            "impossible_states": len(wrong),
            "impossible_detail": wrong[:20],
            "http_5xx": tally.server_errors,
            "connections_cut": tally.cut_connections,
            "turns_retried_lines": logs.count("database trouble during"),
            "tracebacks_logged": logs.count("Traceback"),
            "wall_seconds": round(time.monotonic() - started, 1),
        }
    finally:
        watcher.stop()
        for replica in replicas:
            replica.stop()
        store.close()
        fake.stop()
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for key, value in report.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
