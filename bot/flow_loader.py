"""Read a flow file into the flow model, collecting every structural problem with its line.

Structure only (keys, types, required fields); what the pieces mean together — links between
states, reachability, citations, templates — is checked in bot.flow_checks.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.errors import FileProblems, Problem
from bot.flow_model import BRANCH, OUTCOME, QUESTION, BranchRule, Duration, Escalation, Flow, Option, State
from bot.replies import Verdict
from bot.schema_check import schema_problems
from bot.yamlload import LineDict, LineList, load_yaml_text

SCHEMA_PATH = Path(__file__).with_name("flow.schema.json")
FLOW_SUFFIX = ".yaml"
SCENARIO_SUFFIX = ".test.yaml"
NOT_FLOWS = frozenset({"citations.yaml", "policybot.example.yaml", "directory.example.yaml"})


@lru_cache(maxsize=1)
def flow_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (editors use it through the yaml-language-server header)."""
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _top_schema() -> dict[str, Any]:
    """The flow schema with states checked only as mappings: each state is checked on its own
    against the schema of its kind, which gives far clearer messages than one big oneOf."""
    schema = flow_schema()
    top = dict(schema)
    top["properties"] = dict(schema["properties"])
    top["properties"]["states"] = {"type": "object", "minProperties": 1,
                                   "propertyNames": schema["properties"]["states"]["propertyNames"]}
    return top


@lru_cache(maxsize=3)
def _state_schema(kind: str) -> dict[str, Any]:
    schema = flow_schema()
    return dict(schema["$defs"][kind]) | {"$defs": schema["$defs"]}


def is_flow_file(path: Path) -> bool:
    return path.suffix == FLOW_SUFFIX and not path.name.endswith(SCENARIO_SUFFIX) and path.name not in NOT_FLOWS


def flow_files(paths: list[Path]) -> list[Path]:
    """Flow files named directly, plus those inside named folders (scenario and settings files excluded)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.yaml") if is_flow_file(p)))
        else:
            found.append(path)
    return found


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _state_kind(raw: LineDict) -> str | None:
    if "branch" in raw:
        return BRANCH
    if "ask" in raw or "options" in raw:
        return QUESTION
    if "verdict" in raw or "say" in raw:
        return OUTCOME
    return None


def parse_flow(text: str, filename: str, *, check_file_name: bool = True) -> Flow:
    """Parse one flow's YAML text. Raises FileProblems listing every structural problem.

    ``check_file_name`` is off for versions reloaded from the store, which have no file.
    """
    data = load_yaml_text(text, filename)
    if not isinstance(data, LineDict):
        raise FileProblems(
            [
                Problem(
                    filename, getattr(data, "line", 1), "a flow file must be a mapping with id, title, start and states"
                )
            ]
        )
    top_schema = _top_schema()
    problems = schema_problems(data, top_schema, filename)
    states: dict[str, State] = {}
    raw_states = data.get("states")
    if isinstance(raw_states, LineDict):
        for name, raw in raw_states.items():
            line = raw_states.line_of(name)
            if not isinstance(raw, LineDict):
                problems.append(Problem(filename, line, f"state '{name}' should be a mapping of keys"))
                continue
            kind = _state_kind(raw)
            if kind is None:
                problems.append(
                    Problem(
                        filename,
                        line,
                        f"state '{name}' is neither a question (ask + options), "
                        "a branch (branch) nor an outcome (verdict + say)",
                    )
                )
                continue
            state_problems = schema_problems(raw, _state_schema(kind), filename)
            problems.extend(state_problems)
            if not state_problems:
                states[name] = _build_state(name, kind, raw, line)
    if problems:
        raise FileProblems(problems)
    stem = Path(filename).name.removesuffix(FLOW_SUFFIX)
    if check_file_name and stem != data["id"]:
        raise FileProblems(
            [
                Problem(
                    filename,
                    data.line_of("id"),
                    f"the flow id '{data['id']}' should match the file name '{stem}{FLOW_SUFFIX}'",
                )
            ]
        )
    return Flow(
        id=data["id"],
        title=data["title"],
        description=data.get("description", ""),
        triggers=tuple(data.get("triggers", [])),
        start=data["start"],
        states=states,
        version=version_of(text),
        source=text,
        path=filename,
        cite=tuple(data.get("cite", [])),
        lines=dict(data.key_lines),
    )


def _build_state(name: str, kind: str, raw: LineDict, line: int) -> State:
    if kind == QUESTION:
        options = raw["options"]
        return State(
            name=name,
            kind=kind,
            line=line,
            ask=raw["ask"],
            intro=raw.get("intro"),
            cite=tuple(raw.get("cite", [])),
            options=tuple(
                Option(
                    label=o["label"],
                    next=o["next"],
                    line=options.line_of(i),
                    feedback=o.get("feedback"),
                    correct=o.get("correct"),
                )
                for i, o in enumerate(options)
            ),
        )
    if kind == BRANCH:
        rules: LineList = raw["branch"]
        return State(
            name=name,
            kind=kind,
            line=line,
            branch=tuple(
                BranchRule(condition=r.get("if"), next=r["next"] if "if" in r else r["else"], line=rules.line_of(i))
                for i, r in enumerate(rules)
            ),
        )
    escalate = raw.get("escalate")
    return State(
        name=name,
        kind=kind,
        line=line,
        verdict=Verdict(raw["verdict"]),
        say=raw["say"],
        checklist=tuple(raw.get("checklist", [])),
        cite=tuple(raw.get("cite", [])),
        escalate=None
        if escalate is None
        else Escalation(
            to=tuple(escalate["to"]),
            then=tuple(escalate.get("then", [])),
            unacknowledged_after=Duration.parse(escalate["unacknowledged_after"])
            if "unacknowledged_after" in escalate
            else None,
            required=bool(escalate.get("required", False)),
            urgency=escalate.get("urgency", "normal"),
            summary=escalate.get("summary"),
        ),
    )


def load_flow_file(path: Path) -> Flow:
    """Read and parse one flow file (see parse_flow)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblems([Problem(str(path), 1, "file not found")]) from None
    except UnicodeDecodeError:
        raise FileProblems([Problem(str(path), 1, "the file is not UTF-8 text; save it as UTF-8")]) from None
    return parse_flow(text, str(path))
