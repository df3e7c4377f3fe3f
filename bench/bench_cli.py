"""CLI start benchmark: how long ``policybot route``, ``validate``, ``flows`` and ``graph`` take from a cold start.

Each run is a fresh process of the installed ``policybot`` console script (the venv's, beside this
Python), so every run pays for the interpreter, every import and loading the flows, as a comms
officer typing the command does. One warm-up run per command comes first, so the OS file cache
and the ``.pyc`` files (written to a scratch PYTHONPYCACHEPREFIX, as pip writes them for an
installed package) are warm but the Python process is new. Commands run in an empty temporary
folder, so no ``./policybot.yaml`` there changes what is measured. Run from the repository root:

    .venv/bin/python bench/bench_cli.py                 # 10 runs of each command, a table
    .venv/bin/python bench/bench_cli.py --runs 20 --json
    .venv/bin/python bench/bench_cli.py --why           # also: what `route` spends its imports on
    .venv/bin/python bench/bench_cli.py --no-bytecode   # no .pyc: every start compiles policybot's modules
    .venv/bin/python bench/bench_cli.py --checkout /tmp/main-wt   # another tree's code, same venv
    .venv/bin/python bench/bench_cli.py --compare /tmp/main-wt    # this tree and that one, taking turns

``--checkout DIR`` puts DIR first on PYTHONPATH, so the same console script runs that tree's
``bot`` and ``adapters`` (for a before/after comparison against a worktree of main; the entry
points still come from this venv's install, so they must be the same in both trees).
``--compare DIR`` times this tree (or --checkout's) and DIR in the same rounds, so a load that
comes and goes on a shared machine falls on both alike: the fair way to compare before and after.
The target (docs/benchmarks.md, "CLI start") is a median under 0.5 s for ``route`` and ``validate``.

Write the figures it prints into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

COMMANDS: dict[str, list[str]] = {
    "route": ["route", "someone left a nasty comment on our page"],
    "validate": ["validate"],
    "flows": ["flows"],
    "graph legal-threat": ["graph", "legal-threat"],
}
BASELINE = "python -c pass"
TARGET_SECONDS = {"route": 0.5, "validate": 0.5}
# Libraries the flow commands do not need: if `--why` finds one loaded by `route`, something
# imports it too early (tests/core/test_cli_start.py guards the same set).
HEAVY = (
    "alembic",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "botbuilder",
    "prometheus_client",
    "sqlalchemy",
    "transitions",
)


@dataclass
class Timing:
    code_from: str  # the tree whose bot/ ran
    command: str
    runs: int
    median_s: float
    min_s: float
    max_s: float
    cpu_median_s: float  # user + system CPU of the process: less swayed by other load than wall time
    target_s: float | None


def console_script() -> Path:
    script = Path(sys.executable).with_name("policybot")
    if not script.exists():
        raise SystemExit(f"no console script at {script}: run `pip install -e .` in this venv first")
    return script


def environment(checkout: Path | None, scratch: Path, bytecode: bool) -> dict[str, str]:
    """This process's environment without policybot's own settings (so the defaults are measured).

    With ``bytecode`` the warm-up run writes every module's ``.pyc`` under a scratch
    PYTHONPYCACHEPREFIX, and the timed runs read them: an installed policybot starts like that,
    since pip compiles a package's modules when it installs it. Without it, ``.pyc`` files are
    neither written nor sought elsewhere: a checkout in a shell with PYTHONDONTWRITEBYTECODE=1
    (as on the project's machine) compiles its own modules from source on every start.
    """
    unwanted = ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_") and k not in unwanted}
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    done: subprocess.CompletedProcess[str]


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    cpu = cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`{shlex.join(argv)}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return Run(elapsed, cpu_of_children() - cpu, done)


@dataclass
class Tree:
    """One copy of the code to time: its environment and where its ``bot`` package really is."""

    env: dict[str, str]
    source: str


def time_commands(trees: list[Tree], commands: dict[str, list[str]], runs: int, cwd: Path) -> list[Timing]:
    """One warm-up of each command (file cache, .pyc files), then ``runs`` rounds of one run of each.

    Taking turns, rather than all runs of one command and then the next, spreads the load other
    work puts on a shared machine evenly over the commands (and, with --compare, the trees) compared.
    """
    jobs = [(tree, name, argv) for tree in trees for name, argv in commands.items()]
    for tree, _, argv in jobs:
        run_once(argv, tree.env, cwd)
    samples: dict[tuple[str, str], list[Run]] = {(tree.source, name): [] for tree, name, _ in jobs}
    for _ in range(runs):
        for tree, name, argv in jobs:
            samples[tree.source, name].append(run_once(argv, tree.env, cwd))
    timings = []
    for (source, name), runs_of_one in samples.items():
        wall = [r.wall_s for r in runs_of_one]
        cpu = statistics.median(r.cpu_s for r in runs_of_one)
        timings.append(
            Timing(source, name, runs, statistics.median(wall), min(wall), max(wall), cpu, TARGET_SECONDS.get(name))
        )
    return timings


def bot_source(env: dict[str, str], cwd: Path) -> str:
    """Where the measured ``bot`` package comes from (so a --checkout mistake shows)."""
    code = "import bot, pathlib; print(pathlib.Path(bot.__file__).parent.parent)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def import_costs(env: dict[str, str], cwd: Path, top: int) -> dict[str, Any]:
    """``python -X importtime`` for ``route``: the slowest imports (cumulative) and the heavy libraries loaded."""
    done = run_once([str(console_script()), *COMMANDS["route"]], {**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd).done
    rows: list[tuple[str, int, int]] = []  # (module with its nesting indent, self µs, cumulative µs)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((name.rstrip(), int(own), int(cumulative)))
    loaded = {name.strip() for name, _, _ in rows}
    return {
        "total_import_ms": sum(own for _, own, _ in rows) / 1000,
        "slowest": [
            {"module": name, "cumulative_ms": cum / 1000, "self_ms": own / 1000}
            for name, own, cum in sorted(rows, key=lambda r: -r[2])[:top]
        ],
        "heavy_loaded": [lib for lib in HEAVY if lib in loaded],
    }


def print_table(timings: list[Timing]) -> None:
    print(f"\ncode from {timings[0].code_from}:")
    print("| command | runs | median | min | max | CPU (median) | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for t in timings:
        target = f"< {t.target_s:.1f} s" if t.target_s else ""
        shown = t.command if t.command == BASELINE else f"policybot {shlex.join(COMMANDS[t.command])}"
        print(
            f"| `{shown}` | {t.runs} | {t.median_s:.3f} s | {t.min_s:.3f} s "
            f"| {t.max_s:.3f} s | {t.cpu_median_s:.3f} s | {target} |"
        )


def print_why(why: dict[str, Any]) -> None:
    print(f"\n`route` under -X importtime: {why['total_import_ms']:.0f} ms of imports; slowest (cumulative):")
    for row in why["slowest"]:
        print(f"  {row['cumulative_ms']:8.1f} ms  (self {row['self_ms']:6.1f} ms)  {row['module']}")
    print("heavy libraries loaded: " + (", ".join(why["heavy_loaded"]) or "none"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command, after one warm-up (10)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--why", action="store_true", help="also show route's slowest imports (-X importtime)")
    parser.add_argument("--top", type=int, default=15, help="how many imports --why lists (15)")
    parser.add_argument("--checkout", type=Path, help="measure this tree's bot/ and adapters/ (PYTHONPATH)")
    parser.add_argument(
        "--compare", type=Path, help="also measure this tree, taking turns with the first (a fair before/after)"
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="do not cache .pyc files (PYTHONDONTWRITEBYTECODE=1): each start compiles policybot's modules",
    )
    parser.add_argument("--only", action="append", choices=list(COMMANDS), help="just this command (repeatable)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    checkouts = [args.checkout.resolve() if args.checkout else None]
    if args.compare:
        checkouts.append(args.compare.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        cwd = Path(tmp)
        trees = []
        for checkout in checkouts:
            env = environment(checkout, cwd, bytecode=not args.no_bytecode)
            trees.append(Tree(env, bot_source(env, cwd)))
        if len({tree.source for tree in trees}) < len(trees):
            parser.error(f"--compare runs the same code as the first tree ({trees[0].source})")
        load_before = os.getloadavg()
        # The bare interpreter too: the floor no command can go under, and a gauge of the machine's load.
        commands = {BASELINE: [sys.executable, "-c", "pass"]}
        commands |= {name: [str(console_script()), *COMMANDS[name]] for name in args.only or COMMANDS}
        timings = time_commands(trees, commands, args.runs, cwd)
        load_after = os.getloadavg()
        whys = {tree.source: import_costs(tree.env, cwd, args.top) for tree in trees} if args.why else {}
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "code_from": [tree.source for tree in trees],
        "bytecode_cached": not args.no_bytecode,
    }
    if args.json:
        print(json.dumps({"machine": machine, "timings": [asdict(t) for t in timings], "why": whys}, indent=2))
        return 0
    cached = "cached by the warm-up" if not args.no_bytecode else "not cached (PYTHONDONTWRITEBYTECODE=1)"
    print(
        f"python {machine['python']}, {machine['cpus']} cpus, .pyc {cached}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min)"
    )
    for tree in trees:
        print_table([t for t in timings if t.code_from == tree.source])
        if tree.source in whys:
            print_why(whys[tree.source])
    return 0


if __name__ == "__main__":
    sys.exit(main())
