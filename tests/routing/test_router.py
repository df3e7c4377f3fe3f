"""The router itself: scores as probabilities, Welsh recognised and routed, long messages cut
before scoring, the learnt tables cached on disk and shared, and rebuilt when a flow changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.conversation import router as interface
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.router import ExampleRouter, cut, router_for, understand
from bot.conversation.routing import cache
from bot.language.settings import load_settings
from tests.routing.evalsets import EVAL, load

FLOWS = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()
SAMPLE = [m.text for m in load(EVAL)][::7]


def test_scores_are_probabilities_best_first() -> None:
    routing = understand("someone threatened to sue me over my tweet", FLOWS)
    scores = [m.score for m in routing.matches]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert abs(sum(scores) - 1) < 0.01
    assert routing.matches[0].flow.id == "legal-threat" and routing.score_of("legal-threat") == scores[0]


@pytest.mark.parametrize(
    ("text", "flow_id"),
    [
        ("Mae cleient wedi fy ychwanegu i ar Facebook, be ddylwn i wneud?", "friend-request"),
        ("Oes rhaid i'n postiadau ni fod yn Gymraeg?", "welsh-language"),
        ("Mae rhywun yn dweud bod nhw am fynd â ni i'r llys am drydariad", "legal-threat"),
    ],
)
def test_a_message_in_welsh_is_recognised_and_routed(text: str, flow_id: str) -> None:
    routing = understand(text, FLOWS)
    assert routing.language == "cy"
    assert flow_id in [m.flow.id for m in routing.matches[:3]]


def test_english_is_english() -> None:
    assert understand("can i post a pic of my team on insta", FLOWS).language == "en"


def test_a_huge_message_is_cut_to_its_start_and_end_before_scoring() -> None:
    huge = "blah " * 8000 + "a client sent me a friend request on facebook"
    assert len(cut(huge)) <= interface.HEAD_CHARS + interface.TAIL_CHARS + 1
    routing = understand(huge, FLOWS)
    assert len(routing.text) <= interface.HEAD_CHARS + interface.TAIL_CHARS + 1
    assert routing.matches[0].flow.id == "friend-request"  # the end, where the question is, was kept


def test_the_router_is_built_once_per_flow_set_and_again_when_a_flow_changes() -> None:
    assert router_for(FLOWS) is router_for(list(reversed(FLOWS)))
    edited = [replace(f, version=f.version + "x") if f.id == "wiki-edit" else f for f in FLOWS]
    assert router_for(edited) is not router_for(FLOWS)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    return folder


def scores(router: ExampleRouter) -> list[list[tuple[str, float]]]:
    return [[(m.flow.id, m.score) for m in router.understand(t).matches] for t in SAMPLE]


def test_the_learnt_tables_are_saved_and_a_new_process_reads_them_back(cache_dir: Path) -> None:
    learnt = ExampleRouter(FLOWS)
    [saved] = list(cache_dir.glob("*.npz"))
    read_back = ExampleRouter(FLOWS)
    assert scores(read_back) == scores(learnt)
    assert read_back.understand("hiya").familiarity == learnt.understand("hiya").familiarity
    assert saved.stat().st_size > 0


def test_a_broken_cache_file_is_relearnt_not_an_error(cache_dir: Path) -> None:
    learnt = ExampleRouter(FLOWS)
    [saved] = list(cache_dir.glob("*.npz"))
    saved.write_bytes(b"not a numpy file")
    assert scores(ExampleRouter(FLOWS)) == scores(learnt)


def test_the_cache_can_be_switched_off(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, "off")
    ExampleRouter(FLOWS)
    assert not cache_dir.exists()


def test_an_unwritable_cache_folder_means_learning_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(cache.ENV, str(blocker / "cache"))  # a folder cannot be made inside a file
    assert ExampleRouter(FLOWS).understand("a client added me").matches[0].flow.id == "friend-request"
