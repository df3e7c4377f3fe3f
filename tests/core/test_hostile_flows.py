"""Hostile or careless flows (issue 12): each is refused by ``policybot validate`` with a
``file:line`` message, in a child process that may use at most 2 s of CPU and 200 MB more memory
than it started with (tests/core/limited_validate.py). Before the limits, each of these hung
validate, took gigabytes, crashed the process or printed a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.core.hostile_flows import HOSTILE, chain_flow
from tests.core.limited_validate import validate_limited

# flow -> (the line the problem is reported at, words the message must hold)
EXPECTED = {
    "huge-text": (11, "makes a text longer than 10,000 characters"),
    "nested-ranges": (11, "uses 'range', which does not exist"),
    "lipsum-bomb": (11, "uses 'lipsum', which does not exist"),
    "huge-power": (11, "makes a number longer than about 77 digits"),
    "power-in-branch": (11, "makes a number longer than about 77 digits"),
    "alias-bomb": (3, "more than 200,000 values once its aliases (*name) are followed"),
    "deep-mapping": (2, "nested more than 40 levels deep"),
    "deep-list": (2, "nested more than 40 levels deep"),
    "too-big": (1, "may be at most 1 MB"),
}

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>.+)$")


def test_every_hostile_flow_has_an_expectation() -> None:
    assert set(EXPECTED) == set(HOSTILE)


@pytest.mark.parametrize("flow_id", sorted(HOSTILE))
def test_a_hostile_flow_is_refused_quickly_in_little_memory_with_file_and_line(tmp_path: Path, flow_id: str) -> None:
    path = tmp_path / f"{flow_id}.yaml"
    path.write_text(HOSTILE[flow_id](), encoding="utf-8")
    run = validate_limited([path], memory_mb=200, cpu_seconds=2.0)
    # -24: stopped for using too much CPU time; -9 or -11: killed or crashed
    assert run.returncode == 1, f"exit {run.returncode}; stderr: {run.stderr[-800:]}"
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    line, words = EXPECTED[flow_id]
    parsed = [PROBLEM.match(problem) for problem in run.problems]
    assert all(parsed), run.problems
    found = [(int(m["line"]), m["message"]) for m in parsed if m and m["file"] == str(path)]
    assert any(at == line and words in message for at, message in found), found
    assert run.peak_rss_growth_mb is not None and run.peak_rss_growth_mb < 200


def test_a_thousand_state_flow_validates_clean_within_the_limits(tmp_path: Path) -> None:
    """The shape that took 17 s: a long chain whose every question can go back to the first."""
    path = tmp_path / "long-chain.yaml"
    path.write_text(chain_flow(1000), encoding="utf-8")
    run = validate_limited([path], memory_mb=200, cpu_seconds=2.0)
    assert (run.returncode, run.problems) == (0, []), run.stderr[-800:]


def test_one_state_past_the_limit_is_refused_at_the_states_line(tmp_path: Path) -> None:
    path = tmp_path / "long-chain.yaml"
    path.write_text(chain_flow(1001), encoding="utf-8")
    run = validate_limited([path], memory_mb=200, cpu_seconds=2.0)
    assert run.returncode == 1
    assert run.problems == [f"{path}:4: this flow has 1,001 states; a flow may have at most 1,000: split it"]
