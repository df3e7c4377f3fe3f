"""The command-line contracts other tools rely on (../shared/DESIGN.md), through the real CLI.

JSON shapes are asserted exactly (key sets and types), since a renamed key breaks a consumer
silently. Most commands run in-process through click's CliRunner on the real ``cli`` group; the
ones whose exit status comes from ``main()``'s error handling run as the installed console script.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import _plug_in, cli
from bot.language.flow_loader import load_flow_file
from bot.language.graph import dot, mermaid
from tests.core.fixtures.flowfiles import FIXTURE_FLOWS, FIXTURE_REGISTRY, write

POLICYBOT = Path(sys.executable).with_name("policybot")
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>.+)$")


@pytest.fixture(scope="module", autouse=True)
def plugged_in() -> None:
    _plug_in()


def invoke(*args: str, flows: Path = FIXTURE_FLOWS) -> Result:
    return CliRunner().invoke(cli, ["--flows", str(flows), *args], catch_exceptions=False)


def json_of(*args: str, flows: Path = FIXTURE_FLOWS) -> Any:
    result = invoke(*args, flows=flows)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(POLICYBOT), *args], capture_output=True, text=True, timeout=120, check=False)


# --- flows --json ------------------------------------------------------------------------------


def test_flows_json_lists_id_title_description_triggers() -> None:
    flows = json_of("flows", "--json")
    assert isinstance(flows, list)
    for entry in flows:
        assert set(entry) == {"id", "title", "description", "triggers"}
        assert all(isinstance(entry[key], str) for key in ("id", "title", "description"))
        assert isinstance(entry["triggers"], list) and all(isinstance(t, str) for t in entry["triggers"])
    assert flows == [
        {
            "id": "quick-post",
            "title": "Can I post this on my own account?",
            "description": "Checking a personal post that mentions work before it goes out.",
            "triggers": ["can I post this", "tweet about my job"],
        },
        {
            "id": "threat",
            "title": "Someone is threatening legal action over a post",
            "description": "",
            "triggers": ["threatening to sue", "solicitor says my post is defamatory"],
        },
    ]


# --- route --json ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "best"), [("threatening to sue", "threat"), ("can I tweet about my job", "quick-post")]
)
def test_route_json_scores_every_flow_best_first(text: str, best: str) -> None:
    matches = json_of("route", text, "--json")
    assert all(set(m) == {"flow", "score"} for m in matches)
    assert all(isinstance(m["flow"], str) and isinstance(m["score"], float) for m in matches)
    assert all(0.0 <= m["score"] <= 1.0 for m in matches)
    assert sorted(m["flow"] for m in matches) == ["quick-post", "threat"]
    assert matches[0]["flow"] == best
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1]


def test_route_json_for_blank_text_is_an_empty_list() -> None:
    assert json_of("route", "   ", "--json") == []


# --- paths --json ------------------------------------------------------------------------------


def assert_paths_shape(paths: Any) -> None:
    assert isinstance(paths, list) and paths
    for path in paths:
        assert set(path) == {"answers", "outcome"}
        for answer in path["answers"]:
            assert set(answer) == {"state", "question", "answer"}
            assert all(isinstance(answer[k], str) for k in answer)
        outcome = path["outcome"]
        assert set(outcome) == {"state", "verdict", "text", "escalate", "cite"}
        assert isinstance(outcome["state"], str) and isinstance(outcome["text"], str)
        assert outcome["verdict"] in {"go", "care", "stop", "act"}
        assert isinstance(outcome["escalate"], list) and all(isinstance(t, str) for t in outcome["escalate"])
        assert (
            isinstance(outcome["cite"], list) and outcome["cite"] and all(isinstance(c, str) for c in outcome["cite"])
        )


def test_paths_json_walks_every_way_to_an_outcome_rendered_for_the_example_org() -> None:
    paths = json_of("paths", "quick-post", "--json")
    assert_paths_shape(paths)
    trails = [([a["answer"] for a in p["answers"]], p["outcome"]["state"]) for p in paths]
    # the branch is decided by the example org (breaks_only), and the loop back through
    # explain_it is not walked twice
    assert trails == [
        (["Yes", "Yes: from council equipment"], "breaks_only"),
        (["Yes", "No, from my own phone"], "careful"),
        (["No"], "fine"),
    ]
    first = paths[0]
    assert first["answers"][0] == {
        "state": "mentions_work",
        "question": "Does the post mention the council or your job?",
        "answer": "Yes",
    }
    assert first["outcome"] == {
        "state": "breaks_only",
        "verdict": "care",
        "text": 'Only in your own time, for example in a break (you answered "Yes: from council equipment").',
        "escalate": [],
        "cite": ["notts-18"],
    }
    assert paths[1]["outcome"]["text"] == (
        "You can post it, Sam, with care.\nAdd the disclaimer: "
        '"The views I express here are mine alone and do not reflect the views of my employer."'
    )


def test_paths_json_escalate_includes_then_targets_once_each() -> None:
    paths = json_of("paths", "threat", "--json")
    assert_paths_shape(paths)
    assert [(p["outcome"]["state"], p["outcome"]["escalate"]) for p in paths] == [
        ("take_down", ["line_manager", "comms", "legal"]),
        ("keep_down", ["line_manager", "comms", "legal"]),
    ]
    assert paths[0]["outcome"]["text"] == "Take the post down now, then tell your line manager."
    assert paths[1]["outcome"]["text"] == "Keep it down and tell your line manager today."


def test_paths_follow_the_organisation_settings(tmp_path: Path) -> None:
    settings = write(tmp_path, "policybot.yaml", "org: {name: Testshire}\nrules: {personal_use_on_council_it: never}\n")
    result = CliRunner().invoke(
        cli, ["--settings", str(settings), "--flows", str(FIXTURE_FLOWS), "paths", "quick-post", "--json"]
    )
    assert result.exit_code == 0, result.output
    paths = json.loads(result.stdout)
    assert [p["outcome"]["state"] for p in paths] == ["not_on_council_it", "careful", "fine"]
    assert paths[0]["outcome"]["text"] == "Testshire does not allow personal social media on council equipment."


# --- validate --------------------------------------------------------------------------------


def test_validate_a_clean_folder_exits_0_and_prints_nothing() -> None:
    result = invoke("validate")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""  # the README: run validate until it prints nothing


def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "citations.yaml").write_text(FIXTURE_REGISTRY.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "threat.yaml").write_text((FIXTURE_FLOWS / "threat.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    write(
        folder,
        "typos.yaml",
        """
        id: typos
        titel: Misspelt
        start: a
        states:
          a:
            ask: Hello {{ org.nme }}?
            options:
              - {label: One, next: b}
          b: {verdict: go, say: Fine, cite: [nots-27]}
        """,
    )
    write(
        folder,
        "graph.yaml",
        """
        id: graph
        title: T
        start: a
        states:
          a:
            ask: What?
            options:
              - {label: One, next: done}
              - {label: Two, next: donne}
          done: {verdict: care, say: Fine}
        """,
    )
    write(folder, "broken.yaml", "id: broken\ntitle: [T\n")
    write(folder, "old.yml", "id: old\n")
    return folder


def test_validate_reports_every_problem_in_every_file_and_exits_1(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path)
    result = invoke("validate", flows=folder)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    parsed = [PROBLEM_LINE.match(line) for line in lines]
    assert all(parsed), lines
    found = {(Path(m["file"]).name, int(m["line"]), m["message"]) for m in parsed if m}
    assert found == {
        ("typos.yaml", 1, "'title' is missing here"),
        ("typos.yaml", 2, "unknown key 'titel' (did you mean 'title'?)"),
        ("typos.yaml", 6, "'org.nme' does not exist (did you mean 'name'?)"),
        ("typos.yaml", 9, "citation 'nots-27' is not in the citation registry (did you mean 'notts-27'?)"),
        ("graph.yaml", 9, "'a' goes next to 'donne', which is not a state (did you mean 'done'?)"),
        ("graph.yaml", 10, "outcome 'done' cites no policy paragraph; add cite: [id] from flows/citations.yaml"),
        (
            "broken.yaml",
            2,
            "YAML syntax error: the '[' opened on this line is not closed, or a comma is missing "
            "(did not find expected ',' or ']')",
        ),
        ("old.yml", 1, "flow files must end in .yaml; rename this file to old.yaml"),
    }
    assert len(lines) == len(found)  # each problem once
    assert lines == sorted(lines, key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    assert result.stderr == f"{len(found)} problems found.\n"


def test_validate_named_paths_only_and_a_missing_path(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path)
    result = invoke("validate", str(folder / "graph.yaml"), str(folder / "threat.yaml"), str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    names = sorted({Path(line.split(":")[0]).name for line in result.stdout.splitlines()})
    assert names == ["graph.yaml", "nope.yaml"]
    assert f"{tmp_path / 'nope.yaml'}:1: no such file or folder" in result.stdout.splitlines()


def test_validate_reports_a_bad_settings_file_as_problems_too(tmp_path: Path) -> None:
    settings = write(tmp_path, "policybot.yaml", "org:\n  nmae: Testshire\nworking_hours:\n  timezone: Mars/Base\n")
    result = CliRunner().invoke(cli, ["--settings", str(settings), "--flows", str(FIXTURE_FLOWS), "validate"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{settings}:2: unknown key 'nmae' (did you mean 'name'?)",
        f"{settings}:4: 'timezone' is 'Mars/Base', which is not a timezone name; use one like Europe/London",
    ]


def test_validate_reports_a_broken_registry(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    write(folder, "citations.yaml", "policies: {}\ncitations:\n  x: [1\n")
    result = invoke("validate", flows=folder)
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{folder / 'citations.yaml'}:3: YAML syntax error")


# --- graph -----------------------------------------------------------------------------------


def test_graph_prints_mermaid_by_default_and_dot_on_request() -> None:
    flow = load_flow_file(FIXTURE_FLOWS / "quick-post.yaml")
    assert invoke("graph", "quick-post").stdout == mermaid(flow)
    assert invoke("graph", "quick-post", "--format", "dot").stdout == dot(flow)
    assert invoke("graph", "quick-post", "--format", "png").exit_code == 2


# --- run ---------------------------------------------------------------------------------------


def test_run_walks_a_flow_with_numbers_and_words() -> None:
    finished = json_of("run", "threat", "--answer", "1", "--json")
    assert finished == {
        "finished": True,
        "state": "take_down",
        "verdict": "act",
        "text": "Take the post down now, then tell your line manager.",
        "checklist": [],
        "cite": ["notts-27"],
        "escalate": ["line_manager", "comms", "legal"],
    }
    by_words = json_of("run", "quick-post", "--answer", "yes", "--answer", "No, from my own phone", "--json")
    assert set(by_words) == {"finished", "state", "verdict", "text", "checklist", "cite", "escalate"}
    assert (by_words["state"], by_words["verdict"], by_words["checklist"]) == (
        "careful",
        "care",
        ["Add the disclaimer to your profile."],
    )
    assert by_words["text"].startswith("You can post it, You, with care.")


def test_run_that_stops_before_an_outcome_shows_the_next_question() -> None:
    unfinished = json_of("run", "quick-post", "--answer", "Yes", "--json")
    assert unfinished == {
        "finished": False,
        "state": "on_council_it",
        "question": "Will you post it from council equipment (a work phone or laptop)?",
        "options": ["Yes: from council equipment", "No, from my own phone", "What counts as council equipment?"],
    }
    text = invoke("run", "quick-post", "--answer", "Yes")
    assert text.exit_code == 3
    assert "Not finished. Next question (on_council_it)" in text.stdout


def test_run_errors_exit_2_with_a_message() -> None:
    flows = ["--flows", str(FIXTURE_FLOWS)]
    unknown = run_script(*flows, "run", "thret")
    assert unknown.returncode == 2
    assert "there is no flow called 'thret' (did you mean 'threat'?)" in unknown.stderr
    wrong = run_script(*flows, "run", "threat", "--answer", "maybe")
    assert wrong.returncode == 2
    assert "'maybe' is not an answer to \"Is the post still online?\"" in wrong.stderr
    too_many = run_script(*flows, "run", "threat", "--answer", "1", "--answer", "1")
    assert too_many.returncode == 2
    assert "the flow had already finished before the answer '1'" in too_many.stderr


def test_commands_on_a_folder_with_problems_exit_2_listing_them(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path)
    result = run_script("--flows", str(folder), "flows", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{folder / 'graph.yaml'}:9: 'a' goes next to 'donne'" in result.stderr
