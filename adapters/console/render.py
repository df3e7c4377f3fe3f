"""Engine replies as terminal text. Colour comes from click.style and is dropped when the output
is not a terminal, so transcripts and tests read plainly."""

from __future__ import annotations

import textwrap

import click

from bot.conversation.replies import (
    CitationView,
    EscalationSent,
    Explanation,
    Feedback,
    FlowChoice,
    Notice,
    NoticeKind,
    Outcome,
    Question,
    Reply,
    Verdict,
)

VERDICT_STYLE = {
    Verdict.GO: ("green", "✔"),
    Verdict.CARE: ("yellow", "!"),
    Verdict.STOP: ("red", "✘"),
    Verdict.ACT: ("blue", "➜"),
}
WIDTH = 78


def _wrap(text: str, indent: str = "") -> str:
    paragraphs = text.split("\n")
    return "\n".join(
        textwrap.fill(p, WIDTH, initial_indent=indent, subsequent_indent=indent) if p.strip() else ""
        for p in paragraphs
    )


def render(reply: Reply) -> str:
    if isinstance(reply, Question):
        return render_question(reply)
    if isinstance(reply, Outcome):
        return render_outcome(reply)
    if isinstance(reply, FlowChoice):
        lines = [click.style(reply.prompt, bold=True)]
        lines += [f"  {i}. {c.title}" for i, c in enumerate(reply.candidates, 1)]
        return "\n".join(lines)
    if isinstance(reply, Explanation):
        if not reply.citations:
            return "No policy paragraph is attached to this question."
        return "Why this is asked:\n" + "\n".join(_citation(c) for c in reply.citations)
    if isinstance(reply, Feedback):
        colour = {True: "green", False: "red", None: "cyan"}[reply.correct]
        prefix = {True: "Right. ", False: "Not quite. ", None: ""}[reply.correct]
        return click.style(_wrap(prefix + reply.text), fg=colour)
    if isinstance(reply, Notice):
        notice_colour = {NoticeKind.ERROR: "red", NoticeKind.INVALID: "yellow", NoticeKind.STALE: "yellow"}
        return click.style(_wrap(reply.text), fg=notice_colour.get(reply.kind))
    if isinstance(reply, EscalationSent):
        return click.style(_wrap(reply.text), fg="blue")
    return str(reply)


def render_question(q: Question) -> str:
    lines = [click.style(f"{q.flow_title} — question {q.step} of up to {q.max_steps}", dim=True)]
    if q.intro:
        lines += [_wrap(q.intro), ""]
    lines.append(click.style(_wrap(q.text), bold=True))
    lines += [f"  {o.index + 1}. {o.label}" for o in q.options]
    hint = "Type a number or the words. Also: why, restart, quit" + (", back" if q.can_go_back else "")
    lines.append(click.style(hint, dim=True))
    return "\n".join(lines)


def render_outcome(o: Outcome) -> str:
    colour, mark = VERDICT_STYLE[o.verdict]
    lines = [click.style(f" {mark} {o.headline.upper()} ", fg="white", bg=colour, bold=True), _wrap(o.text)]
    if o.checklist:
        lines.append("")
        lines.append(click.style("What to do:", bold=True))
        lines += [f"  [ ] {item}" for item in o.checklist]
    if o.score is not None:
        lines.append(click.style(f"\nYou scored {o.score.correct} out of {o.score.total}.", bold=True))
    if o.citations:
        lines.append("")
        lines.append(click.style("Based on:", bold=True))
        lines += [_citation(c) for c in o.citations]
    if o.escalation is not None and o.case_id is not None:
        names = ", ".join(o.sent_to) or ", ".join(o.escalation.target_names.get(t, t) for t in o.escalation.targets)
        lines.append(click.style(f"\nThis has been sent to {names} (case {o.case_id[:8]}).", fg="blue"))
    return "\n".join(lines)


def _citation(c: CitationView) -> str:
    return f"  • {c.policy_title}, {c.clause}: {c.summary}"
