"""``policybot serve slack``: the bot in a Slack workspace.

Socket Mode when ``SLACK_APP_TOKEN`` is set (the quick start: no public address, one process),
HTTP mode otherwise (``POST /slack/events`` behind a load balancer, any number of replicas on one
database). Credentials come from the environment only; logging is set up with every secret
masked before the first line is written.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from adapters.slack.app import SlackBot
from adapters.slack.config import SlackConfig, install_redaction
from adapters.slack.http_server import SlackHTTPServer
from adapters.slack.notifier import SlackNotifier, make_notifier_client
from bot.cli.options import CliContext, pass_cli
from bot.worker import Worker as OutboxWorker

log = logging.getLogger(__name__)


def configure_logging(config: SlackConfig, level: str, stream: object = None) -> logging.Handler:
    """One handler on the root logger, with the secrets filter on it (returned for tests)."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    install_redaction(config.secrets, [handler])
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    return handler


@click.command("slack")
@click.option(
    "--host",
    default=lambda: os.environ.get("HOST", "0.0.0.0"),
    show_default="0.0.0.0",
    help="HTTP mode: the address to listen on.",
)
@click.option(
    "--port",
    type=int,
    default=lambda: int(os.environ.get("PORT", "3000")),
    show_default="3000",
    help="HTTP mode: the port to listen on ($PORT).",
)
@click.option(
    "--threads", type=int, default=8, show_default=True, help="Background threads answering people (per process)."
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@pass_cli
def serve(ctx: CliContext, host: str, port: int, threads: int, worker: bool, log_level: str) -> None:
    """Run Policy Bot in Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP mode)."""
    config = SlackConfig.from_env()
    configure_logging(config, log_level)
    runtime = ctx.runtime()
    bot = SlackBot(runtime, config, worker_threads=threads)
    outbox_worker = None
    if worker and runtime.cases is not None:
        # Escalations are delivered (and chased) from the outbox by this background thread; any
        # number of replicas can run one, the outbox's leases keep each notification to one sender.
        outbox_worker = OutboxWorker(runtime, SlackNotifier(make_notifier_client(config))).start()
    try:
        if config.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("Connecting to Slack in Socket Mode")
            SocketModeHandler(bot.app, config.app_token).start()
        else:
            SlackHTTPServer(bot.app, host=host, port=port).run_forever()
    finally:
        log.info("Finishing the requests already accepted")
        bot.worker.shutdown(timeout=30)
        if outbox_worker is not None:
            outbox_worker.stop()
