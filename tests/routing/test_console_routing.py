"""What the router made of the first words, at the terminal: the "Understood" line, typing
"not this", the numbered few that follow and the clarifying question."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.engine import Engine
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.language.settings import load_settings
from bot.store import Store
from tests.core.test_console import scripted as chat


def scripted(tmp_path: Path, lines: list[str]) -> str:
    engine = Engine(FlowLibrary.load(default_flows_dir(), load_settings(None)), Store(f"sqlite:///{tmp_path}/c.db"))
    return chat(engine, lines)


def test_not_this_typed_at_the_terminal_offers_the_next_best_and_a_number_starts_it(tmp_path: Path) -> None:
    out = scripted(tmp_path, ["a client sent me a friend request on facebook", "not this", "1", "quit"])
    assert "✔ Understood: Someone sent me a friend request. (Not this? Type: not this)" in out
    assert "Who sent the request?" in out  # the flow started at once
    after = out.split("Which of these is it, then?", 1)
    assert len(after) == 2, out
    assert "  1. " in after[1] and "Something else" in after[1]
    first_offered = after[1].split("  1. ", 1)[1].splitlines()[0]
    assert first_offered != "Someone sent me a friend request"
    assert f"{first_offered} — question 1" in after[1]  # typing 1 started that flow


def test_a_message_it_cannot_place_gets_one_question_first(tmp_path: Path) -> None:
    out = scripted(tmp_path, ["hiya, quick one for you", "1", "quit"])
    assert "I'm not sure I've understood. What is it mainly about?" in out
    assert "1. Someone at risk, or a threat of legal action" in out
    narrowed = out.split("Which of these is closest to your situation?", 1)[1]
    assert "Something online worries me about a child or vulnerable adult" in narrowed
    assert "Someone is threatening legal action over a post" in narrowed
