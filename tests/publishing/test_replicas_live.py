"""Two real ``policybot serve slack`` replicas on one PostgreSQL database: a change published with
``policybot library approve`` (a third process, as an admin would run it) is served by both within
seconds, a conversation started before it finishes on the old version, and no turn fails meanwhile.

The waits are correctness waits with a generous deadline (the 5-second figure is measured by
bench/bench_library.py, not asserted here).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SLACK_TEST_TOOLS = Path(__file__).resolve().parents[1] / "slack"
if str(SLACK_TEST_TOOLS) not in sys.path:
    sys.path.insert(0, str(SLACK_TEST_TOOLS))

from fake_slack_api import FakeSlackAPI  # noqa: E402
from slack_requests import SlackSender, slash_command  # noqa: E402

from tests.production.kit import chain_flow, write_flows  # noqa: E402
from tests.production.replicas import POLICYBOT, Org, Person, Replica, employee, replica_pair, slack_workspace  # noqa: E402

PEOPLE = 80  # each conversation below is a different employee, so each reads only its own DM
OLD_ADVICE = "Take it down and tell your line manager."
NEW_ADVICE = "Reviewed advice, take it down at once and tell your line manager."
LENGTH = 3
SCENARIOS = f"""\
flow: chain
scenarios:
  - name: every yes
    answers: [{", ".join(["1"] * LENGTH)}]
    expect: {{state: report, says: [line manager]}}
"""
AUTHORING = """
authoring:
  authors: [emp0]
  reviewers: [manager]
  reload_seconds: 0.5
"""


class ChainPerson(Person):
    """Starts the chain flow and answers option 0 until the outcome; reads which advice it got."""

    def advice(self) -> str | None:
        for message in self.dm():
            shown = json.dumps(self.fake.message(message.channel, message.ts).blocks) + message.text
            if NEW_ADVICE in shown:
                return "new"
            if OLD_ADVICE in shown:
                return "old"
        return None

    def finished(self) -> bool:
        return self.advice() is not None

    def start(self, route: int) -> None:
        response = self.post(route, lambda s: s.form(slash_command(self.user, "chain of questions")))
        assert response.status == 200, response.body
        assert self.wait_for(lambda: self.open_question() is not None, "the first question", 30), self.user


@pytest.fixture
def workspace() -> Iterator[FakeSlackAPI]:
    fake = slack_workspace(PEOPLE)
    yield fake
    fake.stop()


@pytest.fixture
def org(tmp_path: Path) -> Org:
    flows = write_flows(tmp_path / "flows", {"chain": chain_flow(length=LENGTH)})
    (flows / "chain.test.yaml").write_text(SCENARIOS, encoding="utf-8")
    made = Org.create(tmp_path / "org", flows, PEOPLE)
    made.settings.write_text(made.settings.read_text(encoding="utf-8") + AUTHORING, encoding="utf-8")
    return made


def person(i: int, workspace: FakeSlackAPI, replicas: list[Replica]) -> ChainPerson:
    local = threading.local()

    def send(route: int) -> SlackSender:
        senders: dict[int, SlackSender] = local.__dict__.setdefault("senders", {})
        index = route % len(replicas)
        if index not in senders or senders[index].port != replicas[index].port:
            senders[index] = SlackSender(replicas[index].url)
        return senders[index]

    return ChainPerson(employee(i), workspace, send, patience=20.0)


def library(org: Org, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(POLICYBOT), "--settings", str(org.settings), "--flows", str(org.flows), "--database", database_url]
    return subprocess.run([*command, "library", *args], capture_output=True, text=True, timeout=180, check=False)


def served_version(replica: Replica) -> int | None:
    status, body = replica.get("/readyz")
    return json.loads(body).get("library_version") if status == 200 else None


def test_a_published_change_reaches_both_replicas_and_nothing_fails_meanwhile(
    org: Org, postgres_url: str, workspace: FakeSlackAPI
) -> None:
    with replica_pair(org, postgres_url, workspace) as replicas:
        assert [served_version(r) for r in replicas] == [1, 1]
        # Kim (employee 1) starts on replica A before the change and answers all but the last question
        early = person(1, workspace, replicas)
        early.start(0)
        for step in range(LENGTH - 1):
            early.answer(step % 2)

        # others keep talking to both replicas the whole time the change is published
        stop = threading.Event()
        failures: list[BaseException] = []
        finished: list[tuple[str, str | None]] = []

        def keep_talking(first: int) -> None:
            try:
                for i in range(first, PEOPLE, 2):
                    if stop.is_set():
                        return
                    someone = person(i, workspace, replicas)
                    someone.start(i)
                    for step in range(LENGTH):
                        someone.answer(i + step)
                    assert someone.wait_for(someone.finished, "the outcome", 30)
                    assert someone.server_errors == 0
                    finished.append((someone.user, someone.advice()))
            except BaseException as err:
                failures.append(err)

        talkers = [threading.Thread(target=keep_talking, args=(first,)) for first in (10, 11)]
        for thread in talkers:
            thread.start()
        try:
            edited = org.folder / "edits" / "chain.yaml"
            edited.parent.mkdir()
            edited.write_text((org.flows / "chain.yaml").read_text().replace(OLD_ADVICE, NEW_ADVICE), encoding="utf-8")
            submitted = library(org, postgres_url, "submit", str(edited), "--as", "emp0", "--note", "stronger")
            assert submitted.returncode == 0, submitted.stderr + submitted.stdout
            change = submitted.stdout.split()[0]
            approved = library(org, postgres_url, "approve", change, "--as", "manager")
            assert approved.returncode == 0 and "version 2" in approved.stdout, approved.stderr
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and [served_version(r) for r in replicas] != [2, 2]:
                time.sleep(0.1)
            assert [served_version(r) for r in replicas] == [2, 2]
        finally:
            time.sleep(1.0)  # a few more turns on the new version
            stop.set()
            for thread in talkers:
                thread.join(120)
        assert failures == []
        assert finished, "no conversation finished during the swap"
        assert {advice for _, advice in finished} <= {"old", "new"}

        # Kim finishes through replica B, on the version the conversation started on
        early.answer(1)
        assert early.wait_for(early.finished, "Kim's outcome", 30)
        assert early.advice() == "old"
        # someone starting now gets the reviewed advice from either replica
        for route, i in ((0, 4), (1, 5)):  # employees 4 and 5 have not talked yet
            late = person(i, workspace, replicas)
            late.start(route)
            for _ in range(LENGTH):
                late.answer(route)
            assert late.wait_for(late.finished, "the outcome", 30)
            assert late.advice() == "new", f"replica {route} still served the old advice"
        assert early.server_errors == 0
        for replica in replicas:
            assert replica.metric("policybot_library_version") == 2.0
