"""The example settings shipped in flows/ load cleanly and every shipped flow validates and passes
its scenarios under them, so a council that copies the example starts from something that works."""

from __future__ import annotations

from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.paths import paths_json
from bot.language.settings import DEFAULTS, load_settings


def test_example_settings_load_and_override_the_defaults() -> None:
    settings = load_settings(default_flows_dir() / "policybot.example.yaml")
    assert settings.org["name"] == "Example County Council" != DEFAULTS["org"]["name"]
    assert settings.target_name("safeguarding") == "the Designated Safeguarding Lead"
    assert settings.directory_path == default_flows_dir() / "directory.example.yaml"
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
    assert any("the Designated Safeguarding Lead" in p["outcome"]["text"]
               for p in paths_json(library.compiled(library.get("safeguarding-concern")), settings))
