"""Engine benchmark (issue 2): step, full turn, loading 200 flows, bytes per conversation,
shared machine vs a new transitions Machine per conversation, memory as the store grows.

Plain Python (perf_counter), no test framework. Run from the repository root:

    .venv/bin/python bench/bench_engine.py            # full run, about a minute
    .venv/bin/python bench/bench_engine.py --quick    # smaller counts, a few seconds
    .venv/bin/python bench/bench_engine.py --languages en,cy --speak cy   # two languages, in Welsh

Write the figures it prints into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import yaml
from transitions import Machine

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.machine import machine_spec, option_trigger
from bot.conversation.replies import Question
from bot.language.settings import load_settings
from bot.store import Store
from bot.store.records import ACTIVE, DONE, Answer, Conversation

FLOW_ID = "legal-threat"
ACTOR = Actor(user_id="bench", display_name="Bench Person")
SPEAK: str | None = None  # --speak: the person's platform language (their turns are in it)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_step(library: FlowLibrary, repeat: int) -> tuple[float, float]:
    """One engine step without I/O: shared-machine transition, branch settling, render the next question."""
    engine = Engine(library, Store("sqlite://"))
    flow = library.get(FLOW_ID)
    compiled = library.compiled(flow)
    now = datetime.now(UTC)
    conv = Conversation(
        id="c",
        user_id="bench",
        platform="console",
        flow_id=flow.id,
        flow_version=flow.version,
        state=flow.start,
        status=ACTIVE,
        version=1,
        created_at=now,
        updated_at=now,
    )
    first = flow.states[flow.start]
    actor = replace(ACTOR, language=SPEAK or "en")  # as the engine settles it for the turn

    def step() -> None:
        nxt = compiled.settle(compiled.choose(first.name, 0), {})
        moved = conv.moved(state=nxt, answers=(Answer(first.name, 0, first.options[0].label, first.ask or ""),))
        engine.presenter.question(moved, actor, compiled)

    timed(step, 200)
    return percentiles(timed(step, repeat))


def bench_naive_vs_shared(library: FlowLibrary, repeat: int) -> tuple[float, float]:
    """Median seconds: the naive way (a Machine per conversation) vs a lookup in the shared one."""
    flow = library.get(FLOW_ID)
    compiled = library.compiled(flow)
    spec = machine_spec(flow)

    class Model:
        pass

    def naive() -> None:
        model = Model()
        Machine(model=model, auto_transitions=False, **spec)
        getattr(model, option_trigger(0))()

    def shared() -> None:
        compiled.choose(flow.start, 0)

    timed(naive, 50)
    timed(shared, 50)
    return statistics.median(timed(naive, repeat)), statistics.median(timed(shared, repeat))


def bench_turn(library: FlowLibrary, folder: Path, repeat: int) -> tuple[float, float]:
    """One full turn on a SQLite file: load the row, step, save with the version check, audit."""
    engine = Engine(library, Store(f"sqlite:///{folder / 'turns.db'}"))
    samples = []
    for i in range(repeat):
        actor = Actor(user_id=f"user{i % 50}", locale=SPEAK)
        q = [r for r in engine.handle(actor, Start(flow_id=FLOW_ID)) if isinstance(r, Question)][-1]
        start = time.perf_counter()
        engine.handle(actor, Choose(q.conversation_id, q.state, 0, q.turn))
        samples.append(time.perf_counter() - start)
    return percentiles(samples[20:])


def _tagged(text: object, tag: str) -> object:
    """A text with ``tag`` after its English: plain, or ``{en: ..., cy: ...}`` with translations
    (their ``cy_of`` then no longer matches, which validate reports only with Welsh offered)."""
    if isinstance(text, str):
        return f"{text} {tag}"
    if isinstance(text, dict) and isinstance(text.get("en"), str):
        return {**text, "en": f"{text['en']} {tag}"}
    return text


def _distinct(data: object, tag: str) -> object:
    """The same flow with every text made unique, so no parse cache can serve one copy from another."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            if key in ("ask", "say", "label", "intro", "feedback"):
                out[key] = _tagged(value, tag)
            elif key in ("examples", "welsh_examples") and isinstance(value, list):
                out[key] = [f"{item} {tag}" for item in value]  # one message teaches one flow only
            elif key == "negatives" and isinstance(value, dict):
                out[key] = {}  # they name the shipped flows' ids, which the copies do not have
            elif key == "checklist" and isinstance(value, list):
                out[key] = [_tagged(item, tag) for item in value]
            else:
                out[key] = _distinct(value, tag)
        return out
    if isinstance(data, list):
        return [_distinct(v, tag) for v in data]
    return data


def bench_load_200(folder: Path) -> float:
    """Seconds to load and validate 200 distinct flows made from the shipped ones (each text changed)."""
    source = default_flows_dir()
    target = folder / "flows200"
    target.mkdir()
    shutil.copy(source / "citations.yaml", target / "citations.yaml")
    originals = [
        p
        for p in sorted(source.glob("*.yaml"))
        if not p.name.endswith(".test.yaml")
        and p.name not in ("citations.yaml", "policybot.example.yaml", "directory.example.yaml")
    ]
    for i in range(200):
        original = originals[i % len(originals)]
        data = yaml.safe_load(original.read_text(encoding="utf-8"))
        data = _distinct(data, f"(variant {i})")
        assert isinstance(data, dict)
        data["id"] = f"{original.stem}-{i}"
        (target / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    settings = load_settings(None)
    warm = folder / "warm"
    warm.mkdir()
    shutil.copy(source / "citations.yaml", warm / "citations.yaml")
    shutil.copy(originals[0], warm / originals[0].name)
    FlowLibrary.load(warm, settings)  # warm imports and compiled schemas once, not the 200 flows' templates
    start = time.perf_counter()
    loaded = FlowLibrary.load(target, settings)
    elapsed = time.perf_counter() - start
    assert len(loaded.all()) == 200
    return elapsed


def fill(store: Store, library: FlowLibrary, count: int) -> None:
    """Store ``count`` finished conversations with their audit rows, as real turns would leave them."""
    flow = library.get(FLOW_ID)
    now = datetime.now(UTC)
    first = flow.states[flow.start]
    with store.transaction() as conn:
        store.remember_flow_version(conn, flow, now)
        for i in range(count):
            conv = Conversation(
                id=uuid.uuid4().hex,
                user_id=f"user{i}",
                platform="slack",
                flow_id=flow.id,
                flow_version=flow.version,
                state="act_official",
                status=DONE,
                version=4,
                created_at=now,
                updated_at=now,
                answers=(Answer(first.name, 0, first.options[0].label, first.ask or ""),) * 3,
            )
            store.insert_conversation(conn, conv)
            for action in ("start", "answer", "answer", "answer", "outcome"):
                store.record(conn, conv, action, now, "A council account")


def bench_bytes_and_memory(library: FlowLibrary, folder: Path, sizes: list[int]) -> list[tuple[int, float, float]]:
    """(stored conversations, bytes per conversation, RSS MiB after 500 turns) as the store grows."""
    path = folder / "grow.db"
    store = Store(f"sqlite:///{path}")
    engine = Engine(library, store)
    rows = []
    stored = 0
    for size in sizes:
        fill(store, library, size - stored)
        stored = size
        raw = store.engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        db_bytes = path.stat().st_size
        for i in range(500):
            actor = Actor(user_id=f"mem{i % 20}")
            # the question, wherever it stands (with several languages the switch comes last)
            q = next(r for r in engine.handle(actor, Start(flow_id=FLOW_ID)) if isinstance(r, Question))
            engine.handle(actor, Choose(q.conversation_id, q.state, 0, q.turn))
        gc.collect()
        rows.append((size, db_bytes / size, rss_mib()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke run")
    parser.add_argument("--languages", default="en", help="the languages the settings offer, such as en,cy")
    parser.add_argument("--speak", default=None, help="the person's platform language, such as cy")
    args = parser.parse_args()
    global SPEAK
    SPEAK = args.speak
    repeat = 2000 if args.quick else 20000
    sizes = [1000, 5000] if args.quick else [1000, 10000, 100000]
    settings = load_settings(None).with_overrides({"languages": args.languages.split(",")})
    library = FlowLibrary.load(default_flows_dir(), settings)
    print(
        f"python {sys.version.split()[0]}, flows loaded: {len(library.all())}, flow benchmarked: {FLOW_ID}, "
        f"languages: {args.languages}, speaking: {SPEAK or 'en'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        median, p99 = bench_step(library, repeat)
        print(f"engine step without I/O: median {median * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs")
        naive, shared = bench_naive_vs_shared(library, max(500, repeat // 10))
        print(
            f"transition, shared machine: median {shared * 1e6:.2f} µs; new Machine per conversation: "
            f"median {naive * 1e6:.1f} µs; ratio {naive / shared:.0f}x"
        )
        median, p99 = bench_turn(library, folder, 500 if args.quick else 3000)
        print(f"full turn on SQLite (load, step, save, audit): median {median * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
        print(f"load and validate 200 flows: {bench_load_200(folder):.3f} s")
        for size, per_conv, rss in bench_bytes_and_memory(library, folder, sizes):
            print(
                f"stored conversations {size:>7}: {per_conv:,.0f} bytes each on disk (with audit rows); "
                f"process RSS {rss:.1f} MiB"
            )


if __name__ == "__main__":
    main()
