"""The Slack app manifests are what an IT admin pastes into "Create an app from a manifest".

A manifest Slack rejects, a scope nobody can explain, or a slash command the app does not answer
all show up only in front of the admin, so they are checked here against Slack's own schema and
against docs/slack.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.shared_inputs import shared_schema

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SCHEMA_PATH = SHARED / "schemas" / "slack-app-manifest.schema.json"
MANIFESTS = {
    "http": REPO / "manifest" / "slack" / "manifest.yaml",
    "socket": REPO / "manifest" / "slack" / "manifest-socket-mode.yaml",
}
DOCS = REPO / "docs" / "slack.md"


def load(kind: str) -> dict[str, Any]:
    with MANIFESTS[kind].open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    import json

    path = shared_schema(SCHEMA_PATH.name, "Slack's manifest schema")
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("kind", sorted(MANIFESTS))
def test_manifest_is_valid_against_slacks_schema(kind: str, validator: jsonschema.protocols.Validator) -> None:
    errors = sorted(validator.iter_errors(load(kind)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_schema_check_catches_a_broken_manifest(validator: jsonschema.protocols.Validator) -> None:
    """Guard against a validator that accepts anything (wrong draft, schema not loaded)."""
    broken = load("http")
    broken["features"]["slash_commands"][0]["command"] = "policy"  # must start with "/"
    broken["display_information"]["surprise"] = True  # additionalProperties: false
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any("does not match" in m for m in messages)
    assert any("surprise" in m for m in messages)


def test_http_and_socket_mode_manifests_differ_only_in_transport() -> None:
    http, socket = load("http"), load("socket")

    def without_transport(m: dict[str, Any]) -> dict[str, Any]:
        m = yaml.safe_load(yaml.safe_dump(m))
        for command in m["features"]["slash_commands"]:
            command.pop("url", None)
        m["settings"]["event_subscriptions"].pop("request_url", None)
        m["settings"]["interactivity"].pop("request_url", None)
        m["settings"].pop("socket_mode_enabled")
        return m

    assert without_transport(http) == without_transport(socket)
    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True


def test_http_manifest_sends_everything_to_the_one_endpoint() -> None:
    m = load("http")
    urls = [c["url"] for c in m["features"]["slash_commands"]]
    urls.append(m["settings"]["event_subscriptions"]["request_url"])
    urls.append(m["settings"]["interactivity"]["request_url"])
    assert all(u.startswith("https://") and u.endswith("/slack/events") for u in urls), urls


def test_entry_points_are_declared() -> None:
    m = load("http")
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/policy"]
    assert [(s["type"], s["callback_id"]) for s in m["features"]["shortcuts"]] == [("global", "policy_check")]
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["features"]["app_home"]["messages_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert sorted(m["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "app_mention",
        "app_uninstalled",  # so the uninstall clean-up runs (adapters/slack/home.py)
        "message.im",
        "tokens_revoked",
    ]


def test_every_scope_is_justified_in_the_admin_guide() -> None:
    """docs/slack.md has a table row per bot scope; a scope added without a reason fails here."""
    scopes = load("http")["oauth_config"]["scopes"]["bot"]
    assert "user" not in load("http")["oauth_config"]["scopes"], "policybot needs no user-token scopes"
    text = DOCS.read_text(encoding="utf-8")
    justified = dict(re.findall(r"^\|\s*`([a-z_.:]+)`\s*\|\s*(.+?)\s*\|", text, flags=re.MULTILINE))
    for scope in scopes:
        assert scope in justified, f"{scope} has no row in the scope table of {DOCS.name}"
        assert len(justified[scope]) > 20, f"{scope}: the reason in {DOCS.name} is too short to explain anything"
    extra = set(justified) - set(scopes)
    assert not extra, f"{DOCS.name} justifies scopes the manifest does not ask for: {sorted(extra)}"
