"""The seam where publishing plugs in: change requests and the Changes and Policies pages.

Publishing (the flow library in the database in versions; change requests submitted, diffed,
approved, rejected, rolled back; policy import) is built in the core on another branch. The
studio holds no policy logic, so everything it needs from publishing goes through the small
``ChangeDesk`` interface below. Until a real desk is connected, ``NoPublishing`` is used: the
Changes page says publishing is not switched on, "Submit" is not offered, and the flows list
shows no open changes.

To connect publishing: implement ``ChangeDesk`` over the publishing service (the reviewer check,
"never the author", lives there, not here), and return it from ``desk_for``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from adapters.studio.app import require, signed_in, studio_of
from adapters.studio.roles import StudioUser
from bot.runtime import Runtime


@dataclass(frozen=True)
class ChangeSummary:
    id: str
    flow_id: str
    title: str
    author: str
    state: str  # open, approved, rejected, published, rolled back


class ChangeDesk(Protocol):
    """What the studio asks of publishing. Every method takes the signed-in person, who the
    publishing service checks (an author submits, a reviewer who is not the author approves)."""

    enabled: bool

    def open_changes(self, flow_id: str | None = None) -> list[ChangeSummary]: ...

    def submit(self, user: StudioUser, flow_id: str, source: str, note: str) -> ChangeSummary: ...


class NoPublishing:
    """Publishing is not on this branch yet: nothing is open and nothing can be submitted."""

    enabled = False

    def open_changes(self, flow_id: str | None = None) -> list[ChangeSummary]:
        return []

    def submit(self, user: StudioUser, flow_id: str, source: str, note: str) -> ChangeSummary:
        raise web.HTTPConflict(text="Publishing is not switched on, so a draft cannot be submitted yet.")


def desk_for(runtime: Runtime) -> ChangeDesk:
    return NoPublishing()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/changes", changes_page)
    app.router.add_post("/flows/{flow_id}/submit", submit)


@require("changes")
async def changes_page(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    desk = desk_for(studio.runtime)
    return studio.render(request, "changes.html", title="Changes", enabled=desk.enabled, changes=desk.open_changes())


@require("edit")
async def submit(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    desk = desk_for(studio.runtime)
    form = await request.post()
    user = signed_in(request)
    flow_id = request.match_info["flow_id"]
    change = desk.submit(user, flow_id, str(form.get("source") or ""), str(form.get("note") or ""))
    studio.audit.record(user.actor.user_id, "submit", f"change {change.id}", flow_id=flow_id, subject=change.id)
    raise web.HTTPSeeOther("/changes")
