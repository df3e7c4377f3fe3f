"""Which policy clauses the flows rest on, and which no flow cites yet.

The citation registry lists every clause the four policies ask of people; a flow cites clauses on
its outcomes, on its questions (shown when someone asks "why?") and for the flow as a whole. The
comms team uses this report to find rules the bot never tells anyone about, so it reads the flow
files directly and tolerates broken ones: a half-edited flow must not hide the rest of the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import FileProblems, Problem
from bot.language.citations import AUDIENCES, Registry
from bot.language.flow_loader import flow_files, load_flow_file
from bot.language.flow_model import Flow


@dataclass(frozen=True)
class ClauseCoverage:
    """One registry clause and the ids of the flows that cite it (empty: uncovered)."""

    id: str
    policy: str
    clause: str
    audience: str
    cited_by: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return bool(self.cited_by)


@dataclass(frozen=True)
class CoverageReport:
    """Every clause in registry order, plus citations that name no registry clause."""

    clauses: tuple[ClauseCoverage, ...]
    unknown: dict[str, tuple[str, ...]] = field(default_factory=dict)  # cited id -> flows citing it

    @property
    def uncovered(self) -> list[str]:
        return [c.id for c in self.clauses if not c.covered]

    def counts(self, audience: str | None = None) -> tuple[int, int]:
        """(cited, total) clauses, for one audience or for all."""
        chosen = [c for c in self.clauses if audience is None or c.audience == audience]
        return sum(c.covered for c in chosen), len(chosen)

    def to_json(self) -> dict[str, Any]:
        """The ``policybot coverage --json`` shape: clauses in registry order, then the gaps."""
        return {
            "clauses": [
                {
                    "id": c.id,
                    "policy": c.policy,
                    "clause": c.clause,
                    "audience": c.audience,
                    "cited_by": list(c.cited_by),
                }
                for c in self.clauses
            ],
            "uncovered": self.uncovered,
        }


def cited_ids(flow: Flow) -> set[str]:
    """Every citation a flow makes: flow-level, on questions and on outcomes."""
    ids = set(flow.cite)
    for state in flow.states.values():
        ids.update(state.every_cite)
    return ids


def build_report(flows: Iterable[Flow], registry: Registry) -> CoverageReport:
    """Match the flows' citations against the registry."""
    citing: dict[str, set[str]] = {}
    for flow in flows:
        for cid in cited_ids(flow):
            citing.setdefault(cid, set()).add(flow.id)
    clauses = tuple(
        ClauseCoverage(
            id=c.id,
            policy=c.policy.key,
            clause=c.clause,
            audience=c.audience,
            cited_by=tuple(sorted(citing.get(c.id, ()))),
        )
        for c in registry.citations.values()
    )
    unknown = {cid: tuple(sorted(flows_)) for cid, flows_ in sorted(citing.items()) if cid not in registry}
    return CoverageReport(clauses, unknown)


def read_flows(folder: Path) -> tuple[list[Flow], list[Problem]]:
    """Parse every flow file in a folder; files that do not parse are left out and reported."""
    flows: list[Flow] = []
    problems: list[Problem] = []
    for path in flow_files([folder]):
        try:
            flows.append(load_flow_file(path))
        except FileProblems as err:
            problems.extend(err.problems)
    return flows, problems


def format_text(report: CoverageReport, registry: Registry) -> str:
    """The report for people: totals, each policy's clauses with the flows citing them, the gaps."""
    cited, total = report.counts()
    share = 100.0 * cited / total if total else 100.0
    lines = [f"{cited} of {total} clauses are cited by at least one flow ({share:.1f}%)."]
    for audience in AUDIENCES:
        a_cited, a_total = report.counts(audience)
        if a_total:
            lines.append(f"  {audience + ':':10} {a_cited} of {a_total}")
    width = max((len(c.id) for c in report.clauses), default=0)
    for key, policy in registry.policies.items():
        chosen = [c for c in report.clauses if c.policy == key]
        if not chosen:
            continue
        covered = sum(c.covered for c in chosen)
        lines += ["", f"{policy.title} ({key}): {covered} of {len(chosen)} cited"]
        for c in chosen:
            flows = ", ".join(c.cited_by) if c.cited_by else "-- not cited --"
            lines.append(f"  {c.id.ljust(width)}  {flows}")
    gaps = [c for c in report.clauses if not c.covered]
    lines += ["", f"Not cited by any flow ({len(gaps)}):" if gaps else "Every clause is cited by at least one flow."]
    for c in gaps:
        lines.append(f"  {c.id.ljust(width)}  [{c.audience}] {c.clause}")
    return "\n".join(lines)
