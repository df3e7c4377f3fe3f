"""``policybot i18n``: PO files for translators, out and back in (docs/languages.md)."""

from __future__ import annotations

import sys
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
@pass_cli
def import_command(ctx: CliContext, folder: Path) -> None:
    """Check every PO file in FOLDER and write the good translations into the flow files (exit 1
    if any message was refused; the others are still written)."""
    from bot.conversation.library import check_files
    from bot.language.i18n.po_files import import_folder

    registry = ctx.registry()
    flows, problems = check_files([ctx.flows_folder], registry, ctx.settings)
    for problem in problems:
        click.echo(f"warning: left out: {problem}", err=True)
    result = import_folder(folder, flows, registry, ctx.settings)
    for problem in result.problems:
        click.echo(str(problem))
    total = sum(result.written.values())
    click.echo(f"{total} translation(s) written; {len(result.problems)} refused.", err=True)
    if result.problems:
        sys.exit(1)


COMMANDS = [i18n_group]
