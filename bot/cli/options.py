"""Shared CLI state: where the settings, flows and database are, loaded only when a command needs them.

Every command imports this module, so it imports nothing heavy itself: the flow library, the
settings loader and the runtime (store, cases, telemetry) are imported inside the property that
builds them, and ``policybot route`` never loads the database layer (docs/benchmarks.md, "CLI start").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.conversation.library import FlowLibrary
    from bot.language.citations import Registry
    from bot.language.settings import Settings
    from bot.runtime import Runtime


@dataclass
class CliContext:
    settings_path: Path | None
    flows_dir: Path | None
    database_url: str | None
    _settings: Settings | None = field(default=None, init=False)
    _library: FlowLibrary | None = field(default=None, init=False)
    _runtime: Runtime | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from bot.language.settings import load_settings

            self._settings = load_settings(self.settings_path)
        return self._settings

    @property
    def flows_folder(self) -> Path:
        from bot.conversation.library import default_flows_dir

        return self.flows_dir or default_flows_dir()

    def registry(self) -> Registry:
        local = self.flows_folder / "citations.yaml"
        from bot.language.citations import default_registry_path, load_registry

        return load_registry(local if local.is_file() else default_registry_path())

    @property
    def library(self) -> FlowLibrary:
        if self._library is None:
            from bot.conversation.library import FlowLibrary

            self._library = FlowLibrary.load(self.flows_dir, self.settings)
        return self._library

    def runtime(self, **kwargs: object) -> Runtime:
        """The whole core (store included), built once per command. It swaps in newly published
        flow library versions as it runs (``live_reload``) unless the command says otherwise."""
        if self._runtime is None:
            from bot.runtime import build_runtime

            kwargs.setdefault("live_reload", True)
            self._runtime = build_runtime(self.settings_path, self.database_url, flows_dir=self.flows_dir, **kwargs)  # type: ignore[arg-type]
        return self._runtime


pass_cli = click.make_pass_decorator(CliContext)
