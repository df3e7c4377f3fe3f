"""``policybot coverage`` on small real flow folders and registries, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import cli

REGISTRY = """\
policies:
  alpha: {file: alpha.txt, title: "Alpha Council policy"}
  beta:  {file: beta.txt, title: "Beta Council guidance"}
citations:
  alpha-1:
    policy: alpha
    clause: "paragraph 1"
    quote: "Think before you post."
    summary: "Think first."
    audience: employee
  alpha-2:
    policy: alpha
    clause: "paragraph 2"
    quote: "Managers brief their staff."
    summary: "Managers brief staff."
    audience: manager
  beta-a:
    policy: beta
    clause: "heading 'A', bullet 1"
    quote: "Tell the comms team."
    summary: "Tell comms."
    audience: employee
  beta-b:
    policy: beta
    clause: "heading 'A', bullet 2"
    quote: "Comms keeps the accounts."
    summary: "Comms keeps accounts."
    audience: comms
"""

# alpha-1 is cited by the flow as a whole, beta-a only on a question, alpha-2 on an outcome.
FLOW_ONE = """\
id: one
title: Flow one
cite: [alpha-1]
start: q
states:
  q:
    ask: Yes or no?
    cite: [beta-a]
    options:
      - {label: "Yes", next: done}
      - {label: "No", next: done}
  done:
    verdict: go
    say: Fine.
    cite: [alpha-2]
"""

FLOW_TWO = """\
id: two
title: Flow two
start: done
states:
  done:
    verdict: stop
    say: No.
    cite: [alpha-2]
"""


def write_folder(folder: Path, registry: str = REGISTRY, **flows: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "citations.yaml").write_text(registry, encoding="utf-8")
    for name, text in flows.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def run(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--flows", str(folder), "coverage", *args])


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_lists_every_clause_in_registry_order_with_the_flows_citing_it(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "flows", one=FLOW_ONE, two=FLOW_TWO)
    data = as_json(run(folder, "--json"))
    assert data == {
        "clauses": [
            {"id": "alpha-1", "policy": "alpha", "clause": "paragraph 1", "audience": "employee", "cited_by": ["one"]},
            {
                "id": "alpha-2",
                "policy": "alpha",
                "clause": "paragraph 2",
                "audience": "manager",
                "cited_by": ["one", "two"],
            },
            {
                "id": "beta-a",
                "policy": "beta",
                "clause": "heading 'A', bullet 1",
                "audience": "employee",
                "cited_by": ["one"],
            },
            {"id": "beta-b", "policy": "beta", "clause": "heading 'A', bullet 2", "audience": "comms", "cited_by": []},
        ],
        "uncovered": ["beta-b"],
    }


def test_text_report_gives_totals_per_audience_per_policy_and_the_gaps(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "flows", two=FLOW_TWO)
    result = run(folder)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("1 of 4 clauses are cited by at least one flow (25.0%).")
    assert "employee:  0 of 2" in out
    assert "manager:   1 of 1" in out
    assert "comms:     0 of 1" in out
    assert "Alpha Council policy (alpha): 1 of 2 cited" in out
    assert "Beta Council guidance (beta): 0 of 2 cited" in out
    gaps = out.split("Not cited by any flow (3):")[1]
    assert "alpha-1  [employee] paragraph 1" in gaps
    assert "beta-b   [comms] heading 'A', bullet 2" in gaps
    assert "alpha-2" not in gaps


def test_no_flows_at_all_is_still_a_report_and_exits_0(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "flows")
    data = as_json(run(folder, "--json"))
    assert data["uncovered"] == ["alpha-1", "alpha-2", "beta-a", "beta-b"]
    assert all(c["cited_by"] == [] for c in data["clauses"])


def test_everything_cited_says_so(tmp_path: Path) -> None:
    everything = FLOW_TWO.replace("cite: [alpha-2]", "cite: [alpha-1, alpha-2, beta-a, beta-b]")
    folder = write_folder(tmp_path / "flows", two=everything)
    result = run(folder)
    assert result.exit_code == 0
    assert "4 of 4 clauses are cited" in result.stdout
    assert "Every clause is cited by at least one flow." in result.stdout
    assert as_json(run(folder, "--json"))["uncovered"] == []


def test_a_broken_flow_is_left_out_with_a_warning_and_the_rest_still_counts(tmp_path: Path) -> None:
    broken = "id: broken\ntitle: Half edited\nstart: q\nstates:\n  q: {ask: Why?, options: [\n"
    folder = write_folder(tmp_path / "flows", one=FLOW_ONE, broken=broken)
    result = run(folder, "--json")
    data = as_json(result)
    assert "warning: left out of the report:" in result.stderr
    assert "broken.yaml" in result.stderr
    cited = {c["id"]: c["cited_by"] for c in data["clauses"]}
    assert cited["alpha-1"] == ["one"]


def test_citations_missing_from_the_registry_are_warned_about_not_counted(tmp_path: Path) -> None:
    typo = FLOW_TWO.replace("cite: [alpha-2]", "cite: [alpha-2, alpha-9]")
    folder = write_folder(tmp_path / "flows", two=typo)
    result = run(folder, "--json")
    data = as_json(result)
    assert "'alpha-9' is cited by two but is not in the citation registry" in result.stderr
    assert [c["id"] for c in data["clauses"]] == ["alpha-1", "alpha-2", "beta-a", "beta-b"]
    assert "alpha-9" not in data["uncovered"]


def test_scenario_files_and_the_registry_are_not_read_as_flows(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "flows", one=FLOW_ONE)
    (folder / "one.test.yaml").write_text("flow: one\nscenarios: []\n", encoding="utf-8")
    result = run(folder, "--json")
    assert result.stderr == ""
    assert as_json(result)["uncovered"] == ["beta-b"]


def test_an_unreadable_registry_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "flows", registry="policies: {}\ncitations:\n  x-1: {policy: nowhere}\n")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("policybot")), "--flows", str(folder), "coverage"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "citations.yaml" in result.stderr
    assert "x-1" in result.stderr


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    """The report on the flows and registry shipped in the repository, from the installed CLI."""
    exe = Path(sys.executable).with_name("policybot")
    result = subprocess.run([str(exe), "coverage", "--json"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_shipped_report_covers_the_whole_registry(shipped: dict[str, Any]) -> None:
    from bot.language.citations import default_registry_path, load_registry

    registry = load_registry(default_registry_path())
    assert [c["id"] for c in shipped["clauses"]] == registry.ids()
    assert shipped["uncovered"] == [c["id"] for c in shipped["clauses"] if not c["cited_by"]]
    by_id = {c["id"]: c for c in shipped["clauses"]}
    assert "legal-threat" in by_id["notts-27"]["cited_by"]
    assert by_id["notts-27"]["policy"] == "notts"
