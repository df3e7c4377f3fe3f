"""What some tests read from beside the checkout: ``../shared`` holds the four councils' policy
texts (``shared/policy``) and the platforms' manifest schemas (``shared/schemas``).

Where they are missing (a checkout on its own) those tests skip with the reason; with
POLICYBOT_REQUIRE_SERVICES=1 (CI) they fail instead, as a missing PostgreSQL does
(tests/conftest.py), so a CI machine without ../shared cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import services_required

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def need_input(path: Path | None, what: str, fix: str) -> Path:
    """``path`` if it exists; else skip (fail when CI requires every input) saying what to do."""
    if path is not None and path.exists():
        return path
    where = f" (looked for {path})" if path is not None else ""
    problem = f"{what} is not here{where}; {fix}"
    if services_required():
        pytest.fail(f"{problem}. POLICYBOT_REQUIRE_SERVICES=1 says it must be there")
    pytest.skip(problem)


def shared_schema(name: str, what: str) -> Path:
    """A JSON schema from ../shared/schemas."""
    return need_input(SHARED / "schemas" / name, what, "put the shared folder beside the checkout (../shared)")


def policy_texts() -> Path:
    """The policy texts: $POLICYBOT_POLICY_DIR, else ../shared/policy."""
    from bot.language.citations import default_policy_dir

    chosen = os.environ.get("POLICYBOT_POLICY_DIR")
    if chosen and not Path(chosen).is_dir():
        pytest.fail(f"the policy folder {chosen} (from POLICYBOT_POLICY_DIR) does not exist")
    return need_input(
        default_policy_dir(),
        "the policy texts",
        "set POLICYBOT_POLICY_DIR or put them in ../shared/policy",
    )


def need_tools(problems: list[str]) -> None:
    """Nothing when ``problems`` is empty (Node, Chromium, npm packages: what a browser or Node test
    needs is there); else skip saying what to install, and fail when CI requires every input."""
    if not problems:
        return
    problem = "; ".join(problems)
    if services_required():
        pytest.fail(f"{problem}; POLICYBOT_REQUIRE_SERVICES=1 says it must be there")
    pytest.skip(problem)
