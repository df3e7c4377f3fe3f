"""The Flows pages: the list with each flow's status, and one flow's diagram and paths.

Everything shown comes from the core: the loaded library (and the files it left out, with their
problems), the scenario tests (bot.conversation.scenarios, as ``policybot test`` runs them), the
citations (bot.language.coverage) and every path (bot.conversation.paths). The scenario results
are computed once per process: the flows served do not change until it restarts. With more than
one language offered, each flow's translation state is the one ``policybot coverage`` prints
(bot.language.i18n.status), in words for a comms officer.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from adapters.studio.app import STUDIO, Studio, require, studio_of
from adapters.studio.changes import desk_for
from adapters.studio.svg import flow_diagram
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.paths import all_paths
from bot.conversation.scenarios import Report, run_scenarios, scenario_files
from bot.errors import Problem, UnknownFlow
from bot.language.coverage import cited_ids
from bot.language.flow_model import Flow
from bot.language.i18n.flow_texts import FlowText
from bot.language.i18n.languages import ENGLISH, english_name
from bot.language.i18n.status import TranslationState, stale_texts, state_of


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
    translations: list[TranslationState]

    @property
    def coverage(self) -> int:
        return round(100 * self.reached / self.outcomes) if self.outcomes else 100


@dataclass(frozen=True)
class StaleText:
    """A text whose translation is out of date, where ``policybot validate`` reports it."""

    line: int  # the translation's own line
    english: str


def translations_of(studio: Studio, flow: Flow) -> list[TranslationState]:
    """Each offered language but English, in the order offered (Welsh first); none when the
    settings offer one language, so a council that has not switched Welsh on sees nothing of it."""
    offered = studio.runtime.library.settings.languages
    if len(offered) < 2:
        return []
    return [state_of(flow, code) for code in offered if code != ENGLISH]


def stale_of(flow: Flow, language: str) -> list[StaleText]:
    return [StaleText(_translation_line(text, language), text.english) for text in stale_texts(flow, language)]


def _translation_line(text: FlowText, language: str) -> int:
    found = text.translations.get(language)
    return found.line if found is not None else text.line


def flows_folder(studio: Studio) -> Path:
    return studio.flows_dir or default_flows_dir()


_REPORTS: dict[str, Report] = {}  # by what the results depend on; a studio restart reuses them
_REPORTS_LOCK = threading.Lock()


def _report_key(library: FlowLibrary, files: list[Path]) -> str:
    """What scenario results depend on: every flow version, the settings, the scenario files."""
    digest = hashlib.sha256()
    for flow in library.all():
        digest.update(f"{flow.id}={flow.version};".encode())
    digest.update(json.dumps(library.settings.data, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_scenario_tests(studio: Studio) -> None:
    """Run every flow's scenario tests once (seconds to a minute: each walks the engine on a
    database of its own); started in a thread when the studio starts, so no page waits for it.
    The same library, settings and scenario files give the same results, so a second studio in
    the same process (a restart, the tests) takes them from memory."""
    library = studio.runtime.library
    try:
        files = scenario_files([flows_folder(studio)])
        key = _report_key(library, files)
        with _REPORTS_LOCK:
            report = _REPORTS.get(key)
            if report is None:
                report = run_scenarios(library, files)
                if len(_REPORTS) > 16:
                    _REPORTS.clear()
                _REPORTS[key] = report
        studio.cache["scenarios"] = report
    finally:
        studio.scenarios_done.set()


def scenario_report(studio: Studio) -> Report | None:
    """The scenario results, or None while they are still running."""
    return studio.cache.get("scenarios")


def flow_rows(studio: Studio) -> list[FlowRow]:
    report = scenario_report(studio) or Report()
    open_by_flow: dict[str, int] = {}
    for change in desk_for(studio.runtime).open_changes():
        for flow_id in change.flow_id.split(", "):
            open_by_flow[flow_id] = open_by_flow.get(flow_id, 0) + 1
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
                open_by_flow.get(flow.id, 0),
                translations_of(studio, flow),
            )
        )
    return rows


def add_routes(app: web.Application) -> None:
    async def start_tests(app: web.Application) -> None:
        studio = app[STUDIO]
        threading.Thread(target=run_scenario_tests, args=(studio,), name="studio-scenarios", daemon=True).start()

    app.on_startup.append(start_tests)
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
        tests_ready=scenario_report(studio) is not None,
        several_languages=len(library.settings.languages) > 1,
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
    translations = translations_of(studio, flow)
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
        file_name=Path(flow.path).name,
        translations=[(state, english_name(state.language), stale_of(flow, state.language)) for state in translations],
    )
