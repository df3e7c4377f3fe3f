"""The terminal chat: a scripted conversation through ConsoleChat, and the real `policybot chat`
command run as a process with typed input, including quitting, resuming, Ctrl-D and Ctrl-C, and
the layout at 60, 80 and 120 columns."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from adapters.console.chat import ConsoleChat
from bot.conversation.engine import Engine
from bot.conversation.events import Actor
from bot.language.citations import default_registry_path, load_registry
from tests.core.flowkit import library, sqlite_store, write_flows

POLICYBOT = str(Path(sys.executable).with_name("policybot"))


def flat(text: str) -> str:
    """Output with styling removed and every run of whitespace (line wrapping) made one space."""
    return " ".join(click.unstyle(text).split())


def scripted(engine: Engine, lines: list[str], width: int = 80) -> str:
    said: list[str] = []
    feed = iter(lines)

    def ask(prompt: str) -> str:
        try:
            line = next(feed)
        except StopIteration:
            said.append(prompt)
            raise EOFError from None
        said.append(f"{prompt} {line}")  # as the screen shows it: the prompt and what was typed
        return line

    actor = Actor(user_id="console:tess", display_name="Tess")
    ConsoleChat(engine, actor, ask=ask, say=said.append, width=width).run()
    return "\n".join(said)


def test_a_conversation_routes_asks_and_ends_with_verdict_checklist_and_citation(tmp_path: Path) -> None:
    engine = Engine(library(write_flows(tmp_path / "flows")), sqlite_store(tmp_path))
    out = flat(scripted(engine, ["someone threatened to sue me over my tweet", "1", "why", "2", "quit"]))
    assert "question 1 of up to 2" in out and "1. A council account" in out
    assert "No policy paragraph is attached to this question." in out  # 'why' at the second question
    assert "ACT NOW" in out
    assert "Take it down now and tell the Communications team and Legal Services." in out
    assert "Nottinghamshire County Council" in out and "paragraph 27" in out
    assert "Escalations are not switched on here: contact the Communications team, Legal Services yourself" in out


def test_why_shows_the_policy_and_then_the_question_again(tmp_path: Path) -> None:
    engine = Engine(library(write_flows(tmp_path / "flows")), sqlite_store(tmp_path))
    out = flat(scripted(engine, ["someone threatened to sue me over my tweet", "why", "quit"]))
    after_why = out.split("Why this is asked:", 1)[1]
    assert "paragraph 27" in after_why
    assert "Where was it posted? 1. A council account 2. My own account" in after_why


def test_menu_numbers_pick_a_topic(tmp_path: Path) -> None:
    engine = Engine(library(write_flows(tmp_path / "flows")), sqlite_store(tmp_path))
    out = flat(scripted(engine, ["list", "1", "1", "quit"]))
    assert "Which of these is closest" in out or "What's the situation?" in out
    assert "Can a personal post get you into trouble at work?" in out  # quiz is first alphabetically
    assert "Right - you are responsible for it." in out


def test_a_new_situation_is_offered_then_switched_to_and_the_old_check_resumed(tmp_path: Path) -> None:
    engine = Engine(library(write_flows(tmp_path / "flows")), sqlite_store(tmp_path))
    out = flat(
        scripted(
            engine,
            ["quiz me", "1", "someone threatened legal action over my tweet", "switch", "resume", "quit"],
        )
    )
    assert 'That sounds like a different situation: "Someone threatened legal action about a post"' in out
    assert "Type switch to start it" in out
    offered, switched = out.split("> switch", 1)
    assert offered.count("When may you use social media on a council computer?") == 2  # asked, and asked again
    assert 'Your check "A short quiz about posting at work" is kept where you left it' in switched
    started, resumed = switched.split("> resume", 1)
    assert "Where was it posted?" in started
    assert "When may you use social media on a council computer?" in resumed


def _env(tmp_path: Path, columns: int = 80) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "POLICYBOT_USER": "robin",
        "NO_COLOR": "1",
        "COLUMNS": str(columns),
    }


def _run_chat(tmp_path: Path, flows: Path, typed: str, *, columns: int = 80, args: tuple[str, ...] = ()) -> str:
    result = subprocess.run(
        [POLICYBOT, "--flows", str(flows), *args, "chat"],
        input=typed,
        capture_output=True,
        text=True,
        env=_env(tmp_path, columns),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quit_and_run_again_offers_to_carry_on(tmp_path: Path) -> None:
    flows = write_flows(tmp_path / "flows")
    first = flat(_run_chat(tmp_path, flows, "legal action over my tweet\n1\nquit\n"))
    assert "Can you reach your line manager today?" in first
    assert "Your answers are saved" in first
    second = flat(_run_chat(tmp_path, flows, "y\n2\nquit\n"))
    assert 'You have an unfinished check: "Someone threatened legal action about a post" (1 answered so far)' in second
    assert "Take it down now and tell the Communications team" in second
    third = _run_chat(tmp_path, flows, "quit\n")
    assert "unfinished" not in third
    assert (tmp_path / "data" / "policybot" / "policybot.db").is_file()


@pytest.mark.parametrize("leave", ["quit", "exit"])
def test_quit_or_exit_at_the_resume_prompt_keeps_the_check(tmp_path: Path, leave: str) -> None:
    flows = write_flows(tmp_path / "flows")
    _run_chat(tmp_path, flows, "legal action over my tweet\n1\nquit\n")
    second = flat(_run_chat(tmp_path, flows, f"{leave}\n"))
    assert '"stop this check" to end it, or quit to leave' in second  # the hint names both
    assert second.endswith("Bye. Your answers are saved: run policybot chat again to carry on.")
    third = flat(_run_chat(tmp_path, flows, "\nquit\n"))  # Enter carries on: nothing was lost
    assert "(1 answered so far)" in third and "Can you reach your line manager today?" in third


def test_stop_this_check_at_the_resume_prompt_ends_it(tmp_path: Path) -> None:
    flows = write_flows(tmp_path / "flows")
    _run_chat(tmp_path, flows, "legal action over my tweet\n1\nquit\n")
    second = flat(_run_chat(tmp_path, flows, "stop this check\nquit\n"))
    assert "Stopped. Nothing was sent to anyone." in second
    assert "unfinished" not in _run_chat(tmp_path, flows, "quit\n")


def test_end_of_input_prints_bye_on_its_own_line(tmp_path: Path) -> None:
    out = _run_chat(tmp_path, write_flows(tmp_path / "flows"), "")
    assert out.splitlines()[-1] == "Bye."
    mid = _run_chat(tmp_path, write_flows(tmp_path / "flows2"), "legal action over my tweet\n")
    assert mid.splitlines()[-1] == "Bye. Your answers are saved: run policybot chat again to carry on."


def test_ctrl_c_leaves_with_status_130_and_keeps_the_answers(tmp_path: Path) -> None:
    flows = write_flows(tmp_path / "flows")
    chat = subprocess.Popen(
        [POLICYBOT, "--flows", str(flows), "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    assert chat.stdin is not None
    chat.stdin.write("legal action over my tweet\n1\n")
    chat.stdin.flush()  # the pipe stays open: the chat waits at its prompt
    time.sleep(15)  # a cold start of the CLI on a loaded machine; the chat then blocks on input
    chat.send_signal(signal.SIGINT)
    out, err = chat.communicate(timeout=60)
    assert chat.returncode == 130, (out, err)
    assert out.splitlines()[-1] == "Bye. Your answers are saved: run policybot chat again to carry on."
    assert "Traceback" not in err
    assert "(1 answered so far)" in flat(_run_chat(tmp_path, flows, "quit\n"))


# -- layout -------------------------------------------------------------------------------------------


def _directory(tmp_path: Path) -> Path:
    people = tmp_path / "people.yaml"
    people.write_text(
        "people:\n"
        "  - {id: robin, name: Robin Hood, manager: dev}\n"
        "  - {id: dev, name: Dev Patel, email: dev.patel@example.gov.uk}\n",
        encoding="utf-8",
    )
    settings = tmp_path / "policybot.yaml"
    settings.write_text(f"directory: {people}\n", encoding="utf-8")
    return settings


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_every_block_fits_the_terminal_width_without_splitting_words(tmp_path: Path, columns: int) -> None:
    flows = write_flows(tmp_path / "flows")
    settings = _directory(tmp_path)
    # own account: an outcome with a citation and an escalation offer (preview, consent, sending)
    typed = "legal action over my tweet\nwhy\n2\ny\nplease call me\nquit\n"
    out = _run_chat(tmp_path, flows, typed, columns=columns, args=("--settings", str(settings)))
    lines = out.splitlines()
    too_long = [line for line in lines if len(line) > columns]
    assert not too_long, too_long
    words = set(out.split())
    summary = load_registry(default_registry_path()).get("notts-27").summary
    for text in (
        summary,  # the citation summary
        "Robin Hood used the policy check",  # the preview and the notification
        "This should go to Dev Patel.",
    ):
        assert text in flat(out)
        assert all(word in words for word in text.split()), f"a word of {text!r} was split across lines"
    assert "Send it to Dev Patel now? [y/N]" in out
    assert "Sent to Dev Patel." in flat(out)


def test_employees_never_see_internal_notification_ids(tmp_path: Path) -> None:
    flows = write_flows(tmp_path / "flows")
    settings = _directory(tmp_path)
    out = _run_chat(tmp_path, flows, "legal action over my tweet\n1\n1\nquit\n", args=("--settings", str(settings)))
    assert "policybot would send" in out  # a notification was printed...
    assert not re.search(r"\b[0-9a-f]{32}\b", out)  # ...with no outbox id (or any full internal id)
    assert re.search(r"case [0-9a-f]{8}\b", out)  # the short case reference is what `cases ack` takes
