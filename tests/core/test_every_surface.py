"""What the core decides, every chat surface says the same way: who a case really goes to (worked
out before anything is sent), the citations (each clause once, each policy named once, in words a
reader follows), and the offer to switch to another situation. The Slack blocks are checked with
slack_sdk's own block models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from slack_sdk.models.blocks import Block

from adapters.console.chat import ConsoleChat
from adapters.console.render import render
from adapters.slack import render as slack
from adapters.teams import actions as teams_actions
from adapters.teams import cards as teams
from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.replies import (
    CitationView,
    Outcome,
    Question,
    Reply,
    SwitchOffer,
    group_citations,
)
from bot.language.citations import readable_clause
from bot.runtime import Runtime, build_runtime

ROBIN = Actor(user_id="console:robin", display_name="Robin")


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    """The shipped flows and default settings: no staff directory, the case service on."""
    return build_runtime(database_url=f"sqlite:///{tmp_path / 'p.db'}")


def _walk(runtime: Runtime, flow_id: str, answers: list[str]) -> list[Reply]:
    replies = runtime.engine.handle(ROBIN, Start(flow_id=flow_id))
    for answer in answers:
        last = replies[-1]
        assert isinstance(last, Question), replies
        replies = runtime.engine.handle(ROBIN, FreeText(answer, last.conversation_id))
    return replies


def _outcome(replies: list[Reply]) -> Outcome:
    assert isinstance(replies[-1], Outcome), replies
    return replies[-1]


def _slack_text(blocks: list[dict[str, Any]]) -> str:
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk refuses what Slack would refuse
    return json.dumps(blocks, ensure_ascii=False)


def _teams_text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def flat(text: str) -> str:
    return " ".join(click.unstyle(text).split())


# -- who a case goes to ----------------------------------------------------------------------------


def test_with_no_directory_the_consent_question_names_the_comms_team_on_every_surface(runtime: Runtime) -> None:
    # legal-threat, a purely personal post: the escalation to the line manager is offered, not required
    end = _outcome(_walk(runtime, "legal-threat", ["On my own personal account", "no"]))
    offer = end.escalation
    assert offer is not None and not offer.required and offer.targets == ["line_manager"]
    assert offer.recipients == ["the Communications team"]  # worked out before anything is sent
    assert "the bot can send the details to the Communications team" in flat(end.text)

    said: list[str] = []
    typed = iter(["n"])
    ConsoleChat(runtime.engine, ROBIN, ask=lambda p: said.append(p) or next(typed), say=said.append).show([end])
    console = flat("\n".join(said))
    assert "This should go to the Communications team." in console
    assert "Send it to the Communications team now? [y/N]" in console and "line manager now" not in console
    slack_blocks = slack.render_outcome(end).blocks
    assert "Send to the Communications team" in _slack_text(slack_blocks)
    assert "Send to your line manager" not in _slack_text(slack_blocks)
    card = _teams_text(teams.outcome_card(end))
    assert "Send to the Communications team" in card and "Send to your line manager" not in card


def test_a_required_case_says_where_it_really_went_in_the_advice_and_after_it(runtime: Runtime) -> None:
    end = _outcome(_walk(runtime, "legal-threat", ["council account", "yes it is still up", "yes"]))
    assert end.escalation is not None and end.escalation.targets == ["line_manager", "comms", "legal"]
    # no line manager on file: that part goes to the comms team too, which is named once
    assert end.case_id is not None and end.sent_to == ["the Communications team", "Legal Services"]
    assert "the bot has sent the details to the Communications team and Legal Services." in flat(end.text)
    assert "line manager, the Communications team" not in flat(end.text)
    assert "This has been sent to the Communications team, Legal Services" in flat(render(end, 80))
    assert "sent to the Communications team" in _slack_text(slack.render_outcome(end).blocks)
    assert "Sent to the Communications team" in _teams_text(teams.outcome_card(end))


def test_with_a_directory_the_offer_names_the_manager(tmp_path: Path) -> None:
    people = tmp_path / "people.yaml"
    people.write_text("people:\n  - {id: robin, name: Robin, manager: dev}\n  - {id: dev, name: Dev Patel}\n")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(f"directory: {people}\n")
    runtime = build_runtime(settings, f"sqlite:///{tmp_path / 'p.db'}")
    end = _outcome(_walk(runtime, "legal-threat", ["On my own personal account", "no"]))
    assert end.escalation is not None and end.escalation.recipients == ["Dev Patel"]
    assert "the bot can send the details to Dev Patel" in flat(end.text)
    assert "Send to Dev Patel" in _slack_text(slack.render_outcome(end).blocks)


# -- citations --------------------------------------------------------------------------------------


def test_a_clause_cited_by_several_ids_is_listed_once_and_each_policy_named_once(runtime: Runtime) -> None:
    # wiki-edit cites three ids of Appendix B's wiki paragraph 2 in one outcome
    ids = ("appb-wiki-site-terms", "appb-wiki-editor-permission", "appb-wiki-comms-advice", "appb-wiki-ip-address")
    views = runtime.engine.presenter.citations(ids)
    groups = group_citations(views)
    assert len(groups) == 1 and groups[0].policy_title.startswith("Social Media Policy, Appendix B")
    labels = [c.label for c in groups[0].clauses]
    assert labels == [
        "'Open Access Editable “Wiki” Sites Such As Wikipedia', paragraph 2",
        "'Open Access Editable “Wiki” Sites Such As Wikipedia', paragraph 1",
    ]
    assert groups[0].clauses[0].ids == list(ids[:3])
    assert len(groups[0].clauses[0].summaries) == 3  # each rule's summary kept, the clause once

    end = Outcome(
        "c", "f", "F", "s", _outcome(_walk(runtime, "legal-threat", ["1", "1", "1"])).verdict, "advice", [], views, []
    )
    console = click.unstyle(render(end, 100))
    slack_text = _slack_text(slack.render_outcome(end).blocks)
    card = _teams_text(teams.outcome_card(end))
    for shown in (console, slack_text, card):
        assert shown.count("Appendix B – Guidance for officers") == 1
        assert shown.count("Sites Such As Wikipedia', paragraph 2") == 1
        assert "heading '" not in shown


@pytest.mark.parametrize(
    ("clause", "readable"),
    [
        ("heading 'Use of Social Media at work', must, bullet 5",
         "'Use of Social Media at work', what you must do, point 5"),
        ("heading 'Use of Social Media at work', must not, bullet 1",
         "'Use of Social Media at work', what you must not do, point 1"),
        ("heading 'Personal use of social media', you should, bullet 2",
         "'Personal use of social media', what you should do, point 2"),
        ("paragraph 21, bullet 7, sub-bullets 3 and 4", "paragraph 21, point 7, sub-points 3 and 4"),
        ("paragraph 27", "paragraph 27"),
    ],
)  # fmt: skip
def test_registry_clause_words_are_shown_as_a_reader_says_them(clause: str, readable: str) -> None:
    assert readable_clause(clause) == readable


def test_every_registry_clause_reads_without_jargon(runtime: Runtime) -> None:
    for citation in runtime.library.registry.citations.values():
        label = readable_clause(citation.clause)
        assert "heading " not in label and "bullet" not in label, (citation.id, label)
        view = CitationView(citation.id, citation.policy.title, citation.clause, citation.summary, "", label)
        assert view.where == label


# -- the switch offer ------------------------------------------------------------------------------


def test_the_switch_offer_renders_with_a_way_to_accept_on_every_surface() -> None:
    offer = SwitchOffer("conv1", "Someone left a nasty comment", "legal-threat", "Someone is threatening legal action")
    console = flat(render(offer, 60))
    assert 'That sounds like a different situation: "Someone is threatening legal action"' in console
    assert "Type switch to start it" in console
    blocks = slack.render_reply(offer)
    assert blocks is not None
    text = _slack_text(blocks.blocks)
    start = next(e for b in blocks.blocks if b["type"] == "actions" for e in b["elements"])
    assert slack.A.START_FLOW_PATTERN.match(start["action_id"]) and start["value"] == "legal-threat"
    assert "is kept either way" in text
    card = teams.switch_offer_card(offer)
    action = teams_actions.parse(card["actions"][0]["data"])
    assert (action.verb, action.flow_id) == (teams_actions.START, "legal-threat")
    assert "is kept either way" in _teams_text(card)
