"""The terminal chat: a scripted conversation through ConsoleChat, and the real `policybot chat`
command run as a process with typed input, including quitting and resuming."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adapters.console.chat import ConsoleChat
from bot.conversation.engine import Engine
from bot.conversation.events import Actor
from tests.core.flowkit import library, sqlite_store, write_flows

POLICYBOT = str(Path(sys.executable).with_name("policybot"))


def scripted(engine: Engine, lines: list[str]) -> str:
    said: list[str] = []
    feed = iter(lines)

    def ask(prompt: str) -> str:
        said.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    ConsoleChat(engine, Actor(user_id="console:tess", display_name="Tess"), ask=ask, say=said.append).run()
    return "\n".join(said)


def test_a_conversation_routes_asks_and_ends_with_verdict_checklist_and_citation(tmp_path: Path) -> None:
    engine = Engine(library(write_flows(tmp_path / "flows")), sqlite_store(tmp_path))
    out = scripted(engine, ["someone threatened to sue me over my tweet", "1", "why", "2", "quit"])
    assert "question 1 of up to 2" in out and "1. A council account" in out
    assert "No policy paragraph is attached to this question." in out  # 'why' at the second question
    assert "ACT NOW" in out
    assert "Take it down now and tell the Communications team and Legal Services." in out
    assert "Nottinghamshire County Council" in out and "paragraph 27" in out
    assert "Escalations are not switched on here: contact the Communications team, Legal Services yourself" in out


def test_menu_numbers_pick_a_topic(tmp_path: Path) -> None:
    engine = Engine(library(write_flows(tmp_path / "flows")), sqlite_store(tmp_path))
    out = scripted(engine, ["list", "1", "1", "quit"])
    assert "What's the situation?" in out
    assert "Can a personal post get you into trouble at work?" in out  # quiz is first alphabetically
    assert "Right - you are responsible for it." in out


def _run_chat(tmp_path: Path, flows: Path, typed: str) -> str:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "POLICYBOT_USER": "robin", "NO_COLOR": "1"}
    result = subprocess.run([POLICYBOT, "--flows", str(flows), "chat"], input=typed, capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quit_and_run_again_offers_to_carry_on(tmp_path: Path) -> None:
    flows = write_flows(tmp_path / "flows")
    first = _run_chat(tmp_path, flows, "legal action over my tweet\n1\nquit\n")
    assert "Can you reach your line manager today?" in first
    assert "Your answers are saved" in first
    second = _run_chat(tmp_path, flows, "y\n2\nquit\n")
    assert 'You have an unfinished check: "Someone threatened legal action about a post" (1 answered so far)' in second
    assert "Take it down now and tell the Communications team" in second
    third = _run_chat(tmp_path, flows, "quit\n")
    assert "unfinished" not in third
    assert (tmp_path / "data" / "policybot" / "policybot.db").is_file()


def test_end_of_input_leaves_cleanly(tmp_path: Path) -> None:
    out = _run_chat(tmp_path, write_flows(tmp_path / "flows"), "")
    assert out.rstrip().endswith("Bye.")
