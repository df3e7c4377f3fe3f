"""``policybot serve studio``: the web studio for the comms team and managers (aiohttp).

Registered through the ``policybot.serve`` entry-point group like Slack and Teams. Settings,
flows and database come from the main ``policybot`` options. The studio runs behind the
council's reverse proxy (TLS there); docs/deploy.md has the identity-provider set-up.
"""

from __future__ import annotations

import logging

import click

from bot.cli.options import CliContext, pass_cli
from bot.errors import PolicybotError

log = logging.getLogger("policybot.studio")


@click.command("studio")
@click.option(
    "--local", is_flag=True, help="No identity provider: a sign-in that works only on 127.0.0.1 (trying it out)."
)
@click.option(
    "--host", default=None, help="Address to listen on [env POLICYBOT_STUDIO_HOST; 0.0.0.0; local: 127.0.0.1]."
)
@click.option("--port", type=int, default=None, help="Port [env POLICYBOT_STUDIO_PORT; 8300].")
@pass_cli
def serve(ctx: CliContext, local: bool, host: str | None, port: int | None) -> None:
    """Serve the web studio: flows, edit and try, cases and insights in a browser."""
    from aiohttp import web

    from adapters.studio.app import create_app
    from adapters.studio.config import from_environment
    from bot.telemetry.logging_setup import configure_logging

    try:
        config = from_environment(local=local, host=host, port=port).check()
        runtime = ctx.runtime()
    except PolicybotError as err:
        raise click.ClickException(str(err)) from err
    configure_logging(secrets=[i.client_secret for i in config.issuers if i.client_secret])
    if config.local:
        log.warning(
            "Studio in LOCAL mode: anyone on this computer can sign in as anyone; listening on %s only.", config.host
        )
    app = create_app(config, runtime, flows_dir=ctx.flows_dir)
    click.echo(f"policybot studio on {config.public_url}/ ({'local' if config.local else 'production'} mode)")
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None)
