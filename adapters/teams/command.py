"""``policybot serve teams``: run the Teams bot (aiohttp, POST /api/messages).

Registered through the ``policybot.serve`` entry-point group, so the core CLI offers it without
importing the Bot Framework SDK itself. Settings, flows and database come from the main
``policybot`` options (``--settings``, ``--flows``, ``--database``) like every other command.
"""

from __future__ import annotations

import logging

import click

from adapters.teams.config import TeamsConfig
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
@click.option(
    "--no-worker",
    is_flag=True,
    help="Do not deliver escalations from this process (run `policybot worker --notifier teams` instead).",
)
@pass_cli
def serve(ctx: CliContext, local: bool, host: str | None, port: int | None, no_worker: bool) -> None:
    """Serve the Microsoft Teams bot on /api/messages (and deliver escalations in the background)."""
    import asyncio

    from aiohttp import web

    from adapters.http_limits import HTTPLimits, serve_forever
    from adapters.teams.app import build_service, create_app
    from adapters.teams.casedesk import TeamsCaseDesk
    from adapters.teams.config import from_environment
    from adapters.teams.notifier import TeamsNotifier
    from adapters.teams.reviewdesk import TeamsReviewDesk
    from adapters.teams.storage import TeamsStorage
    from bot.cases.worker import Worker
    from bot.ops.health import OpsEndpoints
    from bot.runtime import prepare_to_serve
    from bot.telemetry.logging_setup import configure_logging

    try:
        config = from_environment(local=local or None, host=host, port=port).check()
        runtime = ctx.runtime(**graph_directory(ctx, config))
        storage = TeamsStorage(runtime.store.engine)
        desk = TeamsCaseDesk(runtime.cases) if runtime.cases is not None else None
        reviews = TeamsReviewDesk.for_runtime(runtime)  # review buttons and `preview CHANGE`
        service = build_service(runtime.engine, storage, config, cases=desk, reviews=reviews)
    except PolicybotError as err:
        raise click.ClickException(str(err)) from err
    configure_logging(secrets=[config.app_password] if config.app_password else [])  # JSON lines, secret masked
    if config.local:
        log.warning("Teams adapter in LOCAL mode: no authentication, listening on %s only.", config.host)
    else:
        log.info("Teams adapter in production mode for app id %s.", config.app_id)
    app = create_app(service, OpsEndpoints.for_runtime(runtime))
    notifier = TeamsNotifier(service)
    worker = Worker(runtime, notifier) if not no_worker and runtime.cases is not None else None

    async def start_worker(_app: web.Application) -> None:
        notifier.loop = asyncio.get_running_loop()  # proactive sends share the server's loop
        if worker is not None:
            worker.start()

    async def stop_worker(_app: web.Application) -> None:
        if worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)

    app.on_startup.append(start_worker)
    app.on_shutdown.append(stop_worker)
    prepare_to_serve(runtime)  # checkpoints off the turns, start-up heap out of the collector's way
    click.echo(f"Policybot for Teams on http://{config.host}:{config.port}/api/messages ({config.mode} mode)")
    # Read and idle timeouts and a connection cap, /healthz and /readyz exempt (adapters/http_limits.py,
    # POLICYBOT_HTTP_* in docs/deploy.md).
    serve_forever(app, config.host, config.port, HTTPLimits.from_env())


def graph_directory(ctx: CliContext, config: TeamsConfig) -> dict[str, object]:
    """With POLICYBOT_GRAPH_MANAGER=1: the directory file with managers filled in from Graph."""
    if not config.graph_enabled:
        return {}
    from adapters.teams.graph import GraphClient, GraphDirectory
    from bot.cases.directory import load_directory

    client = GraphClient(config.tenant_id, config.app_id, config.app_password)
    directory = GraphDirectory(load_directory(ctx.settings), client)
    log.info("Line managers missing from the directory file are looked up in Microsoft Graph.")
    return {"directory": directory, "people": directory}
