"""The evaluation sets are what the router's figures mean, so they are checked like code: big
enough, labelled with real flows, never copied from what the router learns from, and the router
still clears a floor on them (bench/bench_routing.py reports the exact figures)."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.router import understand
from bot.conversation.routing.language import ENGLISH, WELSH, language_of
from bot.language.settings import load_settings
from tests.routing.evalsets import EVAL, HOLDOUT, Labelled, copies, load, taught

FLOWS = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()
IDS = {f.id for f in FLOWS}
SETS = {"eval": load(EVAL), "holdout": load(HOLDOUT)}


def test_the_sets_are_big_enough_and_cover_every_flow_in_both_languages() -> None:
    assert len(SETS["eval"]) >= 150
    for name, messages in SETS.items():
        assert {m.flow for m in messages} == IDS, name
        per_flow = Counter((m.flow, m.language) for m in messages)
        assert all(per_flow[(f, "english")] >= 4 and per_flow[(f, "welsh")] >= 1 for f in IDS), name


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_evaluation_message_is_copied_from_what_the_router_learns(name: str) -> None:
    assert copies(SETS[name], taught(FLOWS)) == []


def test_the_two_sets_do_not_share_messages() -> None:
    pairs = [(m.text, f"eval {m.flow}") for m in SETS["eval"]]
    assert copies(SETS["holdout"], pairs) == []


def test_the_overlap_check_catches_exact_and_near_copies() -> None:
    example = FLOWS[0].examples[0]
    near = example.upper() + "!!"  # case and punctuation do not hide a copy
    typo = example[:-1] + ("x" if example[-1] != "x" else "y")  # nor does a one-letter change
    planted = [Labelled(example, FLOWS[0].id, "english"), Labelled(near, FLOWS[0].id, "english"),
               Labelled(typo, FLOWS[0].id, "english")]  # fmt: skip
    assert len(copies(planted, taught(FLOWS))) >= 3


def test_every_shipped_flow_has_enough_examples() -> None:
    for flow in FLOWS:
        assert len(flow.examples) >= 30, flow.id
        assert len(flow.welsh_examples) >= 4, flow.id
        assert len(flow.negatives) >= 3, flow.id


@pytest.mark.parametrize("name", sorted(SETS))
def test_welsh_messages_are_recognised_as_welsh_and_english_as_english(name: str) -> None:
    wrong = [m.text for m in SETS[name] if language_of(m.text) != (WELSH if m.language == "welsh" else ENGLISH)]
    assert wrong == []


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_router_clears_a_floor_on_each_set(name: str) -> None:
    """Not the targets (docs/routing.md has the measured figures), but low enough that only a real
    regression, such as examples deleted or muddled across flows, fails it."""
    messages = SETS[name]
    ranks = [[m.flow.id for m in understand(x.text, FLOWS).matches].index(x.flow) for x in messages]
    top1 = sum(r == 0 for r in ranks) / len(ranks)
    top3 = sum(r < 3 for r in ranks) / len(ranks)
    assert top1 >= 0.85 and top3 >= 0.95, (top1, top3)
