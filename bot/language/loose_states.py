"""Reading what can be read of a state with structural problems, for ``validate``'s other checks.

A state with an unknown key or a value of the wrong type fails its schema check, and used to be
left out of the flow altogether, which hid every other problem in it (its templates, citations,
links) and made the states after it look unreachable. ``loose_state`` keeps each part that has the
right type and drops the rest (a problem already reported), so one run of ``policybot validate``
shows everything. A loose state is never served: a flow with any problem is refused.
"""

from __future__ import annotations

from typing import Any

from bot.language.flow_model import BRANCH, QUESTION, BranchRule, CiteRule, Duration, Escalation, Option, State
from bot.language.verdicts import Verdict
from bot.language.yamlload import LineDict, LineList


def _text(raw: LineDict, key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _texts(value: Any) -> tuple[str, ...]:
    """The text items of a list; an item of another type becomes "" so later items keep their place."""
    if isinstance(value, str):
        return (value,)
    return tuple(v if isinstance(v, str) else "" for v in value) if isinstance(value, list) else ()


def raw_successors(raw: LineDict) -> tuple[str, ...]:
    """The ``next`` (and ``else``) names a state's options and branch rules seem to have."""
    found: list[str] = []
    for key, fields in (("options", ("next",)), ("branch", ("next", "else"))):
        items = raw.get(key)
        if isinstance(items, list):
            found += [i[f] for i in items if isinstance(i, dict) for f in fields if isinstance(i.get(f), str)]
    return tuple(found)


def loose_state(name: str, kind: str, raw: LineDict, line: int) -> State:
    """The parts of ``raw`` that have the right types, as a State marked ``loose``."""
    if kind == QUESTION:
        return State(
            name=name,
            kind=kind,
            line=line,
            ask=_text(raw, "ask"),
            intro=_text(raw, "intro"),
            cite=tuple(c for c in _texts(raw.get("cite")) if c),
            options=_options(raw.get("options")),
            loose=True,
        )
    if kind == BRANCH:
        return State(name=name, kind=kind, line=line, branch=_rules(raw.get("branch")), loose=True)
    verdict = raw.get("verdict")
    return State(
        name=name,
        kind=kind,
        line=line,
        verdict=Verdict(verdict) if isinstance(verdict, str) and verdict in {v.value for v in Verdict} else None,
        say=_text(raw, "say"),
        checklist=_texts(raw.get("checklist")),
        cite=tuple(c for c in _texts(raw.get("cite")) if c),
        cite_if=_cite_rules(raw.get("cite_if")),
        escalate=_escalation(raw.get("escalate")),
        loose=True,
    )


def _options(items: Any) -> tuple[Option, ...]:
    if not isinstance(items, LineList):
        return ()
    return tuple(
        Option(
            label=o["label"],
            next=o["next"],
            line=items.line_of(i),
            feedback=o.get("feedback") if isinstance(o.get("feedback"), str) else None,
            correct=o.get("correct") if isinstance(o.get("correct"), bool) else None,
        )
        for i, o in enumerate(items)
        if isinstance(o, LineDict) and isinstance(o.get("label"), str) and isinstance(o.get("next"), str)
    )


def _rules(items: Any) -> tuple[BranchRule, ...]:
    if not isinstance(items, LineList):
        return ()
    rules = []
    for i, rule in enumerate(items):
        if not isinstance(rule, LineDict):
            continue
        if isinstance(rule.get("if"), str) and isinstance(rule.get("next"), str):
            rules.append(BranchRule(condition=rule["if"], next=rule["next"], line=items.line_of(i)))
        elif "if" not in rule and isinstance(rule.get("else"), str):
            rules.append(BranchRule(condition=None, next=rule["else"], line=items.line_of(i)))
    return tuple(rules)


def _cite_rules(items: Any) -> tuple[CiteRule, ...]:
    if not isinstance(items, LineList):
        return ()
    return tuple(
        CiteRule(rule["if"], tuple(c for c in _texts(rule.get("cite")) if c), items.line_of(i))
        for i, rule in enumerate(items)
        if isinstance(rule, LineDict) and isinstance(rule.get("if"), str)
    )


def _escalation(raw: Any) -> Escalation | None:
    if not isinstance(raw, LineDict):
        return None
    after = raw.get("unacknowledged_after")
    try:
        deadline = Duration.parse(after) if isinstance(after, str) else None
    except ValueError:
        deadline = None
    urgency = raw.get("urgency")
    return Escalation(
        to=_texts(raw.get("to")),
        then=_texts(raw.get("then")),
        unacknowledged_after=deadline,
        required=raw.get("required") is True,
        urgency=urgency if isinstance(urgency, str) else "normal",
        summary=_text(raw, "summary"),
    )
