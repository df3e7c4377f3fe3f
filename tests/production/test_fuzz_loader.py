"""Fuzzing the flow loader and validator: whatever YAML a comms officer writes, the validator
never crashes. It either accepts the flow or lists problems, each with the file, a line inside the
file and a message.

Three sources of input: random YAML structures; a valid flow with random parts deleted, replaced
or added; and the valid flow's text cut short or with characters inserted (syntax errors).
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.library import default_flows_dir
from bot.errors import FileProblems, Problem
from bot.language.citations import load_registry
from bot.language.flow_checks import check_flow
from bot.language.flow_loader import parse_flow
from bot.language.settings import load_settings
from tests.production.kit import BRANCHY_FLOW, chain_flow

FILENAME = "fuzzed.yaml"
REGISTRY = load_registry(default_flows_dir() / "citations.yaml")
SETTINGS = load_settings(None)
VALID_FLOWS = [BRANCHY_FLOW.replace("id: branchy", "id: fuzzed"), chain_flow("fuzzed", 3)]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FLOW_WORDS = [
    "id", "title", "start", "states", "ask", "options", "label", "next", "verdict", "say", "cite",
    "checklist", "escalate", "to", "then", "unacknowledged_after", "required", "urgency", "summary",
    "branch", "if", "else", "intro", "feedback", "correct", "triggers", "description",
    "go", "care", "stop", "act", "line_manager", "comms", "legal", "2h", "4wh", "notts-27", "first", "done",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(FLOW_WORDS),
    st.text(max_size=20),
    st.sampled_from(["{{ user.name }}", "{{ nope.nope }}", "{% for x in y %}", "{{ 1/0 }}", "{{", "}}"]),
)
KEYS = st.one_of(st.sampled_from(FLOW_WORDS), st.text(max_size=10), st.integers(min_value=0, max_value=5))
GARBAGE = ["\t", ":", "- ", "{", "[", '"', "'", "&a", "*a", "!!python/object:os.system", "---\n", "%"]
STRUCTURES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=40,
)


def validate(text: str) -> list[Problem]:
    """The loader and every check, as ``policybot validate`` runs them on one file."""
    try:
        flow = parse_flow(text, FILENAME)
    except FileProblems as err:
        assert err.problems, "FileProblems raised with no problem in it"
        return err.problems
    return check_flow(flow, REGISTRY, SETTINGS)


def assert_well_reported(text: str, problems: list[Problem]) -> None:
    last_line = max(1, text.count("\n") + 1)
    for problem in problems:
        assert problem.file == FILENAME
        assert 1 <= problem.line <= last_line, f"line {problem.line} is outside the file ({last_line} lines)"
        assert problem.message.strip(), "a problem with no message"
        assert "Traceback" not in problem.message


def test_the_starting_flows_are_valid() -> None:
    for text in VALID_FLOWS:
        assert validate(text) == []


@FUZZ
@given(data=STRUCTURES)
def test_random_yaml_structures_never_crash_the_validator(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    assert_well_reported(text, validate(text))


@FUZZ
@given(data=st.dictionaries(st.sampled_from(FLOW_WORDS), STRUCTURES, max_size=6))
def test_random_flow_shaped_mappings_never_crash_the_validator(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    problems = validate(text)
    assert_well_reported(text, problems)
    if "states" not in data:
        assert problems, "a flow without states was accepted"


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(root: Any, path: tuple[Any, ...], how: str, value: Any) -> None:
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = value
    elif isinstance(parent, dict):
        parent[f"{last}_extra" if isinstance(last, str) else "extra"] = value
    else:
        parent.insert(last, value)


@FUZZ
@given(
    which=st.sampled_from(range(len(VALID_FLOWS))),
    mutations=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(["delete", "replace", "add"]), STRUCTURES),
        min_size=1,
        max_size=4,
    ),
)
def test_a_valid_flow_with_random_parts_changed_never_crashes_the_validator(
    which: int, mutations: list[tuple[int, str, Any]]
) -> None:
    data = yaml.safe_load(VALID_FLOWS[which])
    for pick, how, value in mutations:
        paths = _paths(data)
        if not paths:
            break
        _mutate(data, paths[pick % len(paths)], how, value)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    assert_well_reported(text, validate(text))


@FUZZ
@given(
    which=st.sampled_from(range(len(VALID_FLOWS))),
    cut=st.integers(min_value=0),
    insert_at=st.integers(min_value=0),
    inserted=st.one_of(st.sampled_from(GARBAGE), st.text(max_size=5)),
)
def test_flow_text_cut_short_or_garbled_never_crashes_the_validator(
    which: int, cut: int, insert_at: int, inserted: str
) -> None:
    text = VALID_FLOWS[which]
    text = text[: cut % (len(text) + 1)]
    at = insert_at % (len(text) + 1)
    text = text[:at] + inserted + text[at:]
    assert_well_reported(text, validate(text))


def test_a_python_tag_is_refused_not_run() -> None:
    text = VALID_FLOWS[0].replace("title: ", "title: !!python/object/apply:os.system ['false'] #", 1)
    problems = validate(text)
    assert problems and any("tag" in p.message for p in problems)
