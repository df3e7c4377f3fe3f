"""The Adaptive Card 1.5 checker must catch what Teams would refuse, or the all-cards test proves nothing."""

from __future__ import annotations

import copy
from typing import Any

from .card_rules import card_problems

GOOD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {
            "type": "TextBlock",
            "text": "Was the post made on a council account?",
            "wrap": True,
            "weight": "Bolder",
        },
        {
            "type": "Container",
            "id": "why",
            "isVisible": False,
            "items": [{"type": "TextBlock", "text": "Para 27"}],
        },
        {"type": "FactSet", "facts": [{"title": "Flow", "value": "Legal threat"}]},
    ],
    "actions": [
        {
            "type": "Action.Execute",
            "title": "A council account",
            "verb": "choose",
            "data": {"verb": "choose", "option": 0},
            "fallback": {
                "type": "Action.Submit",
                "title": "A council account",
                "data": {"verb": "choose", "option": 0},
            },
        },
        {"type": "Action.ToggleVisibility", "title": "Why?", "targetElements": ["why"]},
    ],
}


def broken(change: Any) -> list[str]:
    card = copy.deepcopy(GOOD)
    change(card)
    return card_problems(card)


def test_a_good_card_passes() -> None:
    assert card_problems(GOOD) == []


def test_version_above_1_5_is_refused() -> None:
    assert any("above 1.5" in p for p in broken(lambda c: c.update(version="1.6")))


def test_unknown_element_and_action_types_are_refused() -> None:
    assert any("unknown element type" in p for p in broken(lambda c: c["body"].append({"type": "Carousel"})))
    assert any("unknown action type" in p for p in broken(lambda c: c["actions"].append({"type": "Action.Http"})))


def test_missing_required_fields_are_refused() -> None:
    assert any("requires 'text'" in p for p in broken(lambda c: c["body"][0].pop("text")))
    assert any("facts" in p for p in broken(lambda c: c["body"][2].update(facts=[{"title": "x"}])))
    assert any("verb" in p for p in broken(lambda c: c["actions"][0].pop("verb")))


def test_execute_needs_a_submit_fallback_with_the_same_data() -> None:
    assert any("fallback" in p for p in broken(lambda c: c["actions"][0].pop("fallback")))
    assert any("same data" in p for p in broken(lambda c: c["actions"][0]["fallback"]["data"].update(option=1)))


def test_toggle_must_target_an_existing_id_and_ids_are_unique() -> None:
    assert any("unknown element id" in p for p in broken(lambda c: c["actions"][1].update(targetElements=["nope"])))
    assert any("duplicate id" in p for p in broken(lambda c: c["body"][0].update(id="why")))


def test_element_newer_than_card_version_is_refused() -> None:
    assert any("needs card version 1.4" in p for p in broken(lambda c: c.update(version="1.3")))


def test_size_limit() -> None:
    big = "x" * 30_000
    assert any("bytes" in p for p in broken(lambda c: c["body"].append({"type": "TextBlock", "text": big})))
