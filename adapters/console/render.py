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
    LanguageSwitch,
    Notice,
    NoticeKind,
    Outcome,
    Question,
    Reply,
    SwitchOffer,
    Verdict,
    group_citations,
)
from bot.language.i18n.catalog import N_, interface

VERDICT_STYLE = {
    Verdict.GO: ("green", "✔"),
    Verdict.CARE: ("yellow", "!"),
    Verdict.STOP: ("red", "✘"),
    Verdict.ACT: ("blue", "➜"),
}
NARROWEST = 30  # below this a terminal is not usable for reading advice; wrap as if it were this wide
NOT_THIS_WORDS = N_("not this")  # typed as shown, in English or in the reply's language
# what a person types to switch language: each language's own name, as the switch shows it
SWITCH_HINT = N_("type its name to switch")


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


def render(reply: Reply, width: int | None = None, language: str | None = None) -> str:
    """One reply as terminal text; ``language`` is the language of the terminal's own words where
    the reply does not carry one (a question and an outcome do)."""
    width = width or terminal_width()
    _ = interface(language)
    if isinstance(reply, Question):
        return render_question(reply, width)
    if isinstance(reply, Outcome):
        return render_outcome(reply, width)
    if isinstance(reply, LanguageSwitch):  # every language named in itself, Welsh first
        names = " / ".join(f"[{c.label}]" if c.current else c.label for c in reply.choices)
        return click.style(wrap(f"🌐 {names} ({_(SWITCH_HINT)})", width), dim=True)
    if isinstance(reply, FlowChoice):
        if reply.kind is ChoiceKind.NOT_THIS:  # one quiet line above the flow's first question
            line = _("✔ {prompt} (Not this? Type: {words})").format(prompt=reply.prompt, words=_(NOT_THIS_WORDS))
            return click.style(wrap(line, width), dim=True)
        lines = [click.style(wrap(reply.prompt, width), bold=True)]
        lines += [listed(f"{i}.", c.title, width) for i, c in enumerate(reply.candidates, 1)]
        return "\n".join(lines)
    if isinstance(reply, Explanation):
        if not reply.citations:
            return wrap(_("No policy paragraph is attached to this question."), width)
        return _("Why this is asked:") + "\n" + citation_lines(reply.citations, width)
    if isinstance(reply, Feedback):
        colour = {True: "green", False: "red", None: "cyan"}[reply.correct]
        prefix = {True: _("Right.") + " ", False: _("Not quite.") + " ", None: ""}[reply.correct]
        return click.style(wrap(prefix + reply.text, width), fg=colour)
    if isinstance(reply, Notice):
        notice_colour = {NoticeKind.ERROR: "red", NoticeKind.INVALID: "yellow", NoticeKind.STALE: "yellow"}
        return click.style(wrap(reply.text, width), fg=notice_colour.get(reply.kind))
    if isinstance(reply, EscalationSent):
        return click.style(wrap(reply.text, width), fg="blue")
    if isinstance(reply, SwitchOffer):
        _ = interface(reply.language)
        hint = _('Type switch to start it, or answer the question below to carry on with "{title}".').format(
            title=reply.current_title
        )
        return "\n".join([click.style(wrap(reply.text, width), fg="cyan"), click.style(wrap(hint, width), dim=True)])
    return wrap(str(reply), width)


def question_hint(q: Question) -> str:
    _ = interface(q.language)
    if q.can_go_back:
        return _("Type a number or the words. Also: why, restart, stop, quit, back")
    return _("Type a number or the words. Also: why, restart, stop, quit")


def render_question(q: Question, width: int) -> str:
    _ = interface(q.language)
    step = _("{title} — question {step} of up to {steps}").format(title=q.flow_title, step=q.step, steps=q.max_steps)
    lines = [click.style(wrap(step, width), dim=True)]
    if q.intro:
        lines += [wrap(q.intro, width), ""]
    lines.append(click.style(wrap(q.text, width), bold=True))
    lines += [listed(f"{o.index + 1}.", o.label, width) for o in q.options]
    lines.append(click.style(wrap(question_hint(q), width), dim=True))
    return "\n".join(lines)


def render_outcome(o: Outcome, width: int) -> str:
    _ = interface(o.language)
    colour, mark = VERDICT_STYLE[o.verdict]
    headline = click.style(f" {mark} {o.headline.upper()} ", fg="white", bg=colour, bold=True)
    lines = [headline, wrap(o.text, width)]
    if o.checklist:
        lines.append("")
        lines.append(click.style(_("What to do:"), bold=True))
        lines += [listed("[ ]", item, width) for item in o.checklist]
    if o.score is not None:
        scored = _("You scored {correct} out of {total}.").format(correct=o.score.correct, total=o.score.total)
        lines.append(click.style("\n" + scored, bold=True))
    if o.citations:
        lines.append("")
        lines.append(click.style(_("Based on:"), bold=True))
        lines.append(citation_lines(o.citations, width, o.language))
    if o.escalation is not None and o.case_id is not None:
        names = ", ".join(o.sent_to or o.escalation.first_names)
        sent = wrap(_("This has been sent to {names} (case {case}).").format(names=names, case=o.case_id[:8]), width)
        lines.append(click.style("\n" + sent, fg="blue"))
    return "\n".join(lines)


def citation_lines(citations: Sequence[CitationView], width: int, language: str | None = None) -> str:
    """Each policy once (its title names the council), then each of its clauses once. A reader of
    another language is told the policy's own language, which its quotes stay in."""
    lines = []
    sources = {c.policy_title: c.source_language for c in citations}
    for group in group_citations(citations):
        title = group.policy_title
        if language not in (None, "en") and sources.get(title) != language:
            _ = interface(language)
            title += " " + _("(in {language})").format(language=_language_name(sources.get(title), language))
        lines.append(wrap(title, width, "  "))
        for clause in group.clauses:
            text = f"{clause.label}: {clause.summary}" if clause.summary else clause.label
            lines.append(listed("•", text, width, indent="    "))
    return "\n".join(lines)


def _language_name(code: str | None, reader: str | None) -> str:
    """A language's name as a reader of ``reader`` says it ("Saesneg" for English, in Welsh)."""
    return interface(reader)({"en": N_("English"), "cy": N_("Welsh")}.get(code or "en", code or "en"))


def preview(text: str, width: int) -> str:
    """What an escalation would send, indented as a quotation."""
    return wrap(text, width, "    ")
