"""Engine replies and case notifications rendered as Block Kit.

Pure functions: a reply in, a ``SlackMessage`` (fallback text + blocks) out. Nothing here calls
Slack or decides anything about the policy; every message passes through ``limits.fit_blocks``
so Slack's size limits can never make it fail, and every message has a plain-text fallback for
notifications and screen readers.

Text from flows and people is escaped for mrkdwn (``&``, ``<``, ``>``) so that neither a flow
author nor an employee's note can ping ``@channel`` or forge a link in a team channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.slack import actions as A
from adapters.slack.limits import (
    MAX_MESSAGE_BLOCKS,
    MAX_OPTION_TEXT,
    MAX_PRIVATE_METADATA,
    MAX_VIEW_BLOCKS,
    Block,
    clip,
    fallback_text,
    fit_blocks,
    split_text,
)
from bot.cases.notify import Notification
from bot.conversation.replies import (
    DONT_SEND,
    PROGRESS,
    SEND,
    WHAT_TO_DO,
    ChoiceKind,
    CitationView,
    EscalationOffer,
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
    language_of,
)
from bot.language.i18n.catalog import N_, in_words, interface
from bot.language.i18n.catalog import available as i18n_available
from bot.language.i18n.languages import join_names as join_in

VERDICT_EMOJI = {
    Verdict.GO: "🟢",
    Verdict.CARE: "🟡",
    Verdict.STOP: "🔴",
    Verdict.ACT: "🚨",
}
NOTICE_EMOJI = {
    NoticeKind.INFO: "ℹ️",
    NoticeKind.STALE: "↩️",
    NoticeKind.DUPLICATE: "✔️",
    NoticeKind.NOT_YOURS: "🔒",
    NoticeKind.INVALID: "❓",
    NoticeKind.ERROR: "⚠️",
}
TARGET_NAMES = {
    "line_manager": N_("your line manager"),
    "comms": N_("Communications"),
    "legal": N_("Legal"),
    "hr": N_("HR"),
    "safeguarding": N_("Safeguarding"),
}
CASE_BUTTON_LABELS = {
    "acknowledge": N_("Acknowledge"),
    "resolve": N_("Resolved"),
    "message_employee": N_("Message the employee"),
}
# The question's overflow menu, the adapter's own fuller wording of the core's WHY / BACK / ...
MENU_LABELS = {
    A.MENU_WHY: N_("Why? Show the policy"),
    A.MENU_BACK: N_("Go back one question"),
    A.MENU_RESTART: N_("Start this check again"),
    A.MENU_CANCEL: N_("Stop this check"),
}
RESTS_ON = N_("The policy this answer rests on")
CHOOSE_SITUATION = N_("Choose a situation")
CASE_REFERENCE = N_("Case reference: {case}")
SEND_LABEL = N_("Send")
CANCEL_LABEL = N_("Cancel")
# A modal title holds 24 characters: the button's "Anfon neges at y cyflogai" does not fit.
CASE_MESSAGE_TITLE = N_("Write to the employee")
QUESTION_BLOCK = "question"
LANGUAGE_BLOCK = "language_switch"
ESCALATION_BLOCK_PREFIX = "escalation"
CASE_ACTIONS_BLOCK = "case_actions"
BUTTONS_PER_ROW = 5


@dataclass
class SlackMessage:
    """What ``chat.postMessage`` / ``chat.update`` get: fallback text and blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    in_thread: bool = False  # post under the message that was clicked (explanations)

    def __post_init__(self) -> None:
        # The fallback text is mrkdwn too (notifications, screen readers, clients without blocks):
        # a note reading "<!channel>" must not notify a channel from it either, so every message's
        # text is escaped here, once, from the raw words every renderer passes in.
        self.text = esc(fallback_text(self.text))
        self.blocks = fit_blocks(self.blocks, limit=MAX_MESSAGE_BLOCKS)

    def add_block(self, block: Block) -> None:
        """One more block at the end (the language switch), still within Slack's limits."""
        self.blocks = fit_blocks([*self.blocks, block], limit=MAX_MESSAGE_BLOCKS)


# --------------------------------------------------------------------------- building blocks


def esc(text: str) -> str:
    """Escape the three characters mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text or " "}


def section(text: str, *, block_id: str | None = None, accessory: dict[str, Any] | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts if t]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def actions(elements: list[dict[str, Any]], *, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in esc(text).splitlines())


def citation_blocks(citations: Sequence[CitationView], language: str | None = None) -> list[Block]:
    """One section per policy (named once), each clause once with its summaries and quotes. A
    reader of another language is told the policy's own language, which its quotes stay in."""
    blocks: list[Block] = []
    sources = {c.policy_title: c.source_language for c in citations}
    for group in group_citations(citations):
        title = f"📖 *{esc(group.policy_title)}*"
        source = sources.get(group.policy_title) or "en"
        if language not in (None, "en") and source != language:
            _ = interface(language)
            title += " " + esc(_("(in {language})").format(language=language_name(source, language)))
        lines = [title]
        for clause in group.clauses:
            lines.append(f"• *{esc(clause.label)}*" + (f": {esc(clause.summary)}" if clause.summary else ""))
            lines += [quote(f"“{q}”") for q in clause.quotes]
        blocks.extend(section(chunk) for chunk in split_text("\n".join(lines)))
    return blocks


def language_name(code: str, reader: str | None) -> str:
    """A language's name as a reader of ``reader`` says it ("Saesneg" for English, in Welsh)."""
    return interface(reader)({"en": N_("English"), "cy": N_("Welsh")}.get(code, code))


def target_name(target: str, names: dict[str, str], language: str | None = None) -> str:
    if names.get(target):
        return names[target]
    return interface(language)(TARGET_NAMES[target]) if target in TARGET_NAMES else target.replace("_", " ")


def join_names(names: list[str], language: str | None = None) -> str:
    """ "A, B and C" in the reader's language (Welsh "a", "ac", "a'r" as the core joins them)."""
    return join_in(names, language, interface(language)("and"))


# --------------------------------------------------------------------------- replies


def progress_text(q: Question) -> str:
    progress = interface(q.language)(PROGRESS).format(step=q.step, steps=max(q.max_steps, q.step))
    return f"{progress} · {esc(q.flow_title)}"


def render_question(q: Question) -> SlackMessage:
    """The question, one button per option, progress, and a menu with Why? / Back / Start again / Stop."""
    _ = interface(q.language)
    blocks: list[Block] = []
    if q.intro:
        blocks.extend(section(chunk) for chunk in split_text(esc(q.intro)))
    choices = [A.MENU_WHY, *([A.MENU_BACK] if q.can_go_back else []), A.MENU_RESTART, A.MENU_CANCEL]
    menu = {
        "type": "overflow",
        "action_id": A.MENU,
        "options": [{"text": plain(_(MENU_LABELS[v])), "value": A.menu_value(v, q.conversation_id)} for v in choices],
    }
    question_text = f"*{esc(q.text)}*"
    long_labels = [o for o in q.options if len(o.label) > MAX_OPTION_TEXT]
    if long_labels:
        # Buttons show 75 characters; when a label is longer, the whole wording is listed above them.
        question_text += "\n" + "\n".join(f"{n}. {esc(o.label)}" for n, o in enumerate(q.options, 1))
    blocks.append(section(question_text, block_id=QUESTION_BLOCK, accessory=menu))
    buttons = [
        button(
            o.label,
            f"{A.CHOOSE}:{o.index}",
            A.ChoiceValue(q.conversation_id, q.state, q.turn, o.index).encode(),
        )
        for o in q.options
    ]
    for start in range(0, len(buttons), BUTTONS_PER_ROW):
        blocks.append(actions(buttons[start : start + BUTTONS_PER_ROW], block_id=f"options_{start}"))
    blocks.append(context(progress_text(q)))
    options = "; ".join(f"{n}. {o.label}" for n, o in enumerate(q.options, 1))
    return SlackMessage(text=f"{q.text} ({options})", blocks=blocks)


def render_answered(question_text: str, choice: str, progress: str | None, language: str | None = None) -> SlackMessage:
    """A question after it was answered: the choice shown, the buttons gone (so no second answer)."""
    _ = interface(language)  # written as _(…) so Babel's extract finds the message
    chose = _("You chose: {choice}")
    blocks = [section(f"{question_text}\n✅ " + chose.format(choice=f"*{esc(choice)}*"), block_id="answered")]
    if progress:
        blocks.append(context(progress))
    return SlackMessage(text=chose.format(choice=choice), blocks=blocks)


def render_closed_question(question_text: str, reason: str) -> SlackMessage:
    """A question whose buttons must go without an answer (the check was stopped or restarted)."""
    return SlackMessage(text=reason, blocks=[section(f"{question_text}\n_{esc(reason)}_", block_id="closed")])


def escalation_blocks(outcome: Outcome, offer: EscalationOffer) -> list[Block]:
    lang = outcome.language
    _ = interface(lang)
    first = join_names(offer.recipients or [target_name(t, offer.target_names, lang) for t in offer.targets], lang)
    then = join_names([target_name(t, offer.target_names, lang) for t in offer.then], lang)
    if outcome.case_id:
        sent_to = join_names(outcome.sent_to, lang) if outcome.sent_to else first
        lead = "📨 *" + _("This has been sent to {names}.").format(names=esc(sent_to)) + "*"
    elif offer.required:
        lead = (
            "⚠️ *"
            + _("The policy says {names} must be told, and escalations are not switched on here.").format(
                names=esc(first)
            )
            + "* "
            + _("Contact them yourself now and show them this advice. This is the summary to pass on:")
        )
    else:
        lead = (
            "📨 *"
            + _("The policy says {names} should know.").format(names=esc(first))
            + "* "
            + _("Here is exactly what will be sent:")
        )
    if then and offer.deadline:
        lead += "\n" + _("If nobody acknowledges it within {deadline}, {names} will be told.").format(
            deadline=in_words(offer.deadline, lang), names=esc(then)
        )
    blocks = [section(lead, block_id=f"{ESCALATION_BLOCK_PREFIX}_lead")]
    blocks.extend(
        section(chunk, block_id=f"{ESCALATION_BLOCK_PREFIX}_preview_{n}")
        for n, chunk in enumerate(split_text(quote(offer.preview), 2900))
    )
    if not offer.required and not outcome.case_id:
        confirm = {
            "title": plain(_("Send this?")),
            "text": mrkdwn(_("{names} will receive the summary shown above.").format(names=esc(first))),
            "confirm": plain(_(SEND)),
            "deny": plain(_("Not yet")),
        }
        send = clip(_("Send to {names}").format(names=first), MAX_OPTION_TEXT)
        blocks.append(
            actions(
                [
                    button(send, A.ESCALATE_SEND, outcome.conversation_id, style="primary", confirm=confirm),
                    button(_("Add a note first"), A.ESCALATE_NOTE, outcome.conversation_id),
                    button(_(DONT_SEND), A.ESCALATE_DECLINE, outcome.conversation_id),
                ],
                block_id=f"{ESCALATION_BLOCK_PREFIX}_actions",
            )
        )
    return blocks


def outcome_actions(conversation_id: str, language: str | None = None) -> Block:
    _ = interface(language)
    return actions(
        [
            button(_("Start another check"), A.NEW_CHECK, "new"),
            button(_("Go through it again"), A.AGAIN, conversation_id),
        ],
        block_id="outcome_actions",
    )


def render_outcome(o: Outcome) -> SlackMessage:
    """Verdict (emoji and headline), advice, checklist, citations, and any escalation offer."""
    _ = interface(o.language)
    emoji = VERDICT_EMOJI[o.verdict]
    blocks: list[Block] = [header(f"{emoji} {o.headline}"), context(esc(o.flow_title))]
    blocks.extend(section(chunk) for chunk in split_text(esc(o.text)))
    if o.score is not None:
        scored = _("You got *{correct} of {total}* right.").format(correct=o.score.correct, total=o.score.total)
        blocks.append(section(f"🎯 {scored}"))
    if o.checklist:
        items = "\n".join(f"☐ {esc(item)}" for item in o.checklist)
        blocks.extend(section(chunk) for chunk in split_text(f"*{esc(_(WHAT_TO_DO))}*\n" + items))
    if o.citations:
        blocks.append({"type": "divider"})
        blocks.append(context(f"*{esc(_(RESTS_ON))}*"))
        blocks.extend(citation_blocks(o.citations, o.language))
    if o.escalation is not None:
        blocks.append({"type": "divider"})
        blocks.extend(escalation_blocks(o, o.escalation))
    blocks.append(outcome_actions(o.conversation_id, o.language))
    lines = [f"{emoji} {o.headline}: {o.text}"]
    if o.checklist:
        lines.append(f"{_(WHAT_TO_DO)}: " + "; ".join(o.checklist))
    return SlackMessage(text=" ".join(lines), blocks=blocks)


def render_outcome_escalation_settled(
    blocks: list[Block], status: str, conversation_id: str, language: str | None = None
) -> SlackMessage:
    """The outcome message with its escalation buttons replaced by what happened to them.

    ``blocks`` are the message's current blocks as Slack sent them back with the click.
    """
    kept = [
        b
        for b in blocks
        if not str(b.get("block_id", "")).startswith(f"{ESCALATION_BLOCK_PREFIX}_actions")
        and b.get("block_id") != "outcome_actions"
    ]
    kept.append(context(esc(status)))
    kept.append(outcome_actions(conversation_id, language))
    return SlackMessage(text=status, blocks=kept)


def without_language_switch(blocks: list[Block], text: str) -> SlackMessage:
    """A message as it was, less its language switch (pressed: the replies below are in the new
    language). ``text`` is the message's fallback as Slack sent it back, already escaped."""
    kept = [b for b in blocks if b.get("block_id") != LANGUAGE_BLOCK]
    message = SlackMessage(text="", blocks=kept)
    message.text = text or " "
    return message


def render_feedback(f: Feedback) -> SlackMessage:
    mark = {True: "✅ ", False: "❌ ", None: ""}[f.correct]
    return SlackMessage(text=f.text, blocks=[section(mark + esc(f.text))])


def render_flow_choice(choice: FlowChoice, language: str | None = None) -> SlackMessage:
    if choice.kind is not ChoiceKind.MENU:
        return _render_routed_choice(choice)
    blocks: list[Block] = [section(f"*{esc(choice.prompt)}*")]
    if len(choice.candidates) <= BUTTONS_PER_ROW:
        blocks.append(
            actions(
                [button(c.title, f"{A.START_FLOW}:{n}", c.flow_id) for n, c in enumerate(choice.candidates)],
                block_id="flow_choice",
            )
        )
    else:
        select = {
            "type": "static_select",
            "action_id": A.START_FLOW,
            "placeholder": plain(interface(language)(CHOOSE_SITUATION)),
            "options": [{"text": plain(c.title), "value": c.flow_id} for c in choice.candidates],
        }
        blocks.append(actions([select], block_id="flow_choice"))
    titles = "; ".join(c.title for c in choice.candidates)
    return SlackMessage(text=f"{choice.prompt} {titles}", blocks=blocks)


def _render_routed_choice(choice: FlowChoice) -> SlackMessage:
    """What the router made of the first words: always buttons (a few, never a long select), and
    for a flow that has just started one quiet line ("Understood: ... Not this?") above them."""
    buttons = [button(c.title, f"{A.START_FLOW}:{n}", c.flow_id) for n, c in enumerate(choice.candidates)]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    started = choice.kind is ChoiceKind.NOT_THIS
    head = context(f"✅ {esc(choice.prompt)}") if started else section(f"*{esc(choice.prompt)}*")
    blocks = [head, *(actions(row, block_id=f"flow_choice_{i}") for i, row in enumerate(rows))]
    titles = "; ".join(c.title for c in choice.candidates)
    return SlackMessage(text=f"{choice.prompt} {titles}", blocks=blocks)


def render_explanation(e: Explanation, language: str | None = None) -> SlackMessage:
    _ = interface(language)
    if not e.citations:
        return SlackMessage(text=_("No policy paragraph is attached to this step."), in_thread=True)
    blocks = [section(f"*{esc(_('Why? The policy behind this step:'))}*"), *citation_blocks(e.citations, language)]
    text = _("Why: {where}").format(where="; ".join(f"{c.policy_title} {c.where}".strip() for c in e.citations))
    return SlackMessage(text=text, blocks=blocks, in_thread=True)


def render_notice(n: Notice) -> SlackMessage:
    return SlackMessage(text=n.text, blocks=[context(f"{NOTICE_EMOJI[n.kind]} {esc(n.text)}")])


def render_escalation_sent(e: EscalationSent, language: str | None = None) -> SlackMessage:
    reference = interface(language)(CASE_REFERENCE).format(case=f"`{esc(e.case_id)}`")
    return SlackMessage(text=e.text, blocks=[section(f"📨 {esc(e.text)}"), context(reference)])


def render_switch_offer(offer: SwitchOffer) -> SlackMessage:
    """Typed text that sounds like another situation: a button to start it; the question follows."""
    _ = interface(offer.language)
    start_label = clip(_("Start: {title}").format(title=offer.flow_title), MAX_OPTION_TEXT)
    start = button(start_label, f"{A.START_FLOW}:0", offer.flow_id)
    blocks = [
        section(f"🔀 {esc(offer.text)}"),
        actions([start], block_id="switch_offer"),
        context(esc(_("Or answer the question below to carry on with this check."))),
    ]
    return SlackMessage(text=offer.text, blocks=blocks)


def language_switch_block(switch: LanguageSwitch) -> Block | None:
    """The one-tap language switch: a visible button for each language the replies are not in,
    labelled in that language ("Cymraeg"), never tucked into a menu. None when there is no other."""
    buttons = [
        button(
            c.label,
            f"{A.SET_LANGUAGE}:{c.language}",
            A.language_value(c.language, switch.conversation_id),
        )
        for c in switch.choices
        if not c.current
    ]
    return actions(buttons[:BUTTONS_PER_ROW], block_id=LANGUAGE_BLOCK) if buttons else None


def render_language_switch(switch: LanguageSwitch) -> SlackMessage | None:
    """The switch as a message of its own, for a reply set with nothing else to carry it."""
    block = language_switch_block(switch)
    if block is None:
        return None
    names = " / ".join(c.label for c in switch.choices if not c.current)
    return SlackMessage(text=f"🌐 {names}", blocks=[block])


def reply_language(replies: Sequence[Reply]) -> str | None:
    """The language a reply set is in (bot.conversation.replies.language_of)."""
    return language_of(replies)


def render_reply(reply: Reply, language: str | None = None) -> SlackMessage | None:
    """Any engine reply as a message (None: nothing to show). ``language`` is the reply set's
    (``reply_language``), for the adapter's own words on replies that do not carry one."""
    if isinstance(reply, Question):
        return render_question(reply)
    if isinstance(reply, Outcome):
        return render_outcome(reply)
    if isinstance(reply, Feedback):
        return render_feedback(reply)
    if isinstance(reply, FlowChoice):
        return render_flow_choice(reply, language)
    if isinstance(reply, Explanation):
        return render_explanation(reply, language)
    if isinstance(reply, Notice):
        return render_notice(reply)
    if isinstance(reply, EscalationSent):
        return render_escalation_sent(reply, language)
    if isinstance(reply, SwitchOffer):
        return render_switch_offer(reply)
    if isinstance(reply, LanguageSwitch):
        return render_language_switch(reply)
    raise TypeError(f"no Slack rendering for {type(reply).__name__}")


# --------------------------------------------------------------------------- case notifications


def render_notification(n: Notification) -> SlackMessage:
    """A case notification: summary, facts (employee, flow, answers, cited rule), and case buttons."""
    urgent = n.urgency == "urgent"
    blocks: list[Block] = [header(("🚨 " if urgent else "📨 ") + n.title)]
    blocks.extend(section(chunk) for chunk in split_text(esc(n.text)))
    for label, value in n.facts:
        blocks.extend(section(chunk) for chunk in split_text(f"*{esc(label)}*\n{esc(value)}"))
    _ = interface(n.recipient.language)
    buttons = []
    for action in n.actions:
        if action not in A.CASE_ACTIONS:
            continue
        style = "primary" if action == "acknowledge" else None
        buttons.append(button(_(CASE_BUTTON_LABELS[action]), A.CASE_ACTIONS[action], n.case_id, style=style))
    if buttons:
        blocks.append(actions(buttons, block_id=CASE_ACTIONS_BLOCK))
    blocks.append(context(_(CASE_REFERENCE).format(case=f"`{esc(n.case_id)}`")))
    # The title is the case service's final wording (it already says URGENT when it is).
    return SlackMessage(text=f"{n.title}: {n.text}", blocks=blocks)


def render_case_message_settled(
    blocks: list[Block], status: str, remaining: list[str], case_id: str, language: str | None = None
) -> SlackMessage:
    """A case notification after a button: the status line, and only the buttons still useful."""
    kept = [b for b in blocks if b.get("block_id") != CASE_ACTIONS_BLOCK and b.get("block_id") != "case_status"]
    # Keep the reference line last: insert the status before it.
    ref = kept.pop() if kept and kept[-1].get("type") == "context" else None
    kept.append({**context(f"✔️ {esc(status)}"), "block_id": "case_status"})
    # The buttons kept keep the words they were sent with (the recipient's language); a button
    # the message did not have yet is labelled in ``language``.
    _ = interface(language)
    shown = {
        str(e.get("action_id")): str((e.get("text") or {}).get("text") or "")
        for b in blocks
        if b.get("block_id") == CASE_ACTIONS_BLOCK
        for e in b.get("elements") or []
        if isinstance(e, dict)
    }
    buttons = [
        button(
            shown.get(A.CASE_ACTIONS[a]) or _(CASE_BUTTON_LABELS[a]),
            A.CASE_ACTIONS[a],
            case_id,
            style="primary" if a == "resolve" else None,
        )
        for a in remaining
    ]
    if buttons:
        kept.append(actions(buttons, block_id=CASE_ACTIONS_BLOCK))
    if ref is not None:
        kept.append(ref)
    return SlackMessage(text=status, blocks=kept)


# --------------------------------------------------------------------------- Home tab and modals


@dataclass(frozen=True)
class HomeCase:
    case_id: str
    title: str
    status: str
    detail: str = ""  # who it concerns / who it went to, when
    actions: tuple[str, ...] = ("acknowledge", "resolve", "message_employee")  # for "waiting for you"


@dataclass(frozen=True)
class HomeUnfinished:
    conversation_id: str
    flow_title: str
    question: str


@dataclass(frozen=True)
class HomeData:
    """Everything the Home tab shows; gathered by the app from the core, rendered here."""

    unfinished: HomeUnfinished | None = None
    open_cases: list[HomeCase] = field(default_factory=list)
    onboarding: str | None = None  # a sentence about the person's onboarding, None: no onboarding flow
    onboarding_done: bool = False
    waiting_cases: list[HomeCase] | None = None  # None: the person manages nobody and is in no team
    note: str | None = None  # shown when part of the page could not be loaded


CASE_STATES = {
    "open": N_("open"),
    "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"),
    "withdrawn": N_("withdrawn"),
}
CASE_SHORT = N_("Case {case}")


def _case_line(c: HomeCase, language: str | None = None) -> str:
    _ = interface(language)
    detail = f"\n{esc(c.detail)}" if c.detail else ""
    status = _(CASE_STATES[c.status]) if c.status in CASE_STATES else c.status
    case = _(CASE_SHORT).format(case=f"`{esc(c.case_id[:8])}`")
    return f"*{esc(c.title)}* · _{esc(status)}_{detail}\n{case}"


def render_home(data: HomeData, language: str | None = None) -> dict[str, Any]:
    """The Home tab in the person's language (``language``; the sentences in ``data`` already are)."""
    _ = interface(language)
    blocks: list[Block] = [
        header("Policy Bot"),
        section(
            esc(
                _(
                    "Not sure whether to post, reply, accept or act? Answer a few questions and get a clear "
                    "answer, a checklist and the policy paragraph it rests on."
                )
            ),
            accessory=button(_("Start a check"), A.START_CHECK, "home", style="primary"),
        ),
    ]
    if data.unfinished is not None:
        u = data.unfinished
        blocks.append(
            section(
                _("You were in the middle of {flow}:").format(flow=f"*{esc(u.flow_title)}*") + f"\n_{esc(u.question)}_",
                accessory=button(_("Carry on"), A.CONTINUE, u.conversation_id),
            )
        )
    blocks.append({"type": "divider"})
    blocks.append(header(_("Your open cases")))
    if data.open_cases:
        blocks.extend(
            section(
                _case_line(c, language),
                accessory=button(
                    _("Withdraw"),
                    A.CASE_WITHDRAW,
                    c.case_id,
                    confirm={
                        "title": plain(_("Withdraw this case?")),
                        "text": mrkdwn(esc(_("The people it was sent to will be told nothing more is needed."))),
                        "confirm": plain(_("Withdraw")),
                        "deny": plain(_("Keep it")),
                    },
                ),
            )
            for c in data.open_cases[:15]
        )
    else:
        blocks.append(context(esc(_("Nothing open. When a check is escalated, you can follow it here."))))
    if data.onboarding is not None:
        blocks.append({"type": "divider"})
        blocks.append(header(_("Your onboarding")))
        accessory = None if data.onboarding_done else button(_("Do it now"), f"{A.START_FLOW}:home", "onboarding")
        blocks.append(section(esc(data.onboarding), accessory=accessory))
    if data.waiting_cases is not None:
        blocks.append({"type": "divider"})
        blocks.append(header(_("Cases waiting for you")))
        if data.waiting_cases:
            for c in data.waiting_cases[:20]:
                blocks.append(section(_case_line(c, language)))
                buttons = [
                    button(_(CASE_BUTTON_LABELS[a]), A.CASE_ACTIONS[a], c.case_id, style="primary" if n == 0 else None)
                    for n, a in enumerate(c.actions)
                    if a in A.CASE_ACTIONS
                ]
                if buttons:
                    blocks.append(actions(buttons, block_id=f"{CASE_ACTIONS_BLOCK}_{c.case_id}"[:255]))
        else:
            blocks.append(context(esc(_("Nothing is waiting for you."))))
    if data.note:
        blocks.append(context(f"⚠️ {esc(data.note)}"))
    return {"type": "home", "blocks": fit_blocks(blocks, limit=MAX_VIEW_BLOCKS)}


def modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str,
    metadata: str = "",
    language: str | None = None,
) -> dict[str, Any]:
    """A modal; ``title`` and ``submit`` already in ``language``, which the Cancel button is put in."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(clip(title, 24)),
        "submit": plain(clip(submit, 24)),
        "close": plain(clip(interface(language)(CANCEL_LABEL), 24)),
        "blocks": fit_blocks(blocks, limit=MAX_VIEW_BLOCKS),
    }
    if metadata:
        if len(metadata) > MAX_PRIVATE_METADATA:
            raise ValueError("modal metadata too long: it carries ids only")
        view["private_metadata"] = metadata
    return view


def with_language(metadata: str, language: str | None) -> str:
    """A modal's ids and, last, the language it is written in: its submission's error message
    (given in the three seconds before ``ack``, with no time to read the person's setting) is
    then in the same language as the modal."""
    return f"{metadata}|{language or ''}"


def metadata_language(metadata: str) -> tuple[str, str | None]:
    """``with_language`` undone: the ids, and the language (None: English, or an older modal)."""
    ids, _, language = metadata.rpartition("|")
    if not ids or language not in ("", *i18n_available()):
        return metadata, None
    return ids, language or None


START_TEXT_BLOCK = "situation"
START_TEXT_ACTION = "situation_text"
START_FLOW_BLOCK = "situation_flow"
NOTE_BLOCK = "note"
NOTE_ACTION = "note_text"
MESSAGE_BLOCK = "message"
MESSAGE_ACTION = "message_text"


def render_start_modal(flows: Sequence[tuple[str, str]], language: str | None = None) -> dict[str, Any]:
    """ "Start a check": describe the situation in words, or pick it from the list."""
    _ = interface(language)
    blocks: list[Block] = [
        section(
            esc(
                _(
                    "Describe what is happening in a few words, or pick the situation from the list. "
                    "The questions and the answer arrive in a private message from Policy Bot."
                )
            )
        ),
        {
            "type": "input",
            "block_id": START_TEXT_BLOCK,
            "optional": True,
            "label": plain(_("What is happening?")),
            "element": {
                "type": "plain_text_input",
                "action_id": START_TEXT_ACTION,
                "multiline": False,
                "max_length": 500,
                "placeholder": plain(_("e.g. someone threatened to sue me over a post")),
            },
        },
    ]
    if flows:
        blocks.append(
            {
                "type": "input",
                "block_id": START_FLOW_BLOCK,
                "optional": True,
                "label": plain(_("Or choose the situation")),
                "element": {
                    "type": "static_select",
                    "action_id": A.START_FLOW,
                    "placeholder": plain(_(CHOOSE_SITUATION)),
                    "options": [{"text": plain(title), "value": flow_id} for flow_id, title in flows],
                },
            }
        )
    return modal(A.START_MODAL, _("Check the policy"), blocks, submit=_("Start"), language=language)


NOTE_EMPTY = N_("Write a short note, or close this and use Send.")
MESSAGE_EMPTY = N_("Write a message, or close this.")


def render_note_modal(metadata: str, preview: str, language: str | None = None) -> dict[str, Any]:
    """The escalation note: what will be sent, and a box for the person's own words."""
    _ = interface(language)
    blocks: list[Block] = [
        section(f"*{esc(_('This is what will be sent:'))}*"),
        *[section(chunk) for chunk in split_text(quote(preview), 2900)],
        {
            "type": "input",
            "block_id": NOTE_BLOCK,
            "label": plain(_("Your note (added at the end)")),
            "element": {
                "type": "plain_text_input",
                "action_id": NOTE_ACTION,
                "multiline": True,
                "max_length": 500,
            },
        },
    ]
    return modal(
        A.NOTE_MODAL,
        _("Add a note and send"),
        blocks,
        submit=_(SEND_LABEL),
        metadata=with_language(metadata, language),
        language=language,
    )


def render_case_message_modal(case_id: str, employee: str, language: str | None = None) -> dict[str, Any]:
    """ "Message the employee": a box for the message, in the case worker's language."""
    _ = interface(language)
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": MESSAGE_BLOCK,
            "label": plain(_("Message to {name}").format(name=employee)),
            "element": {
                "type": "plain_text_input",
                "action_id": MESSAGE_ACTION,
                "multiline": True,
                "max_length": 2000,
            },
        },
        context(
            esc(_("Sent as a direct message from Policy Bot, with your name."))
            + " "
            + _(CASE_SHORT).format(case=f"`{esc(case_id)}`")
        ),
    ]
    return modal(
        A.CASE_MESSAGE_MODAL,
        _(CASE_MESSAGE_TITLE),
        blocks,
        submit=_(SEND_LABEL),
        metadata=with_language(case_id, language),
        language=language,
    )
