"""A change in words: for each flow, which questions, options and outcomes changed, and the advice
before and after. Other files (citations, scenario tests, settings) are shown as a line diff.

Reviewers read this in the terminal (``policybot library diff``) and in the Slack or Teams review
message, so it is plain text with short lines and no markup.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from bot.errors import FileProblems
from bot.language.flow_loader import FlowProblems, parse_flow
from bot.language.flow_model import OUTCOME, QUESTION, Flow, State


@dataclass
class FileDiff:
    name: str
    status: str  # added, removed, changed
    lines: list[str] = field(default_factory=list)  # what changed, in words


def describe(before: dict[str, str], after: dict[str, str]) -> list[FileDiff]:
    """Every file that differs between two libraries, flows described state by state."""
    found = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        lines = _flow_lines(name, old, new) if _is_flow(name) else _text_lines(old or "", new or "")
        found.append(FileDiff(name, status, lines))
    return found


def as_text(diffs: list[FileDiff]) -> str:
    if not diffs:
        return "No differences: the change leaves the library as it is."
    out = []
    for diff in diffs:
        out.append(f"== {diff.name} ({diff.status})")
        out.extend(f"  {line}" for line in diff.lines)
    return "\n".join(out)


def _is_flow(name: str) -> bool:
    return name.endswith(".yaml") and not name.endswith(".test.yaml") and "/" not in name and name != "citations.yaml"


def _parse(name: str, text: str | None) -> Flow | None:
    if text is None:
        return None
    try:
        return parse_flow(text, name, check_file_name=False)
    except (FlowProblems, FileProblems):
        return None


def _flow_lines(name: str, old: str | None, new: str | None) -> list[str]:
    before, after = _parse(name, old), _parse(name, new)
    if (old is not None and before is None) or (new is not None and after is None):
        return _text_lines(old or "", new or "")  # not readable as a flow: show the text
    if before is None and after is not None:
        return [f"new flow '{after.id}': {after.title}", *(_state_summary(s) for s in after.states.values())]
    if after is None and before is not None:
        return [f"flow '{before.id}' removed: {before.title}"]
    assert before is not None and after is not None
    lines: list[str] = []
    if before.title != after.title:
        lines.append(f"title: '{before.title}' -> '{after.title}'")
    for state_name in sorted(set(before.states) | set(after.states)):
        was, now = before.states.get(state_name), after.states.get(state_name)
        if was is None and now is not None:
            lines.append(f"added {_state_summary(now)}")
        elif now is None and was is not None:
            lines.append(f"removed {_kind(was)} '{state_name}'")
        elif was is not None and now is not None and was != _relined(now, was):
            lines.extend(_state_changes(was, now))
    if not lines and old != new:
        lines.append("only layout, comments or router examples changed")
        lines.extend(_text_lines(old or "", new or "")[:20])
    return lines


def _kind(state: State) -> str:
    return {QUESTION: "question", OUTCOME: "outcome"}.get(state.kind, "branch")


def _state_summary(state: State) -> str:
    if state.kind == QUESTION:
        return f"question '{state.name}': {state.ask} [{'; '.join(o.label for o in state.options)}]"
    if state.kind == OUTCOME:
        return f"outcome '{state.name}' ({state.verdict.value if state.verdict else '?'}): {_short(state.say)}"
    return f"branch '{state.name}'"


def _relined(state: State, like: State) -> State:
    """``state`` with ``like``'s line numbers, so a state that only moved is not a change."""
    from dataclasses import replace

    options = tuple(
        replace(o, line=like.options[i].line) if i < len(like.options) else o for i, o in enumerate(state.options)
    )
    branch = tuple(
        replace(b, line=like.branch[i].line) if i < len(like.branch) else b for i, b in enumerate(state.branch)
    )
    cite_if = tuple(
        replace(c, line=like.cite_if[i].line) if i < len(like.cite_if) else c for i, c in enumerate(state.cite_if)
    )
    return replace(state, line=like.line, options=options, branch=branch, cite_if=cite_if)


def _state_changes(was: State, now: State) -> list[str]:
    name = f"{_kind(now)} '{now.name}'"
    lines = []
    if was.kind != now.kind:
        return [f"{name}: was a {_kind(was)}, now a {_kind(now)}", f"  now: {_state_summary(now)}"]
    if was.ask != now.ask:
        lines += [f"{name}: question text", f"  before: {was.ask}", f"  after:  {now.ask}"]
    if was.intro != now.intro:
        lines += [f"{name}: introduction", f"  before: {_short(was.intro)}", f"  after:  {_short(now.intro)}"]
    old_options = {o.label: o for o in was.options}
    new_options = {o.label: o for o in now.options}
    for label in new_options.keys() - old_options.keys():
        lines.append(f"{name}: new option '{label}' -> {new_options[label].next}")
    for label in old_options.keys() - new_options.keys():
        lines.append(f"{name}: option '{label}' removed")
    for label in old_options.keys() & new_options.keys():
        if old_options[label].next != new_options[label].next:
            lines.append(
                f"{name}: option '{label}' now goes to {new_options[label].next} (was {old_options[label].next})"
            )
        if old_options[label].feedback != new_options[label].feedback:
            lines.append(f"{name}: feedback for '{label}' changed")
    if [o.label for o in was.options if o.label in new_options] != [
        o.label for o in now.options if o.label in old_options
    ]:
        lines.append(f"{name}: options in a new order")
    if was.verdict != now.verdict:
        lines.append(f"{name}: verdict {_verdict(was)} -> {_verdict(now)}")
    if was.say != now.say:
        lines += [
            f"{name}: advice",
            f"  before: {_short(was.say)}",
            f"  after:  {_short(now.say)}",
            f"  words:  {words_changed(was.say or '', now.say or '')}",
        ]
    for item in now.checklist:
        if item not in was.checklist:
            lines.append(f"{name}: checklist + {item}")
    for item in was.checklist:
        if item not in now.checklist:
            lines.append(f"{name}: checklist - {item}")
    if was.every_cite != now.every_cite:
        lines.append(
            f"{name}: cites {', '.join(was.every_cite) or 'nothing'} -> {', '.join(now.every_cite) or 'nothing'}"
        )
    if was.escalate != now.escalate:
        lines.append(f"{name}: escalation {_escalation(was)} -> {_escalation(now)}")
    if was.branch != now.branch and now.kind not in (QUESTION, OUTCOME):
        lines.append(f"{name}: branch rules changed")
    return lines or [f"{name}: changed"]


def _verdict(state: State) -> str:
    return state.verdict.value if state.verdict else "none"


def _escalation(state: State) -> str:
    if state.escalate is None:
        return "none"
    e = state.escalate
    then = f", then {', '.join(e.then)}" if e.then else ""
    return f"to {', '.join(e.to)}{then}{' (required)' if e.required else ''}"


def words_changed(before: str, after: str) -> str:
    """Only the words that changed: ``[-old words-] [+new words+]``, with a little context."""
    old, new = before.split(), after.split()
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        context = " ".join(old[max(0, i1 - 3) : i1])
        removed = f"[-{' '.join(old[i1:i2])}-]" if i2 > i1 else ""
        added = f"[+{' '.join(new[j1:j2])}+]" if j2 > j1 else ""
        parts.append(" ".join(p for p in (f"…{context}" if context else "", removed, added) if p))
    return "; ".join(parts) or "(spacing only)"


def _short(text: str | None, limit: int = 1500) -> str:
    if not text:
        return "(none)"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _text_lines(old: str, new: str) -> list[str]:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "after", lineterm="", n=1)
    return [line for line in list(diff)[2:]][:200]
