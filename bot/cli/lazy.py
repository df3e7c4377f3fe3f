"""A click group that imports a command's module only when that command is asked for.

Why: ``policybot route`` and ``validate`` are typed by people waiting for an answer, and tools
call ``flows --json`` and ``route --json`` in loops. Importing every command up front pulled in
SQLAlchemy, Alembic, slack_bolt, aiohttp and the Bot Framework for commands that use none of them
(docs/benchmarks.md, "CLI start"). Here a command is named by ``"module:attribute"`` and imported
the first time click resolves it; ``--help`` still lists every command with its help text, because
listing them resolves each one. Commands that adapters provide come from an entry-point group,
read only when a name is not a built-in one (or the whole list is wanted), so a built-in command
never pays for scanning the installed packages either.
"""

from __future__ import annotations

import importlib
from typing import Any

import click


def import_object(target: str) -> Any:
    """The object ``"package.module:attribute"`` names (the form entry points use)."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class LazyGroup(click.Group):
    """A group whose subcommands are ``{name: "module:attribute"}`` plus an entry-point group's.

    A built-in name wins over an entry point of the same name: plug-ins add commands, they do not
    replace the core's (whose output other tools rely on).
    """

    def __init__(
        self,
        *args: Any,
        lazy_commands: dict[str, str] | None = None,
        entry_point_group: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self.entry_point_group = entry_point_group
        self._entry_points: dict[str, str] | None = None

    def plug_ins(self) -> dict[str, str]:
        """The entry-point group's commands, ``{name: "module:attribute"}`` (read once)."""
        if self._entry_points is None:
            found: dict[str, str] = {}
            if self.entry_point_group:
                from importlib.metadata import entry_points

                found = {entry.name: entry.value for entry in entry_points(group=self.entry_point_group)}
            self._entry_points = found
        return self._entry_points

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands, *self.plug_ins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = self.lazy_commands.get(cmd_name) or self.plug_ins().get(cmd_name)
        if target is None:
            return None
        command = import_object(target)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} (the policybot command '{cmd_name}') is not a click command")
        self.add_command(command, cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as err:
            # click suggests close names from the commands loaded so far; suggest from all of them.
            raise click.exceptions.NoSuchCommand(
                err.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def load_all(self, ctx: click.Context | None = None) -> None:
        """Import every command now (a broken plug-in then fails here, not when someone types it)."""
        context = ctx or click.Context(self)
        for name in self.list_commands(context):
            self.get_command(context, name)
