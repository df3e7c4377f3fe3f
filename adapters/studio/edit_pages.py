"""The Edit page: change a flow's YAML in the browser, check it, and try it.

Checking runs the same checks with the same words as ``policybot validate``
(bot.conversation.library.check_source), and the page lists each problem beside its line.
"Try it" walks the draft with the real engine (adapters.studio.preview), marked as a preview;
with several languages offered there is one "Try it in …" button per language, Welsh first.
Nothing here changes the live flows: "Submit as a change request" hands the draft to publishing
(adapters.studio.changes), which runs the same checks as ``policybot library submit`` (validate
and the flow's scenario tests on the library the change would make); a refused draft comes back
here with each problem beside its line, as a checked one does.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from adapters.studio.app import Studio, require, signed_in, studio_of
from adapters.studio.changes import desk_for
from adapters.studio.preview import walk
from bot.conversation.library import check_source
from bot.errors import PolicybotError, Problem, UnknownFlow
from bot.language.flow_model import Flow
from bot.language.i18n.languages import english_name, name_of
from bot.publishing.changes import ChangeRefused

MAX_SOURCE = 256 * 1024  # characters: ten times the largest shipped flow


def add_routes(app: web.Application) -> None:
    app.router.add_get("/flows/{flow_id}/edit", edit_page)
    app.router.add_post("/flows/{flow_id}/edit", edit_post)
    app.router.add_post("/flows/{flow_id}/check", check_json)
    app.router.add_post("/flows/{flow_id}/submit", submit)


def _flow(studio: Studio, flow_id: str) -> Flow:
    try:
        return studio.runtime.library.get(flow_id)
    except UnknownFlow:
        raise web.HTTPNotFound() from None


def check_draft(studio: Studio, flow: Flow, source: str) -> tuple[Flow | None, list[Problem]]:
    if len(source) > MAX_SOURCE:
        return None, [
            Problem(Path(flow.path).name, 1, f"the flow is too long for the editor ({MAX_SOURCE} characters)")
        ]
    library = studio.runtime.library
    name = Path(flow.path).name
    return check_source(source.replace("\r\n", "\n"), name, library.registry, library.settings, library.all())


CONTEXT_LINES = 2


def _in_file(problem: Problem, flow: Flow) -> bool:
    """A problem in the edited file itself (publishing also reports the flow's scenario tests)."""
    return Path(problem.file).name == Path(flow.path).name


def _listing(source: str, problems: list[Problem]) -> list[tuple[int, str, list[str]]]:
    """The lines with a problem, two lines either side, and (line 0) a gap marker between runs."""
    by_line: dict[int, list[str]] = {}
    for p in problems:
        by_line.setdefault(p.line, []).append(p.message)
    near = {n + d for n in by_line for d in range(-CONTEXT_LINES, CONTEXT_LINES + 1)}
    shown: list[tuple[int, str, list[str]]] = []
    for n, text in enumerate(source.split("\n"), start=1):
        if n in near:
            if shown and shown[-1][0] not in (0, n - 1):
                shown.append((0, "…", []))
            shown.append((n, text, by_line.get(n, [])))
    return shown


@require("edit")
async def edit_page(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    flow = _flow(studio, request.match_info["flow_id"])
    return _render(request, flow, flow.source, [], checked=False, turn=None, answers=[])


@require("edit")
async def edit_post(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user = signed_in(request)
    flow = _flow(studio, request.match_info["flow_id"])
    form = await request.post()
    source = str(form.get("source") or "").replace("\r\n", "\n")
    try_in = str(form.get("try_in") or "")  # a "Try it in …" button: its language
    action = "answer" if form.get("answer") else "try" if try_in else str(form.get("action") or "check")
    language = _offered(studio, try_in or str(form.get("language") or ""))
    draft, problems = check_draft(studio, flow, source)
    studio.audit.record(user.actor.user_id, "check", f"{len(problems)} problem(s)", flow_id=flow.id)
    answers: list[str] = []
    turn = None
    if action in ("try", "answer") and draft is not None:
        kept = str(form.get("answers") or "")
        answers = [a for a in kept.split(",") if a.isdigit()] if action == "answer" else []
        new = str(form.get("answer") or "")
        if action == "answer" and new.isdigit():
            answers.append(new)
        turn = walk(draft, studio.runtime.library, answers, language)
        if action == "try":
            started = f"preview started in {language}" if language else "preview started"
            studio.audit.record(user.actor.user_id, "try", started, flow_id=flow.id)
    return _render(
        request,
        flow,
        source,
        problems,
        checked=True,
        turn=turn,
        answers=answers,
        tried=action != "check",
        language=language,
    )


def _offered(studio: Studio, language: str) -> str | None:
    """The language to try the draft in: one the settings offer, or None (the default language)."""
    offered = studio.runtime.library.settings.languages
    return language if len(offered) > 1 and language in offered else None


@require("edit")
async def check_json(request: web.Request) -> web.StreamResponse:
    """The same check for the page's script, as the author types (no audit line per keystroke)."""
    studio = studio_of(request)
    flow = _flow(studio, request.match_info["flow_id"])
    form = await request.post()
    _draft, problems = check_draft(studio, flow, str(form.get("source") or ""))
    return web.json_response({"problems": [{"line": p.line, "message": p.message} for p in problems]})


@require("edit")
async def submit(request: web.Request) -> web.StreamResponse:
    """Submit the draft through publishing; refused drafts come back with their problems."""
    studio = studio_of(request)
    user = signed_in(request)
    flow = _flow(studio, request.match_info["flow_id"])
    form = await request.post()
    source = str(form.get("source") or "").replace("\r\n", "\n")
    note = str(form.get("note") or "")[:500]
    desk = desk_for(studio.runtime)
    if len(source) > MAX_SOURCE:
        _draft, problems = check_draft(studio, flow, source)
        return _render(request, flow, source, problems, checked=True, turn=None, answers=[], note=note)
    try:
        change = desk.submit(user, flow.id, source, note)
    except ChangeRefused as err:
        studio.audit.record(user.actor.user_id, "submit_refused", f"{len(err.problems)} problem(s)", flow_id=flow.id)
        return _render(request, flow, source, err.problems, checked=True, turn=None, answers=[], note=note)
    except PolicybotError as err:  # not allowed, nothing changed, library not stored: Publishing's sentence
        return _render(request, flow, source, [], checked=True, turn=None, answers=[], note=note, refusal=str(err))
    studio.audit.record(user.actor.user_id, "submit", f"change {change.id[:8]}", flow_id=flow.id, subject=change.id)
    raise web.HTTPSeeOther(f"/changes/{change.id}")


def _render(
    request: web.Request,
    flow: Flow,
    source: str,
    problems: list[Problem],
    *,
    checked: bool,
    turn: object,
    answers: list[str],
    tried: bool = False,
    note: str = "",
    refusal: str | None = None,
    language: str | None = None,
) -> web.StreamResponse:
    studio = studio_of(request)
    settings = studio.runtime.library.settings
    offered = settings.languages
    return studio.render(
        request,
        "edit.html",
        status=422 if problems or refusal else 200,
        title=f"Edit {flow.title}",
        flow=flow,
        file_name=Path(flow.path).name,
        source=source,
        problems=problems,
        listing=_listing(source, [p for p in problems if _in_file(p, flow)]) if problems else [],
        note=note,
        refusal=refusal,
        checked=checked,
        tried=tried,
        turn=turn,
        answers=",".join(answers),
        publishing=desk_for(studio.runtime).enabled,
        # (code, its own name, its English name), Welsh first; empty with one language offered
        languages=[(code, name_of(code), english_name(code)) for code in offered] if len(offered) > 1 else [],
        language=language or settings.default_language,
    )
