"""Commands about personal data: ``export-person`` for a subject-access request.

(``purge``, for retention, is with the case commands.) Everything held about one person, in
every table that declares personal data (bot.store.personal_data), as JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from bot.cli.options import CliContext, pass_cli


@click.command("export-person")
@click.argument("person_id")
@click.option(
    "--output", "output", type=click.Path(path_type=Path, dir_okay=False), help="Write the JSON to this file."
)
@pass_cli
def export_person_command(ctx: CliContext, person_id: str, output: Path | None) -> None:
    """Everything held about one person, as JSON (for a subject-access request).

    PERSON_ID is a directory id, an email address, or a chat user id (slack:T…:U…, teams:…,
    console:…). The directory's email, Slack and Teams ids for that person are searched too.
    """
    from bot.ops.data_protection import export_person

    runtime = ctx.runtime()
    data = export_person(runtime.store, person_id, directory=runtime.directory, now=runtime.clock.now())
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if output is None:
        click.echo(text)
        return
    # it is all personal data: readable by its owner only, even if the file was there before
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text + "\n")
    found = sum(len(t["rows"]) for t in data["tables"].values())
    click.echo(f"Wrote {found} row(s) from {len(data['tables'])} table(s) about {person_id} to {output}.", err=True)


COMMANDS = [export_person_command]
