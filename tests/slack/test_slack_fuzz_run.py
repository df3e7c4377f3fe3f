"""A short fuzzing run (bench/fuzz_slack.py) in the test suite: mutated requests, signed and
unsigned, at the real endpoint, and not one HTTP 500. The full run (8,000 and more) and its
figures are in docs/benchmarks.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_short_fuzzing_run_gives_no_500() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fuzz_slack.py"), "--requests", "600", "--seed", "7", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    result = json.loads(run.stdout)
    assert run.returncode == 0, run.stderr[-2000:]
    assert result["http_500"] == 0 and result["server_tracebacks"] == 0
    assert result["signed"] > 200 and sum(result["statuses"].values()) == 600
    assert result["statuses"].get("401", 0) > 0 and result["statuses"].get("400", 0) > 0  # both kinds reached
