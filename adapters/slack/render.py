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
    ChoiceKind,
    CitationView,
    EscalationOffer,
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
    "line_manager": "your line manager",
    "comms": "Communications",
    "legal": "Legal",
    "hr": "HR",
    "safeguarding": "Safeguarding",
}
CASE_BUTTON_LABELS = {
    "acknowledge": "Acknowledge",
    "resolve": "Resolved",
    "message_employee": "Message the employee",
}
QUESTION_BLOCK = "question"
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


def citation_blocks(citations: Sequence[CitationView]) -> list[Block]:
    """One section per policy (named once), each clause once with its summaries and quotes."""
    blocks: list[Block] = []
    for group in group_citations(citations):
        lines = [f"📖 *{esc(group.policy_title)}*"]
        for clause in group.clauses:
            lines.append(f"• *{esc(clause.label)}*" + (f": {esc(clause.summary)}" if clause.summary else ""))
            lines += [quote(f"“{q}”") for q in clause.quotes]
        blocks.extend(section(chunk) for chunk in split_text("\n".join(lines)))
    return blocks


def target_name(target: str, names: dict[str, str]) -> str:
    return names.get(target) or TARGET_NAMES.get(target, target.replace("_", " "))


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------- replies


def progress_text(q: Question) -> str:
    return f"Question {q.step} of up to {max(q.max_steps, q.step)} · {esc(q.flow_title)}"


def render_question(q: Question) -> SlackMessage:
    """The question, one button per option, progress, and a menu with Why? / Back / Start again / Stop."""
    blocks: list[Block] = []
    if q.intro:
        blocks.extend(section(chunk) for chunk in split_text(esc(q.intro)))
    menu_options = [(A.MENU_WHY, "Why? Show the policy")]
    if q.can_go_back:
        menu_options.append((A.MENU_BACK, "Go back one question"))
    menu_options += [(A.MENU_RESTART, "Start this check again"), (A.MENU_CANCEL, "Stop this check")]
    menu = {
        "type": "overflow",
        "action_id": A.MENU,
        "options": [{"text": plain(label), "value": A.menu_value(v, q.conversation_id)} for v, label in menu_options],
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


def render_answered(question_text: str, choice: str, progress: str | None) -> SlackMessage:
    """A question after it was answered: the choice shown, the buttons gone (so no second answer)."""
    blocks = [section(f"{question_text}\n✅ You chose: *{esc(choice)}*", block_id="answered")]
    if progress:
        blocks.append(context(progress))
    return SlackMessage(text=f"You chose: {choice}", blocks=blocks)


def render_closed_question(question_text: str, reason: str) -> SlackMessage:
    """A question whose buttons must go without an answer (the check was stopped or restarted)."""
    return SlackMessage(text=reason, blocks=[section(f"{question_text}\n_{esc(reason)}_", block_id="closed")])


def escalation_blocks(outcome: Outcome, offer: EscalationOffer) -> list[Block]:
    first = join_names(offer.recipients or [target_name(t, offer.target_names) for t in offer.targets])
    then = join_names([target_name(t, offer.target_names) for t in offer.then])
    if outcome.case_id:
        lead = f"📨 *This has been sent to {esc(join_names(outcome.sent_to) if outcome.sent_to else first)}.*"
    elif offer.required:
        lead = (
            f"⚠️ *The policy says {esc(first)} must be told, and escalations are not switched on here.* "
            "Contact them yourself now and show them this advice. This is the summary to pass on:"
        )
    else:
        lead = f"📨 *The policy says {esc(first)} should know.* Here is exactly what will be sent:"
    if then and offer.deadline:
        lead += f"\nIf nobody acknowledges it within {offer.deadline}, {esc(then)} will be told."
    blocks = [section(lead, block_id=f"{ESCALATION_BLOCK_PREFIX}_lead")]
    blocks.extend(
        section(chunk, block_id=f"{ESCALATION_BLOCK_PREFIX}_preview_{n}")
        for n, chunk in enumerate(split_text(quote(offer.preview), 2900))
    )
    if not offer.required and not outcome.case_id:
        confirm = {
            "title": plain("Send this?"),
            "text": mrkdwn(f"{esc(first)} will receive the summary shown above."),
            "confirm": plain("Send"),
            "deny": plain("Not yet"),
        }
        blocks.append(
            actions(
                [
                    button(
                        f"Send to {first}", A.ESCALATE_SEND, outcome.conversation_id, style="primary", confirm=confirm
                    ),
                    button("Add a note first", A.ESCALATE_NOTE, outcome.conversation_id),
                    button("Don't send", A.ESCALATE_DECLINE, outcome.conversation_id),
                ],
                block_id=f"{ESCALATION_BLOCK_PREFIX}_actions",
            )
        )
    return blocks


def outcome_actions(conversation_id: str) -> Block:
    return actions(
        [
            button("Start another check", A.NEW_CHECK, "new"),
            button("Go through it again", A.AGAIN, conversation_id),
        ],
        block_id="outcome_actions",
    )


def render_outcome(o: Outcome) -> SlackMessage:
    """Verdict (emoji and headline), advice, checklist, citations, and any escalation offer."""
    emoji = VERDICT_EMOJI[o.verdict]
    blocks: list[Block] = [header(f"{emoji} {o.headline}"), context(esc(o.flow_title))]
    blocks.extend(section(chunk) for chunk in split_text(esc(o.text)))
    if o.score is not None:
        blocks.append(section(f"🎯 You got *{o.score.correct} of {o.score.total}* right."))
    if o.checklist:
        items = "\n".join(f"☐ {esc(item)}" for item in o.checklist)
        blocks.extend(section(chunk) for chunk in split_text("*What to do*\n" + items))
    if o.citations:
        blocks.append({"type": "divider"})
        blocks.append(context("*The policy this answer rests on*"))
        blocks.extend(citation_blocks(o.citations))
    if o.escalation is not None:
        blocks.append({"type": "divider"})
        blocks.extend(escalation_blocks(o, o.escalation))
    blocks.append(outcome_actions(o.conversation_id))
    lines = [f"{emoji} {o.headline}: {o.text}"]
    if o.checklist:
        lines.append("What to do: " + "; ".join(o.checklist))
    return SlackMessage(text=" ".join(lines), blocks=blocks)


def render_outcome_escalation_settled(blocks: list[Block], status: str, conversation_id: str) -> SlackMessage:
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
    kept.append(outcome_actions(conversation_id))
    return SlackMessage(text=status, blocks=kept)


def render_feedback(f: Feedback) -> SlackMessage:
    mark = {True: "✅ ", False: "❌ ", None: ""}[f.correct]
    return SlackMessage(text=f.text, blocks=[section(mark + esc(f.text))])


def render_flow_choice(choice: FlowChoice) -> SlackMessage:
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
            "placeholder": plain("Choose a situation"),
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


def render_explanation(e: Explanation) -> SlackMessage:
    if not e.citations:
        return SlackMessage(text="No policy paragraph is attached to this step.", in_thread=True)
    blocks = [section("*Why? The policy behind this step:*"), *citation_blocks(e.citations)]
    text = "Why: " + "; ".join(f"{c.policy_title} {c.where}".strip() for c in e.citations)
    return SlackMessage(text=text, blocks=blocks, in_thread=True)


def render_notice(n: Notice) -> SlackMessage:
    return SlackMessage(text=n.text, blocks=[context(f"{NOTICE_EMOJI[n.kind]} {esc(n.text)}")])


def render_escalation_sent(e: EscalationSent) -> SlackMessage:
    return SlackMessage(
        text=e.text,
        blocks=[section(f"📨 {esc(e.text)}"), context(f"Case reference: `{esc(e.case_id)}`")],
    )


def render_switch_offer(offer: SwitchOffer) -> SlackMessage:
    """Typed text that sounds like another situation: a button to start it; the question follows."""
    start = button(clip(f"Start: {offer.flow_title}", MAX_OPTION_TEXT), f"{A.START_FLOW}:0", offer.flow_id)
    blocks = [
        section(f"🔀 {esc(offer.text)}"),
        actions([start], block_id="switch_offer"),
        context("Or answer the question below to carry on with this check."),
    ]
    return SlackMessage(text=offer.text, blocks=blocks)


def render_reply(reply: Reply) -> SlackMessage | None:
    """Any engine reply as a message (None: nothing to show)."""
    if isinstance(reply, Question):
        return render_question(reply)
    if isinstance(reply, Outcome):
        return render_outcome(reply)
    if isinstance(reply, Feedback):
        return render_feedback(reply)
    if isinstance(reply, FlowChoice):
        return render_flow_choice(reply)
    if isinstance(reply, Explanation):
        return render_explanation(reply)
    if isinstance(reply, Notice):
        return render_notice(reply)
    if isinstance(reply, EscalationSent):
        return render_escalation_sent(reply)
    if isinstance(reply, SwitchOffer):
        return render_switch_offer(reply)
    raise TypeError(f"no Slack rendering for {type(reply).__name__}")


# --------------------------------------------------------------------------- case notifications


def render_notification(n: Notification) -> SlackMessage:
    """A case notification: summary, facts (employee, flow, answers, cited rule), and case buttons."""
    urgent = n.urgency == "urgent"
    blocks: list[Block] = [header(("🚨 " if urgent else "📨 ") + n.title)]
    blocks.extend(section(chunk) for chunk in split_text(esc(n.text)))
    for label, value in n.facts:
        blocks.extend(section(chunk) for chunk in split_text(f"*{esc(label)}*\n{esc(value)}"))
    buttons = []
    for action in n.actions:
        if action not in A.CASE_ACTIONS:
            continue
        style = "primary" if action == "acknowledge" else None
        buttons.append(button(CASE_BUTTON_LABELS[action], A.CASE_ACTIONS[action], n.case_id, style=style))
    if buttons:
        blocks.append(actions(buttons, block_id=CASE_ACTIONS_BLOCK))
    blocks.append(context(f"Case reference: `{esc(n.case_id)}`"))
    # The title is the case service's final wording (it already says URGENT when it is).
    return SlackMessage(text=f"{n.title}: {n.text}", blocks=blocks)


def render_case_message_settled(blocks: list[Block], status: str, remaining: list[str], case_id: str) -> SlackMessage:
    """A case notification after a button: the status line, and only the buttons still useful."""
    kept = [b for b in blocks if b.get("block_id") != CASE_ACTIONS_BLOCK and b.get("block_id") != "case_status"]
    # Keep the reference line last: insert the status before it.
    ref = kept.pop() if kept and kept[-1].get("type") == "context" else None
    kept.append({**context(f"✔️ {esc(status)}"), "block_id": "case_status"})
    buttons = [
        button(CASE_BUTTON_LABELS[a], A.CASE_ACTIONS[a], case_id, style="primary" if a == "resolve" else None)
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


def _case_line(c: HomeCase) -> str:
    detail = f"\n{esc(c.detail)}" if c.detail else ""
    return f"*{esc(c.title)}* · _{esc(c.status)}_{detail}\nCase `{esc(c.case_id[:8])}`"


def render_home(data: HomeData) -> dict[str, Any]:
    blocks: list[Block] = [
        header("Policy Bot"),
        section(
            "Not sure whether to post, reply, accept or act? Answer a few questions and get a clear "
            "answer, a checklist and the policy paragraph it rests on.",
            accessory=button("Start a check", A.START_CHECK, "home", style="primary"),
        ),
    ]
    if data.unfinished is not None:
        u = data.unfinished
        blocks.append(
            section(
                f"You were in the middle of *{esc(u.flow_title)}*:\n_{esc(u.question)}_",
                accessory=button("Carry on", A.CONTINUE, u.conversation_id),
            )
        )
    blocks.append({"type": "divider"})
    blocks.append(header("Your open cases"))
    if data.open_cases:
        blocks.extend(
            section(
                _case_line(c),
                accessory=button(
                    "Withdraw",
                    A.CASE_WITHDRAW,
                    c.case_id,
                    confirm={
                        "title": plain("Withdraw this case?"),
                        "text": mrkdwn("The people it was sent to will be told nothing more is needed."),
                        "confirm": plain("Withdraw"),
                        "deny": plain("Keep it"),
                    },
                ),
            )
            for c in data.open_cases[:15]
        )
    else:
        blocks.append(context("Nothing open. When a check is escalated, you can follow it here."))
    if data.onboarding is not None:
        blocks.append({"type": "divider"})
        blocks.append(header("Your onboarding"))
        accessory = None if data.onboarding_done else button("Do it now", f"{A.START_FLOW}:home", "onboarding")
        blocks.append(section(esc(data.onboarding), accessory=accessory))
    if data.waiting_cases is not None:
        blocks.append({"type": "divider"})
        blocks.append(header("Cases waiting for you"))
        if data.waiting_cases:
            for c in data.waiting_cases[:20]:
                blocks.append(section(_case_line(c)))
                buttons = [
                    button(CASE_BUTTON_LABELS[a], A.CASE_ACTIONS[a], c.case_id, style="primary" if n == 0 else None)
                    for n, a in enumerate(c.actions)
                    if a in A.CASE_ACTIONS
                ]
                if buttons:
                    blocks.append(actions(buttons, block_id=f"{CASE_ACTIONS_BLOCK}_{c.case_id}"[:255]))
        else:
            blocks.append(context("Nothing is waiting for you."))
    if data.note:
        blocks.append(context(f"⚠️ {esc(data.note)}"))
    return {"type": "home", "blocks": fit_blocks(blocks, limit=MAX_VIEW_BLOCKS)}


def modal(callback_id: str, title: str, blocks: list[Block], *, submit: str, metadata: str = "") -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(clip(title, 24)),
        "submit": plain(clip(submit, 24)),
        "close": plain("Cancel"),
        "blocks": fit_blocks(blocks, limit=MAX_VIEW_BLOCKS),
    }
    if metadata:
        if len(metadata) > MAX_PRIVATE_METADATA:
            raise ValueError("modal metadata too long: it carries ids only")
        view["private_metadata"] = metadata
    return view


START_TEXT_BLOCK = "situation"
START_TEXT_ACTION = "situation_text"
START_FLOW_BLOCK = "situation_flow"
NOTE_BLOCK = "note"
NOTE_ACTION = "note_text"
MESSAGE_BLOCK = "message"
MESSAGE_ACTION = "message_text"


def render_start_modal(flows: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """ "Start a check": describe the situation in words, or pick it from the list."""
    blocks: list[Block] = [
        section(
            "Describe what is happening in a few words, or pick the situation from the list. "
            "The questions and the answer arrive in a private message from Policy Bot."
        ),
        {
            "type": "input",
            "block_id": START_TEXT_BLOCK,
            "optional": True,
            "label": plain("What is happening?"),
            "element": {
                "type": "plain_text_input",
                "action_id": START_TEXT_ACTION,
                "multiline": False,
                "max_length": 500,
                "placeholder": plain("e.g. someone threatened to sue me over a post"),
            },
        },
    ]
    if flows:
        blocks.append(
            {
                "type": "input",
                "block_id": START_FLOW_BLOCK,
                "optional": True,
                "label": plain("Or choose the situation"),
                "element": {
                    "type": "static_select",
                    "action_id": A.START_FLOW,
                    "placeholder": plain("Choose a situation"),
                    "options": [{"text": plain(title), "value": flow_id} for flow_id, title in flows],
                },
            }
        )
    return modal(A.START_MODAL, "Check the policy", blocks, submit="Start")


def render_note_modal(conversation_id: str, preview: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section("*This is what will be sent:*"),
        *[section(chunk) for chunk in split_text(quote(preview), 2900)],
        {
            "type": "input",
            "block_id": NOTE_BLOCK,
            "label": plain("Your note (added at the end)"),
            "element": {
                "type": "plain_text_input",
                "action_id": NOTE_ACTION,
                "multiline": True,
                "max_length": 500,
            },
        },
    ]
    return modal(A.NOTE_MODAL, "Add a note and send", blocks, submit="Send", metadata=conversation_id)


def render_case_message_modal(case_id: str, employee: str) -> dict[str, Any]:
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": MESSAGE_BLOCK,
            "label": plain(f"Message to {employee}"),
            "element": {
                "type": "plain_text_input",
                "action_id": MESSAGE_ACTION,
                "multiline": True,
                "max_length": 2000,
            },
        },
        context(f"Sent as a direct message from Policy Bot, with your name. Case `{esc(case_id)}`."),
    ]
    return modal(A.CASE_MESSAGE_MODAL, "Message the employee", blocks, submit="Send", metadata=case_id)
