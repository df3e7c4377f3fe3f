"""Read a flow file into the flow model, collecting every structural problem with its line.

Structure only (keys, types, required fields); what the pieces mean together — links between
states, reachability, citations, templates — is checked in bot.language.flow_checks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.errors import FileProblems, Problem
from bot.language.flow_model import (
    BRANCH,
    OUTCOME,
    QUESTION,
    BranchRule,
    CiteRule,
    Duration,
    Escalation,
    Flow,
    Option,
    State,
)
from bot.language.i18n.flow_texts import split_translations
from bot.language.loose_states import loose_state, raw_successors
from bot.language.schema_check import did_you_mean, schema_problems
from bot.language.verdicts import Verdict
from bot.language.yamlload import LineDict, LineList, parse_yaml_text, read_text_file

SCHEMA_PATH = Path(__file__).parent.parent / "flow.schema.json"
FLOW_SUFFIX = ".yaml"
SCENARIO_SUFFIX = ".test.yaml"
NOT_FLOWS = frozenset({"citations.yaml", "policybot.example.yaml", "directory.example.yaml"})
MISNAMED_SUFFIX = ".yml"  # policybot reads only .yaml; such files are reported, never silently skipped
# The largest shipped flow has 40 states; a thousand is far past any real situation, and keeps the
# checks (all close to linear in the number of states) well under a second for any flow accepted.
MAX_STATES = 1_000


@dataclass(frozen=True)
class UnparsedState:
    """A state that is not even a recognisable kind of state: its line, and the ``next`` names it seems
    to have, so the graph checks can still walk through it."""

    line: int
    successors: tuple[str, ...]


class FlowProblems(FileProblems):
    """Structural problems in a flow file, plus whatever of the flow could still be read.

    ``partial`` holds every state of a recognisable kind: those that parsed cleanly, and those
    with problems as far as they could be read (``State.loose``); ``unparsed`` the others. So
    ``policybot validate`` also checks links, reachability, citations, targets and templates in
    the same run and shows every problem at once instead of one layer per run.
    """

    def __init__(
        self,
        problems: list[Problem],
        partial: Flow | None = None,
        unparsed: dict[str, UnparsedState] | None = None,
    ):
        super().__init__(problems)
        self.partial = partial
        self.unparsed = unparsed or {}


@lru_cache(maxsize=1)
def flow_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (editors use it through the yaml-language-server header)."""
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _checked_schema() -> dict[str, Any]:
    """The schema the loader checks with: a text is a string here, because the translations beside
    a text are taken out first (bot.language.i18n.flow_texts) and their shape checked there."""
    schema = dict(flow_schema())
    schema["$defs"] = dict(schema["$defs"]) | {"text": {"type": "string"}}
    return schema


@lru_cache(maxsize=1)
def _top_schema() -> dict[str, Any]:
    """The flow schema with states checked only as mappings: each state is checked on its own
    against the schema of its kind, which gives far clearer messages than one big oneOf."""
    schema = _checked_schema()
    top = dict(schema)
    top["properties"] = dict(schema["properties"])
    top["properties"]["states"] = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": schema["properties"]["states"]["propertyNames"],
    }
    return top


@lru_cache(maxsize=3)
def _state_schema(kind: str) -> dict[str, Any]:
    schema = _checked_schema()
    return dict(schema["$defs"][kind]) | {"$defs": schema["$defs"]}


def is_flow_file(path: Path) -> bool:
    return path.suffix == FLOW_SUFFIX and not path.name.endswith(SCENARIO_SUFFIX) and path.name not in NOT_FLOWS


def flow_files(paths: list[Path]) -> list[Path]:
    """Flow files named directly, plus those inside named folders (scenario and settings files excluded)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            misnamed = [p for p in path.glob(f"*{MISNAMED_SUFFIX}") if not p.name.endswith(f".test{MISNAMED_SUFFIX}")]
            found.extend(sorted([*(p for p in path.glob("*.yaml") if is_flow_file(p)), *misnamed]))
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
    data, duplicates = parse_yaml_text(text, filename)
    if not isinstance(data, LineDict):
        raise FileProblems(
            [
                Problem(
                    filename, getattr(data, "line", 1), "a flow file must be a mapping with id, title, start and states"
                )
            ]
        )
    texts, translation_status, text_problems = split_translations(data, filename)
    top_schema = _top_schema()
    problems = duplicates + text_problems + schema_problems(data, top_schema, filename)
    states: dict[str, State] = {}
    unparsed: dict[str, UnparsedState] = {}
    raw_states = data.get("states")
    if isinstance(raw_states, LineDict) and len(raw_states) > MAX_STATES:
        message = f"this flow has {len(raw_states):,} states; a flow may have at most {MAX_STATES:,}: split it"
        raise FileProblems([Problem(filename, data.line_of("states"), message)])
    if isinstance(raw_states, LineDict):
        for name, raw in raw_states.items():
            line = raw_states.line_of(name)
            if not isinstance(raw, LineDict):
                problems.append(Problem(filename, line, f"state '{name}' should be a mapping of keys"))
                unparsed[name] = UnparsedState(line, ())
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
                problems.extend(_unknown_state_keys(raw, filename))
                unparsed[name] = UnparsedState(line, raw_successors(raw))
                continue
            state_problems = schema_problems(raw, _state_schema(kind), filename)
            problems.extend(state_problems)
            build = loose_state if state_problems else _build_state
            states[name] = build(name, kind, raw, line)
    stem = Path(filename).name.removesuffix(FLOW_SUFFIX)
    flow_id = data.get("id")
    if check_file_name and isinstance(flow_id, str) and stem != flow_id:
        problems.append(
            Problem(
                filename,
                data.line_of("id"),
                f"the flow id '{flow_id}' should match the file name '{stem}{FLOW_SUFFIX}'",
            )
        )
    flow = Flow(
        id=_text(data, "id", stem),
        title=_text(data, "title", ""),
        description=_text(data, "description", ""),
        triggers=_texts(data, "triggers"),
        start=_text(data, "start", ""),
        states=states,
        version=version_of(text),
        source=text,
        path=filename,
        cite=_texts(data, "cite"),
        lines=dict(data.key_lines),
        examples=_texts(data, "examples"),
        welsh_examples=_texts(data, "welsh_examples"),
        negatives=_pairs(data, "negatives"),
        about=_texts(data, "about"),
        always_offer=data.get("always_offer") is True,
        texts=texts,
        translation_status=translation_status,
    )
    if problems:
        raise FlowProblems(problems, flow, unparsed)
    return flow


def _text(data: LineDict, key: str, default: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def _texts(data: LineDict, key: str) -> tuple[str, ...]:
    value = data.get(key)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _pairs(data: LineDict, key: str) -> dict[str, str]:
    value = data.get(key)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _unknown_state_keys(raw: LineDict, filename: str) -> list[Problem]:
    """For a state of no recognisable kind: each key no kind of state has, with a 'did you mean'."""
    known = [key for kind in (QUESTION, BRANCH, OUTCOME) for key in flow_schema()["$defs"][kind]["properties"]]
    return [
        Problem(filename, raw.line_of(key), f"unknown key '{key}'{did_you_mean(key, known)}")
        for key in raw
        if key not in known
    ]


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
                    next_line=o.line_of("next") if isinstance(o, LineDict) else options.line_of(i),
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
    cite_if = raw.get("cite_if") or []
    return State(
        name=name,
        kind=kind,
        line=line,
        verdict=Verdict(raw["verdict"]),
        say=raw["say"],
        checklist=tuple(raw.get("checklist", [])),
        cite=tuple(raw.get("cite", [])),
        cite_if=tuple(
            CiteRule(r["if"], tuple(r["cite"]), cite_if.line_of(i) if isinstance(cite_if, LineList) else line)
            for i, r in enumerate(cite_if)
        ),
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
    if path.suffix == MISNAMED_SUFFIX:
        message = f"flow files must end in {FLOW_SUFFIX}; rename this file to {path.stem}{FLOW_SUFFIX}"
        raise FileProblems([Problem(str(path), 1, message)])
    return parse_flow(read_text_file(path), str(path))
