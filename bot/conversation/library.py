"""The set of flows the bot offers, validated together, with their compiled machines.

Compiled machines are cached by flow version (content hash): every conversation on the same
version shares one machine, and a conversation on an older version gets that version's machine
compiled from the text kept in the store.

A serving library can be replaced while it serves (a reviewed change was published on another
replica: bot.publishing.live). What it offers is one immutable ``_Contents`` (flows, registry,
settings, problems, library version), swapped with a single assignment. A turn ``pin()``s the
contents it started with, so every read during that turn (the engine's, the presenter's) sees one
library version, never a mix of the old and the new.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import FileProblems, Problem, UnknownFlow
from bot.language.citations import Registry, default_registry_path, load_registry
from bot.language.example_checks import example_problems
from bot.language.flow_checks import check_flow
from bot.language.flow_loader import FlowProblems, flow_files, load_flow_file, parse_flow
from bot.language.flow_model import Flow
from bot.language.schema_check import did_you_mean
from bot.language.settings import Settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the machine (and transitions) load with the first conversation, not with the flows
    from bot.conversation.machine import CompiledFlow


def default_flows_dir() -> Path:
    """The flows shipped with the package (the repository's flows/ folder)."""
    import flows

    return Path(flows.__file__).parent


def check_files(paths: list[Path], registry: Registry, settings: Settings) -> tuple[list[Flow], list[Problem]]:
    """Load and check every flow file; return the good flows and every problem found."""
    good: list[Flow] = []
    loaded: list[Flow] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in flow_files(paths):
        try:
            flow = load_flow_file(path)
        except FlowProblems as err:  # structural problems: check the rest of what was read, too
            problems.extend(err.problems)
            if err.partial is not None:
                problems.extend(check_flow(err.partial, registry, settings, unparsed=err.unparsed))
                problems.extend(_same_id(err.partial, seen))
            continue
        except FileProblems as err:
            problems.extend(err.problems)
            continue
        loaded.append(flow)
        flow_problems = check_flow(flow, registry, settings) + _same_id(flow, seen)
        problems.extend(flow_problems)
        if not flow_problems:
            good.append(flow)
    # the router's examples, checked across flows (a flow in the same folder counts as existing)
    folders = sorted({p if p.is_dir() else p.parent for p in paths})
    problems += example_problems(loaded, [p.name.removesuffix(".yaml") for p in flow_files(folders)])
    return good, problems


def check_source(
    text: str, file_name: str, registry: Registry, settings: Settings, others: Sequence[Flow] = ()
) -> tuple[Flow | None, list[Problem]]:
    """One flow's text, checked as ``policybot validate`` checks its file in the flows folder
    beside ``others`` (the web studio's editor checks a draft this way): the flow if it is clean,
    and every problem, each on the draft's own line, with validate's words."""
    problems: list[Problem] = []
    flow: Flow | None = None
    try:
        flow = parse_flow(text, file_name)
    except FlowProblems as err:
        problems.extend(err.problems)
        if err.partial is not None:
            problems.extend(check_flow(err.partial, registry, settings, unparsed=err.unparsed))
    except FileProblems as err:
        problems.extend(err.problems)
    if flow is not None:
        problems.extend(check_flow(flow, registry, settings))
        rest = [f for f in others if f.id != flow.id and f.path != file_name]
        seen = {f.id: f.path for f in others if f.path != file_name and Path(f.path).name != file_name}
        problems.extend(_same_id(flow, seen))
        problems.extend(p for p in example_problems([flow, *rest]) if p.file == file_name)
    unique = sorted(set(problems))
    return (flow if not unique else None), unique


def _same_id(flow: Flow, seen: dict[str, str]) -> list[Problem]:
    """A problem when another file already uses this flow's id (and remember this one)."""
    if flow.id in seen:
        return [Problem(flow.path, flow.lines.get("id", 1), f"flow id '{flow.id}' is already used by {seen[flow.id]}")]
    seen[flow.id] = flow.path
    return []


@dataclass(frozen=True)
class _Contents:
    """Everything one library version offers, replaced whole, never changed in place."""

    flows: dict[str, Flow]
    registry: Registry
    settings: Settings
    problems: list[Problem]
    version: int | None  # the published library version (bot.publishing), None when not from the database


# The contents a turn pinned, per library (contextvars are per thread and per asyncio task).
_PINNED: ContextVar[dict[int, _Contents] | None] = ContextVar("policybot_pinned_library", default=None)


class FlowLibrary:
    """Current flows by id, plus compiled machines for any version a conversation is on."""

    def __init__(
        self,
        flows: list[Flow],
        registry: Registry,
        settings: Settings,
        problems: list[Problem] | None = None,
        *,
        version: int | None = None,
    ) -> None:
        self._contents = _Contents(
            {flow.id: flow for flow in flows}, registry, settings, sorted(set(problems or [])), version
        )
        self._compiled: dict[str, CompiledFlow] = {}

    # -- what is served now (or what this turn pinned) ----------------------------------------
    @property
    def _now(self) -> _Contents:
        pinned = _PINNED.get()
        if pinned is not None:
            found = pinned.get(id(self))
            if found is not None:
                return found
        return self._contents

    @property
    def registry(self) -> Registry:
        return self._now.registry

    @property
    def settings(self) -> Settings:
        return self._now.settings

    @property
    def problems(self) -> list[Problem]:
        """Problems of the flow files left out (see load)."""
        return self._now.problems

    @property
    def version(self) -> int | None:
        """The published library version served (None: loaded from a folder, not the database)."""
        return self._now.version

    @property
    def _flows(self) -> dict[str, Flow]:
        return self._now.flows

    @property
    def failed_files(self) -> list[str]:
        """The flow files that failed their checks and are not offered."""
        return sorted({p.file for p in self.problems})

    @contextmanager
    def pin(self) -> Iterator[FlowLibrary]:
        """Serve one version for the whole block, even if ``replace`` runs meanwhile (one turn)."""
        pinned = dict(_PINNED.get() or {})
        if id(self) in pinned:  # already pinned by an outer block: keep that
            yield self
            return
        pinned[id(self)] = self._contents
        token = _PINNED.set(pinned)
        try:
            yield self
        finally:
            _PINNED.reset(token)

    def replace(self, other: FlowLibrary) -> None:
        """Serve ``other``'s contents from now on, in one step. Turns already running keep theirs;
        compiled machines are kept (they are cached by flow content, which is the same or new)."""
        self._compiled.update(other._compiled)
        self._contents = other._contents

    @classmethod
    def load(
        cls,
        flows_dir: Path | None,
        settings: Settings,
        registry_path: Path | None = None,
        *,
        strict: bool = True,
        version: int | None = None,
    ) -> FlowLibrary:
        """Load and validate a folder of flows.

        ``strict`` (the authoring commands: test, paths, run, graph): any problem in any file stops
        the load with all of them. Not strict (a serving replica, the chat, the worker): a file
        with problems is left out, every problem is logged at ERROR, the count is in the
        ``policybot_flow_files_failed`` metric and ``/readyz`` names the files, and every other flow
        is served. One careless edit must not take the bot away from everyone. The citation
        registry and the settings are shared by all flows, so their problems always stop the load.
        """
        flows_dir = flows_dir or default_flows_dir()
        registry = load_registry(registry_path or _registry_beside(flows_dir))
        flows, problems = check_files([flows_dir], registry, settings)
        if problems and strict:
            raise FileProblems(problems)
        library = cls(flows, registry, settings, problems, version=version)
        if not strict:  # a serving process: prometheus_client is loaded only here, not for `validate`
            from bot.telemetry import metrics

            metrics.flows_loaded(len(flows), len(library.failed_files))
            for problem in library.problems:
                log.error("flow file left out: %s", problem)
            if library.problems:
                log.error(
                    "%d flow file(s) failed their checks and are not offered: %s; %d flow(s) are served. "
                    "Run `policybot validate` on the flows folder to see every problem.",
                    len(library.failed_files),
                    ", ".join(library.failed_files),
                    len(flows),
                )
        return library

    def all(self) -> list[Flow]:
        return sorted(self._flows.values(), key=lambda f: f.id)

    def __contains__(self, flow_id: str) -> bool:
        return flow_id in self._flows

    def get(self, flow_id: str) -> Flow:
        try:
            return self._flows[flow_id]
        except KeyError:
            raise UnknownFlow(
                f"there is no flow called '{flow_id}'{did_you_mean(flow_id, self._flows)}; `policybot flows` lists them"
            ) from None

    def compiled(self, flow: Flow) -> CompiledFlow:
        found = self._compiled.get(flow.version)
        if found is None:
            from bot.conversation.machine import CompiledFlow

            found = self._compiled[flow.version] = CompiledFlow(flow)
        return found

    def compiled_version(self, flow_id: str, version: str, source: str | None) -> CompiledFlow:
        """The machine for a given version: cached, current, or re-parsed from the stored source text."""
        found = self._compiled.get(version)
        if found is not None:
            return found
        current = self._flows.get(flow_id)
        if current is not None and current.version == version:
            return self.compiled(current)
        if source is None:
            raise UnknownFlow(f"version {version} of flow '{flow_id}' is not stored any more")
        return self.compiled(parse_flow(source, f"{flow_id}.yaml (stored version {version})", check_file_name=False))


def _registry_beside(flows_dir: Path) -> Path:
    candidate = flows_dir / "citations.yaml"
    return candidate if candidate.is_file() else default_registry_path()
