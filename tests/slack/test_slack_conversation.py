"""A person talking to the bot in Slack, over real signed HTTP to the running Bolt app.

Each test acts as Slack does (slash command form bodies, ``payload=`` interactive bodies, Events
API JSON, all signed) and checks what ended up in the fake Slack: which messages exist, what
they say, and which buttons they still have.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import EMPLOYEE, GENERAL, SlackFactory, SlackHarness, all_text, button_labels, dm, find_button
from fake_slack_api import TEAM_ID
from slack_requests import app_mention, dm_message, global_shortcut, view_submission
from sqlalchemy import select, update

from bot.store.schema import inbound_events

LEGAL_THREAT_FIRST = "Where was the post made?"
ABOUT_WORK = "Is the post about the council, your work or the people you work with?"


def start_legal_threat(slack: SlackHarness) -> None:
    resp = slack.slash(EMPLOYEE, "someone threatened to sue me")
    assert resp.status == 200


def test_slash_command_in_a_channel_moves_the_conversation_to_a_dm(slack: SlackHarness) -> None:
    resp = slack.slash(EMPLOYEE, "someone threatened to sue me", channel=GENERAL)
    assert resp.status == 200
    assert "direct message" in resp.body  # the ephemeral answer only the person sees
    assert slack.fake.messages_in(GENERAL) == []  # nothing said in public
    question = slack.last_dm(EMPLOYEE)
    assert LEGAL_THREAT_FIRST in all_text(question)
    assert button_labels(question) == [
        "On a council account or page",
        "On my own personal account",
        "On someone else's page, group or website",
    ]
    assert "Question 1 of up to 4" in all_text(question)
    assert question.text.startswith(LEGAL_THREAT_FIRST)  # plain-text fallback for notifications
    menu = [b["accessory"] for b in question.blocks if b.get("accessory", {}).get("type") == "overflow"]
    assert menu[0]["options"][0]["text"]["text"].startswith("Why?")


def test_a_click_updates_the_question_in_place_and_asks_the_next(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    first = slack.last_dm(EMPLOYEE)
    assert slack.click(EMPLOYEE, first, "On a council account or page").status == 200

    answered = slack.fake.message(first.channel, first.ts)
    assert button_labels(answered) == []  # no buttons left: it cannot be answered twice
    assert "You chose: *On a council account or page*" in all_text(answered)
    assert LEGAL_THREAT_FIRST in all_text(answered)
    following = slack.last_dm(EMPLOYEE)
    assert following.ts != first.ts
    assert "Is the post still online?" in all_text(following)
    assert "Question 2 of up to 3" in all_text(following)


def test_three_clicks_reach_the_outcome_with_verdict_checklist_and_citations(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), "On a council account or page")
    slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), "Yes, it is still up")
    slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), "Yes")
    outcome = slack.last_dm(EMPLOYEE)
    text = all_text(outcome)
    assert outcome.blocks[0]["type"] == "header"
    assert outcome.blocks[0]["text"]["text"] == "🚨 Act now"
    assert "Take the post down now" in text
    assert "☐ Remove the post" in text  # the checklist
    assert "📖" in text and "Nottinghamshire" in text  # the cited policy paragraph
    assert outcome.text.startswith("🚨 Act now")
    # Three questions answered, each one now without buttons (the first message is the router's
    # "Understood: ... [Not this]" line).
    questions = slack.dm_messages(EMPLOYEE)[1:-1]
    assert len(questions) == 3 and all(button_labels(q) == [] for q in questions)


def test_a_double_click_is_applied_once(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    first = slack.last_dm(EMPLOYEE)
    # The button as Slack showed it: the bot may update the message before the second click lands.
    block_id, button = find_button(first, "On my own personal account")
    slack.send_click(EMPLOYEE, first, block_id, button, settle=False)
    slack.send_click(EMPLOYEE, first, block_id, button)  # Slack delivered the click twice
    assert len(slack.fake.calls_to("chat.update")) == 1  # applied once
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE)][1:]  # after the router's "Understood" line
    assert ABOUT_WORK in texts[1]
    # The repeat is never silent (the first answer may have been lost on its way): it shows where
    # the person is now, as decided by the core.
    assert len(texts) == 4 and "already done" in texts[2]
    assert ABOUT_WORK in texts[3]


def test_a_second_option_clicked_on_an_answered_question_is_refused(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    first = slack.last_dm(EMPLOYEE)
    block_id, other = find_button(first, "On my own personal account")
    slack.click(EMPLOYEE, first, "On a council account or page")
    # The other button, from the message as it was before the update (another window, a fast click).
    slack.send_click(EMPLOYEE, first, block_id, other)
    assert "You chose: *On a council account or page*" in all_text(slack.fake.message(first.channel, first.ts))
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE)]
    assert any("earlier question" in t for t in texts)  # told, not silently ignored
    assert "Is the post still online?" in texts[-1]  # and shown where the conversation is
    assert len(slack.fake.calls_to("chat.update")) == 1


def test_why_shows_the_citations_in_a_thread(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    question = slack.last_dm(EMPLOYEE)
    slack.menu(EMPLOYEE, question, "Why?")
    threaded = [m for m in slack.dm_messages(EMPLOYEE) if m.thread_ts == question.ts]
    assert len(threaded) == 1
    assert "📖" in all_text(threaded[0]) and "Nottinghamshire" in all_text(threaded[0])
    assert button_labels(slack.fake.message(question.channel, question.ts)) != []  # still answerable


def test_go_back_closes_the_question_and_asks_the_previous_one(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), "On a council account or page")
    second = slack.last_dm(EMPLOYEE)
    slack.menu(EMPLOYEE, second, "Go back")
    assert button_labels(slack.fake.message(second.channel, second.ts)) == []
    assert "went back" in all_text(slack.fake.message(second.channel, second.ts))
    assert LEGAL_THREAT_FIRST in all_text(slack.last_dm(EMPLOYEE))


def test_typing_in_the_dm_starts_and_answers(slack: SlackHarness) -> None:
    assert slack.event(dm_message(EMPLOYEE, "a solicitor says my post is defamatory")).status == 200
    assert LEGAL_THREAT_FIRST in all_text(slack.last_dm(EMPLOYEE))
    slack.event(dm_message(EMPLOYEE, "2"))
    assert ABOUT_WORK in all_text(slack.last_dm(EMPLOYEE))


def test_a_retried_event_is_applied_once(slack: SlackHarness) -> None:
    event = dm_message(EMPLOYEE, "someone is threatening to sue")
    slack.event(event, event_id="Ev0RETRY1")
    slack.event(event, event_id="Ev0RETRY1", retry=1)  # Slack's retry: same event id, X-Slack-Retry-Num
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE)][1:]  # after the router's "Understood" line
    # The first copy is in the inbound journal, handled (or, had this replica died, replayed by
    # another): Slack's retry of it is neither applied again nor answered twice.
    assert len(texts) == 1 and LEGAL_THREAT_FIRST in texts[0]
    with slack.runtime.store.transaction() as conn:
        keys = conn.execute(select(inbound_events.c.key, inbound_events.c.status)).all()
    assert keys == [("slack:event_id:Ev0RETRY1", "done")]


def test_a_retried_event_is_answered_with_where_the_person_is_when_the_journal_is_off(
    slack_factory: SlackFactory, tmp_path: Path
) -> None:
    settings = tmp_path / "empty-settings.yaml"
    settings.write_text("# defaults only\n", encoding="utf-8")
    slack = slack_factory(settings_path=settings, bot_options={"journal": False})
    event = dm_message(EMPLOYEE, "someone is threatening to sue")
    slack.event(event, event_id="Ev0RETRY1")
    slack.event(event, event_id="Ev0RETRY1", retry=1)
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE)][1:]  # after the router's "Understood" line
    # Without the journal the engine recognises the repeat: never silence, but where the person is.
    assert len(texts) == 3 and "already done" in texts[1]
    assert LEGAL_THREAT_FIRST in texts[0] and LEGAL_THREAT_FIRST in texts[2]


def test_bot_messages_and_edits_in_the_dm_are_ignored(slack: SlackHarness) -> None:
    edit = {**dm_message(EMPLOYEE, "x"), "subtype": "message_changed"}
    assert slack.event(edit).status == 200
    assert slack.fake.calls_to("chat.postMessage") == []


def test_a_mention_in_a_channel_is_answered_in_private(slack: SlackHarness) -> None:
    resp = slack.event(app_mention(EMPLOYEE, "someone threatened to sue me", channel=GENERAL))
    assert resp.status == 200
    assert slack.fake.messages_in(GENERAL) == []
    [ephemeral] = slack.fake.ephemeral
    assert ephemeral["user"] == EMPLOYEE and "direct message" in ephemeral["text"]
    assert LEGAL_THREAT_FIRST in all_text(slack.last_dm(EMPLOYEE))


def test_policy_without_text_offers_the_situations_and_a_pick_starts_one(slack: SlackHarness) -> None:
    slack.slash(EMPLOYEE, "")
    menu = slack.last_dm(EMPLOYEE)
    assert "situation" in all_text(menu).lower()
    [actions] = [b for b in menu.blocks if b["type"] == "actions"]
    element = actions["elements"][0]
    if element["type"] == "button":  # few flows: buttons
        _, chosen = find_button(menu, "Someone is threatening legal action over a post")
        slack.send_click(EMPLOYEE, menu, actions["block_id"], chosen)
    else:  # many flows: one select menu
        option = next(o for o in element["options"] if o["value"] == "legal-threat")
        payload_element = {"action_id": element["action_id"], "type": "static_select", "selected_option": option}
        slack.send_click(EMPLOYEE, menu, actions["block_id"], payload_element)
    assert button_labels(slack.fake.message(menu.channel, menu.ts)) == []
    assert LEGAL_THREAT_FIRST in all_text(slack.last_dm(EMPLOYEE))


def test_global_shortcut_opens_a_modal_whose_submission_starts_the_check(slack: SlackHarness) -> None:
    assert slack.sender.interactive(global_shortcut(EMPLOYEE)).status == 200
    slack.settle()
    [opened] = slack.fake.opened_views
    assert opened["view"]["callback_id"] == "start_check_modal"
    values = {"situation": {"situation_text": {"type": "plain_text_input", "value": "threatened to sue me"}}}
    resp = slack.sender.interactive(view_submission(EMPLOYEE, "start_check_modal", values))
    assert resp.status == 200 and resp.body == ""  # an empty 200 closes the modal
    slack.settle()
    assert LEGAL_THREAT_FIRST in all_text(slack.last_dm(EMPLOYEE))


def test_home_tab_offers_a_check_and_the_unfinished_one(slack: SlackHarness) -> None:
    from slack_requests import app_home_opened

    slack.event(app_home_opened(EMPLOYEE))
    home = slack.fake.home_views[EMPLOYEE]
    labels = [b["accessory"]["text"]["text"] for b in home["blocks"] if b.get("accessory", {}).get("type") == "button"]
    assert "Start a check" in labels and "Carry on" not in labels

    start_legal_threat(slack)
    slack.event(app_home_opened(EMPLOYEE))
    home = slack.fake.home_views[EMPLOYEE]
    carry_on = [b for b in home["blocks"] if b.get("accessory", {}).get("text", {}).get("text") == "Carry on"]
    assert carry_on and LEGAL_THREAT_FIRST in carry_on[0]["text"]["text"]


def test_the_conversation_survives_a_rate_limited_post(slack: SlackHarness) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    start_legal_threat(slack)
    assert LEGAL_THREAT_FIRST in all_text(slack.last_dm(EMPLOYEE))
    statuses = [c.status for c in slack.fake.iter_calls() if c.method == "chat.postMessage"]
    assert statuses == [429, 200, 200]  # the router's "Understood" line (retried), then the question


def test_the_dm_is_opened_once_per_person(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), "On a council account or page")
    slack.slash(EMPLOYEE, "threatened to sue", channel=dm(EMPLOYEE))
    assert len(slack.fake.calls_to("conversations.open")) == 1


def test_go_through_it_again_after_an_outcome_keeps_the_outcome_and_asks_again(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    for label in ("On my own personal account", "Yes", "No, it has already been taken down", "Yes"):
        slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), label)
    outcome = slack.last_dm(EMPLOYEE)
    assert outcome.blocks[0]["type"] == "header"
    slack.click(EMPLOYEE, outcome, "Go through it again")
    assert slack.fake.message(outcome.channel, outcome.ts).updates == 0  # the record of the answer stays
    again = slack.last_dm(EMPLOYEE)
    assert LEGAL_THREAT_FIRST in all_text(again) and "Question 1 of" in all_text(again)


def test_when_slack_refuses_the_update_the_next_question_still_comes(slack: SlackHarness) -> None:
    start_legal_threat(slack)
    first = slack.last_dm(EMPLOYEE)
    slack.fake.fail_next("chat.update", error="message_not_found")
    slack.click(EMPLOYEE, first, "On a council account or page")
    assert "Is the post still online?" in all_text(slack.last_dm(EMPLOYEE))


def test_a_long_rate_limit_is_not_waited_out_by_a_worker_thread(slack: SlackHarness) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=120)
    start_legal_threat(slack)
    statuses = [c.status for c in slack.fake.iter_calls() if c.method == "chat.postMessage"]
    assert statuses == [429]  # no thread asleep for 120 s, and no apology the rate limit would refuse too
    actor = slack.bot.actor_for({"team_id": TEAM_ID}, EMPLOYEE)
    assert slack.bot.engine.unfinished(actor) is not None  # nothing lost: the start was applied
    # The request went back to the journal, to be tried again once Slack's Retry-After has passed.
    with slack.runtime.store.transaction() as conn:
        row = conn.execute(select(inbound_events)).mappings().one()
    assert row["status"] == "pending" and row["lease_owner"] is None
    wait = (row["lease_until"] - slack.runtime.clock.now()).total_seconds()
    assert 110 < wait <= 120
    # Two minutes later (the lease moved into the past), the replayer runs it again: the question
    # arrives, without an "already done" notice (the person did nothing twice).
    with slack.runtime.store.transaction() as conn:
        conn.execute(update(inbound_events).values(lease_until=slack.runtime.clock.now() - timedelta(seconds=1)))
    slack.bot.web.windows.clear()  # type: ignore[attr-defined]  # Slack's 120 s window has passed too
    assert slack.bot.inbound is not None and len(slack.bot.inbound.replayer.run_once()) == 1
    slack.settle()
    texts = [all_text(m) for m in slack.dm_messages(EMPLOYEE)]
    assert len(texts) == 1 and LEGAL_THREAT_FIRST in texts[0]
    assert slack.bot.inbound.journal.pending() == 0


def test_onboarding_quiz_feedback_score_and_home_status(slack: SlackHarness) -> None:
    from slack_requests import app_home_opened

    slack.event(app_home_opened(EMPLOYEE))
    home = str(slack.fake.home_views[EMPLOYEE]["blocks"])
    assert "Your onboarding" in home and "not done the onboarding check yet" in home

    slack.slash(EMPLOYEE, "slack onboarding stand-in")
    card = slack.last_dm(EMPLOYEE)
    assert "Card 1 of 2" in all_text(card)  # the intro card comes with the question
    slack.click(EMPLOYEE, card, "No, it can be shared")
    texts = [m.text for m in slack.dm_messages(EMPLOYEE)]
    assert "Right: friends can copy it." in texts  # the feedback, before the next question
    slack.click(EMPLOYEE, slack.last_dm(EMPLOYEE), "Nobody")
    outcome = slack.last_dm(EMPLOYEE)
    assert "You got *1 of 2* right" in all_text(outcome)
    assert any(m.text == "Tell your line manager." for m in slack.dm_messages(EMPLOYEE))

    slack.event(app_home_opened(EMPLOYEE))
    home = str(slack.fake.home_views[EMPLOYEE]["blocks"])
    assert "Done on" in home and "with 1 of 2 right" in home
