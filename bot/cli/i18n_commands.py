"""``policybot i18n``: PO files for translators, out and back in (docs/languages.md)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from bot.cli.options import CliContext, pass_cli


@click.group("i18n")
def i18n_group() -> None:
    """Translations: export PO files for translators and import them back, checked."""


@i18n_group.command("export")
@click.option("--lang", "language", required=True, help="The language to translate into, such as cy.")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@pass_cli
def export_command(ctx: CliContext, language: str, folder: Path) -> None:
    """Write one PO file per flow, and citations.po, with what is translated so far."""
    from bot.conversation.library import check_files
    from bot.language.i18n.po_files import export

    registry = ctx.registry()
    flows, problems = check_files([ctx.flows_folder], registry, ctx.settings)
    for problem in problems:
        click.echo(f"warning: left out: {problem}", err=True)
    written = export(flows, registry, language, folder)
    click.echo(f"{len(written)} PO files written to {folder}.")


@i18n_group.command("import")
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--submit-as",
    "author",
    default=None,
    metavar="ID",
    help="Your id in the staff directory: import into the live flow library (in the database) and "
    "send the flows that changed for review as one change, as `library submit` does (docs/languages.md).",
)
@click.option("--note", default=None, help="With --submit-as: what the change is for, for the reviewer.")
@pass_cli
def import_command(ctx: CliContext, folder: Path, author: str | None, note: str | None) -> None:
    """Check every PO file in FOLDER and write the good translations into the flow files (exit 1
    if any message was refused; the others are still written).

    With publishing (the library in a database), ``--submit-as`` imports into a copy of the live
    library and submits what changed, so a translation is reviewed and published like any other
    change, and a flows folder that is behind the live library cannot undo anyone's work."""
    if author is None:
        problems = _import_into(ctx, folder, ctx.flows_folder)
    else:
        from bot.cli.library_commands import publishing_of

        publishing = publishing_of(ctx)
        with tempfile.TemporaryDirectory(prefix="policybot-i18n-") as work:
            publishing.export(Path(work))
            flows_folder = Path(work) / "flows"
            before = {p: p.read_bytes() for p in flows_folder.glob("*.yaml")}
            problems = _import_into(ctx, folder, flows_folder)
            changed = sorted(p for p, text in before.items() if p.read_bytes() != text)
            if changed:
                change = publishing.submit(changed, author, note or "Translations imported from PO files")
                click.echo(change.id)
                click.echo(f"Submitted for review: {', '.join(change.flows)} (policybot library diff {change.id[:8]}).")
            else:
                click.echo("Nothing to submit: the live library already has these translations.", err=True)
    if problems:
        sys.exit(1)


def _import_into(ctx: CliContext, folder: Path, flows_folder: Path) -> int:
    """Import FOLDER's PO files into the flows in ``flows_folder``; the number of refused messages."""
    from bot.conversation.library import check_files
    from bot.language.i18n.po_files import import_folder

    registry = ctx.registry()
    flows, problems = check_files([flows_folder], registry, ctx.settings)
    for problem in problems:
        click.echo(f"warning: left out: {problem}", err=True)
    result = import_folder(folder, flows, registry, ctx.settings)
    for refused in result.problems:
        click.echo(str(refused))
    total = sum(result.written.values())
    click.echo(f"{total} translation(s) written; {len(result.problems)} refused.", err=True)
    return len(result.problems)


COMMANDS = [i18n_group]
