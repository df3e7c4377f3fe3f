"""``policybot teams-package``: the zip an IT admin uploads to the Teams admin centre.

Teams installs an app from a zip holding ``manifest.json`` and the two icons at the archive root
(no folder inside). The committed manifest carries a placeholder bot id (all zeros) because every
council registers its own Azure bot; this command puts the real Microsoft App ID in, optionally the
bot's public host name in ``validDomains`` and the council's own web pages, checks the result, and
writes the zip.
"""

from __future__ import annotations

import importlib.util
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bot.errors import PolicybotError


def installed_manifest_dir() -> Path:
    """Where the manifest template and icons are: ``manifest/teams`` in a checkout, or the same
    files installed with the package (pyproject ships them as the ``manifest.teams`` package data),
    so the command works wherever policybot is installed."""
    try:
        spec = importlib.util.find_spec("manifest.teams")
    except ModuleNotFoundError:  # a checkout whose editable install predates the package data
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "manifest.json").is_file():
            return Path(location)
    return Path(__file__).resolve().parents[2] / "manifest" / "teams"


MANIFEST_DIR = installed_manifest_dir()
PLACEHOLDER_BOT_ID = "00000000-0000-0000-0000-000000000000"
ICON_SIZES = {"color": 192, "outline": 32}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HOST = re.compile(r"^(\*\.)?([a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


class TeamsPackageError(PolicybotError):
    """The Teams app package cannot be built as asked (missing id, bad domain, missing icon)."""


@dataclass(frozen=True)
class PackageOptions:
    bot_app_id: str
    domain: str | None = None
    teams_app_id: str | None = None
    app_version: str | None = None
    website_url: str | None = None
    privacy_url: str | None = None
    terms_url: str | None = None


def fill_manifest(manifest: dict[str, Any], options: PackageOptions) -> dict[str, Any]:
    """Return a copy of the committed manifest with this council's values put in."""
    app_id = (options.bot_app_id or "").strip()
    if not app_id or app_id == PLACEHOLDER_BOT_ID:
        raise TeamsPackageError(
            "No bot app id: pass --app-id or set MICROSOFT_APP_ID to the Microsoft App ID of your Azure "
            "Bot registration (Azure portal > your bot > Configuration > Microsoft App ID)."
        )
    if not _GUID.match(app_id):
        raise TeamsPackageError(
            f"The bot app id {app_id!r} is not a GUID; copy the Microsoft App ID from the Azure Bot's "
            "Configuration page (it looks like 1a2b3c4d-0000-1111-2222-333344445555)."
        )
    filled = json.loads(json.dumps(manifest))
    filled["bots"][0]["botId"] = app_id
    if options.teams_app_id:
        if not _GUID.match(options.teams_app_id):
            raise TeamsPackageError(f"The Teams app id {options.teams_app_id!r} is not a GUID.")
        filled["id"] = options.teams_app_id
    if options.domain:
        domain = options.domain.strip().lower()
        if "://" in domain or "/" in domain or not _HOST.match(domain):
            raise TeamsPackageError(
                f"The domain {options.domain!r} should be a bare host name such as policybot.council.gov.uk "
                "(no https://, no path)."
            )
        filled["validDomains"] = [domain]
    if options.app_version:
        if not _SEMVER.match(options.app_version):
            raise TeamsPackageError(
                f"The app version {options.app_version!r} must look like 1.0.1 (Teams needs a higher "
                "version each time you upload a changed package)."
            )
        filled["version"] = options.app_version
    for key, value in (
        ("websiteUrl", options.website_url),
        ("privacyUrl", options.privacy_url),
        ("termsOfUseUrl", options.terms_url),
    ):
        if value:
            if not value.lower().startswith("https://"):
                raise TeamsPackageError(f"{key} must be an https:// address, got {value!r}.")
            filled["developer"][key] = value
    return filled


def build_package(options: PackageOptions, output: Path, manifest_dir: Path = MANIFEST_DIR) -> Path:
    """Write the app zip: manifest.json, color.png and outline.png, all at the archive root."""
    manifest_path = manifest_dir / "manifest.json"
    if not manifest_path.is_file():
        raise TeamsPackageError(
            f"Cannot find {manifest_path}: the installed policybot is missing its Teams manifest; reinstall "
            "it, or pass --manifest-dir with a folder holding manifest.json, color.png and outline.png."
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    filled = fill_manifest(manifest, options)
    icons: dict[str, bytes] = {}
    for kind, size in ICON_SIZES.items():
        name = filled["icons"][kind]
        icon_path = manifest_dir / name
        if not icon_path.is_file():
            raise TeamsPackageError(f"The {kind} icon {icon_path} is missing.")
        data = icon_path.read_bytes()
        width, height = png_size(data)
        if (width, height) != (size, size):
            raise TeamsPackageError(
                f"The {kind} icon {icon_path} is {width}x{height}; Teams needs {size}x{size} pixels."
            )
        icons[name] = data
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(filled, indent=2, ensure_ascii=False) + "\n")
        for name, data in icons.items():
            archive.writestr(name, data)
    return output


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (no image library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise TeamsPackageError("An icon is not a PNG file.")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@click.command("teams-package")
@click.option("--app-id", envvar="MICROSOFT_APP_ID", help="The Azure Bot's Microsoft App ID [env MICROSOFT_APP_ID].")
@click.option(
    "--domain",
    envvar="POLICYBOT_TEAMS_DOMAIN",
    help="Public host name of the bot, for validDomains [env POLICYBOT_TEAMS_DOMAIN].",
)
@click.option("--teams-app-id", help="Keep a different Teams app id (GUID) than the committed one.")
@click.option("--app-version", help="Version for this upload, e.g. 1.0.1 (must increase on each upload).")
@click.option("--website-url", help="https:// page about the bot, shown in Teams' app details.")
@click.option("--privacy-url", help="https:// privacy notice.")
@click.option("--terms-url", help="https:// terms of use.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dist/policybot-teams.zip"),
    show_default=True,
    help="Where to write the zip.",
)
@click.option(
    "--manifest-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=MANIFEST_DIR,
    show_default=True,
    help="Folder holding manifest.json and the icons.",
)
def teams_package(
    app_id: str | None,
    domain: str | None,
    teams_app_id: str | None,
    app_version: str | None,
    website_url: str | None,
    privacy_url: str | None,
    terms_url: str | None,
    output: Path,
    manifest_dir: Path,
) -> None:
    """Build the Teams app package (zip) to upload in the Teams admin centre."""
    options = PackageOptions(
        bot_app_id=app_id or "",
        domain=domain,
        teams_app_id=teams_app_id,
        app_version=app_version,
        website_url=website_url,
        privacy_url=privacy_url,
        terms_url=terms_url,
    )
    try:
        path = build_package(options, output, manifest_dir)
    except TeamsPackageError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Wrote {path}: upload it in the Teams admin centre (Teams apps > Manage apps > Upload new app).")
