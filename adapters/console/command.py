"""``policybot chat``: the terminal conversation on the configured store (SQLite by default)."""

from __future__ import annotations

import getpass
import os
import sys

import click

from adapters.console.chat import ConsoleChat
from adapters.console.notifier import ConsoleNotifier
from bot.cases.worker import Worker
from bot.cli.options import CliContext, pass_cli
from bot.conversation.events import Actor


@click.command("chat")
@click.option(
    "--user",
    "user_id",
    default=None,
    help="Who you are in the directory (default: your login name). Used for resuming and escalations.",
)
@click.option("--name", default=None, help="Your display name (default: your login name).")
@click.option("--email", default=None, help="Your work email, used to find you in the directory.")
@click.option(
    "--preview",
    "change",
    default=None,
    help="Try a submitted change before it is published (its author and the reviewers; --user is your directory id).",
)
@click.option(
    "--lang",
    "language",
    default=None,
    help="The language to talk in, such as cy or en (default: your terminal's LANG; "
    "the settings' languages say which are offered).",
)
@pass_cli
def chat(
    ctx: CliContext, user_id: str | None, name: str | None, email: str | None, change: str | None, language: str | None
) -> None:
    """Talk to policybot in the terminal."""
    login = user_id or os.environ.get("POLICYBOT_USER") or getpass.getuser()
    runtime = ctx.runtime(live_reload=change is None)
    locale = language or os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    actor = Actor(
        user_id=f"console:{login}", display_name=name or login, email=email, platform="console", locale=locale
    )
    if change is not None:
        engine = runtime.preview(change, person=login)
        click.secho(engine.mark.strip(), fg="yellow", bold=True)
        status = ConsoleChat(engine, actor).run()
        if status:
            sys.exit(status)
        return
    deliver = None
    if runtime.cases is not None:
        worker = Worker(runtime, ConsoleNotifier())
        deliver = worker.run_once
    status = ConsoleChat(runtime.engine, actor, deliver=deliver).run()
    if status:
        sys.exit(status)  # 130 after Ctrl-C, as a shell expects of an interrupted program
