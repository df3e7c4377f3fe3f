"""``policybot``: chat, serve, and the tools comms officers and admins use on flows and data.

Commands that adapters provide (``chat``, ``serve slack``, ``serve teams``, ...) are plugged in
through entry points, so this core module never imports a chat platform's library.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import click

from bot.cli import case_commands, coverage_command, db_commands, flow_commands, routing_commands
from bot.cli.options import CliContext
from bot.errors import PolicybotError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(path_type=Path),
    envvar="POLICYBOT_SETTINGS",
    help="Organisation settings file (default: ./policybot.yaml if present, else built-in defaults).",
)
@click.option(
    "--flows",
    "flows_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="POLICYBOT_FLOWS",
    help="Folder of flow files (default: the flows shipped with policybot).",
)
@click.option(
    "--database",
    "database_url",
    envvar="POLICYBOT_DATABASE_URL",
    help="SQLAlchemy database URL (default: a SQLite file in your data folder).",
)
@click.pass_context
def cli(ctx: click.Context, settings_path: Path | None, flows_dir: Path | None, database_url: str | None) -> None:
    """policybot: social media policy decisions, one question at a time."""
    ctx.obj = CliContext(settings_path, flows_dir, database_url)


@cli.group()
def serve() -> None:
    """Run the bot for a chat platform (slack or teams)."""


for command in [
    *flow_commands.COMMANDS,
    *db_commands.COMMANDS,
    *case_commands.COMMANDS,
    *coverage_command.COMMANDS,
    *routing_commands.COMMANDS,
]:
    cli.add_command(command)


def _plug_in() -> None:
    for entry in entry_points(group="policybot.commands"):
        cli.add_command(entry.load(), entry.name)
    for entry in entry_points(group="policybot.serve"):
        serve.add_command(entry.load(), entry.name)


def main() -> None:
    _plug_in()
    try:
        code = cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Stopped.", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except PolicybotError as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    if isinstance(code, int):
        sys.exit(code)
