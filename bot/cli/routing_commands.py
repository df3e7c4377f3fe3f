"""``policybot routing-report``: what the router got wrong, for comms to improve the examples."""

from __future__ import annotations

import json

import click

from bot.cli.options import CliContext, pass_cli


@click.command("routing-report")
@click.option("--since", help="Only messages since: an age (30d, 12w, 36h) or a date (2026-11-01).")
@click.option("--limit", default=20, show_default=True, help="How many misses, messages and suggestions to list.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (lists everything).")
@pass_cli
def routing_report_command(ctx: CliContext, since: str | None, limit: int, as_json: bool) -> None:
    """Commonest routing misses, messages that matched nothing, and examples to add to flows.

    Nothing here changes routing: a suggestion counts only once someone adds it to a flow's
    examples: list (docs/routing.md).
    """
    from bot.ops import reports
    from bot.ops.routing_report import report_text, routing_report

    runtime = ctx.runtime()
    start = reports.parse_since(since, runtime.clock.now()) if since else None
    report = routing_report(runtime.store, runtime.library, start)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return
    for line in report_text(report, limit):
        click.echo(line)


COMMANDS = [routing_report_command]
