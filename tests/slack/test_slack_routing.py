"""What the router made of the first words, in Slack: the "Understood ... [Not this]" line, the
few likeliest situations as buttons, the clarifying question; rendered within Block Kit's rules
(checked with slack_sdk's own block models) and clicked through the real Bolt app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EMPLOYEE, SlackHarness, all_text, button_labels
from slack_sdk.models.blocks import Block

from adapters.slack import render as R
from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Start
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.replies import ChoiceKind, FlowChoice
from bot.language.settings import load_settings
from bot.store import Store

ALEX = Actor(user_id="slack:UALEX", display_name="Alex", platform="slack")


def shown_kinds(tmp_path: Path) -> dict[ChoiceKind, FlowChoice]:
    """One real choice of each routing kind, from the engine on the shipped flows."""
    engine = Engine(FlowLibrary.load(default_flows_dir(), load_settings(None)), Store(f"sqlite:///{tmp_path}/r.db"))
    found: dict[ChoiceKind, FlowChoice] = {}
    for text in (
        "a client sent me a friend request on facebook",
        "loads of people moaning on fb about the council",
        "hiya, quick one for you",
    ):
        for reply in engine.handle(ALEX, Start(text=text)):
            if isinstance(reply, FlowChoice):
                found[reply.kind] = reply
    return found


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= 50
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            assert element["type"] == "button" and 0 < len(element["text"]["text"]) <= 75
            assert len(element["value"]) <= 2000 and len(element["action_id"]) <= 255


def test_every_routing_kind_renders_as_buttons_within_block_kit_rules(tmp_path: Path) -> None:
    kinds = shown_kinds(tmp_path)
    assert set(kinds) == {ChoiceKind.NOT_THIS, ChoiceKind.LIKELY, ChoiceKind.CLARIFY}
    for choice in kinds.values():
        message = R.render_reply(choice)
        assert message is not None
        check_blocks(message.blocks)
        labels = [e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
        assert labels == [c.title for c in choice.candidates]  # every candidate is a button, in order
        assert message.text.startswith(choice.prompt)  # the notification fallback says it too
    line = R.render_reply(kinds[ChoiceKind.NOT_THIS])
    assert line is not None and line.blocks[0]["type"] == "context"  # quiet, above the question
    assert "Understood: Someone sent me a friend request." in line.blocks[0]["elements"][0]["text"]


@pytest.mark.parametrize("count", [1, 5, 6, 9])
def test_a_routed_choice_never_turns_into_a_select(count: int) -> None:
    from bot.conversation.replies import FlowCandidate

    choice = FlowChoice("Which?", [FlowCandidate(f"f{i}", f"Flow {i}", 0.1) for i in range(count)], ChoiceKind.LIKELY)
    message = R.render_flow_choice(choice)
    check_blocks(message.blocks)
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == [f"f{i}" for i in range(count)]
    assert len({b["action_id"] for b in buttons}) == count  # Slack needs them unique in a message


def test_not_this_in_slack_offers_the_next_best_and_starts_it(slack: SlackHarness) -> None:
    slack.slash(EMPLOYEE, "someone threatened to sue me")
    line, question = slack.dm_messages(EMPLOYEE)
    assert "Understood: Someone is threatening legal action over a post." in all_text(line)
    assert "Where was the post made?" in all_text(question)
    assert slack.click(EMPLOYEE, line, "Not this").status == 200
    assert button_labels(slack.fake.message(line.channel, line.ts)) == []  # clicked once, closed
    offered = slack.last_dm(EMPLOYEE)
    assert "Which of these is it, then?" in all_text(offered)
    labels = button_labels(offered)
    assert "Someone is threatening legal action over a post" not in labels and labels
    slack.click(EMPLOYEE, offered, labels[0])
    assert "Where was the post made?" not in all_text(slack.last_dm(EMPLOYEE))  # another flow has begun
