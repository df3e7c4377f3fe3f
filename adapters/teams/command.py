"""``policybot serve teams``: run the Teams bot (aiohttp, POST /api/messages).

Registered through the ``policybot.serve`` entry-point group, so the core CLI offers it without
importing the Bot Framework SDK itself. Settings, flows and database come from the main
``policybot`` options (``--settings``, ``--flows``, ``--database``) like every other command.
"""

from __future__ import annotations

import logging

import click

from bot.cli.options import CliContext, pass_cli
from bot.errors import PolicybotError

log = logging.getLogger("policybot.teams")


@click.command("teams")
@click.option(
    "--local",
    is_flag=True,
    help="No Azure credentials: loopback only, no authentication (Bot Framework Emulator, tests).",
)
@click.option(
    "--host", default=None, help="Address to listen on [env POLICYBOT_TEAMS_HOST; 0.0.0.0; local: 127.0.0.1]."
)
@click.option("--port", type=int, default=None, help="Port [env POLICYBOT_TEAMS_PORT; 3978].")
@pass_cli
def serve(ctx: CliContext, local: bool, host: str | None, port: int | None) -> None:
    """Serve the Microsoft Teams bot on /api/messages."""
    from aiohttp import web

    from adapters.teams.app import build_service, create_app
    from adapters.teams.config import from_environment
    from adapters.teams.storage import TeamsStorage

    try:
        config = from_environment(local=local or None, host=host, port=port).check()
        runtime = ctx.runtime()
        storage = TeamsStorage(runtime.store.engine)
        service = build_service(runtime.engine, storage, config)
    except PolicybotError as err:
        raise click.ClickException(str(err)) from err
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if config.local:
        log.warning("Teams adapter in LOCAL mode: no authentication, listening on %s only.", config.host)
    else:
        log.info("Teams adapter in production mode for app id %s.", config.app_id)
    click.echo(f"Policybot for Teams on http://{config.host}:{config.port}/api/messages ({config.mode} mode)")
    web.run_app(create_app(service), host=config.host, port=config.port, print=None)
