"""The Policies page: the council's policy documents, their clauses, and what cites them.

Upload runs the same import as ``policybot policy import`` (bot.language.policy_docs.readers reads
the file, bot.store.policy_sources stores a new version only when the clauses changed), and shows
the same change report: which clauses are new, changed or removed, the citations that quote them
and the flow outcomes that give that advice. A file policybot cannot read comes back as the
reader's one plain sentence. Browsing a policy lists every clause with the citations in it and
who cites them, and which clauses no flow cites; "cite this" checks a quote word for word against
the stored text (``PolicyDocument.contains`` and ``locate``, as ``policybot policy check`` does)
and gives the citations.yaml entry to add.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath

import yaml
from aiohttp import web
from aiohttp.web_request import FileField

from adapters.studio.app import Studio, require, signed_in, studio_of
from bot.errors import PolicybotError
from bot.language.policy_docs.changes import compare
from bot.language.policy_docs.checks import PolicyText, Use, affected, broken_citations, citations_in, uses_of
from bot.language.policy_docs.model import Clause
from bot.language.policy_docs.readers import read_document
from bot.store.policy_sources import Imported, PolicySources, SourceVersion, check_id

CITATION_ID = re.compile(r"[a-z0-9][a-z0-9.-]{0,59}")  # the registry's id rule (bot.language.citations)


@dataclass(frozen=True)
class ClauseRow:
    clause: Clause
    citations: list[str]
    cited_by: list[Use]  # where flows cite those citations; empty: no flow cites this clause


def add_routes(app: web.Application) -> None:
    app.router.add_get("/policies", policies_page)
    app.router.add_post("/policies/import", import_policy)
    app.router.add_get("/policies/{source_id}", policy_page)
    app.router.add_post("/policies/{source_id}/cite", cite)


def _current(studio: Studio) -> list[SourceVersion]:
    with studio.runtime.store.transaction() as conn:
        return PolicySources().all_current(conn)


def _uses(studio: Studio) -> dict[str, list[Use]]:
    return uses_of(studio.runtime.library.all())


async def _list(request: web.Request, *, status: int = 200, refusal: str | None = None,
                report: dict[str, object] | None = None) -> web.StreamResponse:  # fmt: skip
    studio = studio_of(request)
    imported = _current(studio)
    registry = studio.runtime.library.registry
    return studio.render(
        request,
        "policies.html",
        status=status,
        title="Policies",
        imported=imported,
        not_imported=[(k, p) for k, p in registry.policies.items() if k not in {v.source_id for v in imported}],
        refusal=refusal,
        report=report,
    )


@require("policies")
async def policies_page(request: web.Request) -> web.StreamResponse:
    return await _list(request)


@require("policy_import")
async def import_policy(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    form = await request.post()
    upload = form.get("file")
    source_id = str(form.get("id") or "").strip()
    title = str(form.get("title") or "").strip()
    if not isinstance(upload, FileField) or not upload.filename:
        return await _list(request, status=422, refusal="Choose the policy file to import (.txt, .md, .docx or .pdf).")
    name = PurePath(upload.filename.replace("\\", "/")).name or "policy.txt"
    try:
        check_id(source_id)
        with tempfile.TemporaryDirectory(prefix="policybot-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(upload.file.read())
            document = read_document(path)
        registry = studio.runtime.library.registry
        sources = PolicySources()
        with studio.runtime.store.transaction() as conn:
            existing = sources.current(conn, source_id)
            heading = next((c.text for c in document.clauses if c.kind == "heading"), None)
            default = registry.policies[source_id].title if source_id in registry.policies else heading or path.stem
            chosen = title or (existing.title if existing else default)
            result = sources.save(
                conn, source_id, document, filename=name, title=chosen, now=studio.runtime.clock.now()
            )
    except PolicybotError as err:
        return await _list(request, status=422, refusal=str(err))
    studio.audit.record(
        user.actor.user_id, "policy_import", f"{source_id} version {result.current.version}", subject=source_id
    )
    return await _list(request, report=_report(studio, result))


def _report(studio: Studio, result: Imported) -> dict[str, object]:
    """What ``policybot policy import`` prints, as data for the page."""
    registry = studio.runtime.library.registry
    current, previous = result.current, result.previous
    uses = _uses(studio)
    changes = []
    if result.created and previous is not None:
        found = compare(previous.document, current.document)
        for change in affected(registry, current.source_id, previous.document, current.document, found):
            changes.append((change, [(cid, uses.get(cid, [])) for cid in change.citations]))
    broken = []
    if current.source_id in registry.policies:
        text = {current.source_id: PolicyText(current.source_id, current.document, current.where)}
        broken = [(b, uses.get(b.citation.id, [])) for b in broken_citations(registry, text)]
    return {
        "current": current,
        "previous": previous,
        "created": result.created,
        "changes": changes,
        "broken": broken,
        "in_registry": current.source_id in registry.policies,
    }


def _version(studio: Studio, source_id: str) -> SourceVersion:
    with studio.runtime.store.transaction() as conn:
        found = PolicySources().current(conn, source_id)
    if found is None:
        raise web.HTTPNotFound()
    return found


def clause_rows(studio: Studio, version: SourceVersion) -> list[ClauseRow]:
    registry = studio.runtime.library.registry
    uses = _uses(studio)
    key = version.source_id
    rows = []
    for clause in version.document.clauses:
        ids = citations_in(registry, key, version.document, clause) if key in registry.policies else []
        rows.append(ClauseRow(clause, ids, [u for cid in ids for u in uses.get(cid, [])]))
    return rows


async def _one(request: web.Request, *, status: int = 200, **context: object) -> web.StreamResponse:
    studio = studio_of(request)
    version = _version(studio, request.match_info["source_id"])
    rows = clause_rows(studio, version)
    uncited = request.query.get("show") == "uncited"
    context.setdefault("refusal", None)
    context.setdefault("entry", None)
    context.setdefault("picked", request.query.get("clause", ""))
    return studio.render(
        request,
        "policy.html",
        status=status,
        title=version.title,
        version=version,
        rows=[r for r in rows if not r.cited_by and r.clause.kind != "heading"] if uncited else rows,
        uncited=uncited,
        uncited_count=sum(1 for r in rows if not r.cited_by and r.clause.kind != "heading"),
        **context,
    )


@require("policies")
async def policy_page(request: web.Request) -> web.StreamResponse:
    return await _one(request)


@require("policies")
async def cite(request: web.Request) -> web.StreamResponse:
    """Check a quote is word for word in the chosen clause, and give the citation to add."""
    studio = studio_of(request)
    version = _version(studio, request.match_info["source_id"])
    form = await request.post()
    label = str(form.get("clause") or "")
    quote = " ".join(str(form.get("quote") or "").split())[:1000]
    citation_id = str(form.get("citation") or "").strip()
    clause = version.document.clause(label)
    if clause is None:
        return await _one(request, status=422, refusal="Pick a clause of this policy to cite.", picked=label)
    if not quote:
        return await _one(request, status=422, refusal="Copy the words you want to quote from the clause.",
                          picked=label)  # fmt: skip
    if not version.document.contains(quote):
        return await _one(
            request,
            status=422,
            refusal="Those words are not in the policy exactly as written (every word and its case counts; spacing, "
            "curly quotes and dash styles do not). Copy them again from the clause.",
            picked=label,
            quote=quote,
        )
    where = [c.label for c in version.document.locate(quote)]
    if label not in where:
        return await _one(
            request,
            status=422,
            refusal=f"Those words are in the policy, but in {', '.join(where)}, not in {label}.",
            picked=label,
            quote=quote,
        )
    if not CITATION_ID.fullmatch(citation_id):
        citation_id = f"{version.source_id}-{label.lower().replace(' ', '-')}"[:60]
    entry = yaml.safe_dump(
        {citation_id: {"policy": version.source_id, "clause": label, "quote": quote,
                       "summary": "(one plain-English sentence in your own words)", "audience": "employee"}},
        sort_keys=False, allow_unicode=True, width=100,
    )  # fmt: skip
    return await _one(request, entry=entry, picked=label, quote=quote)
