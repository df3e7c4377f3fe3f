"""People's words never become live Slack markup, in blocks or in a message's fallback ``text``.

Slack reads the top-level ``text`` of a message as mrkdwn too: it is what notifications, screen
readers and clients without blocks show. A note reading ``<!channel>`` there would notify the
whole #comms channel, and ``<https://evil.example|Reset your password>`` would be a live link
with any label. Every notification kind and every reply kind is rendered here with such words.
"""

from __future__ import annotations

import re

import pytest
from conftest import EMPLOYEE, MANAGER
from slack_requests import view_submission
from test_slack_escalation import MANAGER_PATH, Escalations, esc  # noqa: F401  (the fixture)

from adapters.slack import render as R
from bot.cases import messages as kinds
from bot.cases.notify import Notification, Recipient
from bot.conversation.replies import (
    EscalationSent,
    Feedback,
    FlowCandidate,
    FlowChoice,
    Notice,
    NoticeKind,
    OptionView,
    Outcome,
    Question,
    SwitchOffer,
    Verdict,
)

EVIL = "<!channel> <https://evil.example|Reset your password> & <@U0BOSS>"
LIVE = re.compile(r"<[!@#]|<https?:")  # what Slack would turn into a mention or a link
NOTIFICATION_KINDS = [
    kinds.CASE_OPENED,
    kinds.REMINDER,
    kinds.RE_ESCALATED,
    kinds.ACKNOWLEDGED,
    kinds.RESOLVED,
    kinds.WITHDRAWN,
    kinds.MESSAGE,
    kinds.DELIVERY_FAILED,
]


def mrkdwn_texts(node: object) -> list[str]:
    """Every mrkdwn text in blocks (plain_text, on headers and buttons, is shown literally)."""
    if isinstance(node, dict):
        found = [str(node["text"])] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def assert_inert(message: R.SlackMessage) -> None:
    assert not LIVE.search(message.text), message.text
    assert "&lt;!channel&gt;" in message.text and "&amp;" in message.text
    for text in mrkdwn_texts(message.blocks):
        assert not LIVE.search(text), text


@pytest.mark.parametrize("kind", NOTIFICATION_KINDS)
def test_every_notification_kind_escapes_peoples_words_in_its_fallback_text(kind: str) -> None:
    notification = Notification(
        id="n1",
        case_id="case1",
        kind=kind,
        recipient=Recipient(kind="channel", key="comms", name="Communications", slack_channel="C0COMMS"),
        title=f"Alice {EVIL} needs you",
        text=f"Her note: {EVIL}",
        actions=["acknowledge", "resolve", "message_employee"],
        facts=[("Note", EVIL), ("Employee", "Alice")],
    )
    assert_inert(R.render_notification(notification))


def replies() -> list[object]:
    option = OptionView(index=0, label=EVIL)
    return [
        Question(
            conversation_id="c1",
            flow_id="f",
            flow_title=EVIL,
            state="s",
            text=EVIL,
            options=[option],
            step=1,
            max_steps=2,
            turn=1,
            intro=EVIL,
        ),
        Feedback(text=EVIL, correct=True),
        Notice(EVIL, NoticeKind.INFO),
        EscalationSent(conversation_id="c1", case_id="case1", text=EVIL),
        SwitchOffer(conversation_id="c1", current_title=EVIL, flow_id="f", flow_title=EVIL),
        FlowChoice(prompt=EVIL, candidates=[FlowCandidate(flow_id="f", title=EVIL, score=1.0)]),
        Outcome(
            conversation_id="c1",
            flow_id="f",
            flow_title=EVIL,
            state="done",
            verdict=Verdict.CARE,
            text=EVIL,
            checklist=[EVIL],
            citations=[],
            answers=[],
        ),
    ]


@pytest.mark.parametrize("reply", replies(), ids=lambda r: type(r).__name__)
def test_every_reply_kind_escapes_its_fallback_text(reply: object) -> None:
    message = R.render_reply(reply)  # type: ignore[arg-type]
    assert message is not None
    assert_inert(message)


def test_a_managers_message_reaches_the_employee_as_plain_words(esc: Escalations) -> None:  # noqa: F811
    esc.reach_outcome(*MANAGER_PATH)
    esc.deliver()
    [to_manager] = esc.manager_dm()
    esc.slack.click(MANAGER, to_manager, "Message the employee")
    view = esc.fake.opened_views[-1]["view"]
    values = {"message": {"message_text": {"type": "plain_text_input", "value": EVIL}}}
    esc.slack.sender.interactive(
        view_submission(MANAGER, "case_message_modal", values, private_metadata=view["private_metadata"])
    )
    esc.slack.settle()
    assert esc.deliver() == (1, 0, 0)
    last = esc.slack.last_dm(EMPLOYEE)
    assert "Message from Bob Manager" in last.text
    assert not LIVE.search(last.text) and "&lt;!channel&gt;" in last.text  # the fallback, escaped
    assert not any(LIVE.search(text) for text in mrkdwn_texts(last.blocks))
