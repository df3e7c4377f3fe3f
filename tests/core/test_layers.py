"""The core's layers: no module imports from a layer above its own, and no modules import each other
in a circle. Every import counts, including those inside functions (lazy imports still tie modules)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

# The rank of each top-level part of bot/, lowest first (the same table as bot/__init__.py).
LAYERS: dict[str, int] = {
    "bot.errors": 0,
    "bot.clock": 0,
    "bot.telemetry": 0,
    "bot.language": 1,
    "bot.store": 2,
    "bot.conversation": 3,
    "bot.cases": 4,
    "bot.publishing": 5,
    "bot.ops": 6,
    "bot.runtime": 7,
    "bot.cli": 8,
}
PLATFORM_LIBRARIES = ("slack_bolt", "slack_sdk", "botbuilder", "microsoft_agents", "aiohttp", "adapters")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str | None = None) -> set[str]:
    """Every module name ``path`` imports, lazily or not (``from bot.x import y`` counts bot.x and bot.x.y)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def layer_of(name: str) -> tuple[str, int] | None:
    for prefix, rank in LAYERS.items():
        if name == prefix or name.startswith(prefix + "."):
            return prefix, rank
    return None


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py")) if "migrations" not in p.parts}


def test_every_core_module_belongs_to_a_layer() -> None:
    homeless = [name for name in MODULES if name != "bot" and layer_of(name) is None]
    assert homeless == [], f"add these to a layer (bot/__init__.py and LAYERS here): {homeless}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_reaches_a_higher_layer(name: str) -> None:
    own = layer_of(name)
    if own is None:
        return
    upward = []
    for target in imports_of(MODULES[name]):
        theirs = layer_of(target)
        if theirs is not None and theirs[1] > own[1]:
            upward.append(f"{target} (layer {theirs[1]})")
    assert upward == [], f"{name} (layer {own[1]}) imports upward: {sorted(upward)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_platform_library_in_the_core(name: str) -> None:
    platform = sorted(t for t in imports_of(MODULES[name]) if t.split(".")[0] in PLATFORM_LIBRARIES)
    assert platform == [], f"{name} imports a transport: {platform}"


def test_no_import_cycles() -> None:
    graph = {name: {t for t in imports_of(path) if t in MODULES and t != name} for name, path in MODULES.items()}
    # A package's __init__ re-exporting its own modules is not a cycle worth refusing.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not (t.startswith(name + ".") and MODULES[name].name == "__init__.py")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule itself can fail: a store module importing the engine is caught."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from bot.conversation.engine import Engine\n    return Engine\n")
    found = imports_of(sample, "bot.store.sample")
    assert "bot.conversation.engine" in found
    assert layer_of("bot.conversation.engine") == ("bot.conversation", 3)
