"""The example settings shipped in flows/ load cleanly and every shipped flow validates and passes
its scenarios under them, so a council that copies the example starts from something that works;
copied into an empty folder as its header says (alone, then with the example directory), it runs
a chat."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.paths import paths_json
from bot.language.settings import DEFAULTS, load_settings


def test_example_settings_load_and_override_the_defaults() -> None:
    settings = load_settings(default_flows_dir() / "policybot.example.yaml")
    assert settings.org["name"] == "Example County Council" != DEFAULTS["org"]["name"]
    assert settings.target_name("safeguarding") == "the Designated Safeguarding Lead"
    assert settings.directory_path is None  # copied alone it must work, so the directory line is a comment
    assert set(settings.rules) == set(DEFAULTS["rules"])


def test_every_shipped_flow_validates_and_renders_every_path_under_the_example_settings() -> None:
    # Scenario files assert the default wording ("the Communications team"), so here every path is
    # rendered instead: a template that only works with the defaults would fail.
    settings = load_settings(default_flows_dir() / "policybot.example.yaml")
    library = FlowLibrary.load(default_flows_dir(), settings)
    for flow in library.all():
        paths = paths_json(library.compiled(flow), settings)
        assert paths, flow.id
        assert all(p["outcome"]["text"] for p in paths), flow.id
    assert any(
        "the Designated Safeguarding Lead" in p["outcome"]["text"]
        for p in paths_json(library.compiled(library.get("safeguarding-concern")), settings)
    )


POLICYBOT = str(Path(sys.executable).with_name("policybot"))
TYPED = "someone threatened to sue me over my tweet\n1\n1\n1\nquit\n"


def _chat(folder: Path, *args: str) -> str:
    env = {**os.environ, "XDG_DATA_HOME": str(folder / "data"), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("POLICYBOT_SETTINGS", None)
    result = subprocess.run(
        [POLICYBOT, "chat", *args], input=TYPED, capture_output=True, text=True, cwd=folder, env=env, timeout=90
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_example_copied_alone_into_an_empty_folder_runs_a_chat(tmp_path: Path) -> None:
    shutil.copy(default_flows_dir() / "policybot.example.yaml", tmp_path / "policybot.yaml")
    out = _chat(tmp_path, "--user", "amara")
    assert "ACT NOW" in out
    assert "This has been sent to the Communications team" in out  # no directory: comms, and it says so


def test_the_example_with_its_directory_copied_and_switched_on_sends_to_the_manager(tmp_path: Path) -> None:
    shutil.copy(default_flows_dir() / "directory.example.yaml", tmp_path / "directory.yaml")
    text = (default_flows_dir() / "policybot.example.yaml").read_text(encoding="utf-8")
    assert "# directory: directory.yaml" in text  # what the header tells people to uncomment
    (tmp_path / "policybot.yaml").write_text(text.replace("# directory: directory.yaml", "directory: directory.yaml"))
    out = _chat(tmp_path, "--user", "amara")
    assert "This has been sent to Dev Patel" in out


def test_the_example_uses_slack_channel_ids_and_says_why() -> None:
    text = (default_flows_dir() / "policybot.example.yaml").read_text(encoding="utf-8")
    channels = re.findall(r"slack_channel: ([^,}]+)", text)
    assert channels and all(re.fullmatch(r"[CG][A-Z0-9]+", c.strip()) for c in channels), channels
    assert "is not resolved by policybot" in text
