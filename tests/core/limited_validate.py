"""Run ``policybot validate`` in a child process held to a memory and CPU limit, and say what it took.

Used by tests/core/test_hostile_flows.py and bench/bench_validate.py. The child imports everything
validate needs first, then limits itself: its address space to what it already has plus
``memory_mb``, its CPU time to at most ``cpu_seconds`` more (the kernel stops it with SIGXCPU
past that). CPU time, unlike a stopwatch in the test, does not grow when other processes load the
machine, so the limit holds on a busy CI runner as well as on a quiet laptop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_CHILD = r"""
import json, resource, sys, time
from bot.cli.main import cli
import bot.cli.flow_commands, bot.conversation.library, bot.language.flow_checks  # noqa: F401

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0

memory, cpu_seconds = int(sys.argv[1]) << 20, float(sys.argv[2])
base = status("VmSize")
resource.setrlimit(resource.RLIMIT_AS, (base + memory, base + memory))
used = resource.getrusage(resource.RUSAGE_SELF)
spent = used.ru_utime + used.ru_stime
resource.setrlimit(resource.RLIMIT_CPU, (int(spent + cpu_seconds), int(spent + cpu_seconds) + 1))
rss_before = status("VmRSS")
started, wall = time.process_time(), time.perf_counter()
code = 0
try:
    cli.main(args=["validate", *sys.argv[3:]], prog_name="policybot", standalone_mode=False)
except SystemExit as done:
    code = done.code or 0
sys.stdout.flush()
report = {
    "code": code,
    "cpu_seconds": time.process_time() - started,
    "wall_seconds": time.perf_counter() - wall,
    "peak_rss_growth_mb": (status("VmHWM") - rss_before) / 2**20,
}
print("\n@@" + json.dumps(report))
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    problems: list[str]
    stderr: str
    cpu_seconds: float | None
    wall_seconds: float | None
    peak_rss_growth_mb: float | None


def validate_limited(paths: list[Path], *, memory_mb: int = 200, cpu_seconds: float = 2.0, timeout: float = 60) -> Run:
    """``policybot validate PATHS`` in a child held to ``memory_mb`` more memory and ``cpu_seconds`` of CPU."""
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(memory_mb), str(cpu_seconds), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    out, _, report_line = result.stdout.rpartition("\n@@")
    report = json.loads(report_line) if report_line.startswith("{") else {}
    return Run(
        returncode=int(report.get("code", result.returncode)) if report else result.returncode,
        problems=[line for line in (out if report else result.stdout).splitlines() if line],
        stderr=result.stderr,
        cpu_seconds=report.get("cpu_seconds"),
        wall_seconds=report.get("wall_seconds"),
        peak_rss_growth_mb=report.get("peak_rss_growth_mb"),
    )
