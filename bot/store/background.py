"""One loop in a daemon thread of its own: starting it, stopping it, and whether it runs.

The WAL checkpointer (bot.store.checkpoint), the inbound replayer (bot.store.replay) and the
outbox worker (bot.cases.worker) each run a loop that waits on ``_stop`` between passes; this is
the part they share, so a stop is always "set the event, wait for the thread" and a second
``start`` never starts a second thread.
"""

from __future__ import annotations

import threading
from typing import ClassVar, Self


class BackgroundLoop:
    """Subclasses set ``thread_name`` and ``stop_timeout``, call ``__init__`` and define ``loop``."""

    thread_name: ClassVar[str] = "policybot-background"
    stop_timeout: ClassVar[float] = 10.0  # seconds ``stop`` waits for the current pass by default

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def loop(self) -> None:
        """Run passes until ``_stop`` is set."""
        raise NotImplementedError

    def start(self) -> Self:
        """Run ``loop`` in a daemon thread (once: a running loop is left as it is); returns self."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self.loop, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to finish its current pass and wait for it (``stop_timeout`` by default)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.stop_timeout if timeout is None else timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
