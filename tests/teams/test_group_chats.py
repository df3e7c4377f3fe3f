"""Channels and group chats: a check started there continues in the person's own chat.

A legal threat typed with an @mention in a channel is never walked through or previewed there:
the channel hears one neutral line, and the question arrives in the person's personal chat (a new
one is opened when they never wrote to the bot). Someone else's clicks never touch the owner's
card, a bystander's Stop stops nothing, and a check started in a channel while one is going in the
personal chat is asked about rather than silently setting the other aside.
"""

from __future__ import annotations

import json
from typing import Any

from .conftest import RunningBot
from .fake_connector import FakeConnector, adaptive_cards
from .teams_client import BOT_ID, BOT_NAME, TENANT, TeamsUser, find_action, texts_of

LEGAL = "someone is threatening to sue me over my tweet"
CHANNEL, TEAM = "19:comms-general@thread.tacv2", "19:team-comms@thread.tacv2"
GROUP = "19:group-chat-7@thread.v2"
SENSITIVE_WORDS = ("sue", "legal", "threat", "Where was the post made?", "Understood")


def group_mention(user: TeamsUser, text: str) -> dict[str, Any]:
    body = user.base("message")
    mention = f"<at>{BOT_NAME}</at>"
    body["conversation"] = {"isGroup": True, "conversationType": "groupChat", "tenantId": TENANT, "id": GROUP}
    body.update({"text": f"{mention} {text}", "textFormat": "plain"})
    body["entities"].append({"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}})
    return body


def everything_in(connector: FakeConnector, conversation: str) -> str:
    return json.dumps([a.latest for a in connector.sent_to(conversation)])


def test_a_legal_threat_in_a_channel_continues_in_a_new_personal_chat(
    bot: RunningBot, connector: FakeConnector
) -> None:
    sam = bot.user(name="Sam Poster", teams_id="29:1sam", aad_id="00000000-0000-4000-8000-0000000000b2")
    activity = sam.channel_mention(LEGAL, CHANNEL, TEAM)
    assert sam.post(activity).status == 201
    in_channel = everything_in(connector, activity["conversation"]["id"])
    assert "private message" in in_channel
    assert not any(word in in_channel for word in SENSITIVE_WORDS), in_channel  # nothing previewed
    assert "attachments" not in in_channel  # no card in the channel at all
    [(new_chat, created)] = list(connector.conversations.items())
    assert created["members"] == [{"id": "29:1sam"}] and created["isGroup"] is False
    private = [c for a in connector.sent_to(new_chat) for c in adaptive_cards(a.latest)]
    assert any("Where was the post made?" in " ".join(texts_of(c)) for c in private)
    # the new chat was remembered: the next check started in the channel reuses it
    sam.post(sam.channel_mention("check a post", CHANNEL, TEAM))
    assert len(connector.conversations) == 1


def test_a_check_in_a_group_chat_goes_to_the_stored_personal_chat(bot: RunningBot, connector: FakeConnector) -> None:
    alex = bot.user()
    alex.say("hello")  # Alex's personal chat is known now
    before = len(alex.inbox())
    assert alex.post(group_mention(alex, LEGAL)).status == 201
    assert "private message" in everything_in(connector, GROUP)
    assert not any(word in everything_in(connector, GROUP) for word in SENSITIVE_WORDS)
    assert connector.conversations == {}  # no new chat: the stored one was used
    assert len(alex.inbox()) > before
    assert "Where was the post made?" in " ".join(texts_of(alex.last_card()[1]))
    alex.click("On a council account or page")  # and the check carries on there as usual
    assert "Is the post still online?" in " ".join(texts_of(alex.last_card()[1]))


def test_a_bystanders_clicks_never_touch_the_owners_card_or_stop_the_check(bot: RunningBot) -> None:
    shared = "19:shared-chat-2@thread.v2"
    alex = bot.user(conversation_id=shared)
    riley = bot.user(
        name="Riley Bystander",
        teams_id="29:1riley",
        aad_id="00000000-0000-4000-8000-0000000000d1",
        email="riley@council.example",
        conversation_id=shared,
    )
    alex.say(LEGAL)
    stored, card = alex.last_card()
    for button in ("Stop", "On a council account or page"):
        result = riley.post(riley.invoke(find_action(card, button), stored.activity_id))
        assert result.status == 200
        assert result.body["type"] == "application/vnd.microsoft.activity.message"
        assert "belongs to" in result.body["value"]  # named when the directory knows the owner (the core words it)
    assert alex.last_card()[1] == card  # exactly as it was
    alex.click("On a council account or page")  # Riley's Stop stopped nothing
    assert "Is the post still online?" in " ".join(texts_of(alex.last_card()[1]))


def test_a_check_started_in_a_channel_asks_before_setting_aside_the_one_going(bot: RunningBot) -> None:
    alex = bot.user()
    alex.say(LEGAL)  # a check going in Alex's personal chat
    alex.post(alex.channel_mention("check a post", CHANNEL, TEAM))
    _, asked = alex.last_card()
    words = " ".join(texts_of(asked))
    assert "part-way through" in words and "Where was the post made?" in words
    alex.click("Carry on")
    assert "Where was the post made?" in " ".join(texts_of(alex.last_card()[1]))
    alex.post(alex.channel_mention("check a post", CHANNEL, TEAM))
    alex.click("Start the new check")
    started = " ".join(texts_of(alex.last_card()[1]))
    assert "Where was the post made?" not in started  # the new check began; the old one waits
