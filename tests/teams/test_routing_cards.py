"""What the router made of the first words, in Teams: each routing kind as an Adaptive Card within
the card rules, and "Not this" clicked through the running bot over HTTP."""

from __future__ import annotations

from pathlib import Path

from adapters.teams import cards
from adapters.teams.bot import render_activities
from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Start
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.replies import ChoiceKind, FlowChoice
from bot.language.settings import load_settings
from bot.store import Store

from .card_rules import card_problems
from .fake_connector import adaptive_cards
from .teams_client import TeamsUser, all_actions, choice_sets, texts_of
from .teams_client import offered as offered_titles

SAM = Actor(user_id="teams:sam", display_name="Sam", platform="teams")


def test_every_routing_kind_is_a_card_within_the_rules_with_one_button_per_candidate(tmp_path: Path) -> None:
    engine = Engine(FlowLibrary.load(default_flows_dir(), load_settings(None)), Store(f"sqlite:///{tmp_path}/r.db"))
    seen: set[ChoiceKind] = set()
    for text in (
        "a client sent me a friend request on facebook",
        "loads of people moaning on fb about the council",
        "hiya, quick one for you",
    ):
        replies = engine.handle(SAM, Start(text=text))
        for reply, activity in zip(replies, render_activities(replies), strict=True):
            if not isinstance(reply, FlowChoice):
                continue
            seen.add(reply.kind)
            [content] = adaptive_cards(activity.model_dump(by_alias=True, exclude_none=True, mode="json"))
            assert card_problems(content) == [], reply.kind
            sets = choice_sets(content)
            if sets:  # a title too long for a button: every candidate is a choice, none hidden
                [menu] = sets
                assert [c["title"] for c in menu["choices"]] == [c.title for c in reply.candidates]
                assert [c["value"] for c in menu["choices"]] == [c.flow_id for c in reply.candidates]
            else:
                buttons = [a for a in all_actions(content) if a["type"] == "Action.Execute"]
                assert [b["title"] for b in buttons] == [c.title for c in reply.candidates]
                assert [b["data"]["f"] for b in buttons] == [c.flow_id for c in reply.candidates]
            assert reply.prompt in texts_of(content)[0]
    assert seen == {ChoiceKind.NOT_THIS, ChoiceKind.LIKELY, ChoiceKind.CLARIFY}


def test_the_understood_line_is_quiet() -> None:
    from bot.conversation.replies import FlowCandidate

    line = FlowChoice("Understood: X.", [FlowCandidate("routing:not-this", "Not this", 0.0)], ChoiceKind.NOT_THIS)
    body = cards.flow_choice_card(line)["body"]
    assert body[0]["isSubtle"] is True and body[0]["text"] == "✅ Understood: X."


def test_not_this_over_http_offers_the_other_checks_and_starts_the_one_picked(alex: TeamsUser) -> None:
    alex.say("someone is threatening to sue me over my tweet")
    (_, line), (_, question) = alex.cards()
    assert "Understood: Someone is threatening legal action over a post." in texts_of(line)[0]
    assert "Where was the post made?" in " ".join(texts_of(question))
    result = alex.click("Not this", card=alex.cards()[0])
    assert result.status == 200
    _, offered = alex.last_card()
    assert "Which of these is it, then?" in texts_of(offered)[0]
    titles = offered_titles(offered)
    assert titles and "Someone is threatening legal action over a post" not in titles
    alex.click(titles[0])
    _, started = alex.last_card()
    assert "Where was the post made?" not in " ".join(texts_of(started))
