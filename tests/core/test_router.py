"""Routing free text to the shipped flows: what employees actually type lands on the right flow,
and a question the router is unsure about offers choices instead of guessing.

These phrases come from before the router learnt from examples (it matched spelling with
rapidfuzz then); the vaguer ones used only to rank first, and now start their flow outright."""

from __future__ import annotations

import pytest

from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.opening import confident_flow
from bot.conversation.router import route, understand
from bot.language.settings import load_settings

FLOWS = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()

STARTS_AT_ONCE = {
    "someone threatened to sue me over my tweet": "legal-threat",
    "someone left a nasty comment on our page": "negative-comment",
    "can I post this?": "can-i-post",
    "a client sent me a friend request on facebook": "friend-request",
    "may I edit the Wikipedia page about us": "wiki-edit",
    "I'm new, show me the rules": "onboarding",
    "I saw something online that worries me about a child": "safeguarding-concern",
    "my colleague posted something offensive": "colleague-breach",
    "can I write a linkedin recommendation for an ex colleague": "recommendation",
    "should I join a facebook group that criticises the council": "join-group",
    "someone commented in welsh": "welsh-language",
    "can I join an online discussion about our service": "speak-for-council",
    "how do I moderate our community page": "run-community",
}

BEST_GUESS = {
    "I want to set up a twitter account for my team": "new-account",
    "photo of my team at the office party": "can-i-post",
    "solicitor letter about my facebook post": "legal-threat",
    "troll on our twitter": "negative-comment",
}


@pytest.mark.parametrize(("text", "flow_id"), sorted(STARTS_AT_ONCE.items()))
def test_clear_requests_start_the_right_flow(text: str, flow_id: str) -> None:
    chosen = confident_flow(understand(text, FLOWS))
    assert chosen is not None and chosen.id == flow_id


@pytest.mark.parametrize(("text", "flow_id"), sorted(BEST_GUESS.items()))
def test_vaguer_requests_rank_the_right_flow_first(text: str, flow_id: str) -> None:
    assert route(text, FLOWS)[0].flow.id == flow_id


def test_scores_are_between_0_and_1_best_first_and_cover_every_flow() -> None:
    matches = route("a nasty comment", FLOWS)
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert {m.flow.id for m in matches} == {f.id for f in FLOWS}


def test_nonsense_and_blank_text_start_nothing() -> None:
    assert confident_flow(understand("qwertyuiop asdfgh", FLOWS)) is None
    assert route("   ", FLOWS) == []
