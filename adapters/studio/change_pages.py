"""The Changes page: change requests to the flow library, one change's readable diff, review, history
and rollback.

Every action goes through the change desk (adapters.studio.changes) to ``Publishing``, which
decides who may do it (a reviewer, never on their own change); when it refuses, the page shows its
sentence and nothing changes. The buttons are offered only to reviewers, but hiding a button is
a courtesy, not the check.
"""

from __future__ import annotations

from aiohttp import web

from adapters.studio.app import require, signed_in, studio_of
from adapters.studio.changes import desk_for
from bot.errors import NotAllowed, PolicybotError
from bot.publishing.model import PENDING

NOTE_CHARS = 500


def add_routes(app: web.Application) -> None:
    app.router.add_get("/changes", changes_page)
    app.router.add_post("/changes/rollback", rollback)
    app.router.add_get("/changes/{change_id}", change_page)
    app.router.add_post("/changes/{change_id}/approve", approve)
    app.router.add_post("/changes/{change_id}/request-changes", request_changes)


def _status(err: PolicybotError) -> int:
    return 403 if isinstance(err, NotAllowed) else 409


async def _list(request: web.Request, *, refusal: str | None = None, message: str | None = None, status: int = 200
                ) -> web.StreamResponse:  # fmt: skip
    studio = studio_of(request)
    desk = desk_for(studio.runtime)
    flow_id = request.query.get("flow", "")
    history = desk.history(flow_id or None)
    return studio.render(
        request,
        "changes.html",
        status=status,
        title="Changes",
        enabled=desk.enabled,
        pending=[c for c in history if c.status == PENDING],
        history=history,
        versions=desk.versions()[:20],
        flows=studio.runtime.library.all(),
        flow_id=flow_id,
        refusal=refusal,
        message=message,
    )


@require("changes")
async def changes_page(request: web.Request) -> web.StreamResponse:
    return await _list(request)


async def _one(request: web.Request, *, refusal: str | None = None, message: str | None = None, status: int = 200
               ) -> web.StreamResponse:  # fmt: skip
    studio = studio_of(request)
    desk = desk_for(studio.runtime)
    try:
        change, diffs = desk.change(request.match_info["change_id"])
    except PolicybotError:
        raise web.HTTPNotFound() from None
    return studio.render(
        request,
        "change.html",
        status=status,
        title=f"Change {change.id[:8]}",
        change=change,
        diffs=diffs,
        refusal=refusal,
        message=message,
    )


@require("changes")
async def change_page(request: web.Request) -> web.StreamResponse:
    return await _one(request)


@require("review")
async def approve(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    reference = request.match_info["change_id"]
    try:
        decision = desk_for(studio.runtime).approve(user, reference)
    except PolicybotError as err:
        return await _one(request, refusal=str(err), status=_status(err))
    studio.audit.record(user.actor.user_id, "approve", f"change {reference[:8]}", subject=reference)
    return await _one(request, message=decision.message)


@require("review")
async def request_changes(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    reference = request.match_info["change_id"]
    form = await request.post()
    why = str(form.get("why") or "")[:NOTE_CHARS]
    try:
        desk_for(studio.runtime).request_changes(user, reference, why)
    except PolicybotError as err:
        return await _one(request, refusal=str(err), status=_status(err))
    studio.audit.record(user.actor.user_id, "request_changes", f"change {reference[:8]}", subject=reference)
    return await _one(request, message="Sent back to the author with your request for changes.")


@require("review")
async def rollback(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    form = await request.post()
    flow_id = str(form.get("flow") or "")
    version = str(form.get("version") or "")
    note = str(form.get("note") or "")[:NOTE_CHARS]
    if flow_id not in studio.runtime.library or not version.isdigit():
        return await _list(request, refusal="Pick a flow and a library version to roll it back to.", status=422)
    try:
        change = desk_for(studio.runtime).rollback(user, flow_id, int(version), note)
    except PolicybotError as err:
        return await _list(request, refusal=str(err), status=_status(err))
    studio.audit.record(user.actor.user_id, "rollback", f"to version {version}", flow_id=flow_id, subject=change.id)
    return await _list(
        request, message=f"{flow_id} is back as it was in version {version}: now library version "
        f"{change.published_version}."
    )  # fmt: skip
