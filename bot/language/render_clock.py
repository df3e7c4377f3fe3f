"""The clock a template's time limit is measured on: this thread's own processor time, less the
time its garbage collections took.

A render's time limit (bot.language.template_limits, ``RENDER_SECONDS``) is there to stop a flow
whose template does too much work. Two things that are not the template's doing used to trip it:

- the machine being busy with something else: the wall clock ran on while the thread waited for
  a core (CI refused a shipped flow's advice on a loaded 2-core runner). ``time.thread_time``
  counts only the time this thread ran.
- a full garbage collection, which runs in whichever thread happens to allocate at that moment and
  walks the whole heap: in a long test run, or a server with big caches, that can take longer than
  the limit and land in the middle of a one-word condition. ``gc.callbacks`` tells when a
  collection starts and stops; the time between is taken off the clock of the thread it ran in.

Each thread keeps its own total (``threading.local``), so nothing grows with the number of
threads a process has had. The callback costs two clock reads per collection.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

_THREAD = threading.local()


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _THREAD.started = time.thread_time()
        return
    started = getattr(_THREAD, "started", None)
    if started is not None:
        _THREAD.collecting = getattr(_THREAD, "collecting", 0.0) + time.thread_time() - started
        _THREAD.started = None


def work_time() -> float:
    """Seconds this thread has run, less its garbage collections; only differences mean anything."""
    return time.thread_time() - getattr(_THREAD, "collecting", 0.0)


def collection_time() -> float:
    """Seconds this thread has spent in garbage collections (since it first rendered)."""
    return float(getattr(_THREAD, "collecting", 0.0))


if _on_collection not in gc.callbacks:
    gc.callbacks.append(_on_collection)
