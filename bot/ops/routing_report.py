"""The routing report for comms: where the router's first guess was wrong, what matched nothing,
and which of those messages could become examples of the flow people really wanted.

It only reads the routing log (bot.store.routing_log) and suggests; a suggestion reaches live
routing only when someone adds it to a flow's ``examples:`` and the flows are reloaded, so nothing
the bot sees changes what it does without a person deciding.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.conversation.library import FlowLibrary
from bot.language.example_checks import same_message
from bot.store import Store
from bot.store import routing_log as log
from bot.store.routing_log import Decision, RoutingLog

TEXTS_PER_MISS = 3


@dataclass(frozen=True)
class Miss:
    guess: str
    chosen: str
    count: int
    texts: list[str]


@dataclass(frozen=True)
class Unmatched:
    text: str
    count: int
    chosen: str | None  # what those people went on to pick, when they picked


@dataclass(frozen=True)
class Suggestion:
    flow: str
    text: str
    count: int  # how many people typed it (or something the same) and ended up in ``flow``


@dataclass
class RoutingReport:
    since: datetime | None
    outcomes: Counter[str] = field(default_factory=Counter)
    misses: list[Miss] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "summary": dict(sorted(self.outcomes.items())),
            "misses": [vars(m) for m in self.misses],
            "unmatched": [vars(u) for u in self.unmatched],
            "suggestions": [vars(s) for s in self.suggestions],
        }


def _is_miss(d: Decision) -> bool:
    return d.choice is not None and d.choice != d.guess


def summarise(decisions: list[Decision], library: FlowLibrary, since: datetime | None) -> RoutingReport:
    report = RoutingReport(since)
    for d in decisions:
        report.outcomes["messages"] += 1
        report.outcomes[d.confidence] += 1
        if d.confidence == "confident":
            report.outcomes["confident, then 'not this'"] += d.outcome == log.NOT_THIS
        elif d.outcome == log.PICKED:
            first = d.choice == d.guess
            report.outcomes["offered, picked the first guess" if first else "offered, picked another"] += 1
        elif d.outcome == log.REPHRASED:
            report.outcomes["offered, typed it again"] += 1
        elif d.outcome == log.OFFERED:
            report.outcomes["offered, left without picking"] += 1
        report.outcomes["welsh"] += d.language == "cy"

    grouped: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d in decisions:
        if _is_miss(d) and d.guess and d.choice:
            grouped[(d.guess, d.choice)].append(d)
    report.misses = sorted(
        (Miss(guess, chosen, len(ds), _texts(ds)) for (guess, chosen), ds in grouped.items()),
        key=lambda m: (-m.count, m.guess, m.chosen),
    )

    nothing: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        if d.confidence == "no_idea" and d.text:
            nothing[same_message(d.text)].append(d)
    report.unmatched = sorted(
        (
            Unmatched(ds[0].text or "", len(ds), Counter(d.choice for d in ds if d.choice).most_common(1)[0][0]
                      if any(d.choice for d in ds) else None)
            for ds in nothing.values()
        ),
        key=lambda u: (-u.count, u.text),
    )  # fmt: skip
    report.suggestions = _suggestions(decisions, library)
    return report


def _texts(decisions: list[Decision]) -> list[str]:
    seen: dict[str, str] = {}
    for d in decisions:
        if d.text and same_message(d.text) not in seen:
            seen[same_message(d.text)] = d.text
    return list(seen.values())[:TEXTS_PER_MISS]


def _suggestions(decisions: list[Decision], library: FlowLibrary) -> list[Suggestion]:
    """Messages the router got wrong (or could not place) that people then resolved to a flow,
    minus any that flow already lists."""
    known: dict[str, set[str]] = {
        f.id: {same_message(t) for t in (f.title, *f.triggers, *f.examples, *f.welsh_examples)} for f in library.all()
    }
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], str] = {}
    for d in decisions:
        if not d.text or not d.choice or d.choice not in known:
            continue
        if not (_is_miss(d) or d.confidence == "no_idea"):
            continue
        key = (d.choice, same_message(d.text))
        if key[1] in known[d.choice]:
            continue
        counts[key] += 1
        first.setdefault(key, d.text)
    return sorted(
        (Suggestion(flow, first[(flow, k)], n) for (flow, k), n in counts.items()),
        key=lambda s: (-s.count, s.flow, s.text),
    )


def routing_report(store: Store, library: FlowLibrary, since: datetime | None) -> RoutingReport:
    with store.transaction() as conn:
        decisions = RoutingLog().since(conn, since)
    return summarise(decisions, library, since)


def report_text(report: RoutingReport, limit: int) -> list[str]:
    """The report as comms read it in a terminal."""
    o = report.outcomes
    lines = [("Since " + report.since.strftime("%d %b %Y %H:%M UTC")) if report.since else "All time"]
    if not o["messages"]:
        return [*lines, "No messages have been routed yet."]
    lines += [
        f"{o['messages']} message(s) routed ({o['welsh']} in Welsh):",
        f"  started at once         {o['confident']:5}  (then 'not this': {o["confident, then 'not this'"]})",
        f"  offered a few choices   {o['unsure']:5}",
        f"  not understood          {o['no_idea']:5}  (asked what it was about)",
        f"  after a choice: first guess picked {o['offered, picked the first guess']}, another picked "
        f"{o['offered, picked another']}, typed again {o['offered, typed it again']}, "
        f"left {o['offered, left without picking']}",
        "",
        "Commonest misses (the router's first guess -> what the person chose):",
    ]
    lines += [f"  {m.count:4}  {m.guess} -> {m.chosen}   e.g. " + "; ".join(f'"{t}"' for t in m.texts)
              for m in report.misses[:limit]] or ["  none"]  # fmt: skip
    lines += ["", "Messages that matched nothing:"]
    lines += [f"  {u.count:4}  \"{u.text}\"" + (f"  (then chose {u.chosen})" if u.chosen else "")
              for u in report.unmatched[:limit]] or ["  none"]  # fmt: skip
    lines += ["", "Suggested examples (add those that fit to the flow's examples: list, then policybot validate):"]
    by_flow: dict[str, list[Suggestion]] = defaultdict(list)
    for s in report.suggestions[:limit]:
        by_flow[s.flow].append(s)
    for flow_id in sorted(by_flow):
        lines.append(f"  {flow_id}.yaml")
        lines += [f"    - {s.text}" + (f"   # {s.count} people" if s.count > 1 else "") for s in by_flow[flow_id]]
    if not by_flow:
        lines.append("  none")
    return lines
