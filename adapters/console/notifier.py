"""The terminal's notifier: prints what Slack or Teams would be sent.

With it the whole case lifecycle runs with no chat platform at all: ``policybot chat`` opens a
case, ``policybot worker --once`` prints each notification as it would be delivered, and
``policybot cases ack`` acts on it. A notification delivered twice (the outbox delivers at least
once) is printed once, as a real receiver would show it once.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from adapters.console.render import terminal_width, wrap
from bot.cases.notify import Notification
from bot.language.i18n.catalog import N_, interface

# the buttons as the recipient reads them, in their language
ACTION_LABELS = {
    "acknowledge": N_("Acknowledge"),
    "resolve": N_("Resolve"),
    "message_employee": N_("Message the employee"),
    "approve_change": N_("Approve"),
    "request_changes": N_("Request changes"),
}
REVIEW_KINDS = ("change_submitted", "change_decided")  # bot/publishing/notices.py


class ConsoleNotifier:
    def __init__(self, say: Callable[[str], None] | None = None, width: int | None = None) -> None:
        self.say = say or click.echo
        self.width = width or terminal_width()
        self._seen: set[str] = set()

    def deliver(self, notification: Notification) -> None:
        if notification.id in self._seen:
            return
        self.say(render_notification(notification, self.width))
        self._seen.add(notification.id)


def _where(n: Notification) -> str:
    r = n.recipient
    routes = [
        f"Slack {r.slack_id}" if r.slack_id else "",
        f"Slack #{r.slack_channel.lstrip('#')}" if r.slack_channel else "",
        f"Teams {r.teams_id}" if r.teams_id else "",
        f"Teams channel {r.teams_channel}" if r.teams_channel else "",
        r.email or "",
    ]
    found = [x for x in routes if x]
    return f"{r.name} ({', '.join(found)})" if found else f"{r.name} (no address on file)"


def render_notification(n: Notification, width: int = 80) -> str:
    """A notification as its recipient would read it. The outbox's own notification id is not
    shown: it means nothing to a person; the case reference is what ``policybot cases`` takes."""
    if n.kind in REVIEW_KINDS:
        return render_review(n, width)
    rule = "─" * 8
    head = f"{rule} policybot would send ({n.kind}, case {n.case_id[:8]}{', URGENT' if n.urgency == 'urgent' else ''})"
    lines = [
        click.style(wrap(head, width), fg="magenta"),
        wrap(f"To: {_where(n)}", width, hang="    "),
        click.style(wrap(n.title, width), bold=True),
        wrap(n.text, width),
    ]
    for label, value in n.facts:
        lines.append(wrap(f"{label}: {value}", width, "  ", "    "))
    if n.actions:
        _ = interface(n.recipient.language)
        labels = " ".join(f"[{_(ACTION_LABELS[a]) if a in ACTION_LABELS else a}]" for a in n.actions)
        lines.append(wrap("Buttons: " + labels, width))
        ack = f"(policybot cases ack {n.case_id[:8]} --as <your directory id>)"
        lines.append(click.style(wrap(ack, width, "  "), dim=True))
    lines.append(click.style(rule, fg="magenta"))
    return "\n".join(lines)


def render_review(n: Notification, width: int = 80) -> str:
    """A flow library review request (or its outcome), with the readable diff kept as it is laid
    out (its indented before/after lines are the point), and the commands the buttons stand for."""
    rule = "─" * 8
    lines = [
        click.style(wrap(f"{rule} policybot would send ({n.kind}, change {n.case_id[:8]})", width), fg="magenta"),
        wrap(f"To: {_where(n)}", width, hang="    "),
        click.style(wrap(n.title, width), bold=True),
    ]
    for label, value in n.facts:
        lines.append(wrap(f"{label}: {value}", width, "  ", "    "))
    for line in n.text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        lines.append(wrap(line.strip(), width, indent, indent + "    "))
    if n.actions:
        lines.append(wrap("Buttons: " + " ".join(f"[{ACTION_LABELS.get(a, a)}]" for a in n.actions), width))
        how = (
            f"(policybot library approve {n.case_id[:8]} --as <your directory id>, "
            f"or library reject {n.case_id[:8]} --as <id> --why TEXT)"
        )
        lines.append(click.style(wrap(how, width, "  "), dim=True))
    lines.append(click.style(rule, fg="magenta"))
    return "\n".join(lines)
