"""Flows and helpers for the production tests.

The flows are written here rather than taken from flows/ so a comms edit to a real flow never
changes what these tests exercise: a chain of questions where every option leads to the same
next question (so two people clicking different options on the same turn race for the same row),
ending in an outcome that must escalate.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.conversation.engine import Engine
from bot.conversation.escalation import CaseOpener
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.language.settings import load_settings
from bot.store import Store

CHAIN_LENGTH = 5


def chain_flow(flow_id: str = "chain", length: int = CHAIN_LENGTH) -> str:
    """A flow of ``length`` questions, two options each, both leading on, then an escalating outcome."""
    lines = [
        f"id: {flow_id}",
        "title: A chain of questions for concurrency tests",
        "triggers: [chain of questions]",
        "start: q1",
        "states:",
    ]
    for k in range(1, length + 1):
        following = f"q{k + 1}" if k < length else "report"
        lines += [
            f"  q{k}:",
            f"    ask: Question {k}?",
            "    cite: [notts-27]",
            "    options:",
            f"      - {{label: Yes to {k}, next: {following}}}",
            f"      - {{label: No to {k}, next: {following}}}",
        ]
    lines += [
        "  report:",
        "    verdict: act",
        "    say: Take it down and tell your line manager.",
        "    cite: [notts-27]",
        "    escalate: {to: [line_manager], then: [comms], unacknowledged_after: 2h, required: true}",
    ]
    return "\n".join(lines) + "\n"


BRANCHY_FLOW = """\
id: branchy
title: Questions, a branch on the settings, feedback and an optional escalation
triggers: [branchy test flow]
start: first
states:
  first:
    ask: Where was it posted?
    cite: [notts-27]
    options:
      - {label: A council account, next: rule, feedback: Thanks., correct: true}
      - {label: My own account, next: own, correct: false}
      - {label: Somewhere else, next: offer}
  rule:
    branch:
      - if: "org.rules.personal_use_on_council_it == 'never'"
        next: strict
      - else: second
  second:
    ask: Is it still online, {{ user.first_name or "friend" }}?
    options:
      - {label: "Yes", next: first}
      - {label: "No", next: done}
  own:
    verdict: care
    say: Be careful, {{ user.name or "friend" }}; you said {{ answers.first }}.
    checklist: [Check the post again]
    cite: [notts-27]
  offer:
    verdict: act
    say: Tell someone.
    cite: [notts-27]
    escalate: {to: [comms]}
  strict:
    verdict: stop
    say: Not on council computers.
    cite: [notts-27]
  done:
    verdict: go
    say: Nothing more to do.
    cite: [notts-27]
"""


def write_flows(folder: Path, flows: dict[str, str] | None = None) -> Path:
    """A flow folder with the given flows (default: the chain) and the real citation registry."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(default_flows_dir() / "citations.yaml", folder / "citations.yaml")
    for flow_id, text in (flows or {"chain": chain_flow()}).items():
        (folder / f"{flow_id}.yaml").write_text(text, encoding="utf-8")
    return folder


def make_engine(flows_dir: Path, database_url: str, *, cases: CaseOpener | None = None) -> Engine:
    library = FlowLibrary.load(flows_dir, load_settings(None))
    return Engine(library, Store(database_url), cases=cases)


# -- for the payload fuzzers -----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


# Up to three changes to a payload, each applied with ``mutate``: where (a path of indexes into the
# payload's keys and items), how, and the value to put there.
PAYLOAD_CHANGES = st.lists(
    st.tuples(
        st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=4),
        st.sampled_from(["delete", "replace", "add"]),
        JSON_VALUES,
    ),
    min_size=1,
    max_size=3,
)


def mutate(node: Any, path: list[int], how: str, value: Any) -> Any:
    """``node`` with the element that ``path`` picks deleted, replaced by ``value`` or given a sibling."""
    if not path or not isinstance(node, (dict, list)) or not node:
        return value if how == "replace" else node
    keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
    key = keys[path[0] % len(keys)]
    copy = dict(node) if isinstance(node, dict) else list(node)
    if len(path) == 1 or not isinstance(copy[key], (dict, list)):  # type: ignore[index]
        if how == "delete":
            del copy[key]  # type: ignore[arg-type]
        elif how == "replace":
            copy[key] = value  # type: ignore[index]
        elif isinstance(copy, dict):
            copy[f"{key}_x"] = value
        else:
            copy.insert(key, value)
        return copy
    copy[key] = mutate(copy[key], path[1:], how, value)  # type: ignore[index]
    return copy
