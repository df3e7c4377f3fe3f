"""The Flows pages: the list with each flow's status, and one flow's diagram and paths.

Everything shown comes from the core: the loaded library (and the files it left out, with their
problems), the scenario tests (bot.conversation.scenarios, as ``policybot test`` runs them), the
citations (bot.language.coverage) and every path (bot.conversation.paths). The scenario results
are computed once per process: the flows served do not change until it restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from adapters.studio.app import Studio, require, studio_of
from adapters.studio.changes import desk_for
from adapters.studio.svg import flow_diagram
from bot.conversation.library import default_flows_dir
from bot.conversation.paths import all_paths
from bot.conversation.scenarios import Report, run_scenarios, scenario_files
from bot.errors import Problem, UnknownFlow
from bot.language.coverage import cited_ids


@dataclass(frozen=True)
class FlowRow:
    id: str
    title: str
    version: str
    passed: int
    failed: int
    reached: int
    outcomes: int
    clauses: list[str]
    open_changes: int

    @property
    def coverage(self) -> int:
        return round(100 * self.reached / self.outcomes) if self.outcomes else 100


def flows_folder(studio: Studio) -> Path:
    return studio.flows_dir or default_flows_dir()


def scenario_report(studio: Studio) -> Report:
    found = studio.cache.get("scenarios")
    if found is None:
        library = studio.runtime.library
        found = studio.cache["scenarios"] = run_scenarios(library, scenario_files([flows_folder(studio)]))
    return found


def flow_rows(studio: Studio) -> list[FlowRow]:
    report = scenario_report(studio)
    desk = desk_for(studio.runtime)
    rows = []
    for flow in studio.runtime.library.all():
        results = [r for r in report.results if r.flow_id == flow.id]
        reached, outcomes = report.coverage.get(flow.id, (set(), set()))
        rows.append(
            FlowRow(
                flow.id,
                flow.title,
                flow.version,
                sum(r.passed for r in results),
                sum(not r.passed for r in results),
                len(reached & outcomes),
                len(outcomes),
                sorted(cited_ids(flow)),
                len(desk.open_changes(flow.id)),
            )
        )
    return rows


def add_routes(app: web.Application) -> None:
    app.router.add_get("/flows", flows_list)
    app.router.add_get("/flows/{flow_id}", flow_page)


@require("flows")
async def flows_list(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    library = studio.runtime.library
    left_out: dict[str, list[Problem]] = {}
    for problem in library.problems:
        left_out.setdefault(Path(problem.file).name, []).append(problem)
    return studio.render(
        request,
        "flows.html",
        title="Flows",
        rows=flow_rows(studio),
        left_out=sorted(left_out.items()),
        publishing=desk_for(studio.runtime).enabled,
    )


@require("flows")
async def flow_page(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    library = studio.runtime.library
    try:
        flow = library.get(request.match_info["flow_id"])
    except UnknownFlow:
        raise web.HTTPNotFound() from None
    settings = library.settings
    paths = all_paths(flow, settings)
    registry = library.registry
    clauses = [(cid, registry.citations.get(cid)) for cid in sorted(cited_ids(flow))]
    return studio.render(
        request,
        "flow.html",
        title=flow.title,
        flow=flow,
        diagram=flow_diagram(flow),
        paths=paths,
        states=flow.states,
        clauses=clauses,
        description=flow.description,
    )
