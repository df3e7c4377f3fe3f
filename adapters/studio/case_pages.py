"""The Cases pages: what is waiting, overdue or undelivered, one case's timeline, and acting on it.

Who sees and acts on a case is decided by the case service's own rules (bot.cases.access), the
same ones the Slack and Teams buttons go through: the comms team sees every case; a manager sees
the cases sent to them or to a team they are in; nobody acknowledges or resolves a case they
raised. The studio only adds that the Cases pages need the comms or manager role at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from adapters.studio.app import Studio, require, signed_in, studio_of
from adapters.studio.roles import COMMS_ROLE, StudioUser
from bot.cases.model import ACKNOWLEDGED, OPEN, Case, UnknownCase
from bot.cases.service import CaseService
from bot.errors import NotAllowed, PolicybotError


@dataclass(frozen=True)
class CaseLists:
    open: list[Case]
    acknowledged: list[Case]
    overdue: list[Case]
    failed: list[Case]


def _service(studio: Studio) -> CaseService:
    if studio.runtime.cases is None:
        raise web.HTTPNotFound(text="Cases are not switched on.")
    return studio.runtime.cases


def case_lists(studio: Studio, user: StudioUser, *, limit: int = 200) -> CaseLists:
    service = _service(studio)
    failed = service.list_cases(failed_only=True, limit=limit)
    if COMMS_ROLE in user.roles:
        live = service.list_cases(state="live", limit=limit)
    else:  # a manager: what was sent to them or their team, as their "waiting for you" in chat
        live = service.waiting_for(user.actor, limit=limit)
        failed = [c for c in failed if service.access.may_view(c, user.actor)]
    now = studio.runtime.clock.now()
    return CaseLists(
        open=[c for c in live if c.state == OPEN],
        acknowledged=[c for c in live if c.state == ACKNOWLEDGED],
        overdue=[c for c in live if c.state == OPEN and c.ack_due_at is not None and c.ack_due_at < now],
        failed=failed,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/cases", cases_page)
    app.router.add_get("/cases/{case_id}", case_page)
    app.router.add_post("/cases/{case_id}/acknowledge", acknowledge)
    app.router.add_post("/cases/{case_id}/resolve", resolve)


@require("cases")
async def cases_page(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    return studio.render(request, "cases.html", title="Cases", lists=case_lists(studio, user))


def _case_for(studio: Studio, user: StudioUser, case_id: str) -> Case:
    try:
        return _service(studio).get(case_id, user.actor)
    except (UnknownCase, NotAllowed):
        raise web.HTTPNotFound() from None  # the same answer whether or not the case exists


@require("cases")
async def case_page(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    case = _case_for(studio, user, request.match_info["case_id"])
    service = _service(studio)
    studio.audit.record(user.actor.user_id, "case_view", subject=case.id, flow_id=case.flow_id)
    return studio.render(
        request,
        "case.html",
        title=f"Case for {case.employee_name}",
        case=case,
        may_act=service.access.may_act(case, user.actor),
        message=request.query.get("done"),
    )


async def _act(request: web.Request, action: str) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    case_id = request.match_info["case_id"]
    service = _service(studio)
    form = await request.post()
    try:
        if action == "acknowledge":
            result = service.acknowledge(case_id, user.actor)
        else:
            note = str(form.get("note") or "").strip() or None
            result = service.resolve(case_id, user.actor, note)
    except UnknownCase:
        raise web.HTTPNotFound() from None
    except NotAllowed as err:
        studio.audit.record(user.actor.user_id, f"case_{action[:3]}_refused", subject=case_id)
        raise web.HTTPForbidden(text=str(err)) from None
    except PolicybotError as err:
        raise web.HTTPBadRequest(text=str(err)) from None
    studio.audit.record(
        user.actor.user_id,
        "case_ack" if action == "acknowledge" else "case_resolve",
        "changed" if result.changed else "already done",
        subject=case_id,
        flow_id=result.case.flow_id,
    )
    from urllib.parse import quote

    raise web.HTTPSeeOther(f"/cases/{case_id}?done={quote(result.message)}")


@require("cases")
async def acknowledge(request: web.Request) -> web.StreamResponse:
    return await _act(request, "acknowledge")


@require("cases")
async def resolve(request: web.Request) -> web.StreamResponse:
    return await _act(request, "resolve")
