"""``policybot coverage``: which policy clauses the flows cite, and which none does yet.

It is a report, not a gate: it exits 0 however many clauses are uncovered, and a flow file that
does not parse is skipped with a warning so the rest of the report still shows.
"""

from __future__ import annotations

import json

import click

from bot.cli.options import CliContext, pass_cli


@click.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def coverage_command(ctx: CliContext, as_json: bool) -> None:
    """Every policy clause in the citation registry and the flows that cite it; the gaps last."""
    from bot.language.coverage import build_report, format_text, read_flows

    registry = ctx.registry()
    flows, problems = read_flows(ctx.flows_folder)
    for problem in problems:
        click.echo(f"warning: left out of the report: {problem}", err=True)
    report = build_report(flows, registry)
    for cid, citing in report.unknown.items():
        click.echo(
            f"warning: '{cid}' is cited by {', '.join(citing)} but is not in the citation registry "
            "(`policybot validate` shows where)",
            err=True,
        )
    from bot.language.i18n.status import format_states, translation_states

    languages = [code for code in ctx.settings.languages if code != "en"]
    states = translation_states(flows, languages)
    if as_json:
        data = report.to_json()
        if states:  # how far each flow is translated, and whether it is still a draft
            data["translations"] = [s.to_json() for s in states]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join([format_text(report, registry), *format_states(states)]))


COMMANDS = [coverage_command]
