"""Property tests: random answers and random commands on every shipped flow never crash, and
always leave the person looking at a question, an outcome or a clear notice."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Back, Choose, Event, FreeText, Restart, Start, Why
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.replies import Explanation, Feedback, FlowChoice, Notice, Outcome, Question, Reply
from bot.conversation.typed_answers import COMMAND_WORDS
from bot.language.settings import load_settings
from bot.store import Store

LIBRARY = FlowLibrary.load(default_flows_dir(), load_settings(None))
FLOW_IDS = [flow.id for flow in LIBRARY.all()]
ACTOR = Actor(user_id="property", display_name="Pat Property")

# One action per step: click option n (may be out of range), click with a stale turn, type
# something, or a command.
ACTIONS = st.one_of(
    st.tuples(st.just("click"), st.integers(min_value=-1, max_value=8)),
    st.tuples(st.just("stale"), st.integers(min_value=0, max_value=3)),
    st.tuples(st.just("type"), st.one_of(st.text(max_size=30), st.sampled_from(["1", "2", "yes", "no", "9"]))),
    st.tuples(st.sampled_from(["back", "restart", "why"]), st.just(0)),
)


def _event(action: tuple[str, object], current: Question) -> Event:
    kind, value = action
    if kind == "click":
        return Choose(current.conversation_id, current.state, int(value), current.turn)  # type: ignore[call-overload]
    if kind == "stale":
        return Choose(current.conversation_id, current.state, int(value), current.turn - 1)  # type: ignore[call-overload]
    if kind == "type":
        return FreeText(str(value), current.conversation_id)
    return {"back": Back, "restart": Restart, "why": Why}[kind](current.conversation_id)


def _shown(replies: list[Reply]) -> Reply:
    assert replies, "the engine must always answer"
    final = replies[-1]
    assert isinstance(final, Question | Outcome | Notice | Explanation | Feedback | FlowChoice), final
    return final


@pytest.mark.parametrize("flow_id", FLOW_IDS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions=st.lists(ACTIONS, max_size=14),
    finish=st.lists(st.integers(min_value=0, max_value=8), min_size=12, max_size=12),
)
def test_random_answers_never_crash_and_valid_answers_always_reach_an_outcome(
    flow_id: str, actions: list[tuple[str, object]], finish: list[int]
) -> None:
    store = Store("sqlite://")
    try:
        engine = Engine(LIBRARY, store)
        replies = engine.handle(ACTOR, Start(flow_id=flow_id))
        current = _shown(replies)
        for action in actions:
            if not isinstance(current, Question):
                break
            shown = _shown(engine.handle(ACTOR, _event(action, current)))
            if isinstance(shown, Question | Outcome):
                current = shown
            if action[0] == "type" and COMMAND_WORDS.get(str(action[1]).strip().lower()) == "cancel":
                assert isinstance(shown, Notice) and "Stopped" in shown.text
                return  # the person chose to stop: nothing more to reach
        # Then valid clicks only: every flow must end within its question count.
        for pick in finish:
            if not isinstance(current, Question):
                break
            current = _shown(
                engine.handle(
                    ACTOR, Choose(current.conversation_id, current.state, pick % len(current.options), current.turn)
                )
            )
            assert not isinstance(current, Notice), current
        assert isinstance(current, Outcome), f"{flow_id} did not reach an outcome: {current!r}"
        assert current.citations, f"{flow_id} outcome {current.state} shows no citation"
    finally:
        store.close()
