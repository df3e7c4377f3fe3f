"""The README's tour and the escalation walkthrough in docs/escalations.md, run as written.

The README's ```console blocks under "A short tour" are transcripts: ``$ command`` lines are run
(in a fresh folder with a fresh data folder, as in a new clone), ``> text`` lines are what is
typed, and every other line is what the screen must show, in order. A line that is only ``…``
stands for any number of lines left out; ``…`` inside a line stands for any text. Case references
are random, so any ``case 1a2b3c4d`` matches any other. When a flow's wording changes, this test
fails until the README shows what the screen really shows.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GAP = "…"


@dataclass
class Run:
    command: str
    typed: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # expected screen lines, typed lines included


def tour_runs(readme: str) -> list[Run]:
    """Every ``$ command`` of the console blocks in the README's "A short tour" section."""
    section = readme.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    runs: list[Run] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                runs.append(Run(line[2:]))
                continue
            assert runs, f"a console block must start with a $ command: {line!r}"
            if line.startswith("> "):
                runs[-1].typed.append(line[2:])
            runs[-1].shown.append(line)
    return runs


def _same_case(text: str) -> str:
    return re.sub(r"\bcase [0-9a-f]{8}\b", "case 00000000", text)


def screen_pattern(shown: list[str]) -> re.Pattern[str]:
    parts = []
    for line in shown:
        line = _same_case(line.rstrip())
        if line == GAP:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*".join(re.escape(piece) for piece in line.split(GAP)) + r" *\n")
    return re.compile("".join(parts) + r"\Z" if shown else r"\Z")


def run(command: str, cwd: Path, typed: list[str], columns: int = 80) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    argv[0] = str(BIN / argv[0]) if (BIN / argv[0]).exists() else argv[0]
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", "PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run(
        argv,
        input="".join(f"{t}\n" for t in typed),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_readme_tour_is_parsed_into_commands_typed_lines_and_screens() -> None:
    runs = tour_runs((REPO / "README.md").read_text(encoding="utf-8"))
    assert [r.command for r in runs] == ["policybot chat", "policybot validate", "policybot test",
                                         "policybot graph legal-threat"]  # fmt: skip
    assert runs[0].typed == ["someone threatened to sue me over my tweet", "council account", "1", "no", "quit"]
    assert "What's the situation?" not in (REPO / "README.md").read_text(encoding="utf-8")  # the chat never asks it


def test_the_pattern_matches_only_what_the_transcript_says() -> None:
    pattern = screen_pattern(["a", GAP, "c … e", "case 1a2b3c4d"])
    assert pattern.match(_same_case("a\nb\nb\nc d e\ncase 99999999\n"))
    assert not pattern.match(_same_case("a\nc d e\n"))  # the last line is missing
    assert not pattern.match(_same_case("x\nc d e\ncase 99999999\n"))  # the first line differs
    assert not pattern.match(_same_case("a\nc d\ncase 99999999\n"))


@pytest.mark.parametrize("index", range(4))
def test_each_readme_tour_command_shows_what_the_readme_says(tmp_path: Path, index: int) -> None:
    runs = tour_runs((REPO / "README.md").read_text(encoding="utf-8"))
    tour = runs[index]
    result = run(tour.command, tmp_path, tour.typed)
    assert result.returncode == 0, result.stderr
    screen = _same_case(result.stdout)
    assert screen_pattern(tour.shown).match(screen), (
        f"`{tour.command}` printed:\n{result.stdout}\nwhich is not what README.md shows:\n" + "\n".join(tour.shown)
    )
    if tour.command == "policybot chat":
        # the embedded store, created on first run in the data folder (~/.local/share/policybot)
        assert (Path(os.environ["XDG_DATA_HOME"]) / "policybot" / "policybot.db").is_file()


# -- docs/escalations.md: "Try it with no chat platform" --------------------------------------------

WALKTHROUGH = [
    "cp flows/directory.example.yaml directory.yaml",
    "printf 'directory: directory.yaml\\n' > policybot.yaml",
    "policybot chat --user amara",
    "policybot cases",
    "policybot cases ack <id> --as dev",
    "policybot worker --once",
]


def test_the_escalation_walkthrough_does_what_docs_escalations_says(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "escalations.md").read_text(encoding="utf-8")
    block = doc.split("Try it with no chat platform:", 1)[1].split("```", 2)[1]
    commands = [line.split("  #")[0].strip() for line in block.strip().splitlines()]
    assert commands == WALKTHROUGH
    assert "prints what Dev Patel would receive" not in doc  # the worker does not: the chat does

    (tmp_path / "directory.yaml").write_bytes((REPO / "flows" / "directory.example.yaml").read_bytes())
    (tmp_path / "policybot.yaml").write_text("directory: directory.yaml\n")
    chat = run("policybot chat --user amara", tmp_path, ["someone threatened to sue me over my tweet", "1", "1", "1"])
    assert chat.returncode == 0, chat.stderr
    assert "policybot would send" in chat.stdout and "To: Dev Patel" in chat.stdout  # printed by the chat
    listed = run("policybot cases", tmp_path, [])
    case_id = re.search(r"^([0-9a-f]{8}) +open .*Dev Patel", listed.stdout, flags=re.MULTILINE)
    assert case_id, listed.stdout
    first = run("policybot worker --once", tmp_path, [])
    assert "delivered 0" in first.stderr and "policybot would send" not in first.stdout  # nothing left
    ack = run(f"policybot cases ack {case_id[1]} --as dev", tmp_path, [])
    assert ack.returncode == 0 and "Dev Patel" in ack.stdout, ack.stderr
    told = run("policybot worker --once", tmp_path, [])
    assert "To: Amara Okafor" in told.stdout and "Dev Patel has picked up your case" in told.stdout
    assert '"Dev Patel has picked up your case"' in doc
