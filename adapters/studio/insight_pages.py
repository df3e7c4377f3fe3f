"""The Insights page: each chart as server-made SVG, the same figures as a table, and a CSV.

Who sees what: everyone with a studio role sees the flow figures (counts only, nobody named);
onboarding by team shows a manager their own team and the comms team every team; the routing
misses quote what people typed, so they are for the comms team and flow authors, not managers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from aiohttp import web
from markupsafe import Markup

from adapters.studio.app import Studio, require, signed_in, studio_of
from adapters.studio.changes import desk_for
from adapters.studio.examples import with_example
from adapters.studio.insights import Insights, InsightsCache
from adapters.studio.roles import AUTHOR, COMMS_ROLE, REVIEWER, StudioUser
from adapters.studio.svg import Bar, bar_chart
from bot.errors import NotAllowed, PolicybotError
from bot.language.graph import VERDICT_COLOURS
from bot.ops.reports import describe_seconds

PERIODS = (7, 30, 90, 365)


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    headers: list[str]
    rows: list[list[object]]
    chart: Markup


def _cache(studio: Studio) -> InsightsCache:
    cache = studio.cache.get("insights")
    if cache is None:
        cache = studio.cache["insights"] = InsightsCache()
    return cache


def _period(request: web.Request) -> int:
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 30
    return days if days in PERIODS else 30


def datasets(insights: Insights, user: StudioUser, flow_id: str) -> list[Dataset]:
    found = []
    steps = insights.funnels.get(flow_id, [])
    found.append(
        Dataset(
            "funnel",
            f"Drop-off: how many reached each question of {flow_id}",
            ["question", "state", "reached", "left here"],
            [[s.question, s.state, s.reached, s.left] for s in steps],
            bar_chart(
                "funnel",
                f"Drop-off funnel for {flow_id}",
                [Bar(s.question, s.reached, text=f"{s.reached} reached, {s.left} left here") for s in steps],
            ),
        )
    )
    found.append(
        Dataset(
            "verdicts",
            "Verdict mix: the outcomes people reached",
            ["verdict", "outcomes"],
            [[v, n] for v, n in insights.verdicts.items()],
            bar_chart(
                "verdicts",
                "Verdict mix",
                [Bar(v.upper(), n, VERDICT_COLOURS.get(v, "#1d4f91")) for v, n in insights.verdicts.items()],
            ),
        )
    )
    ack_bars = []
    for a in insights.ack:
        ack_bars.append(
            Bar(f"{a.name}: median", (a.median_seconds or 0) / 3600, text=describe_seconds(a.median_seconds))
        )
        ack_bars.append(
            Bar(f"{a.name}: 90% within", (a.p90_seconds or 0) / 3600, "#5b3f8c", describe_seconds(a.p90_seconds))
        )
    found.append(
        Dataset(
            "acknowledge",
            "Time to acknowledge a case, by who it was sent to",
            ["target", "cases", "acknowledged", "median seconds", "90th percentile seconds"],
            [[a.name, a.cases, a.acknowledged, _round(a.median_seconds), _round(a.p90_seconds)] for a in insights.ack],
            bar_chart("acknowledge", "Time to acknowledge, median and 90th percentile", ack_bars),
        )
    )
    teams = insights.onboarding
    if COMMS_ROLE not in user.roles:
        mine = user.person.id if user.person else None
        teams = [t for t in teams if t.manager_id == mine]
    found.append(
        Dataset(
            "onboarding",
            "Onboarding walkthrough completed, by team (line manager)",
            ["team of", "people", "completed", "started", "share completed %"],
            [[t.manager, t.people, t.completed, t.started, t.share] for t in teams],
            bar_chart(
                "onboarding",
                "Onboarding completion by team",
                [Bar(t.manager, t.share, text=f"{t.share}% ({t.completed} of {t.people})") for t in teams],
            ),
        )
    )
    if user.roles & {COMMS_ROLE, AUTHOR, REVIEWER}:
        misses = insights.routing.misses
        found.append(
            Dataset(
                "routing",
                "Routing misses: the bot's first guess, and the flow people really wanted",
                ["first guess", "chosen instead", "times", "what people typed (examples)"],
                [[m.guess, m.chosen, m.count, " | ".join(m.texts)] for m in misses],
                bar_chart("routing", "Routing misses", [Bar(f"{m.guess} → {m.chosen}", m.count) for m in misses[:20]]),
            )
        )
    return found


def _round(seconds: float | None) -> object:
    return "" if seconds is None else round(seconds)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/insights", insights_page)
    app.router.add_get("/insights/add-example", add_example_page)
    app.router.add_post("/insights/add-example", add_example)
    app.router.add_get("/insights/{name}.csv", insights_csv)


def _load(request: web.Request) -> tuple[Studio, Insights, StudioUser, str, int]:
    studio = studio_of(request)
    user = signed_in(request)
    days = _period(request)
    library = studio.runtime.library
    insights = _cache(studio).get(studio.runtime.store, library, studio.directory, studio.runtime.clock.now(), days)
    flow_id = request.query.get("flow", "")
    if flow_id not in library:
        flow_id = max(insights.stats, key=lambda s: (s.started, s.flow)).flow if insights.stats else ""
    return studio, insights, user, flow_id, days


@require("insights")
async def insights_page(request: web.Request) -> web.StreamResponse:
    studio, insights, user, flow_id, days = _load(request)
    return studio.render(
        request,
        "insights.html",
        title="Insights",
        insights=insights,
        datasets=datasets(insights, user, flow_id),
        flows=studio.runtime.library.all(),
        flow_id=flow_id,
        days=days,
        periods=PERIODS,
        misses=insights.routing.misses if user.roles & {COMMS_ROLE, AUTHOR, REVIEWER} else [],
        may_add=user.may("edit") and desk_for(studio.runtime).enabled,
    )


def _miss_text(insights: Insights, flow_id: str, text: str) -> bool:
    """Whether ``text`` is a message the routing report lists as meant for ``flow_id``."""
    return any(m.chosen == flow_id and text in m.texts for m in insights.routing.misses)


@require("edit")
async def add_example_page(request: web.Request) -> web.StreamResponse:
    """The confirm step: the message, the flow, and what the change request will be."""
    studio, insights, _user, _flow_id, days = _load(request)
    flow_id, text = request.query.get("to", ""), request.query.get("text", "")
    if flow_id not in studio.runtime.library or not _miss_text(insights, flow_id, text):
        raise web.HTTPNotFound(text="That message is not in the routing report for that flow any more.")
    flow = studio.runtime.library.get(flow_id)
    return studio.render(request, "add_example.html", title="Add as example", flow=flow, text=text, days=days,
                         refusal=None)  # fmt: skip


@require("edit")
async def add_example(request: web.Request) -> web.StreamResponse:
    """Confirmed: submit the flow with the message added to its examples, through publishing."""
    studio, insights, user, _flow_id, days = _load(request)
    form = await request.post()
    flow_id, text = str(form.get("to") or ""), str(form.get("text") or "")
    if flow_id not in studio.runtime.library or not _miss_text(insights, flow_id, text):
        raise web.HTTPNotFound(text="That message is not in the routing report for that flow any more.")
    flow = studio.runtime.library.get(flow_id)
    try:
        source = with_example(flow.source, text)
        change = desk_for(studio.runtime).submit(user, flow_id, source, f"add a routing example to {flow_id}")
    except PolicybotError as err:  # validate's example checks, not allowed, ...: publishing's words
        return studio.render(request, "add_example.html", status=409 if not isinstance(err, NotAllowed) else 403,
                             title="Add as example", flow=flow, text=text, days=days, refusal=str(err))  # fmt: skip
    studio.audit.record(user.actor.user_id, "submit", f"change {change.id[:8]} (example)", flow_id=flow_id,
                        subject=change.id)  # fmt: skip
    raise web.HTTPSeeOther(f"/changes/{change.id}")


@require("insights")
async def insights_csv(request: web.Request) -> web.StreamResponse:
    studio, insights, user, flow_id, days = _load(request)
    wanted = request.match_info["name"]
    dataset = next((d for d in datasets(insights, user, flow_id) if d.name == wanted), None)
    if dataset is None:
        raise web.HTTPNotFound()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(dataset.headers)
    for row in dataset.rows:
        writer.writerow([_safe_cell(v) for v in row])
    studio.audit.record(user.actor.user_id, "csv", f"{wanted}, {days} days", flow_id=flow_id or "-")
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="policybot-{wanted}-{days}d.csv"'},
    )


def _safe_cell(value: object) -> object:
    """A cell a spreadsheet will not run as a formula (what people typed can start with '=')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
