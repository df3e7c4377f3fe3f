"""Engine replies as terminal text, wrapped to the terminal's width at word boundaries.

Colour comes from click.style and is dropped when the output is not a terminal, so transcripts
and tests read plainly. Every block (body, checklist, citations, options, previews) is wrapped
before it is styled, so escape codes never count towards a line's length, and words are never
split: a word longer than the line (a long web address) is left whole rather than broken.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

import click

from bot.conversation.replies import (
    ChoiceKind,
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
    SwitchOffer,
    Verdict,
    group_citations,
)

VERDICT_STYLE = {
    Verdict.GO: ("green", "✔"),
    Verdict.CARE: ("yellow", "!"),
    Verdict.STOP: ("red", "✘"),
    Verdict.ACT: ("blue", "➜"),
}
NARROWEST = 30  # below this a terminal is not usable for reading advice; wrap as if it were this wide
NOT_THIS_WORDS = "not this"


def terminal_width() -> int:
    """The terminal's width in columns ($COLUMNS first, 80 when the output is not a terminal)."""
    return max(NARROWEST, shutil.get_terminal_size((80, 24)).columns)


def wrap(text: str, width: int, indent: str = "", hang: str | None = None) -> str:
    """Each paragraph of ``text`` filled to ``width``; ``hang`` indents the lines after the first."""
    follow = indent if hang is None else hang
    return "\n".join(
        textwrap.fill(
            p,
            width,
            initial_indent=indent,
            subsequent_indent=follow,
            break_long_words=False,
            break_on_hyphens=False,
        )
        if p.strip()
        else ""
        for p in text.split("\n")
    )


def listed(marker: str, text: str, width: int, indent: str = "  ") -> str:
    """One list item ("  1. …", "  [ ] …") whose wrapped lines line up under its first word."""
    lead = f"{indent}{marker} "
    return wrap(text, width, lead, " " * len(lead))


def render(reply: Reply, width: int | None = None) -> str:
    width = width or terminal_width()
    if isinstance(reply, Question):
        return render_question(reply, width)
    if isinstance(reply, Outcome):
        return render_outcome(reply, width)
    if isinstance(reply, FlowChoice):
        if reply.kind is ChoiceKind.NOT_THIS:  # one quiet line above the flow's first question
            return click.style(wrap(f"✔ {reply.prompt} (Not this? Type: {NOT_THIS_WORDS})", width), dim=True)
        lines = [click.style(wrap(reply.prompt, width), bold=True)]
        lines += [listed(f"{i}.", c.title, width) for i, c in enumerate(reply.candidates, 1)]
        return "\n".join(lines)
    if isinstance(reply, Explanation):
        if not reply.citations:
            return wrap("No policy paragraph is attached to this question.", width)
        return "Why this is asked:\n" + citation_lines(reply.citations, width)
    if isinstance(reply, Feedback):
        colour = {True: "green", False: "red", None: "cyan"}[reply.correct]
        prefix = {True: "Right. ", False: "Not quite. ", None: ""}[reply.correct]
        return click.style(wrap(prefix + reply.text, width), fg=colour)
    if isinstance(reply, Notice):
        notice_colour = {NoticeKind.ERROR: "red", NoticeKind.INVALID: "yellow", NoticeKind.STALE: "yellow"}
        return click.style(wrap(reply.text, width), fg=notice_colour.get(reply.kind))
    if isinstance(reply, EscalationSent):
        return click.style(wrap(reply.text, width), fg="blue")
    if isinstance(reply, SwitchOffer):
        hint = f'Type switch to start it, or answer the question below to carry on with "{reply.current_title}".'
        return "\n".join([click.style(wrap(reply.text, width), fg="cyan"), click.style(wrap(hint, width), dim=True)])
    return wrap(str(reply), width)


def question_hint(q: Question) -> str:
    return "Type a number or the words. Also: why, restart, stop, quit" + (", back" if q.can_go_back else "")


def render_question(q: Question, width: int) -> str:
    lines = [click.style(wrap(f"{q.flow_title} — question {q.step} of up to {q.max_steps}", width), dim=True)]
    if q.intro:
        lines += [wrap(q.intro, width), ""]
    lines.append(click.style(wrap(q.text, width), bold=True))
    lines += [listed(f"{o.index + 1}.", o.label, width) for o in q.options]
    lines.append(click.style(wrap(question_hint(q), width), dim=True))
    return "\n".join(lines)


def render_outcome(o: Outcome, width: int) -> str:
    colour, mark = VERDICT_STYLE[o.verdict]
    headline = click.style(f" {mark} {o.headline.upper()} ", fg="white", bg=colour, bold=True)
    lines = [headline, wrap(o.text, width)]
    if o.checklist:
        lines.append("")
        lines.append(click.style("What to do:", bold=True))
        lines += [listed("[ ]", item, width) for item in o.checklist]
    if o.score is not None:
        lines.append(click.style(f"\nYou scored {o.score.correct} out of {o.score.total}.", bold=True))
    if o.citations:
        lines.append("")
        lines.append(click.style("Based on:", bold=True))
        lines.append(citation_lines(o.citations, width))
    if o.escalation is not None and o.case_id is not None:
        names = ", ".join(o.sent_to or o.escalation.first_names)
        sent = wrap(f"This has been sent to {names} (case {o.case_id[:8]}).", width)
        lines.append(click.style("\n" + sent, fg="blue"))
    return "\n".join(lines)


def citation_lines(citations: Sequence[CitationView], width: int) -> str:
    """Each policy once (its title names the council), then each of its clauses once."""
    lines = []
    for group in group_citations(citations):
        lines.append(wrap(group.policy_title, width, "  "))
        for clause in group.clauses:
            text = f"{clause.label}: {clause.summary}" if clause.summary else clause.label
            lines.append(listed("•", text, width, indent="    "))
    return "\n".join(lines)


def preview(text: str, width: int) -> str:
    """What an escalation would send, indented as a quotation."""
    return wrap(text, width, "    ")
