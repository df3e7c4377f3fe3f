"""The post-ack machinery: per-person order on many threads, database turns through a small gate."""

from __future__ import annotations

import threading
import time

from adapters.slack.worker import Gated, TurnGate, Worker


def test_the_gate_lets_no_more_turns_in_at_once_than_it_has() -> None:
    gate = TurnGate(2)
    inside, most = 0, 0
    lock = threading.Lock()

    def turn() -> None:
        nonlocal inside, most
        with gate:
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.01)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=turn) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most == 2 and inside == 0


def test_gated_calls_hold_a_turn_and_attributes_pass_through() -> None:
    gate = TurnGate(1)

    class Service:
        name = "cases"

        def free_turns(self) -> int:
            return gate._free  # inside the call: the gate's one turn is taken

    gated = Gated(Service(), gate)
    assert gated.free_turns() == 0 and gate._free == 1
    assert gated.name == "cases"


def test_one_persons_jobs_run_in_order_while_others_run_beside_them() -> None:
    worker = Worker(8)
    seen: dict[str, list[int]] = {"a": [], "b": []}
    for n in range(20):
        for person in ("a", "b"):
            worker.submit(person, lambda p=person, n=n: seen[p].append(n))
    assert worker.drain(10)
    assert seen == {"a": list(range(20)), "b": list(range(20))}
    worker.shutdown(5)
