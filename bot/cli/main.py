"""``policybot``: chat, serve, and the tools comms officers and admins use on flows and data.

Commands that adapters provide (``chat``, ``serve slack``, ``serve teams``, ...) are plugged in
through entry points, so this core module never imports a chat platform's library. Every command,
built-in or plugged in, is imported only when it is asked for (bot/cli/lazy.py): ``policybot
route`` loads the flows and the router, not the database, the case service or Slack.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.lazy import LazyGroup
from bot.cli.options import CliContext
from bot.errors import PolicybotError

# Each built-in command and where it lives; each module's COMMANDS list is the same set
# (tests/core/test_cli_start.py checks that they agree).
BUILT_IN_COMMANDS = {
    **{
        name: f"bot.cli.flow_commands:{name}_command"
        for name in ("flows", "route", "paths", "validate", "graph", "test", "run")
    },
    "db": "bot.cli.db_commands:db",
    "cases": "bot.cli.case_commands:cases_group",
    "worker": "bot.cli.case_commands:worker_command",
    "directory": "bot.cli.case_commands:directory_group",
    "stats": "bot.cli.case_commands:stats_command",
    "onboarding-report": "bot.cli.case_commands:onboarding_report_command",
    "purge": "bot.cli.case_commands:purge_command",
    "export-person": "bot.cli.data_commands:export_person_command",
    "coverage": "bot.cli.coverage_command:coverage_command",
    "routing-report": "bot.cli.routing_commands:routing_report_command",
    "policy": "bot.cli.policy_commands:policy_group",
    "library": "bot.cli.library_commands:library_group",
    "i18n": "bot.cli.i18n_commands:i18n_group",
}


@click.group(
    cls=LazyGroup,
    lazy_commands=BUILT_IN_COMMANDS,
    entry_point_group="policybot.commands",
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


@cli.group(cls=LazyGroup, entry_point_group="policybot.serve")
def serve() -> None:
    """Run the bot for a chat platform (slack or teams)."""


def _plug_in() -> None:
    """Import every plugged-in command now (tests; ``main`` leaves them to load when used)."""
    for group in (cli, serve):
        assert isinstance(group, LazyGroup)
        group.load_all()


def main() -> None:
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
