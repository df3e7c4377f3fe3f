"""policybot as a built wheel, away from any checkout: what docs/deploy.md says to install.

The wheel is built offline from this checkout (pip with the pinned setuptools, no build
isolation), unpacked into an empty folder, and run from a folder that is not a checkout: the
flows, citation registry, migrations and the Teams manifest and icons must all come from the
wheel itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOT_ID = "3f2b1c4d-5e6f-4a8b-9c0d-112233445566"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a copy of the work tree, so that no earlier build/ folder or egg-info can lend the wheel a file
    source = tmp_path_factory.mktemp("source") / "policybot"
    junk = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
    shutil.copytree(REPO, source, ignore=junk)
    out = tmp_path_factory.mktemp("dist")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(build)},
    )
    (found,) = out.glob("policybot-*.whl")
    return found


def test_the_wheel_ships_the_teams_manifest_icons_flows_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "manifest/teams/manifest.json",
        "manifest/teams/color.png",
        "manifest/teams/outline.png",
        "flows/citations.yaml",
        "flows/legal-threat.yaml",
        "bot/flow.schema.json",
        "adapters/studio/templates/base.html",  # the studio's pages, script and styles (no CDN)
        "adapters/studio/static/studio.css",
        "adapters/studio/static/studio.js",
    ):
        assert needed in names, needed
    assert any(n.startswith("bot/store/migrations/versions/") for n in names)
    assert not any(n.startswith(("tests/", "docs/", "bench/")) for n in names)


def test_teams_package_works_from_the_installed_wheel_outside_a_checkout(wheel: Path, tmp_path: Path) -> None:
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)  # a pure-Python wheel installs by unpacking
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    script = (
        "import sys, adapters.teams.package as p; "
        "print(p.__file__); print(p.MANIFEST_DIR); "
        "from bot.cli.main import main; sys.argv = ['policybot', 'teams-package', '--app-id', sys.argv[1]]; main()"
    )
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONSAFEPATH": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script, BOT_ID],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    module, manifest_dir = result.stdout.splitlines()[:2]
    assert module.startswith(str(installed)) and manifest_dir.startswith(str(installed))  # not the checkout
    archive = zipfile.ZipFile(elsewhere / "dist" / "policybot-teams.zip")
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert BOT_ID in archive.read("manifest.json").decode("utf-8")


def test_the_licence_file_matches_pyproject_and_ships_in_the_wheel(wheel: Path) -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "LicenseRef-Proprietary" and project["license-files"] == ["LICENSE"]
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "SPDX: LicenseRef-Proprietary" in licence and "All rights reserved" in licence
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: LicenseRef-Proprietary" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_the_changelog_keeps_a_changelog_and_the_upgrade_steps_point_at_it() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog") and "## [Unreleased]" in changelog
    headings = re.findall(r"^### (.+)$", changelog, flags=re.MULTILINE)
    assert headings and set(headings) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert "CHANGELOG.md" in (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
