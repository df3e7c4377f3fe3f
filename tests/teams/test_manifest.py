"""The Teams app manifest, its icons and the package command.

The manifest is validated against the official v1.17 JSON schema kept in ../shared/schemas, and the
zip that ``policybot teams-package`` writes is checked the way Teams reads it: files at the root,
the real bot id in place of the placeholder, icons of the right size.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from adapters.teams.package import (
    PLACEHOLDER_BOT_ID,
    PackageOptions,
    TeamsPackageError,
    build_package,
    fill_manifest,
    teams_package,
)
from tests.shared_inputs import shared_schema

from .pngread import read_png

REPO = Path(__file__).resolve().parents[2]
MANIFEST_DIR = REPO / "manifest" / "teams"
SCHEMA_PATH = REPO.parent / "shared" / "schemas" / "teams-app-manifest-v1.17.schema.json"
BOT_ID = "3f2b1c4d-5e6f-4a8b-9c0d-112233445566"


def load_manifest() -> dict[str, Any]:
    return json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    path = shared_schema(SCHEMA_PATH.name, "the Teams manifest v1.17 schema")
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(validator: jsonschema.protocols.Validator, manifest: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


def test_committed_manifest_is_valid_v1_17(validator: jsonschema.protocols.Validator) -> None:
    manifest = load_manifest()
    assert schema_errors(validator, manifest) == []
    assert manifest["manifestVersion"] == "1.17"


def test_the_validator_really_rejects_a_broken_manifest(validator: jsonschema.protocols.Validator) -> None:
    broken = load_manifest()
    broken["bots"][0]["scopes"].append("everywhere")
    del broken["icons"]["outline"]
    broken["bots"][0]["botId"] = "not-a-guid"
    errors = schema_errors(validator, broken)
    assert any("everywhere" in e for e in errors)
    assert any("outline" in e for e in errors)
    assert any("not-a-guid" in e for e in errors)


def test_bot_scopes_and_command_lists() -> None:
    bot = load_manifest()["bots"][0]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    lists = {tuple(sorted(cl["scopes"])): [c["title"] for c in cl["commands"]] for cl in bot["commandLists"]}
    personal = lists[("personal",)]
    assert {"check a post", "new starter walkthrough", "my cases"} <= set(personal)
    assert "check a post" in lists[("groupChat", "team")]
    assert bot["botId"] == PLACEHOLDER_BOT_ID


def test_valid_domains_present() -> None:
    domains = load_manifest()["validDomains"]
    assert domains and all("://" not in d for d in domains)


def test_colour_icon_is_192_square() -> None:
    manifest = load_manifest()
    png = read_png((MANIFEST_DIR / manifest["icons"]["color"]).read_bytes())
    assert (png.width, png.height) == (192, 192)
    assert len({px[:3] for row in png.pixels for px in row}) > 2  # an actual colour picture


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    manifest = load_manifest()
    png = read_png((MANIFEST_DIR / manifest["icons"]["outline"]).read_bytes())
    assert (png.width, png.height) == (32, 32)
    assert png.channels == 4, "the outline icon needs an alpha channel"
    pixels = [px for row in png.pixels for px in row]
    visible = [px for px in pixels if px[3] > 0]
    assert visible, "the outline icon is empty"
    assert all(px[:3] == (255, 255, 255) for px in visible), "outline icon pixels must be white"
    assert sum(1 for px in pixels if px[3] == 0) > len(pixels) // 2, "most of the outline icon must be transparent"
    for x, y in ((0, 0), (31, 0), (0, 31), (31, 31)):
        assert png.pixels[y][x][3] == 0


def test_package_zips_files_at_root_with_real_bot_id(tmp_path: Path, validator: jsonschema.protocols.Validator) -> None:
    out = build_package(PackageOptions(bot_app_id=BOT_ID, domain="policybot.council.gov.uk"), tmp_path / "app.zip")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert read_png(archive.read("outline.png")).width == 32
        assert read_png(io.BytesIO(archive.read("color.png")).getvalue()).width == 192
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == ["policybot.council.gov.uk"]
    assert schema_errors(validator, manifest) == []


def test_package_command_reads_app_id_from_environment(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    result = CliRunner().invoke(
        teams_package, ["--output", str(out), "--app-version", "1.0.3"], env={"MICROSOFT_APP_ID": BOT_ID}
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["version"] == "1.0.3"


def test_package_command_without_app_id_explains_where_to_find_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(teams_package, ["--output", str(tmp_path / "x.zip")], env={"MICROSOFT_APP_ID": ""})
    assert result.exit_code == 1
    assert "Microsoft App ID" in result.output
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (PackageOptions(bot_app_id="abc"), "not a GUID"),
        (PackageOptions(bot_app_id=BOT_ID, domain="https://bot.council.gov.uk/api"), "bare host name"),
        (PackageOptions(bot_app_id=BOT_ID, app_version="v2"), "1.0.1"),
        (PackageOptions(bot_app_id=BOT_ID, website_url="http://council.gov.uk"), "https://"),
    ],
)
def test_bad_package_options_are_refused_with_a_clear_message(options: PackageOptions, fragment: str) -> None:
    with pytest.raises(TeamsPackageError, match=fragment.replace(".", r"\.")):
        fill_manifest(load_manifest(), options)


def test_package_refuses_a_wrongly_sized_icon(tmp_path: Path) -> None:
    for name in ("manifest.json", "color.png"):
        (tmp_path / name).write_bytes((MANIFEST_DIR / name).read_bytes())
    (tmp_path / "outline.png").write_bytes((MANIFEST_DIR / "color.png").read_bytes())  # 192, not 32
    with pytest.raises(TeamsPackageError, match="32x32"):
        build_package(PackageOptions(bot_app_id=BOT_ID), tmp_path / "out.zip", manifest_dir=tmp_path)


def test_every_command_in_the_manifest_is_understood_by_the_bot() -> None:
    from adapters.teams.inbound import command_of

    for command_list in load_manifest()["bots"][0]["commandLists"]:
        for command in command_list["commands"]:
            assert command_of(command["title"]) is not None, command["title"]
