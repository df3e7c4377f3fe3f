"""A flow that passes validate but passes a template limit when filled in for a real answer: the
employee gets a polite reply, the comms team a log line that names the flow text and the limit,
and nobody's answers or message text reach the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.replies import Outcome, Question
from bot.language.templates import CONDITION_APOLOGY, LIMIT_APOLOGY, TemplateProblem
from tests.core.flowkit import library, sqlite_store, write_flows

ALICE = Actor(user_id="console:alice", display_name="Alice Smith", email="alice@example.org")
LABEL = "A council account called Secret Project"

# The answer's text repeated 2,000 times: some 80,000 characters, past the 10,000 a text may make.
# validate cannot know an answer's length, so the flow is valid; the limit is met at render time.
ECHO_FLOW = f"""\
id: echo
title: Echo an answer
triggers: [echo]
start: where
states:
  where:
    ask: Where?
    options:
      - {{label: {LABEL}, next: done}}
  done:
    verdict: go
    say: "You said {{{{ answers.where * 2000 }}}}."
    cite: [notts-27]
"""

BRANCH_FLOW = f"""\
id: pick
title: A branch that multiplies an answer
triggers: [pick]
start: where
states:
  where:
    ask: Where?
    options:
      - {{label: {LABEL}, next: check}}
  check:
    branch:
      - if: "(answers.where * 2000) == 'x'"
        next: done
      - else: done
  done:
    verdict: go
    say: Fine.
    cite: [notts-27]
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    folder = write_flows(tmp_path / "flows", {"echo": ECHO_FLOW, "pick": BRANCH_FLOW})
    return Engine(library(folder), sqlite_store(tmp_path))


def first_question(engine: Engine, flow_id: str) -> Question:
    replies = engine.handle(ALICE, Start(flow_id=flow_id))
    assert isinstance(replies[-1], Question)
    return replies[-1]


def test_an_outcome_past_a_limit_is_a_polite_reply_and_a_log_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    q = first_question(engine, "echo")
    with caplog.at_level(logging.WARNING, logger="bot.language.templates"):
        replies = engine.handle(ALICE, Choose(q.conversation_id, q.state, 0, q.turn))
    end = replies[-1]
    assert isinstance(end, Outcome) and end.state == "done"
    assert end.text == LIMIT_APOLOGY
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.language.templates"]
    flow = engine.library.get("echo")
    assert lines == [
        f"template_limit_hit where=echo@{flow.version}:done "
        "limit='this makes a text longer than 10,000 characters, more than any message can show'"
    ]
    assert all("Secret Project" not in r.getMessage() and "alice" not in r.getMessage() for r in caplog.records)


def test_a_branch_condition_past_a_limit_is_a_polite_refusal_and_a_log_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    q = first_question(engine, "pick")
    with caplog.at_level(logging.WARNING, logger="bot.language.templates"), pytest.raises(TemplateProblem) as caught:
        engine.handle(ALICE, Choose(q.conversation_id, q.state, 0, q.turn))
    assert str(caught.value) == CONDITION_APOLOGY  # what the adapters show the person
    flow = engine.library.get("pick")
    assert [r.getMessage() for r in caplog.records if r.name == "bot.language.templates"] == [
        f"template_limit_hit where=pick@{flow.version}:check "
        "limit='this makes a text longer than 10,000 characters, more than any message can show'"
    ]
    # the click was not applied: the conversation is still at the question, answers kept
    again = engine.resume(ALICE, q.conversation_id)
    assert isinstance(again[-1], Question) and again[-1].state == "where"
