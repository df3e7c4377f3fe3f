"""Tests that need something beside the checkout (PostgreSQL, ../shared's policy texts and
schemas) skip where it is missing but fail when CI says everything must be there
(POLICYBOT_REQUIRE_SERVICES=1), and no test skips any other way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.shared_inputs import SHARED, need_input, policy_texts, shared_schema

TESTS = Path(__file__).resolve().parent
SKIPPING_HELPERS = {TESTS / "conftest.py", TESTS / "shared_inputs.py"}


def test_a_missing_input_skips_on_a_developer_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYBOT_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="the thing is not here"):
        need_input(tmp_path / "absent", "the thing", "put it there")


def test_a_missing_input_fails_when_ci_requires_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="POLICYBOT_REQUIRE_SERVICES=1 says it must be there"):
        need_input(tmp_path / "absent", "the thing", "put it there")
    with pytest.raises(pytest.fail.Exception):
        shared_schema("no-such-schema.json", "a schema")
    monkeypatch.setenv("POLICYBOT_POLICY_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match="does not exist"):
        policy_texts()


def test_a_present_input_is_returned(tmp_path: Path) -> None:
    assert need_input(tmp_path, "a folder", "make it") == tmp_path


def test_no_test_skips_except_through_the_helpers_that_fail_in_ci() -> None:
    offenders = []
    for path in TESTS.rglob("*.py"):
        if path in SKIPPING_HELPERS or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"pytest\.skip\(|importorskip\(|mark\.skip(if)?\b", text):
            offenders.append(str(path.relative_to(TESTS)))
    assert offenders == []


def test_the_readme_says_what_the_tests_need_beside_the_checkout() -> None:
    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    assert "../shared" in readme and "POLICYBOT_REQUIRE_SERVICES=1" in readme
    assert SHARED.name == "shared"
