"""Real ``policybot serve slack`` processes (HTTP mode) against the fake Slack Web API, and a
person-like driver that talks to them the way Slack would.

Used by the replica and crash tests and by bench/bench_scale.py. Each replica is a separate
process started from the installed ``policybot`` command, with its own connection pool, Slack
worker threads and outbox worker, sharing one database with the others: exactly how a council
runs two or more replicas behind a load balancer.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_slack_api import BOT_TOKEN, FakeSlackAPI, Message
from slack_requests import SIGNING_SECRET, Response, SlackSender, block_actions, dm_message, slash_command

POLICYBOT = Path(sys.executable).with_name("policybot")
REPO = Path(__file__).resolve().parents[2]
COMMS = "C0COMMS"
LEGAL = "C0LEGAL"
MANAGER = "U0MANAGER"

SETTINGS = f"""\
directory: {{directory}}
escalation:
  comms: {{{{name: the Communications team, slack_channel: "{COMMS}"}}}}
  legal: {{{{name: Legal Services, slack_channel: "{LEGAL}"}}}}
cases:
  delivery_timeout_seconds: 2
  worker_interval_seconds: 0.2
  retry_base_seconds: 1
  retry_max_seconds: 2
  chase_rounds: 1
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def employee(i: int) -> str:
    return f"U0EMP{i:05d}"


@dataclass
class Org:
    """The files every replica reads: settings, staff directory, flows."""

    folder: Path
    settings: Path
    flows: Path

    @classmethod
    def create(cls, folder: Path, flows: Path, people: int) -> Org:
        folder.mkdir(parents=True, exist_ok=True)
        directory = folder / "directory.yaml"
        lines = ["people:", f"  - {{id: manager, name: Morgan Manager, slack_id: {MANAGER}}}"]
        lines += [
            f"  - {{id: emp{i}, name: Employee {i}, slack_id: {employee(i)}, manager: manager}}" for i in range(people)
        ]
        directory.write_text("\n".join(lines) + "\n", encoding="utf-8")
        settings = folder / "policybot.yaml"
        settings.write_text(SETTINGS.format(directory=directory), encoding="utf-8")
        return cls(folder, settings, flows)


def slack_workspace(people: int, *, latency: float = 0.0) -> FakeSlackAPI:
    """The fake Web API with a manager, ``people`` employees and the comms and legal channels."""
    fake = FakeSlackAPI(latency=latency).start()
    fake.add_user(MANAGER, "morgan", "morgan@council.example", "Morgan Manager")
    for i in range(people):
        fake.add_user(employee(i), f"emp{i}", f"emp{i}@council.example", f"Employee {i}")
    fake.add_channel(COMMS)
    fake.add_channel(LEGAL)
    return fake


class Replica:
    """One ``policybot serve slack`` process on its own port; its log goes to a file."""

    def __init__(self, name: str, org: Org, database_url: str, fake: FakeSlackAPI, *, threads: int = 4) -> None:
        self.name = name
        self.org = org
        self.database_url = database_url
        self.fake = fake
        self.threads = threads
        self.port = free_port()
        self.log_path = org.folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def start(self) -> Replica:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.fake.base_url,
            "POLICYBOT_LOG_FORMAT": "json",
            "POLICYBOT_LOG_LEVEL": "INFO",
        }
        env.pop("SLACK_APP_TOKEN", None)
        self.starts += 1
        log = self.log_path.open("ab")
        command = [str(POLICYBOT), "--settings", str(self.org.settings), "--flows", str(self.org.flows)]
        command += ["--database", self.database_url, "serve", "slack", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--threads", str(self.threads)]
        self.process = subprocess.Popen(
            command,
            cwd=self.org.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            status, _ = self.get("/readyz")
            if status == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} was not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str, **labels: str) -> float:
        """One value from this replica's /metrics (0 when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        status, body = self.get("/metrics")
        assert status == 200, f"{self.name} /metrics answered {status}"
        total = 0.0
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total

    def kill(self) -> None:
        """kill -9: no shutdown, no draining, connections dropped mid-flight."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextmanager
def replica_pair(org: Org, database_url: str, fake: FakeSlackAPI) -> Iterator[list[Replica]]:
    """Two replicas started at the same moment (so they also race to migrate a fresh database),
    stopped afterwards."""
    started = [Replica(name, org, database_url, fake).start() for name in ("replica-a", "replica-b")]
    try:
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


def buttons(message: Message) -> list[tuple[str, dict[str, Any]]]:
    """(block id, button element) for every option button on a message, in order."""
    found = []
    for block in message.blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "button" and str(element.get("action_id", "")).startswith("choose"):
                    found.append((block.get("block_id", ""), element))
    return found


def click_payload(user: str, message: Message, block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    action = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "text": element.get("text"),
        "value": element.get("value"),
    }
    clicked = {"ts": message.ts, "text": message.text, "blocks": message.blocks}
    return block_actions(user, action, channel_id=message.channel, message=clicked)


@dataclass
class Person:
    """One employee going through the chain flow, clicking like a person would.

    ``send`` picks the replica for each request (the load balancer). After a click the person
    waits for the bot to move on; if nothing happens (the replica that took the click died
    before answering), they click again, and if that changes nothing either, they type
    something, which makes the bot show the current question again.
    """

    user: str
    fake: FakeSlackAPI
    send: Callable[[int], SlackSender]
    patience: float = 6.0
    requests: int = 0
    retries: int = 0
    nudges: int = 0
    acks: list[float] = field(default_factory=list)
    asked: set[str] = field(default_factory=set)  # texts of the questions already answered
    server_errors: int = 0  # 5xx answers (the tests require none)

    def dm(self) -> list[Message]:
        return [m for m in self.fake.messages_in("D" + self.user) if not m.thread_ts]

    def open_question(self) -> Message | None:
        """The newest message in the DM with option buttons for a question not answered yet."""
        for message in reversed(self.dm()):
            current = self.fake.message(message.channel, message.ts)
            if buttons(current) and current.text not in self.asked:
                return current
        return None

    def newest_with_buttons(self) -> Message | None:
        for message in reversed(self.dm()):
            current = self.fake.message(message.channel, message.ts)
            if buttons(current):
                return current
        return None

    def finished(self) -> bool:
        return any("Act now" in m.text for m in self.dm())

    def post(self, route: int, body: Callable[[SlackSender], Response]) -> Response:
        """Send to the replica ``route`` picks; on a refused connection (a dead replica) try the next."""
        last: Exception | None = None
        for attempt in range(6):
            sender = self.send(route + attempt)
            started = time.perf_counter()
            try:
                response = body(sender)
            except (OSError, http.client.HTTPException) as err:  # refused, reset, or cut off mid-answer
                sender.close()
                last = err
                time.sleep(0.1 * attempt)
                continue
            self.requests += 1
            self.acks.append(time.perf_counter() - started)
            if response.status < 500:
                return response
            self.server_errors += 1
            last = AssertionError(f"HTTP {response.status}: {response.body[:200]}")
        raise AssertionError(f"{self.user}: no replica accepted the request") from last

    def start(self, route: int) -> None:
        response = self.post(route, lambda s: s.form(slash_command(self.user, "chain of questions")))
        assert response.status == 200, response.body
        self.wait_for(lambda: self.open_question() is not None or self.finished(), "the first question")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (timeout or self.patience)
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.02)
        return False

    def answer(self, route: int, *, race: Iterable[tuple[int, int]] = ()) -> None:
        """Answer the open question: click option 0 through ``route``, and at the same instant the
        clicks in ``race`` ((replica, option) pairs) on the same message."""
        question = self.open_question()
        assert question is not None, f"{self.user} has no question to answer"
        self.asked.add(question.text)
        options = buttons(question)
        clicks = [(route, 0), *race]
        barrier = threading.Barrier(len(clicks))
        errors: list[BaseException] = []

        def click(replica: int, option: int) -> None:
            block_id, element = options[option % len(options)]
            payload = click_payload(self.user, question, block_id, element)
            try:
                barrier.wait(10)
                self.post(replica, lambda s: s.interactive(payload))
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=click, args=c) for c in clicks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        if self.wait_for(lambda: self.moved_on(question), "the next question"):
            return
        self.recover(route, question)

    def moved_on(self, question: Message) -> bool:
        """A newer question than ``question`` is on screen, or the outcome.

        After a race the refused click's replica shows the current question again, sometimes
        late, so the DM can hold copies of earlier questions that still have buttons. Progress
        is a newer message asking something not asked before (the flows used here never ask
        the same thing twice).
        """
        if self.finished():
            return True
        for message in reversed(self.dm()):
            if _ts(message.ts) <= _ts(question.ts):
                return False
            if message.text not in self.asked and buttons(self.fake.message(message.channel, message.ts)):
                return True
        return False

    def recover(self, route: int, question: Message) -> None:
        """The click got no answer: click again, then type something to get the question shown."""
        for attempt in range(1, 30):
            if self.finished() or self.moved_on(question):
                return
            latest = self.newest_with_buttons()
            if attempt % 2 == 1 and latest is not None:
                self.retries += 1
                block_id, element = buttons(latest)[0]
                payload = click_payload(self.user, latest, block_id, element)
                self.post(route + attempt, lambda s, payload=payload: s.interactive(payload))  # type: ignore[misc]
            else:
                self.nudges += 1
                self.post(route + attempt, lambda s: s.event(_event(dm_message(self.user, "what was the question?"))))
            if self.wait_for(lambda: self.moved_on(question), "recovery"):
                return
        raise AssertionError(f"{self.user} could not get past {question.text!r}")


def _ts(ts: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ts.split("."))


def _event(event: dict[str, Any]) -> dict[str, Any]:
    from slack_requests import event_callback

    return event_callback(event)


def notifications(fake: FakeSlackAPI) -> dict[str, int]:
    """How many Slack messages each case notification id became."""
    counts: dict[str, int] = {}
    with fake._lock:
        messages = list(fake.messages.values())
    for message in messages:
        metadata = message.metadata or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == "policybot_notification" and payload.get("notification_id"):
            key = str(payload["notification_id"])
            counts[key] = counts.get(key, 0) + 1
    return counts


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)[:3000]
