"""`policybot validate` on the router's evidence: blank, repeated and contradictory examples and
negatives are reported at their own line, in the flow file a comms officer edits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.conversation.library import FlowLibrary, check_files
from bot.errors import FileProblems
from bot.language.citations import load_registry
from bot.language.settings import load_settings
from tests.core.flowkit import QUIZ_FLOW, REPORT_FLOW, write_flows

POLICYBOT = str(Path(sys.executable).with_name("policybot"))


def flows_with(tmp_path: Path, quiz_tail: str = "", report_tail: str = "") -> Path:
    return write_flows(tmp_path / "flows", {"quiz": QUIZ_FLOW + quiz_tail, "report": REPORT_FLOW + report_tail})


def problems_in(folder: Path) -> list[str]:
    _, found = check_files([folder], load_registry(folder / "citations.yaml"), load_settings(None))
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in found]


def line_of(path: Path, snippet: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if snippet in line)


def test_clean_examples_pass_and_reach_the_flow_model(tmp_path: Path) -> None:
    folder = flows_with(
        tmp_path,
        quiz_tail="examples:\n  - test me on the rules\n  - quiz pls\nwelsh_examples:\n  - Cwis os gwelwch yn dda\n"
        "negatives:\n  someone says they'll sue me: report\n",
    )
    assert problems_in(folder) == []
    quiz = FlowLibrary.load(folder, load_settings(None)).get("quiz")
    assert quiz.examples == ("test me on the rules", "quiz pls")
    assert quiz.welsh_examples == ("Cwis os gwelwch yn dda",)
    assert quiz.negatives == {"someone says they'll sue me": "report"}


def test_a_repeat_in_the_same_flow_points_at_the_first(tmp_path: Path) -> None:
    folder = flows_with(tmp_path, quiz_tail="examples:\n  - Quiz me, please!\n  - quiz me please\n")
    path = folder / "quiz.yaml"
    assert problems_in(folder) == [
        f"quiz.yaml:{line_of(path, 'quiz me please')}: 'quiz me please' repeats the example on line "
        f"{line_of(path, 'Quiz me, please!')}"
    ]


def test_a_message_given_to_two_flows_is_reported(tmp_path: Path) -> None:
    folder = flows_with(
        tmp_path, quiz_tail="examples:\n  - help with a post\n", report_tail="examples:\n  - Help with a post\n"
    )
    [problem] = problems_in(folder)
    assert problem.startswith(f"report.yaml:{line_of(folder / 'report.yaml', 'Help with a post')}: ")
    assert "is also an example of 'quiz'" in problem and "quiz.yaml:" in problem


def test_a_blank_message_is_reported(tmp_path: Path) -> None:
    folder = flows_with(tmp_path, quiz_tail="examples:\n  - quiz pls\n  - '  ?  '\n")
    assert problems_in(folder) == [
        f"quiz.yaml:{line_of(folder / 'quiz.yaml', '?  ')}: this example is blank: write the message or remove the line"
    ]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("negatives:\n  quiz me now: quiz\n", "is a negative, so it must name another flow"),
        ("negatives:\n  someone will sue: reprot\n", "names 'reprot', which is not a flow (did you mean 'report'?)"),
    ],
)
def test_a_negative_must_name_another_flow_that_exists(tmp_path: Path, tail: str, expected: str) -> None:
    folder = flows_with(tmp_path, quiz_tail=tail)
    [problem] = problems_in(folder)
    assert problem.startswith(f"quiz.yaml:{line_of(folder / 'quiz.yaml', tail.splitlines()[1].strip())}: ")
    assert expected in problem


def test_a_negative_that_is_another_flows_example_is_a_contradiction(tmp_path: Path) -> None:
    folder = flows_with(
        tmp_path,
        quiz_tail="examples:\n  - my tweet got a lawyer's letter\n",
        report_tail="negatives:\n  my tweet got a lawyers letter: quiz\n",
    )
    assert problems_in(folder) == [], "it names the flow it is an example of: consistent"
    folder = flows_with(
        tmp_path,
        quiz_tail="examples:\n  - my tweet got a lawyer's letter\n",
        report_tail="negatives:\n  my tweet got a lawyers letter: report\n",
    )
    problems = problems_in(folder)
    assert any("is named as belonging to 'report' but is an example of 'quiz'" in p for p in problems)


def test_a_negative_naming_a_flow_this_organisation_lacks_is_not_an_error(tmp_path: Path) -> None:
    folder = flows_with(tmp_path, quiz_tail="negatives:\n  someone says our wiki page is wrong: wiki-edit\n")
    assert problems_in(folder) == []
    assert FlowLibrary.load(folder, load_settings(None)).get("quiz").negatives  # kept, just not used


def test_validating_one_file_still_knows_the_flows_beside_it(tmp_path: Path) -> None:
    folder = flows_with(tmp_path, quiz_tail="negatives:\n  someone says they'll sue me: report\n")
    result = subprocess.run(
        [POLICYBOT, "--flows", str(folder), "validate", str(folder / "quiz.yaml")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_library_with_a_bad_example_refuses_to_load(tmp_path: Path) -> None:
    folder = flows_with(tmp_path, quiz_tail="negatives:\n  quiz me now: quiz\n")
    with pytest.raises(FileProblems):
        FlowLibrary.load(folder, load_settings(None))
