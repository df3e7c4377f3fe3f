"""Routing benchmark (issue 11): accuracy on the held-out sets, the confidence policy, speed with
14 and 200 flows, memory, long messages and the cold start of `policybot route`.

Plain Python, no test framework. Run from the repository root (about a minute):

    .venv/bin/python bench/bench_routing.py            # everything
    .venv/bin/python bench/bench_routing.py --quick    # fewer timing rounds, no cold start

Write the figures it prints into docs/routing.md. The accuracy part reads tests/routing/eval.yaml
and tests/routing/holdout.yaml, which no flow's examples may copy (a test checks).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.conversation.library import FlowLibrary, default_flows_dir  # noqa: E402
from bot.language.flow_model import Flow  # noqa: E402
from bot.language.settings import load_settings  # noqa: E402
from tests.routing.evalsets import EVAL, HOLDOUT, Labelled, load  # noqa: E402

SHORT = "a client sent me a friend request on facebook"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def accuracy(name: str, messages: list[Labelled], flows: list[Flow]) -> None:
    from bot.conversation.opening import CONFIDENT_KIND, NO_IDEA_KIND, decide
    from bot.conversation.replies import FlowChoice
    from bot.conversation.router import understand
    from bot.conversation.routing.language import WELSH

    ranks: dict[str, list[int]] = defaultdict(list)
    per_flow: dict[str, list[int]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    samples: dict[tuple[str, str], str] = {}
    language_right = 0
    policy: Counter[str] = Counter()
    for m in messages:
        routing = understand(m.text, flows)
        order = [x.flow.id for x in routing.matches]
        rank = order.index(m.flow)
        ranks[m.language].append(rank)
        ranks["all"].append(rank)
        per_flow[m.flow].append(rank)
        if rank:
            confusion[(m.flow, order[0])] += 1
            samples.setdefault((m.flow, order[0]), m.text)
        language_right += (routing.language == WELSH) == (m.language == "welsh")
        opening = decide(routing, flows)
        shown = {c.flow_id for r in opening.replies if isinstance(r, FlowChoice) for c in r.candidates}
        if opening.confidence == CONFIDENT_KIND:
            policy["confident"] += 1
            policy["confident, right flow started"] += order[0] == m.flow
        elif opening.confidence == NO_IDEA_KIND:
            policy["no idea (clarifying question)"] += 1
        else:
            policy["unsure (choices)"] += 1
            policy["unsure, right flow among the choices"] += m.flow in shown

    def pct(values: list[int], within: int) -> str:
        return f"{100 * sum(r < within for r in values) / len(values):5.1f}%"

    print(f"\n== {name}: {len(messages)} messages ==")
    for part in ("all", "english", "welsh"):
        values = ranks[part]
        print(f"  {part:8} n={len(values):3}  top-1 {pct(values, 1)}  top-3 {pct(values, 3)}")
    print(f"  language recognised (Welsh vs English): {language_right}/{len(messages)}")
    print("  confidence policy:")
    for key in ("confident", "confident, right flow started", "unsure (choices)",
                "unsure, right flow among the choices", "no idea (clarifying question)"):  # fmt: skip
        print(f"    {key:40} {policy[key]}")
    print("  per flow (top-1, top-3):")
    for flow_id in sorted(per_flow):
        values = per_flow[flow_id]
        print(f"    {flow_id:22} n={len(values):2}  {pct(values, 1)}  {pct(values, 3)}")
    print("  confusion (expected -> ranked first: count, one message):")
    for (expected, got), count in confusion.most_common():
        print(f"    {expected} -> {got}: {count}  e.g. {samples[(expected, got)]!r}")


def spread(wall: list[float], cpu: list[float]) -> str:
    ms = 1000
    return (f"wall p50 {statistics.median(wall) * ms:5.2f} ms p99 {percentile(wall, 0.99) * ms:5.2f} ms;  "
            f"CPU p50 {statistics.median(cpu) * ms:5.2f} ms p99 {percentile(cpu, 0.99) * ms:5.2f} ms")  # fmt: skip


def synthetic_flows(flows: list[Flow], count: int, seed: int = 11) -> list[Flow]:
    """``count`` flows made from the real ones: each a real flow's examples with a few words swapped
    for words of its own, so every synthetic flow is learnable and distinct."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        base = flows[i % len(flows)]
        own = [f"word{i}x{j}" for j in range(6)]

        def vary(text: str, own: list[str] = own) -> str:
            words = text.split()
            for _ in range(2):
                words[rng.randrange(len(words))] = rng.choice(own)
            return " ".join(words)

        made.append(
            replace(
                base,
                id=f"{base.id}-{i}",
                version=f"synthetic{i}",
                title=vary(base.title),
                triggers=tuple(vary(t) for t in base.triggers),
                examples=tuple(vary(t) for t in base.examples),
                welsh_examples=tuple(vary(t) for t in base.welsh_examples),
                negatives={},
            )
        )
    return made


def latency(label: str, flows: list[Flow], messages: list[str], rounds: int) -> None:
    """Learning with no disk cache, reading the cache back, then routing: wall-clock time (what a
    person waits, including time spent waiting for a busy CPU) and CPU time (what routing costs)."""
    from bot.conversation import router as interface
    from bot.conversation.routing import cache

    builds = []
    for setting in ("off", str(Path(tempfile.mkdtemp()) / "cache"), None):  # learn, learn + save, read back
        interface._routers.clear()
        if setting is not None:
            os.environ[cache.ENV] = setting
        started = time.perf_counter()
        router = interface.router_for(flows)
        builds.append(time.perf_counter() - started)
    os.environ.pop(cache.ENV, None)
    for text in messages[:20]:  # warm up
        router.understand(text)
    wall, cpu = [], []
    for _ in range(rounds):
        for text in messages:
            t, c = time.perf_counter(), time.process_time()
            router.understand(text)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - t)
    print(f"  {label:22} learn {builds[0] * 1000:6.1f} ms, read from cache {builds[2] * 1000:6.1f} ms")
    print(f"  {'':22} route {spread(wall, cpu)}  ({len(wall)} routings)")


def long_messages(flows: list[Flow], rounds: int) -> None:
    from bot.conversation.router import router_for

    router = router_for(flows)
    huge = ("Long story short, " + "blah " * 8000)[:40_000] + " a client sent me a friend request on facebook"
    for label, text in (("short (45 chars)", SHORT), (f"long ({len(huge):,} chars)", huge)):
        wall, cpu = [], []
        for _ in range(rounds):
            t, c = time.perf_counter(), time.process_time()
            best = router.understand(text).matches[0].flow.id
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - t)
        print(f"  {label:22} {spread(wall, cpu)}  first: {best}")


MEMORY_PROBE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
def rss():
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.language.settings import load_settings
flows = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()
before = rss()
from bot.conversation.router import understand
understand('a client sent me a friend request on facebook', flows)
understand('Ga i bostio llun o fy ngwaith?', flows)
print(before, rss())
"""

FIRST_ROUTING_PROBE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.language.settings import load_settings
flows = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()
started = time.perf_counter()
from bot.conversation.router import understand
understand(sys.argv[2], flows)
print(time.perf_counter() - started)
"""


def memory() -> None:
    """RSS in a fresh process: flows loaded, then the router built and used (numpy included)."""
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(REPO)], capture_output=True, text=True, check=True)
    before, after = (float(x) for x in out.stdout.split())
    print(f"  resident memory: {before:.1f} MiB with the flows loaded, {after:.1f} MiB after the router is built"
          f" and used: {after - before:.1f} MiB added")  # fmt: skip


def cold_start(runs: int) -> None:
    policybot = str(Path(sys.executable).with_name("policybot"))
    env = {**os.environ, "POLICYBOT_LOG_LEVEL": "WARNING"}
    for label, args in (("policybot --help", ["--help"]), ("policybot route TEXT", ["route", SHORT])):
        samples, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([policybot, *args], capture_output=True, check=True, env=env)
            samples.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        print(f"  {label:28} wall median {statistics.median(samples):.3f} s  min {min(samples):.3f} s;"
              f"  CPU median {statistics.median(cpu):.3f} s  ({runs} runs)")  # fmt: skip
    importtime = subprocess.run(
        [sys.executable, "-X", "importtime", "-c",
         "from bot.conversation.router import understand\n"
         "from bot.conversation.library import FlowLibrary, default_flows_dir\n"
         "from bot.language.settings import load_settings\n"
         f"understand({SHORT!r}, FlowLibrary.load(default_flows_dir(), load_settings(None)).all())"],
        capture_output=True, text=True, check=True, env=env,
    ).stderr  # fmt: skip
    wanted = ("numpy", "pycld2", "bot.conversation.routing", "bot.conversation.routing.features")
    print("  python -X importtime (cumulative, microseconds):")
    for line in importtime.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        if name in wanted:
            print("   ", line.strip())
    firsts = [
        float(run.stdout)
        for run in (
            subprocess.run([sys.executable, "-c", FIRST_ROUTING_PROBE, str(REPO), SHORT], capture_output=True,
                           text=True, check=True)
            for _ in range(runs)
        )
    ]  # fmt: skip
    print(f"  first routing in a fresh process (imports + build + route): median {statistics.median(firsts):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing rounds, no cold start")
    args = parser.parse_args()
    rounds = 3 if args.quick else 20
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    flows = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()
    accuracy("tests/routing/eval.yaml", load(EVAL), flows)
    accuracy("tests/routing/holdout.yaml (never used for tuning)", load(HOLDOUT), flows)

    print("\n== speed ==")
    texts = [m.text for m in load(EVAL)]
    latency(f"{len(flows)} shipped flows", flows, texts, rounds)
    many = synthetic_flows(flows, 200)
    latency("200 synthetic flows", many, texts, max(1, rounds // 4))
    print(f"  (200 flows: {sum(len(f.examples) + len(f.welsh_examples) for f in many)} examples)")
    long_messages(flows, rounds * 10)

    print("\n== memory ==")
    memory()
    if not args.quick:
        print("\n== cold start ==")
        cold_start(7)


if __name__ == "__main__":
    main()
