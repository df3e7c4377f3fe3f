"""``validate`` and the scenario tests, run on a draft library before it is stored or published.

The same machinery as ``policybot validate`` and ``policybot test`` (bot.conversation.library
.check_files and bot.conversation.scenarios.run_scenarios), on the draft's files written into a
private folder; problems are named by the paths the author submitted.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.conversation.library import FlowLibrary, check_files
from bot.conversation.scenarios import run_scenarios, scenario_files
from bot.errors import FileProblems, Problem
from bot.language.citations import load_registry
from bot.language.flow_model import Flow
from bot.publishing.snapshot import CITATIONS, materialise, renamed


@dataclass
class DraftCheck:
    problems: list[Problem] = field(default_factory=list)
    flows: dict[str, Flow] = field(default_factory=dict)  # every flow of the draft that passed its checks

    @property
    def ok(self) -> bool:
        return not self.problems


def check_draft(
    files: dict[str, str], names: dict[str, str], label: str = "draft", *, flows: set[str] | None = None
) -> DraftCheck:
    """Every problem in the draft library, as ``file:line: message``; empty when it may be published.

    ``validate`` runs on every file (the router's examples are checked across flows). The scenario
    tests run for ``flows`` only when given: a scenario's result depends on its own flow, the
    citations and the settings, so a change to one flow's files cannot break another flow's tests
    (a change to the citations or settings passes ``None``: everything runs). The whole suite
    takes many seconds; one flow's tests a fraction of one.
    """
    result = DraftCheck()
    with tempfile.TemporaryDirectory(prefix="policybot-draft-") as tmp:
        where = materialise(files, Path(tmp))
        found: list[Problem] = []
        try:
            settings = where.settings(None)
            registry = load_registry(where.flows / CITATIONS)
        except FileProblems as err:
            result.problems = renamed(err.problems, where, label, names)
            return result
        good, found = check_files([where.flows], registry, settings)
        result.flows = {flow.id: flow for flow in good}
        library = FlowLibrary(good, registry, settings)
        tests = [
            p for p in scenario_files([where.flows]) if flows is None or p.name.removesuffix(".test.yaml") in flows
        ]
        report = run_scenarios(library, tests)
        found += report.problems
        for run in report.results:
            found += [Problem(run.file, run.line, f"FAIL {run.flow_id} / {run.name}: {why}") for why in run.failures]
        for flow_id, (reached, outcomes) in sorted(report.coverage.items()):
            if flows is not None and flow_id not in flows:
                continue
            missing = sorted(outcomes - reached)
            if missing:
                flow = result.flows[flow_id]
                message = f"no scenario test reaches outcome(s) {', '.join(missing)} of flow '{flow_id}'"
                found.append(Problem(flow.path, 1, message))
        result.problems = renamed(sorted(set(found)), where, label, names)
    return result
