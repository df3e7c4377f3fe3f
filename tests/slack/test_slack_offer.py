"""The escalation offer on an outcome: what will be sent is shown before anything is sent.

Uses the test flow tests/slack/flows/slack-offer.yaml (an optional escalation to the line manager).
With the default settings there is no directory, so the case goes to the comms team instead of
a line manager, and the Send button says so before anything is sent; who receives it is tested in
test_slack_escalation.py.
"""

from __future__ import annotations

from conftest import EMPLOYEE, SlackHarness, all_text, button_labels, find_button
from slack_requests import view_submission

LONG_LABEL = "Yes, and I would like my line manager to know about it before anything else happens to it today"


def reach_offer(slack: SlackHarness) -> None:
    slack.slash(EMPLOYEE, "slack adapter offer test")
    question = slack.last_dm(EMPLOYEE)
    slack.click(EMPLOYEE, question, LONG_LABEL[:74] + "…")


def test_a_label_longer_than_a_button_is_cut_on_the_button_and_shown_whole_above(slack: SlackHarness) -> None:
    slack.slash(EMPLOYEE, "slack adapter offer test")
    question = slack.last_dm(EMPLOYEE)
    labels = button_labels(question)
    assert labels[0] == LONG_LABEL[:74] + "…" and len(labels[0]) == 75
    assert LONG_LABEL in all_text(question)


def test_the_offer_shows_exactly_what_will_be_sent_and_asks_first(slack: SlackHarness) -> None:
    reach_offer(slack)
    outcome = slack.last_dm(EMPLOYEE)
    text = all_text(outcome)
    assert outcome.blocks[0]["text"]["text"] == "🟡 Go ahead, with care"
    assert "Here is exactly what will be sent" in text
    assert "> Alice Employee used the policy check" in text  # the preview, quoted
    assert "within 2 hours" in text  # and who hears if nobody acknowledges
    assert button_labels(outcome)[:3] == ["Send to the Communications team", "Add a note first", "Don't send"]
    _, send = find_button(outcome, "Send to the Communications team")
    assert send["confirm"]["confirm"]["text"] == "Send"  # Slack asks "are you sure?" before sending
    assert slack.fake.calls_to("chat.postMessage")[-1].params["channel"] == "D" + EMPLOYEE  # only the DM


def test_dont_send_removes_the_offer_buttons_and_says_so(slack: SlackHarness) -> None:
    reach_offer(slack)
    outcome = slack.last_dm(EMPLOYEE)
    slack.click(EMPLOYEE, outcome, "Don't send")
    updated = slack.fake.message(outcome.channel, outcome.ts)
    assert "Send to the Communications team" not in button_labels(updated)
    assert "Not sent" in all_text(updated)
    assert "Nothing was sent" in slack.last_dm(EMPLOYEE).text


def test_send_opens_one_case_and_the_offer_turns_into_sent(slack: SlackHarness) -> None:
    reach_offer(slack)
    outcome = slack.last_dm(EMPLOYEE)
    block_id, button = find_button(outcome, "Send to the Communications team")  # as shown before any update
    slack.send_click(EMPLOYEE, outcome, block_id, button, settle=False)
    slack.send_click(EMPLOYEE, outcome, block_id, button)  # a double click
    messages = slack.dm_messages(EMPLOYEE)
    assert any("Sent to the Communications team" in m.text for m in messages)  # no directory here: comms stands in
    assert "already done" in messages[-2].text  # the repeat says so, then shows the outcome as it now stands
    updated = slack.fake.message(outcome.channel, outcome.ts)
    assert "Send to the Communications team" not in button_labels(updated)
    assert "This has been sent to the Communications team" in all_text(updated)
    assert slack.runtime.cases is not None
    [case] = slack.runtime.cases.list_cases()
    assert case.conversation_id in str(find_button(updated, "Go through it again")[1]["value"])
    sent = [m for m in slack.dm_messages(EMPLOYEE) if m.text.startswith("Sent to")]
    assert len(sent) == 1


def test_add_a_note_opens_the_preview_and_an_empty_note_is_refused_in_the_modal(slack: SlackHarness) -> None:
    reach_offer(slack)
    outcome = slack.last_dm(EMPLOYEE)
    slack.click(EMPLOYEE, outcome, "Add a note first")
    [opened] = slack.fake.opened_views
    view = opened["view"]
    assert view["callback_id"] == "escalation_note_modal"
    assert "Alice Employee used the policy check" in str(view["blocks"])
    empty = {"note": {"note_text": {"type": "plain_text_input", "value": "  "}}}
    resp = slack.sender.interactive(
        view_submission(EMPLOYEE, "escalation_note_modal", empty, private_metadata=view["private_metadata"])
    )
    assert resp.status == 200
    assert resp.json()["response_action"] == "errors" and "note" in resp.json()["errors"]
    assert slack.runtime.cases is not None and slack.runtime.cases.list_cases() == []

    written = {"note": {"note_text": {"type": "plain_text_input", "value": "It was about the bins post."}}}
    resp = slack.sender.interactive(
        view_submission(EMPLOYEE, "escalation_note_modal", written, private_metadata=view["private_metadata"])
    )
    assert resp.status == 200 and resp.body == ""
    slack.settle()
    [case] = slack.runtime.cases.list_cases()
    assert case.note == "It was about the bins post."
    assert "This has been sent" in all_text(slack.fake.message(outcome.channel, outcome.ts))
