"""The slow half of every listener, run after ``ack()``: in the background, in order per person.

Slack wants an answer within three seconds and retries (sending the same thing again) when it
does not get one, so every listener acknowledges first and hands the real work here. Jobs for
the same person run one after another in the order they arrived: a double click, or a typed
answer followed by a click, is then seen by the engine in order instead of racing. Different
people run in parallel.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.telemetry.logging_setup import carry

log = logging.getLogger(__name__)

Job = Callable[[], object]


class Worker:
    def __init__(self, threads: int = 8, *, name: str = "slack-worker") -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queues: dict[str, deque[Job]] = {}
        self._pending = 0
        self._closed = False

    def submit(self, key: str, job: Job) -> None:
        """Run ``job`` after every earlier job with the same ``key``.

        The job runs with the submitter's context, so its log lines keep the request's
        correlation id (bot.telemetry.logging_setup) on the worker thread.
        """
        job = carry(job)
        with self._lock:
            if self._closed:
                raise RuntimeError("the Slack worker is shutting down")
            self._pending += 1
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(job)
                return
            self._queues[key] = deque([job])
        self._pool.submit(self._run, key)

    def _run(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                job = queue.popleft()
            try:
                job()
            except Exception:  # one failing job must not stop the person's next one
                log.exception("a background Slack job failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.notify_all()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job has finished; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, timeout: float | None = 30.0) -> bool:
        """Refuse new jobs, finish the queued ones (so no click is dropped on a deploy), stop."""
        with self._lock:
            self._closed = True
        done = self.drain(timeout)
        self._pool.shutdown(wait=done, cancel_futures=not done)
        return done


class TurnGate:
    """How many database turns run at once, however many I/O threads are waiting on Slack.

    A ``with gate:`` block holds one turn (the journal's write before an ack is one too). SQLite
    takes one writer at a time (the store begins every transaction IMMEDIATE), so more turns at
    once would only queue in its busy handler, which sleeps in growing steps and lengthens the
    tail. Here they queue first come, first served: a semaphore wakes waiters in any order, and
    under load that order is what the slowest answers are made of (docs/benchmarks.md, "Slack").
    """

    def __init__(self, turns: int) -> None:
        self.turns = turns
        self._free = turns
        self._lock = threading.Lock()
        # One lock per waiting thread, in arrival order. A turn that ends hands its place straight
        # to the first waiter (releases its lock): one wake-up, not a herd of threads rechecking.
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> TurnGate:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return self
            waiter = threading.Lock()
            waiter.acquire()
            self._waiting.append(waiter)
        waiter.acquire()  # released by the turn that hands its place over
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1


class Gated:
    """``target`` whose every method call holds a turn of ``gate`` (the engine, the case service):
    the listeners call them as they are, and cannot forget the gate."""

    def __init__(self, target: object, gate: TurnGate) -> None:
        self._target = target
        self._gate = gate

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        gate = self._gate

        def call(*args: Any, **kwargs: Any) -> Any:
            with gate:
                return value(*args, **kwargs)

        return call
