"""A person talking to the bot in Teams, over real HTTP: Activity JSON in, cards out.

Every test POSTs Bot Framework activities (shapes as Teams sends them) to the running aiohttp app;
the bot's replies and card updates arrive at the fake Bot Connector on 127.0.0.1, or in the HTTP
body for invokes and ``deliveryMode: expectReplies``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from adapters.teams.storage import channel_key, person_keys
from bot.runtime import Runtime

from .card_rules import card_problems
from .conftest import RunningBot, start_bot
from .fake_connector import FakeConnector, adaptive_cards
from .teams_client import BOT_NAME, TeamsUser, all_actions, offered, texts_of

LEGAL = "someone is threatening to sue me over my tweet"


def joined(card: dict[str, object]) -> str:
    return "\n".join(texts_of(card))


def test_a_message_starts_a_flow_and_the_question_arrives_as_a_card(alex: TeamsUser) -> None:
    result = alex.say(LEGAL)
    assert result.status == 201
    _stored, card = alex.last_card()
    text = joined(card)
    assert "Where was the post made?" in text
    assert "Question 1 of up to 3" in text
    buttons = [a for a in all_actions(card) if a["type"] == "Action.Execute"]
    labels = [b["title"] for b in buttons]
    assert labels[:2] == ["On a council account or page", "On my own personal account"]
    assert all(b["fallback"]["type"] == "Action.Submit" and b["fallback"]["data"] == b["data"] for b in buttons)
    why = next(a for a in all_actions(card) if a["type"] == "Action.ToggleVisibility")
    hidden = next(b for b in card["body"] if b.get("id") == why["targetElements"][0])
    assert hidden["isVisible"] is False
    assert "paragraph 27" in joined(hidden)
    assert card["version"] == "1.5"
    assert card_problems(card) == []


def test_an_execute_click_redraws_the_card_in_place_and_the_next_question_follows(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    result = alex.click("On a council account or page")
    assert result.status == 200
    assert result.body["statusCode"] == 200
    assert result.body["type"] == "application/vnd.microsoft.card.adaptive"
    redrawn = result.body["value"]
    assert "✔ You answered: On a council account or page" in joined(redrawn)
    assert "Where was the post made?" in joined(redrawn)
    assert all_actions(redrawn) == []  # nothing left to click twice
    cards = alex.cards()
    assert len(cards) == 3  # the router's "Understood" line, the first question, the second
    _, second = cards[-1]
    assert "Is the post still online?" in joined(second)
    assert "Question 2 of up to 3" in joined(second)
    assert "Back" in [a["title"] for a in all_actions(second)]


def test_a_submit_fallback_with_value_and_no_text_updates_the_card_and_continues(
    alex: TeamsUser, connector: FakeConnector
) -> None:
    alex.say(LEGAL)
    first, _ = alex.last_card()
    result = alex.click("On my own personal account", via="submit")
    assert result.status == 201
    updates = connector.successful("update")
    assert [u.activity_id for u in updates] == [first.activity_id]
    assert len(first.versions) == 2
    redrawn = adaptive_cards(first.latest)[0]
    assert "✔ You answered: On my own personal account" in joined(redrawn)
    assert all_actions(redrawn) == []
    _, second = alex.last_card()
    assert "Is the post still online?" in joined(second)


def test_walking_to_the_outcome_shows_verdict_checklist_citations_and_escalation(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    alex.click("On a council account or page")
    alex.click("Yes, it is still up")
    alex.click("Yes")
    _, outcome = alex.last_card()
    text = joined(outcome)
    assert "Act now" in text
    assert "Take the post down now" in text
    assert "Remove the post" in text  # checklist
    assert "paragraph 27" in text  # citation
    assert "What they will receive:" in text
    assert "your line manager" in text
    assert card_problems(outcome) == []


def test_typed_option_numbers_answer_the_current_question(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    alex.say("2")
    _, card = alex.last_card()
    assert "Is the post still online?" in joined(card)


def test_a_channel_mention_is_stripped_before_routing_and_the_check_goes_private(
    bot: RunningBot, connector: FakeConnector
) -> None:
    """The mention is removed before routing (the legal-threat check is found from the words), and
    the check continues in Sam's own chat; the thread gets one neutral line (tests/teams/test_group_chats.py)."""
    sam = bot.user(name="Sam Poster", teams_id="29:1sam", aad_id="00000000-0000-4000-8000-0000000000b2")
    sam.say("hello")  # Sam's personal chat
    channel, team = "19:comms-general@thread.tacv2", "19:team-comms@thread.tacv2"
    activity = sam.channel_mention("someone is threatening to sue me over a post", channel, team)
    assert activity["text"].startswith(f"<at>{BOT_NAME}</at>")
    assert sam.post(activity).status == 201
    thread = activity["conversation"]["id"]
    [line] = connector.sent_to(thread)
    assert "private message" in line.latest["text"]
    card = sam.last_card()[1]
    assert "Where was the post made?" in joined(card)


def test_a_mention_with_help_sends_the_menu_privately(bot: RunningBot, connector: FakeConnector) -> None:
    sam = bot.user(teams_id="29:1sam")
    sam.say("hi")
    activity = sam.channel_mention("help", "19:c@thread.tacv2", "19:t@thread.tacv2")
    sam.post(activity)
    card = sam.last_card()[1]
    assert "Someone is threatening legal action over a post" in offered(card)


def test_command_list_entries_start_their_flows(bot: RunningBot) -> None:
    alex = bot.user()
    alex.say("check a post")
    _, card = alex.last_card()
    assert "Can I post this?" in joined(card)
    assert "Is it for a council account or your own?" in joined(card)
    alex.say("new starter walkthrough")
    _, card = alex.last_card()
    assert "Welcome! Three quick questions" in joined(card)
    assert "Are you personally responsible for what you post?" in joined(card)


def test_help_offers_to_carry_on_and_the_menu_starts_a_flow(bot: RunningBot) -> None:
    alex = bot.user()
    alex.say("check a post")
    alex.say("help")
    cards = alex.cards()
    resume, _menu = cards[-2][1], cards[-1][1]
    assert "You have a check you didn't finish" in joined(resume)
    assert "Is it for a council account or your own?" in joined(resume)
    result = alex.click("New starter walkthrough", card=cards[-1])
    assert "✔ New starter walkthrough" in joined(result.body["value"])
    _, card = alex.last_card()
    assert "Are you personally responsible" in joined(card)
    # carrying on with the first check is still possible from the resume card
    alex.click("Carry on", card=cards[-2])
    _, card = alex.last_card()
    assert "Are you personally responsible" in joined(card) or "council account or your own" in joined(card)


def test_quiz_answers_get_feedback_and_a_score(bot: RunningBot) -> None:
    alex = bot.user()
    alex.say("new starter walkthrough")
    alex.click("Yes")
    feedback = alex.cards()[-2][1]
    assert "✔ Right" in joined(feedback)
    alex.click("Yes")
    feedback = alex.cards()[-2][1]
    assert "✘ Not quite" in joined(feedback)
    _, outcome = alex.last_card()
    assert "You got 1 of 2 right." in joined(outcome)


def test_an_optional_escalation_shows_a_preview_and_can_be_declined(bot: RunningBot) -> None:
    alex = bot.user()
    alex.say("check a post")
    alex.click("A council account")
    alex.click("No")
    _outcome_stored, outcome = alex.last_card()
    text = joined(outcome)
    assert "Tell the Communications team?" in text
    assert "What they will receive:" in text
    assert "If nobody acknowledges it within 2 hours, your line manager will be told." in text
    assert any(b.get("id") == "note" for b in outcome["body"][-1]["items"])
    titles = [a["title"] for a in all_actions(outcome)]
    assert "Send to the Communications team" in titles and "Don't send" in titles
    result = alex.click("Don't send")
    redrawn = result.body["value"]
    assert "Not sent." in joined(redrawn)
    assert "Send to the Communications team" not in [a["title"] for a in all_actions(redrawn)]


def test_an_old_button_is_refused_politely_and_the_current_question_is_shown(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    first, original = alex.last_card()
    alex.click("On a council account or page")
    result = alex.click("On my own personal account", card=(first, original))  # the card as first sent
    assert "already moved on" in joined(result.body["value"])
    assert any("earlier question" in t for t in alex.texts())
    _, current = alex.last_card()
    assert "Is the post still online?" in joined(current)


def test_a_duplicate_invoke_is_applied_once(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    stored, card = alex.last_card()
    from .teams_client import find_action

    invoke = alex.invoke(find_action(card, "On a council account or page"), stored.activity_id)
    first = alex.post(dict(invoke))
    again = alex.post(dict(invoke))
    assert first.body == again.body  # the same redrawn card both times
    questions = [joined(c) for _, c in alex.cards()]
    # Applied once; the repeat is never silent: the core re-shows where Alex is (the same question).
    assert sum("Is the post still online?" in q for q in questions) == 2
    assert any("already done" in t for t in alex.texts())
    alex.click("Yes, it is still up")
    _, card = alex.last_card()
    assert "Can you reach your line manager today?" in joined(card)  # moved on exactly one step each time


def test_a_duplicate_message_is_applied_once(alex: TeamsUser) -> None:
    message = alex.message(LEGAL)
    alex.post(dict(message))
    alex.post(dict(message))
    cards = [joined(c) for _, c in alex.cards()][1:]  # after the router's "Understood" line
    assert len(cards) == 2 and cards[0] == cards[1]  # one check started; the repeat shows its question again
    assert any("already done" in t for t in alex.texts())


def test_expect_replies_returns_the_cards_in_the_http_body(alex: TeamsUser, connector: FakeConnector) -> None:
    result = alex.say(LEGAL, deliveryMode="expectReplies")
    assert result.status == 200
    activities = result.body["activities"]
    cards = [c for a in activities for c in adaptive_cards(a)]
    assert len(cards) == 2  # the router's "Understood" line, then the question
    assert "Where was the post made?" in joined(cards[1])
    assert connector.successful("reply") == [] and connector.successful("send") == []


def test_installing_the_app_welcomes_the_person_and_stores_how_to_reach_them(bot: RunningBot, alex: TeamsUser) -> None:
    assert alex.post(alex.installation("add")).status == 201
    _, card = alex.last_card()
    assert "Hello! I help with social media decisions" in joined(card)
    assert "Someone is threatening legal action over a post" in [a["title"] for a in all_actions(card)]
    stored = bot.service.storage.find(person_keys(teams_id=alex.teams_id))
    assert stored is not None
    assert stored.reference["serviceUrl"] == alex.connector.service_url
    assert stored.reference["conversation"]["id"] == alex.conversation_id
    assert bot.service.storage.find(person_keys(aad_id=alex.aad_id)) is not None


def test_every_message_refreshes_the_stored_reference_with_the_email(bot: RunningBot, alex: TeamsUser) -> None:
    alex.say(LEGAL)
    stored = bot.service.storage.find(person_keys(email=alex.email))
    assert stored is not None and stored.email == alex.email
    assert stored.reference["user"]["id"] == alex.teams_id


def test_installing_in_a_team_stores_the_channel(bot: RunningBot, alex: TeamsUser) -> None:
    channel, team = "19:general@thread.tacv2", "19:general@thread.tacv2"
    alex.post(alex.team_installation(channel, team))
    stored = bot.service.storage.find([channel_key(channel)])
    assert stored is not None
    assert stored.reference["conversation"]["id"] == channel


def test_uninstalling_forgets_the_reference(bot: RunningBot, alex: TeamsUser) -> None:
    alex.post(alex.installation("add"))
    alex.post(alex.installation("remove"))
    assert bot.service.storage.find(person_keys(teams_id=alex.teams_id)) is None


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
    ],
)
def test_bad_requests_get_a_clear_4xx(bot: RunningBot, raw: bytes, content_type: str, status: int) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(bot.url, data=raw, method="POST", headers={"Content-Type": content_type})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == status
    assert "error" in caught.value.read().decode()


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        (lambda a: a.pop("serviceUrl"), "serviceUrl"),
        (lambda a: a.update(serviceUrl="not a url"), "serviceUrl"),
        (lambda a: a.pop("from"), "from id"),
        (lambda a: a.update(conversation=None), "conversation id"),
        (lambda a: a.update(recipient={"name": "x"}), "recipient id"),
    ],
)
def test_an_activity_that_cannot_be_answered_is_refused_with_the_reason(
    alex: TeamsUser, connector: FakeConnector, change: Any, missing: str
) -> None:
    activity = alex.message(LEGAL)
    change(activity)
    result = alex.post(activity)
    assert result.status == 400
    assert missing in result.body["error"]
    assert connector.calls == []


def test_a_submit_from_another_app_is_answered_politely(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    stored, _ = alex.last_card()
    alex.post(alex.submit({"action": "somethingElse"}, stored.activity_id))
    assert any("can't use any more" in t for t in alex.texts())


def test_a_forged_invoke_is_refused_without_effect(alex: TeamsUser) -> None:
    alex.say(LEGAL)
    stored, _ = alex.last_card()
    action = {"verb": "choose", "data": {"pb": 1, "verb": "choose", "c": "x", "s": "where", "o": "zero", "t": 1}}
    result = alex.post(alex.invoke(action, stored.activity_id))
    assert result.status == 200
    assert result.body["type"] == "application/vnd.microsoft.activity.message"
    assert len(alex.cards()) == 2  # the router's "Understood" line and the question, nothing more


def test_an_error_in_a_turn_gives_an_apology_with_a_reference_and_no_stack_trace(
    bot: RunningBot, alex: TeamsUser, caplog: pytest.LogCaptureFixture
) -> None:
    alex.say(LEGAL)
    with bot.runtime.store.engine.begin() as conn:  # break the database under the running bot
        conn.execute(text("DROP TABLE conversations"))
    caplog.set_level(logging.ERROR, logger="policybot.teams")
    result = alex.click("On a council account or page")
    assert result.status == 200
    message = result.body["value"]
    assert result.body["type"] == "application/vnd.microsoft.activity.message"
    assert message.startswith("Sorry, something went wrong")
    reference = message.rsplit(" ", 1)[-1]
    assert any(reference in r.getMessage() for r in caplog.records)
    assert "Traceback" not in message and "sqlite" not in message.lower()
    alex.say("2")
    assert alex.texts()[-1].startswith("Sorry, something went wrong")


def test_a_throttled_reply_is_retried_once_within_the_turn(alex: TeamsUser, connector: FakeConnector) -> None:
    connector.fail_next(1, 429, retry_after=1, operations={"reply"})
    assert alex.say(LEGAL).status == 201
    replies = [c for c in connector.calls if c.operation == "reply"]
    assert [c.status for c in replies] == [429, 201, 201]  # the "Understood" line (retried), the question
    assert "Where was the post made?" in joined(alex.last_card()[1])


def test_a_connector_outage_in_a_turn_ends_with_an_apology_and_the_answer_is_kept(
    alex: TeamsUser, connector: FakeConnector
) -> None:
    alex.say(LEGAL)
    connector.fail_next(2, 503, operations={"reply"})  # the next card and its one retry both fail
    result = alex.click("On a council account or page")
    assert result.body["value"].startswith("Sorry, something went wrong")  # in the invoke response
    alex.say("1")  # the answer was saved: the conversation is at question 2, which "1" answers
    _, card = alex.last_card()
    assert "Can you reach your line manager today?" in joined(card)


def test_a_turn_that_overruns_its_budget_ends_with_the_apology(runtime: Runtime, connector: FakeConnector) -> None:
    running = start_bot(runtime, connector, turn_seconds=1.0)
    try:
        alex = running.user()
        connector.delay_next(1, 2.5)  # the connector hangs on the bot's first call
        assert alex.say(LEGAL).status == 201
        assert connector.wait_for(lambda c: any("Sorry, something went wrong" in t for t in alex.texts()), 10)
    finally:
        running.server.stop()


def test_a_click_on_someone_elses_card_is_answered_to_the_clicker_alone(bot: RunningBot) -> None:
    """In a shared chat, Sam clicks Alex's card: Sam alone is told, and Alex's card is not redrawn."""
    from .teams_client import find_action

    shared = "19:shared-chat-1@thread.v2"
    alex = bot.user(conversation_id=shared)
    sam = bot.user(
        name="Sam Other",
        teams_id="29:1sam",
        aad_id="00000000-0000-4000-8000-0000000000a2",
        email="sam@council.example",
        conversation_id=shared,
    )
    alex.say(LEGAL)
    stored, card = alex.last_card()
    posted_before = len(alex.inbox())
    result = sam.post(sam.invoke(find_action(card, "On a council account or page"), stored.activity_id))
    assert result.status == 200
    assert result.body["type"] == "application/vnd.microsoft.activity.message"  # a private answer, not a card
    assert "belongs to" in result.body["value"]
    assert len(alex.inbox()) == posted_before  # nothing was posted into the shared chat
    assert alex.last_card()[1] == card  # Alex's card stays exactly as it was
    assert "Where was the post made?" in joined(alex.last_card()[1])
