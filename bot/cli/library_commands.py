"""``policybot library``: change the flow library through review (docs/flows.md, "How to make a change").

submit, diff, approve, reject, history, rollback, export. Each works on the database the bot
serves from (``--database`` / $POLICYBOT_DATABASE_URL / the settings file's ``database_url``),
so an approval here is live on every replica within seconds. People are named by their id in the
staff directory (``--as``), checked against ``authoring:`` in the settings file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.options import CliContext, pass_cli

if TYPE_CHECKING:
    from bot.publishing.changes import Publishing
    from bot.publishing.model import Change


def publishing_of(ctx: CliContext) -> Publishing:
    """The flow library's publishing, for a one-off command (``library``, ``i18n import --submit-as``)."""
    runtime = ctx.runtime(live_reload=False)  # a one-off command: nothing to keep serving
    assert runtime.publishing is not None
    return runtime.publishing


@click.group("library")
def library_group() -> None:
    """Change the flows through review: submit, diff, approve, reject, history, rollback, export."""


@library_group.command("submit")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--as", "person", required=True, help="Your id in the staff directory.")
@click.option("--note", default=None, help="What the change is for, for the reviewer.")
@pass_cli
def submit_command(ctx: CliContext, paths: tuple[Path, ...], person: str, note: str | None) -> None:
    """Ask for a change: edited flow, scenario, citation or settings files, checked first."""
    from bot.publishing.changes import ChangeRefused

    try:
        change = publishing_of(ctx).submit(list(paths), person, note)
    except ChangeRefused as err:
        for problem in err.problems:
            click.echo(str(problem))
        click.echo(
            f"Not submitted: {len(err.problems)} problem{'' if len(err.problems) == 1 else 's'} found "
            "(validate and the scenario tests must pass first).",
            err=True,
        )
        sys.exit(1)
    click.echo(change.id)
    click.echo(
        f"Submitted change {change.id[:8]} ({', '.join(change.flows) or 'settings or citations'}); "
        f"it needs {change.approvals_needed} reviewer approval{'s' if change.approvals_needed != 1 else ''}.",
        err=True,
    )


@library_group.command("diff")
@click.argument("change")
@pass_cli
def diff_command(ctx: CliContext, change: str) -> None:
    """What a change does, flow by flow: questions, options, outcomes, advice before and after."""
    from bot.publishing.diff import as_text

    publishing = publishing_of(ctx)
    found = publishing.get(change)
    click.echo(_headline(found))
    click.echo(as_text(publishing.diff(change)))


@library_group.command("approve")
@click.argument("change")
@click.option("--as", "person", required=True, help="Your id in the staff directory (a reviewer).")
@pass_cli
def approve_command(ctx: CliContext, change: str, person: str) -> None:
    """Approve a change; it is published when it has the approvals it needs."""
    click.echo(publishing_of(ctx).approve(change, person).message)


@library_group.command("reject")
@click.argument("change")
@click.option("--as", "person", required=True, help="Your id in the staff directory (a reviewer).")
@click.option("--why", required=True, help="What the author should change.")
@pass_cli
def reject_command(ctx: CliContext, change: str, person: str, why: str) -> None:
    """Send a change back to its author with what to change."""
    found = publishing_of(ctx).reject(change, person, why)
    click.echo(f"Change {found.id[:8]} sent back to {found.author}.")


@library_group.command("history")
@click.argument("flow", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def history_command(ctx: CliContext, flow: str | None, as_json: bool) -> None:
    """Every change (of one flow, if given): who submitted, who reviewed, when, and the note."""
    from bot.publishing.changes import change_json

    publishing = publishing_of(ctx)
    changes = publishing.history(flow)
    if as_json:
        click.echo(json.dumps([change_json(c) for c in changes], indent=2, ensure_ascii=False))
        return
    if flow is None:
        for version in publishing.all_versions():
            if version.source == "seed":
                click.echo(f"v{version.number}  {version.published_at:%Y-%m-%d %H:%M}  seeded from the flows folder")
    if not changes:
        click.echo("No changes yet." if flow is None else f"No changes to {flow} yet.")
    for change in changes:
        click.echo(_headline(change))
        if change.note:
            click.echo(f"    note: {change.note}")
        for review in change.reviews:
            why = f": {review.why}" if review.why else ""
            click.echo(f"    {review.at:%Y-%m-%d %H:%M}  {review.decision} by {review.reviewer}{why}")


@library_group.command("rollback")
@click.argument("flow")
@click.option("--to", "version", required=True, type=int, help="The library version to take the flow from.")
@click.option("--as", "person", required=True, help="Your id in the staff directory (a reviewer).")
@pass_cli
def rollback_command(ctx: CliContext, flow: str, version: int, person: str) -> None:
    """Put one flow back as it was in an earlier library version (published as a new version)."""
    from bot.publishing.changes import ChangeRefused

    try:
        change = publishing_of(ctx).rollback(flow, version, person)
    except ChangeRefused as err:
        for problem in err.problems:
            click.echo(str(problem))
        click.echo("Not rolled back: that version no longer passes its checks with the rest of the library.", err=True)
        sys.exit(1)
    click.echo(f"{flow} is as it was in version {version}, published as library version {change.published_version}.")


@library_group.command("export")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--version", type=int, default=None, help="A version number (default: the live one).")
@pass_cli
def export_command(ctx: CliContext, folder: Path, version: int | None) -> None:
    """Write the live library (or a given version) out as YAML files: flows/ and settings/."""
    names = publishing_of(ctx).export(folder, version)
    click.echo(
        f"Wrote {len(names)} files to {folder / 'flows'}"
        + (f" and {folder / 'settings'}" if any(n.startswith("settings/") for n in names) else "")
    )


def _headline(change: Change) -> str:
    version = f" -> v{change.published_version}" if change.published_version else ""
    flows = ", ".join(change.flows) or "settings or citations"
    return (
        f"{change.id[:8]}  {change.created_at:%Y-%m-%d %H:%M}  {change.kind} of {flows} by {change.author}: "
        f"{change.status}{version} ({len(change.approvals)}/{change.approvals_needed} approvals)"
    )


COMMANDS = [library_group]
