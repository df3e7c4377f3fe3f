"""How long ``policybot validate`` takes on long flows, and what hostile flows cost it (issue 12).

Each run is ``policybot validate FILE`` in a child process held to 200 MB more memory than it
started with and a few seconds of CPU (tests/core/limited_validate.py), which reports the CPU time
and wall time of the validation itself (imports excluded) and how much its resident memory grew.
CPU time is the figure to read on a shared machine: it does not grow with other processes' load.

    .venv/bin/python bench/bench_validate.py            # chains of 250, 500 and 1,000 states; every hostile flow
    .venv/bin/python bench/bench_validate.py --quick    # the 1,000-state chain and every hostile flow, once

Write the figures it prints into docs/benchmarks.md ("Validate").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.core.hostile_flows import HOSTILE, chain_flow  # noqa: E402
from tests.core.limited_validate import Run, validate_limited  # noqa: E402


def measure(path: Path, repeats: int) -> list[Run]:
    return [validate_limited([path], memory_mb=200, cpu_seconds=5.0) for _ in range(repeats)]


def describe(runs: list[Run]) -> str:
    cpu = statistics.median(r.cpu_seconds or float("nan") for r in runs)
    wall = statistics.median(r.wall_seconds or float("nan") for r in runs)
    rss = max(r.peak_rss_growth_mb or 0.0 for r in runs)
    problems = {len(r.problems) for r in runs}
    return (
        f"exit {runs[0].returncode}, {min(problems)} problem line(s), "
        f"cpu {cpu:.3f} s, wall {wall:.3f} s, rss +{rss:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1,000-state chain and the hostile flows, once each")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    sizes = [1000] if args.quick else [250, 500, 1000]
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}, median of {repeats} run(s)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for states in sizes:
            path = folder / f"chain-{states}" / "long-chain.yaml"
            path.parent.mkdir()
            path.write_text(chain_flow(states), encoding="utf-8")
            print(f"chain of {states:5,} states ({path.stat().st_size:,} bytes): {describe(measure(path, repeats))}")
        for name, make in HOSTILE.items():
            path = folder / f"{name}.yaml"
            path.write_text(make(), encoding="utf-8")
            runs = measure(path, repeats)
            first = runs[0].problems[0].split(": ", 1)[-1] if runs[0].problems else "(none)"
            print(f"{name:16} ({path.stat().st_size:,} bytes): {describe(runs)}; first: {first[:90]}")


if __name__ == "__main__":
    main()
