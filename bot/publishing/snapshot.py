"""The files that make up a flow library, as ``{file name: text}``, and turning them back into files.

A library is: every flow file and scenario test file of the flows folder (by file name), the
citation registry as ``citations.yaml`` (the folder's own, or the shipped one when the folder has
none), and the organisation settings file as ``settings/policybot.yaml`` when there is one. The
settings file sits under ``settings/`` so it is never read as a flow. Loading a stored version
writes its files into a private folder and reads them with the same loaders ``validate`` uses, so
a stored library is checked exactly like a folder.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.errors import PolicybotError, Problem
from bot.language.citations import default_registry_path
from bot.language.flow_loader import flow_files
from bot.language.settings import Settings, load_settings
from bot.language.yamlload import load_yaml_file

CITATIONS = "citations.yaml"
SETTINGS = "settings/policybot.yaml"
Files = dict[str, str | None]  # a change: None removes the file


def fingerprint(files: dict[str, str]) -> str:
    """The same for the same files, whatever order they were read in."""
    return hashlib.sha256(json.dumps(sorted(files.items()), ensure_ascii=False).encode("utf-8")).hexdigest()


def read_folder(flows_dir: Path | None, settings_path: Path | None) -> dict[str, str]:
    """The library as it is on disk: the flows folder, its registry and the settings file."""
    folder = flows_dir or default_flows_dir()
    files: dict[str, str] = {}
    for path in sorted({*flow_files([folder]), *folder.glob("*.test.yaml")}):
        files[path.name] = path.read_text(encoding="utf-8")
    registry = folder / CITATIONS
    files[CITATIONS] = (registry if registry.is_file() else default_registry_path()).read_text(encoding="utf-8")
    if settings_path is not None and settings_path.is_file():
        files[SETTINGS] = settings_path.read_text(encoding="utf-8")
    return files


def name_for(path: Path, settings_path: Path | None) -> str:
    """The library's name for an edited file an author hands in (``library submit PATH``)."""
    if path.name == "policybot.yaml" or (settings_path is not None and path.resolve() == settings_path.resolve()):
        return SETTINGS
    if path.suffix != ".yaml" or "/" in path.name:
        raise PolicybotError(
            f"{path}: only flow files (name.yaml), scenario tests (name.test.yaml), citations.yaml and the "
            "settings file policybot.yaml are part of the flow library"
        )
    return path.name


def apply(base: dict[str, str], change: Files) -> dict[str, str]:
    """The library after a change: files replaced, added, or (None) removed."""
    merged = dict(base)
    for name, text in change.items():
        if text is None:
            merged.pop(name, None)
        else:
            merged[name] = text
    return merged


def write_out(files: dict[str, str], folder: Path) -> Path:
    """Write the files into ``folder`` (created); return the flows folder inside it."""
    for name, text in files.items():
        target = folder / ("flows" if not name.startswith("settings/") else "") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (folder / "flows").mkdir(parents=True, exist_ok=True)
    return folder / "flows"


@dataclass
class Materialised:
    """A library's files on disk, for the loaders: a flows folder and a settings file (or None)."""

    root: Path
    flows: Path
    settings_path: Path | None

    def settings(self, home: Path | None) -> Settings:
        """The library's settings. ``home`` is where the real settings file is, so a relative
        ``directory:`` in it still means the file beside it."""
        if self.settings_path is None:
            return load_settings_defaults()
        loaded = load_settings(self.settings_path)
        return Settings(loaded.data, home or loaded.path)


def materialise(files: dict[str, str], into: Path | None = None) -> Materialised:
    root = into or Path(tempfile.mkdtemp(prefix="policybot-library-"))
    flows = write_out(files, root)
    settings = root / SETTINGS
    return Materialised(root, flows, settings if settings.is_file() else None)


def load_settings_defaults() -> Settings:
    """The built-in settings, whatever $POLICYBOT_SETTINGS or ./policybot.yaml say (a library
    without a settings file means the defaults, not whatever file the process happens to see)."""
    import copy

    from bot.language.settings import DEFAULTS

    return Settings(copy.deepcopy(DEFAULTS))


def library_from_files(
    files: dict[str, str], *, version: int | None, settings_home: Path | None, strict: bool = False
) -> FlowLibrary:
    """A FlowLibrary over stored files, loaded and checked like a folder."""
    with tempfile.TemporaryDirectory(prefix="policybot-library-") as tmp:
        where = materialise(files, Path(tmp))
        settings = where.settings(settings_home)
        loaded = FlowLibrary.load(where.flows, settings, strict=strict, version=version)
        problems = renamed(loaded.problems, where, f"library version {version}" if version else "draft")
        return FlowLibrary(loaded.all(), loaded.registry, loaded.settings, problems, version=version)


def renamed(
    problems: list[Problem], where: Materialised, label: str, names: dict[str, str] | None = None
) -> list[Problem]:
    """Problems found in a private folder, named as the author knows the files: the path they
    submitted (``names``: library name -> their path), else ``<label>: <library name>``."""
    found = []
    for problem in problems:
        name = _library_name(problem.file, where)
        if name is None:
            found.append(problem)
            continue
        shown = (names or {}).get(name) or f"{label}: {name}"
        found.append(replace(problem, file=shown))
    return found


def _library_name(file: str, where: Materialised) -> str | None:
    path = Path(file)
    for base, prefix in ((where.flows, ""), (where.root / "settings", "settings/")):
        try:
            return prefix + str(path.relative_to(base))
        except ValueError:
            continue
    return None


def yaml_ok(text: str, name: str) -> None:
    """Raise FileProblems when the text is not YAML at all (checked before anything is stored)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_text(text, encoding="utf-8")
        load_yaml_file(path)
