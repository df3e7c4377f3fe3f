"""Flow library review messages rendered as Block Kit: the request, its outcome, the reason modal.

The worker delivers them through the same ``SlackNotifier`` as case notifications
(bot/publishing/notices.py writes them): ``change_submitted`` goes to each reviewer with the
readable diff and the Approve / Request changes buttons, ``change_decided`` tells the author what
happened. ``Notification.case_id`` holds the change id, which is all the buttons carry: who
pressed is the Slack user Slack signs for, looked up in the staff directory by the core.

The diff is shown preformatted, because its indentation (which flow, which question, the advice
before and after) is what makes it readable. Slack takes at most 3,000 characters in a section
and a preformatted block cannot be cut by ``limits.fit_blocks`` without losing its closing
fence, so the diff is split here at line breaks into sections that fit, and a diff too long even
for that ends with the command that prints it whole.
"""

from __future__ import annotations

from typing import Any

from adapters.slack import actions as A
from adapters.slack.limits import MAX_SECTION_TEXT, Block, split_text
from adapters.slack.render import (
    SlackMessage,
    actions,
    button,
    context,
    esc,
    header,
    modal,
    plain,
    section,
    with_language,
)
from bot.cases.notify import Notification
from bot.language.i18n.catalog import N_, interface
from bot.publishing.notices import facts_of, title_of

CHANGE_SUBMITTED = "change_submitted"  # bot/publishing/notices.py
CHANGE_DECIDED = "change_decided"
REVIEW_KINDS = (CHANGE_SUBMITTED, CHANGE_DECIDED)
REVIEW_ACTIONS_BLOCK = "review_actions"
REVIEW_STATUS_BLOCK = "review_status"
MAX_DIFF_SECTIONS = 8  # of up to 3,000 characters each: far more than a reviewer reads in a chat
FENCE = "```"
WHY_BLOCK = "review_why"
WHY_ACTION = "review_why_text"
WHY_EMPTY = N_("Say what the author should change.")


def is_review(n: Notification) -> bool:
    return n.kind in REVIEW_KINDS


def diff_sections(text: str, change_id: str, language: str | None = None) -> list[Block]:
    """The diff as preformatted sections of at most 3,000 characters, split between lines so the
    indentation survives; beyond ``MAX_DIFF_SECTIONS`` a pointer to the whole diff."""
    room = MAX_SECTION_TEXT - 2 * len(FENCE) - 2  # the fences and their line breaks
    # A ``` inside the diff would close the block early: a zero-width space keeps it visible but inert.
    lines = esc(text).replace(FENCE, "`\u200b`\u200b`").splitlines() or [" "]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        while len(line) > room:  # one enormous line: cut it, it still reads in order
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            chunks.append(line[:room])
            line = line[room:]
        if current and size + 1 + len(line) > room:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + (1 if len(current) > 1 else 0)
    if current:
        chunks.append("\n".join(current))
    blocks = [section(f"{FENCE}\n{chunk}\n{FENCE}") for chunk in chunks[:MAX_DIFF_SECTIONS]]
    if len(chunks) > MAX_DIFF_SECTIONS:
        whole = f"policybot library diff {esc(change_id[:8])}"
        _ = interface(language)
        rest = _("… the rest is left out here. The whole diff: {command}")
        blocks.append(context(esc(rest).replace("{command}", f"`{whole}`")))
    return blocks


def render_review_notification(n: Notification) -> SlackMessage:
    """A review request (title, facts, diff, buttons) or, for the author, its outcome; the
    adapter's words in the recipient's language (their directory entry's)."""
    if n.kind == CHANGE_DECIDED:
        return render_change_decided(n)
    language = n.recipient.language
    _ = interface(language)
    short = esc(n.case_id[:8])
    title = title_of(n)
    blocks: list[Block] = [header("📝 " + title)]
    facts = "\n".join(f"*{esc(label)}:* {esc(value)}" for label, value in facts_of(n))
    if facts:
        blocks.extend(section(chunk) for chunk in split_text(facts))
    blocks.extend(diff_sections(n.text, n.case_id, language))
    buttons = []
    if A.APPROVE_CHANGE in n.actions:
        confirm = {
            "title": plain(_("Approve this change?")),
            "text": plain(_("If it has all the approvals it needs, it is published and served within seconds.")),
            "confirm": plain(_("Approve")),
            "deny": plain(_("Not yet")),
        }
        buttons.append(button(_("Approve"), A.APPROVE_CHANGE, n.case_id, style="primary", confirm=confirm))
    if A.REQUEST_CHANGES in n.actions:
        buttons.append(button(_("Request changes"), A.REQUEST_CHANGES, n.case_id))
    if buttons:
        blocks.append(actions(buttons, block_id=REVIEW_ACTIONS_BLOCK))
    words = _("Try it first: {command} · Change {change}")
    blocks.append(context(words.format(command=f"`/policy preview {short}`", change=f"`{short}`")))
    return SlackMessage(text=title, blocks=blocks)


def render_change_decided(n: Notification) -> SlackMessage:
    """A plain message to the author: what became of their change (the core's sentence)."""
    title = title_of(n)
    lines = [f"*{esc(title)}*", esc(n.text)]
    lines += [f"{esc(label)}: {esc(value)}" for label, value in facts_of(n)]
    return SlackMessage(text=f"{title}: {n.text}", blocks=[section(chunk) for chunk in split_text("\n".join(lines))])


def render_review_settled(blocks: list[Block], sentence: str) -> SlackMessage:
    """The review message after a press: the buttons replaced by what the press did."""
    kept = [b for b in blocks if b.get("block_id") not in (REVIEW_ACTIONS_BLOCK, REVIEW_STATUS_BLOCK)]
    ref = kept.pop() if kept and kept[-1].get("type") == "context" else None
    kept.append({**context(f"✔️ {esc(sentence)}"), "block_id": REVIEW_STATUS_BLOCK})
    if ref is not None:
        kept.append(ref)
    return SlackMessage(text=sentence, blocks=kept)


def render_request_changes_modal(change_id: str, metadata: str, language: str | None = None) -> dict[str, Any]:
    """Why the change goes back: the author reads this, so it is required."""
    _ = interface(language)
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": WHY_BLOCK,
            "label": plain(_("What should the author change?")),
            "element": {
                "type": "plain_text_input",
                "action_id": WHY_ACTION,
                "multiline": True,
                "max_length": 2000,
            },
        },
        context(
            esc(_("Sent to the author with your name. The change is closed; they edit it and submit again."))
            + " "
            + _("Change {change}").format(change=f"`{esc(change_id[:8])}`")
        ),
    ]
    return modal(
        A.REQUEST_CHANGES_MODAL,
        _("Request changes"),
        blocks,
        submit=_("Send back"),
        metadata=with_language(metadata, language),
        language=language,
    )
