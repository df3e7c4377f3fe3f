"""``policybot policy``: a council's own policy documents as the source of every citation.

``import`` reads a policy (.txt, .md, .docx, text .pdf) into clauses and stores it as a new
version when its text changed, saying which clauses are new, changed or removed and which flow
outcomes cite them; ``import-shipped`` does the same for each policy the registry lists from the
policy folder (the four sample policies, nothing special about them); ``list`` and ``show`` read
what is stored; ``check`` proves every citation's quote is still word for word in the current
text of its policy (exit 1 naming each citation and who cites it). docs/own-policy.md walks a
council through replacing the sample policies.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli.options import CliContext, pass_cli
from bot.errors import PolicybotError

if TYPE_CHECKING:
    from bot.language.citations import Registry
    from bot.language.policy_docs.checks import Use
    from bot.language.policy_docs.model import PolicyDocument
    from bot.store.database import Store
    from bot.store.policy_sources import Imported

SNIPPET = 90


@click.group("policy")
def policy_group() -> None:
    """Your council's policy documents: import them, see them, check citations against them."""


def _store(ctx: CliContext) -> Store:
    from bot.store.database import Store

    return Store(ctx.database_url)


def _uses(ctx: CliContext) -> dict[str, list[Use]]:
    """Where each citation is cited, from every flow file that loads (broken ones are validate's job)."""
    from bot.errors import FileProblems
    from bot.language.flow_loader import flow_files, load_flow_file
    from bot.language.policy_docs.checks import uses_of

    flows = []
    for path in flow_files([ctx.flows_folder]):
        try:
            flows.append(load_flow_file(path))
        except FileProblems:
            continue
    return uses_of(flows)


def _cited_by(cid: str, uses: dict[str, list[Use]]) -> str:
    """The outcomes (flow / outcome) citing ``cid``, and how many questions or "why?" answers do."""
    found = uses.get(cid, [])
    outcomes = [str(u) for u in found if u.outcome]
    others = len(found) - len(outcomes)
    text = ", ".join(outcomes) if outcomes else "no outcome"
    return text + (f" (and {others} question(s) or a flow's 'why?' answer)" if others else "")


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rstrip() + "…"


def _default_title(source_id: str, registry: Registry | None, document: PolicyDocument, path: Path) -> str:
    if registry is not None and source_id in registry.policies:
        return registry.policies[source_id].title
    heading = next((c.text for c in document.clauses if c.kind == "heading"), None)
    return heading or path.stem


def _import_one(
    ctx: CliContext,
    store: Store,
    path: Path,
    source_id: str,
    title: str | None,
    registry: Registry | None,
    uses: dict[str, list[Use]],
) -> None:
    """Read, store and report one policy file (the one way every policy is imported)."""
    from bot.language.policy_docs.readers import read_document
    from bot.store.policy_sources import PolicySources, check_id

    check_id(source_id)
    document = read_document(path)
    sources = PolicySources()
    with store.transaction() as conn:
        existing = sources.current(conn, source_id)
        chosen = title or (existing.title if existing else _default_title(source_id, registry, document, path))
        result = sources.save(conn, source_id, document, filename=path.name, title=chosen, now=datetime.now(UTC))
    _report(result, registry, uses)


def _report(result: Imported, registry: Registry | None, uses: dict[str, list[Use]]) -> None:
    from bot.language.policy_docs.changes import compare
    from bot.language.policy_docs.checks import PolicyText, affected, broken_citations

    current, previous = result.current, result.previous
    count = len(current.document.clauses)
    if not result.created:
        click.echo(f"Policy '{current.source_id}' is unchanged: version {current.version} ({count} clauses).")
        return
    if previous is None:
        click.echo(f"Imported policy '{current.source_id}' ({current.title}) as version 1: {count} clauses.")
    else:
        changes = compare(previous.document, current.document)
        click.echo(
            f"Policy '{current.source_id}' is now version {current.version} (was {previous.version}): "
            f"{changes.counts()} clause(s)."
        )
        if registry is not None:
            for change in affected(registry, current.source_id, previous.document, current.document, changes):
                click.echo(f"  {change.how:<8} {change.clause.label}: {_snippet(change.clause.text)}")
                for cid in change.citations:
                    click.echo(f"           cited as {cid} by {_cited_by(cid, uses)}")
    if registry is None:
        return
    if current.source_id not in registry.policies:
        click.echo(
            f"  No citation names policy '{current.source_id}' yet: add it under 'policies:' in citations.yaml "
            "and cite its clauses (docs/own-policy.md)."
        )
        return
    text = {current.source_id: PolicyText(current.source_id, current.document, current.where)}
    for broken in broken_citations(registry, text):
        cid = broken.citation.id
        click.echo(
            f"  the {broken.what} of citation {cid} is no longer in the policy; fix it in citations.yaml "
            f"(cited by {_cited_by(cid, uses)})"
        )


def _registry_or_note(ctx: CliContext) -> Registry | None:
    """The citation registry; if it cannot be read the import still happens, without the report."""
    try:
        return ctx.registry()
    except PolicybotError as err:
        click.echo(f"(The citation registry cannot be read, so affected outcomes are not listed: {err})", err=True)
        return None


@policy_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "source_id", required=True, help="The policy's id: the key citations.yaml gives it.")
@click.option("--title", help="The policy's title (default: the registry's, else the first heading).")
@pass_cli
def import_command(ctx: CliContext, file: Path, source_id: str, title: str | None) -> None:
    """Import a policy document (.txt, .md, .docx, .pdf) as a new version of policy ID.

    A new version is stored only when the clauses changed; the changes are listed with the flow
    outcomes that cite them.
    """
    registry = _registry_or_note(ctx)
    store = _store(ctx)
    try:
        _import_one(ctx, store, file, source_id, title, registry, _uses(ctx))
    finally:
        store.close()


@policy_group.command("import-shipped")
@click.option(
    "--folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="The policy folder (default: $POLICYBOT_POLICY_DIR, else ../shared/policy).",
)
@pass_cli
def import_shipped_command(ctx: CliContext, folder: Path | None) -> None:
    """Import every policy citations.yaml lists from the policy folder, each with its key as id."""
    from bot.language.citations import default_policy_dir

    registry = ctx.registry()
    folder = folder or default_policy_dir()
    if folder is None or not folder.is_dir():
        raise PolicybotError(
            f"there is no policy folder{f' at {folder}' if folder else ''}; give --folder or set POLICYBOT_POLICY_DIR."
        )
    store = _store(ctx)
    uses = _uses(ctx)
    try:
        for key, policy in registry.policies.items():
            _import_one(ctx, store, folder / policy.file, key, None, registry, uses)
    finally:
        store.close()


@policy_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def list_command(ctx: CliContext, as_json: bool) -> None:
    """The imported policies: id, current version, clauses, when imported, title."""
    from bot.store.policy_sources import PolicySources

    store = _store(ctx)
    try:
        with store.transaction() as conn:
            found = PolicySources().all_current(conn)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_summary(v) for v in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No policy has been imported yet: `policybot policy import FILE --id ID` (docs/own-policy.md).")
        return
    width = max(len(v.source_id) for v in found)
    for v in found:
        when = v.imported_at.strftime("%Y-%m-%d %H:%M")
        clauses = f"{len(v.document.clauses)} clauses"
        click.echo(f"{v.source_id.ljust(width)}  v{v.version:<3} {clauses:>12}  {when}  {v.title}")


def _summary(version: Any) -> dict[str, Any]:
    return {
        "id": version.source_id,
        "title": version.title,
        "version": version.version,
        "current_version": version.current_version,
        "filename": version.filename,
        "imported_at": version.imported_at.isoformat(),
        "digest": version.digest,
        "clauses": len(version.document.clauses),
    }


@policy_group.command("show")
@click.argument("source_id", metavar="ID")
@click.option("--version", "number", type=int, help="An older version (default: the current one).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def show_command(ctx: CliContext, source_id: str, number: int | None, as_json: bool) -> None:
    """One imported policy's clauses, each with its label and text."""
    from bot.store.policy_sources import PolicySources

    sources = PolicySources()
    store = _store(ctx)
    try:
        with store.transaction() as conn:
            found = sources.current(conn, source_id) if number is None else sources.version(conn, source_id, number)
            if found is None:
                known = [v.source_id for v in sources.all_current(conn)]
                which = "policy" if number is None or source_id not in known else f"version {number} of policy"
                raise PolicybotError(
                    f"there is no {which} '{source_id}' in the database; imported: {', '.join(known) or 'none'} "
                    "(`policybot policy list`)."
                )
    finally:
        store.close()
    if as_json:
        data = _summary(found) | {"clauses": found.document.to_json()}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{found.title}")
    click.echo(f"policy '{found.source_id}', version {found.version} of {found.current_version}, from {found.filename}")
    for clause in found.document.clauses:
        click.echo(f"\n[{clause.label}]")
        click.echo(click.wrap_text(clause.text, width=100, initial_indent="  ", subsequent_indent="  "))


@policy_group.command("check")
@click.option(
    "--folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where policies not yet imported are read from (default: $POLICYBOT_POLICY_DIR, else ../shared/policy).",
)
@pass_cli
def check_command(ctx: CliContext, folder: Path | None) -> None:
    """Check every citation's quote is word for word in its policy's current text (exit 1 if not).

    A citation's policy is the imported source with its registry key; one not imported yet is
    read from its file in the policy folder.
    """
    from bot.language.citations import default_policy_dir
    from bot.language.policy_docs.checks import broken_citations, policy_texts
    from bot.store.policy_sources import PolicySources

    registry = ctx.registry()
    store = _store(ctx)
    try:
        with store.transaction() as conn:
            imported = {v.source_id: (v.document, v.where) for v in PolicySources().all_current(conn)}
    finally:
        store.close()
    texts = policy_texts(registry, imported, folder or default_policy_dir())
    broken = broken_citations(registry, texts)
    missing = [t.problem for t in texts.values() if t.problem]
    uses = _uses(ctx) if broken or missing else {}
    for problem in missing:
        click.echo(problem)
    for found in broken:
        cid = found.citation.id
        click.echo(f"{cid}: its {found.what} is not in {found.where}")
        click.echo(f"  cited by {_cited_by(cid, uses)}")
    if broken or missing:
        click.echo(
            f"{len(broken)} citation(s) do not match their policy"
            + (f" and {len(missing)} policy text(s) are missing" if missing else "")
            + ": copy each quote again from the policy in citations.yaml, or change the flows that cite it "
            "(docs/own-policy.md)."
        )
        sys.exit(1)
    sources = ", ".join(f"{key} ({t.where})" for key, t in texts.items())
    click.echo(f"All {len(registry.citations)} citations quote their policy word for word: {sources}.")


COMMANDS = [policy_group]
