"""Every button, menu item and select the bot renders, on every surface, has a listener.

The Home tab's onboarding "Do it now" button (``start_flow:home``) once did nothing: no listener
matched it and the catch-all acknowledged it silently (issue 15, hole 3). Here every interactive
element of every message, Home tab and modal the renderer can produce is clicked, as Slack would
send the click, and the catch-all must not be the one that answered.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import EMPLOYEE, SlackHarness
from slack_requests import block_actions, home_block_actions

from adapters.slack import render as R
from adapters.slack import render_review as RR
from bot.cases.notify import Notification, Recipient
from bot.conversation.replies import (
    ChoiceKind,
    EscalationOffer,
    FlowCandidate,
    FlowChoice,
    OptionView,
    Outcome,
    Question,
    SwitchOffer,
)
from bot.language.verdicts import Verdict

IGNORED = "ignored a Slack request"


def surfaces() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Every surface: (where it is shown: message or home, its blocks)."""
    question = Question(
        conversation_id="c1",
        flow_id="f",
        flow_title="A check",
        state="s",
        text="Where?",
        options=[OptionView(0, "Here"), OptionView(1, "There")],
        step=2,
        max_steps=3,
        turn=2,
        can_go_back=True,
    )
    offer = EscalationOffer(
        targets=["line_manager"],
        then=["comms"],
        unacknowledged_after_seconds=3600,
        required=False,
        preview="Alice used the check",
    )
    outcome = Outcome(
        conversation_id="c1",
        flow_id="f",
        flow_title="A check",
        state="done",
        verdict=Verdict.CARE,
        text="Go ahead",
        checklist=["Do this"],
        citations=[],
        answers=[],
        escalation=offer,
    )
    candidates = [FlowCandidate(f"flow{n}", f"Flow {n}", 1.0) for n in range(7)]
    notification = Notification(
        id="n1",
        case_id="case1",
        kind="case_opened",
        recipient=Recipient(kind="channel", key="comms", name="Communications", slack_channel="C0COMMS"),
        title="Alice needs you",
        text="A case",
        actions=["acknowledge", "resolve", "message_employee"],
    )
    review = Notification(
        id="n2",
        case_id="6651e17bcafe",
        kind="change_submitted",
        recipient=Recipient(kind="person", key="lee", name="Lee"),
        title="A change to the flow library waits for your review",
        text="== wiki-edit.yaml (changed)",
        actions=["approve_change", "request_changes"],
        facts=[("Submitted by", "Asha")],
    )
    home = R.HomeData(
        unfinished=R.HomeUnfinished("c1", "A check", "Where?"),
        open_cases=[R.HomeCase("case1", "A check", "open", actions=("withdraw",))],
        onboarding="You have not done the onboarding check yet.",
        waiting_cases=[R.HomeCase("case2", "Another", "open")],
    )
    found: dict[str, tuple[str, list[dict[str, Any]]]] = {
        "question": ("message", R.render_question(question).blocks),
        "outcome with an offer": ("message", R.render_outcome(outcome).blocks),
        "menu of flows (buttons)": ("message", R.render_flow_choice(FlowChoice("Which?", candidates[:3])).blocks),
        "menu of flows (select)": ("message", R.render_flow_choice(FlowChoice("Which?", candidates)).blocks),
        "router's likely flows": (
            "message",
            R.render_flow_choice(FlowChoice("Which?", candidates[:3], ChoiceKind.LIKELY)).blocks,
        ),
        "router's not this": (
            "message",
            R.render_flow_choice(FlowChoice("Understood", candidates[:1], ChoiceKind.NOT_THIS)).blocks,
        ),
        "switch offer": ("message", R.render_switch_offer(SwitchOffer("c1", "A check", "f2", "Another")).blocks),
        "case notification": ("message", R.render_notification(notification).blocks),
        "case notification, acknowledged": (
            "message",
            R.render_case_message_settled(
                R.render_notification(notification).blocks, "Ack", ["resolve"], "case1"
            ).blocks,
        ),
        "outcome, offer declined": (
            "message",
            R.render_outcome_escalation_settled(R.render_outcome(outcome).blocks, "Not sent", "c1").blocks,
        ),
        "home tab": ("home", R.render_home(home)["blocks"]),
        "review request": ("message", RR.render_review_notification(review).blocks),
    }
    for name, view in (
        ("start modal", R.render_start_modal([("f", "A check")])),
        ("note modal", R.render_note_modal("c1||", "preview")),
        ("case message modal", R.render_case_message_modal("case1", "Alice")),
        ("request changes modal", RR.render_request_changes_modal("6651e17bcafe", "6651e17bcafe||")),
    ):
        found[name] = ("modal", view["blocks"])
    return found


def clicks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``actions`` entry of each click Slack can send from these blocks."""
    out: list[dict[str, Any]] = []

    def element(e: dict[str, Any], block_id: str, dispatches: bool) -> None:
        if not dispatches or "action_id" not in e:
            return
        base = {"action_id": e["action_id"], "block_id": block_id, "type": e["type"]}
        if e["type"] == "button":
            out.append({**base, "value": e.get("value", ""), "text": e["text"]})
        elif e["type"] in ("overflow", "static_select"):
            out.extend({**base, "selected_option": option} for option in e["options"])

    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block["type"] == "actions":
            for e in block["elements"]:
                element(e, block_id, True)
        elif block["type"] == "section" and block.get("accessory"):
            element(block["accessory"], block_id, True)
        elif block["type"] == "input":  # only an input with dispatch_action sends block_actions
            element(block["element"], block_id, bool(block.get("dispatch_action")))
    return out


SURFACES = surfaces()


@pytest.mark.parametrize("name", list(SURFACES))
def test_every_element_on_every_surface_reaches_a_listener(
    name: str, slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    where, blocks = SURFACES[name]
    found = clicks(blocks)
    if where == "modal":
        assert found == []  # modals have only inputs and Submit: their submission is the view listener
        return
    assert found, f"{name} has nothing to click"
    caplog.set_level(logging.INFO, logger="adapters.slack.app")
    for action in found:
        if where == "home":
            payload = home_block_actions(EMPLOYEE, action)
        else:
            payload = block_actions(
                EMPLOYEE, action, channel_id="D" + EMPLOYEE, message={"ts": "1.000001", "blocks": blocks, "text": ""}
            )
        assert slack.sender.interactive(payload).status == 200
        slack.settle()
        ignored = [r for r in caplog.records if IGNORED in r.getMessage()]
        assert not ignored, f"{name}: no listener for {action['action_id']}"
