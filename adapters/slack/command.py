"""``policybot serve slack``: the bot in a Slack workspace.

Socket Mode when ``SLACK_APP_TOKEN`` is set (the quick start: no public address, one process),
HTTP mode otherwise (``POST /slack/events`` behind a load balancer, any number of replicas on one
database). Credentials come from the environment only; logging is set up with every secret
masked before the first line is written.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import IO

import click

from adapters.http_limits import HTTPLimits
from adapters.slack.app import SlackBot
from adapters.slack.config import SlackConfig, install_redaction
from adapters.slack.http_server import SlackHTTPServer
from adapters.slack.installs import OAuthConfig, SlackInstalls, WorkspaceNotifier
from adapters.slack.notifier import SlackNotifier, make_notifier_client
from bot.cases.notify import Notifier
from bot.cases.worker import Worker as OutboxWorker
from bot.cli.options import CliContext, pass_cli
from bot.ops.health import OpsEndpoints
from bot.runtime import prepare_to_serve
from bot.telemetry.logging_setup import configure_logging as setup_logging

log = logging.getLogger(__name__)


def configure_logging(
    config: SlackConfig, level: str | None, stream: IO[str] | None = None, fmt: str | None = None
) -> logging.Handler:
    """The process's logging (bot.telemetry.logging_setup: JSON lines or text, correlation ids), with the
    Slack secrets masked, plus the filter for Slack's payload token. Returns the handler (tests)."""
    handler = setup_logging(level, fmt, secrets=config.secrets, stream=stream)
    install_redaction(config.secrets, [handler])
    return handler


def wait_for_stop_signal() -> None:
    """Block until SIGTERM (how orchestrators and systemd stop a service) or SIGINT (Ctrl+C)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


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
    "--threads",
    type=int,
    default=None,
    help="Background threads answering people, per process (default: 32). They mostly wait on Slack; "
    "database turns are limited separately (2 at once on SQLite, 8 on PostgreSQL).",
)
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Deliver case notifications from this process too (turn off when `policybot worker "
    "--notifier slack` runs separately).",
)
@click.option(
    "--log-level",
    default=None,
    help="DEBUG, INFO, WARNING or ERROR (default: $POLICYBOT_LOG_LEVEL, else INFO). "
    "The format is JSON lines unless POLICYBOT_LOG_FORMAT=text.",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@pass_cli
def serve(ctx: CliContext, host: str, port: int, threads: int | None, worker: bool, log_level: str | None) -> None:
    """Run Policy Bot in Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP mode)."""
    config = SlackConfig.from_env()
    oauth = OAuthConfig.from_env()
    log_handler = configure_logging(config, log_level)
    if oauth is not None:
        install_redaction(oauth.secrets, [log_handler])
    runtime = ctx.runtime()
    installs = SlackInstalls(runtime.store.engine, oauth) if oauth is not None else None
    bot = SlackBot(runtime, config, worker_threads=threads, installs=installs)
    outbox_worker = None
    if worker and runtime.cases is not None:
        # Escalations are delivered (and chased) from the outbox by this background thread; any
        # number of replicas can run one, the outbox's leases keep each notification to one sender.
        notifier: Notifier = SlackNotifier(make_notifier_client(config))
        if installs is not None:
            notifier = WorkspaceNotifier(notifier, installs)  # each case in its own workspace's name
        outbox_worker = OutboxWorker(runtime, notifier).start()
    if bot.inbound is not None:
        # Replays requests acknowledged by a replica that died before handling them (or this one,
        # before it was restarted), and retries those that failed for a moment.
        bot.inbound.start()
    prepare_to_serve(runtime)  # checkpoints off the turns, start-up heap out of the collector's way
    try:
        if config.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("Connecting to Slack in Socket Mode")
            handler = SocketModeHandler(bot.app, config.app_token)
            handler.connect()
            wait_for_stop_signal()
            log.info("Stopping: closing the Socket Mode connection")
            handler.close()
        else:
            ops = OpsEndpoints.for_runtime(runtime)
            # Off the event loop: each request is written to the inbound journal before its ack,
            # and a database write must not hold up every other acknowledgement.
            # OAuth likewise: the authorize step may read the database or call auth.test.
            inline = bot.inbound is None and installs is None
            limits = HTTPLimits.from_env()
            secret = config.signing_secret
            server = SlackHTTPServer(
                bot.app, host=host, port=port, ops=ops, inline=inline, limits=limits, signing_secret=secret
            )
            server.run_forever()
    finally:
        log.info("Finishing the requests already accepted")
        bot.shutdown(timeout=30)
        if bot.inbound is not None:
            bot.inbound.stop()
        if outbox_worker is not None:
            outbox_worker.stop()
