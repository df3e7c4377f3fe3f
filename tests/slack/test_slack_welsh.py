"""Cymraeg in Slack: a legal-threat check in Welsh (the person's Slack locale is cy-GB) switching
to English halfway with the switch button, a Welsh-speaking manager's case notification, and
every Welsh message valid Block Kit, all over real HTTP against the fake Slack."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EMPLOYEE, MANAGER, SlackFactory, SlackHarness, all_text, button_labels, dm
from fake_slack_api import BOT_TOKEN, FakeSlackAPI, Message
from slack_requests import SIGNING_SECRET, app_home_opened, home_block_actions, view_submission
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.slack.config import SlackConfig
from adapters.slack.notifier import SlackNotifier, make_notifier_client
from bot.cases.worker import Worker

COMMS = "C0COMMS"
LEGAL = "C0LEGAL"
SETTINGS = f"""
languages: [en, cy]
directory: directory.yaml
escalation:
  line_manager: {{name: your line manager}}
  comms: {{name: Communications, slack_channel: {COMMS}}}
  legal: {{name: Legal Services, slack_channel: {LEGAL}}}
"""
# Bob, Alice's manager, reads Welsh: his directory entry says so, whatever his Slack is set to.
DIRECTORY = """
people:
  - {id: alice, name: Alice Employee, email: alice@council.example, manager: bob}
  - {id: bob, name: Bob Manager, email: bob@council.example, language: cy}
"""


@pytest.fixture
def welsh(slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path) -> SlackHarness:
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")
    fake_slack.add_channel(COMMS)
    fake_slack.add_channel(LEGAL)
    fake_slack.users[EMPLOYEE].locale = "cy-GB"  # Alice's Slack is in Welsh
    return slack_factory(settings_path=settings)


def valid(message: Message) -> Message:
    """The message's blocks as slack_sdk's Block Kit models read them, each one valid."""
    assert message.blocks
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
    return message


def deliver(slack: SlackHarness, fake: FakeSlackAPI) -> int:
    config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url)
    notifier = SlackNotifier(make_notifier_client(config, timeout=5))
    return len(Worker(slack.runtime, notifier).run_once().deliveries.delivered)


LEGAL_THREAT_CY = "Mae rhywun yn bygwth camau cyfreithiol oherwydd post"


def test_a_legal_threat_in_welsh_switching_to_english_halfway(welsh: SlackHarness) -> None:
    # /policy with no words: nothing typed says which language, so Alice's Slack locale does
    welsh.slash(EMPLOYEE)
    menu = valid(welsh.last_dm(EMPLOYEE))
    assert LEGAL_THREAT_CY in button_labels(menu)
    welsh.click(EMPLOYEE, menu, LEGAL_THREAT_CY)

    first = valid(welsh.last_dm(EMPLOYEE))
    text = all_text(first)
    assert "*Ble cafodd y post ei wneud?*" in text
    assert button_labels(first) == [
        "Ar gyfrif neu dudalen y cyngor",
        "Ar fy nghyfrif personol fy hun",
        "Ar dudalen, grŵp neu wefan rhywun arall",
        "English",  # the switch: a visible button, under the question, in the language it switches to
    ]
    assert "Pam? Dangos y polisi" in text and "Rhoi’r gorau i’r gwiriad hwn" in text  # the menu in Welsh
    assert f"Cwestiwn 1 o hyd at 4 · {LEGAL_THREAT_CY}" in text
    assert "Why? Show the policy" not in text and "Cymraeg" not in button_labels(first)

    welsh.click(EMPLOYEE, first, "Ar gyfrif neu dudalen y cyngor")
    assert "✅ Eich dewis: *Ar gyfrif neu dudalen y cyngor*" in all_text(welsh.fake.message(first.channel, first.ts))
    second = valid(welsh.last_dm(EMPLOYEE))
    assert "*Ydy’r post yn dal ar-lein?*" in all_text(second)
    assert button_labels(second) == ["Ydy, mae’n dal i fyny", "Nac ydy, mae eisoes wedi’i dynnu i lawr", "English"]

    # halfway: the switch. The Welsh question is closed and asked again below, in English.
    welsh.click(EMPLOYEE, second, "English")
    closed = welsh.fake.message(second.channel, second.ts)
    assert "Ydy’r post yn dal ar-lein?" in all_text(closed) and button_labels(closed) == []
    english = welsh.last_dm(EMPLOYEE)
    assert "*Is the post still online?*" in all_text(english)
    assert button_labels(english) == ["Yes, it is still up", "No, it has already been taken down", "Cymraeg"]
    assert "Question 2 of up to 3" in all_text(english) and "Why? Show the policy" in all_text(english)

    welsh.click(EMPLOYEE, english, "Yes, it is still up")
    welsh.click(EMPLOYEE, welsh.last_dm(EMPLOYEE), "Yes")
    outcome = valid(welsh.last_dm(EMPLOYEE))
    shown = all_text(outcome)
    assert "Act now" in outcome.blocks[0]["text"]["text"]  # the headline, in English now
    assert "*What to do*" in shown and "This has been sent to Bob Manager" in shown
    assert "(in English)" not in shown and "(yn Saesneg)" not in shown  # an English reader of an English policy
    assert button_labels(outcome) == ["Start another check", "Go through it again", "Cymraeg"]
    # the choice is kept: the engine speaks English to Alice from now on, whatever her Slack says
    assert welsh.runtime.engine.language_of(welsh.bot.people.actor("T0COUNCIL", EMPLOYEE)) == "en"


def test_a_check_all_in_welsh_names_the_policys_language_and_a_welsh_manager_gets_the_case_in_welsh(
    welsh: SlackHarness, fake_slack: FakeSlackAPI
) -> None:
    welsh.slash(EMPLOYEE)
    welsh.click(EMPLOYEE, welsh.last_dm(EMPLOYEE), LEGAL_THREAT_CY)
    for label in ("Ar gyfrif neu dudalen y cyngor", "Ydy, mae’n dal i fyny", "Gallaf"):
        welsh.click(EMPLOYEE, valid(welsh.last_dm(EMPLOYEE)), label)
    outcome = valid(welsh.last_dm(EMPLOYEE))
    shown = all_text(outcome)
    assert "Gweithredwch nawr" in outcome.blocks[0]["text"]["text"]
    assert "*Beth i’w wneud*" in shown and "Tynnwch y post i lawr nawr" in shown
    assert "*Y polisi y mae’r ateb hwn yn seiliedig arno*" in shown
    # the policy's quotes stay in English, and the Welsh reader is told so
    assert "Social Media Guidelines for Managers and Employees* (yn Saesneg)" in shown
    # the names as the organisation wrote them, joined the Welsh way
    assert "Mae hwn wedi’i anfon at Bob Manager, Communications a Legal Services." in shown
    assert button_labels(outcome) == ["Dechrau gwiriad arall", "Mynd drwyddo eto", "English"]

    assert deliver(welsh, fake_slack) == 3  # Bob, and the Communications and Legal channels
    [to_bob] = welsh.fake.messages_in(dm(MANAGER))
    valid(to_bob)
    text = all_text(to_bob)
    assert to_bob.blocks[0]["text"]["text"].startswith("🚨 BRYS: Mae angen eich help ar Alice Employee")
    assert "Ble cafodd y post ei wneud? Ar gyfrif neu dudalen y cyngor" in text
    assert button_labels(to_bob) == ["Cydnabod", "Wedi’i ddatrys", "Anfon neges at y cyflogai"]
    assert "Cyfeirnod yr achos:" in text
    # a channel has no language on file: the team reads the case in English
    [to_comms] = welsh.fake.messages_in(COMMS)
    assert button_labels(valid(to_comms)) == ["Acknowledge", "Resolved", "Message the employee"]

    welsh.click(MANAGER, to_bob, "Cydnabod")
    acknowledged = valid(welsh.fake.message(to_bob.channel, to_bob.ts))
    assert button_labels(acknowledged) == ["Wedi’i ddatrys", "Anfon neges at y cyflogai"]  # still Welsh


def test_the_locale_comes_from_one_cached_users_info_call(welsh: SlackHarness, fake_slack: FakeSlackAPI) -> None:
    welsh.slash(EMPLOYEE)
    welsh.click(EMPLOYEE, welsh.last_dm(EMPLOYEE), LEGAL_THREAT_CY)
    welsh.click(EMPLOYEE, welsh.last_dm(EMPLOYEE), "Ar fy nghyfrif personol fy hun")
    calls = [c for c in fake_slack.calls_to("users.info") if c.params.get("user") == EMPLOYEE]
    assert len(calls) == 1  # three turns, one lookup
    assert calls[0].params.get("include_locale") in (True, "1", "true")


def test_a_language_switch_that_was_tampered_with_is_refused(welsh: SlackHarness) -> None:
    welsh.slash(EMPLOYEE)
    message = welsh.last_dm(EMPLOYEE)
    block_id, element = next(
        (b["block_id"], e) for b in message.blocks if b.get("block_id") == "language_switch" for e in b["elements"]
    )
    before = len(welsh.dm_messages(EMPLOYEE))
    welsh.send_click(EMPLOYEE, message, block_id, {**element, "value": "<!channel>|x"})
    [refusal] = welsh.dm_messages(EMPLOYEE)[before:]
    assert "Nid oedd modd darllen y botwm hwnnw." in refusal.text  # in the Welsh last spoken to her
    assert welsh.runtime.engine.language_of(welsh.bot.people.actor("T0COUNCIL", EMPLOYEE)) == "cy"


def valid_view(view: dict) -> dict:
    """The view as slack_sdk's View model reads it (type, title, buttons, every block), valid."""
    View(**view).validate_json()
    for block in view["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
    return view


def view_text(view: dict) -> str:
    return all_text(Message(channel="", ts="", text="", blocks=view["blocks"]))


def test_the_home_tab_and_the_start_modal_are_in_welsh_for_a_welsh_slack(welsh: SlackHarness) -> None:
    welsh.event(app_home_opened(EMPLOYEE))
    home = valid_view(welsh.fake.home_views[EMPLOYEE])
    text = view_text(home)
    assert "Eich achosion agored" in text and "Dim byd ar agor." in text
    assert "Ddim yn siŵr a ddylech bostio" in text
    assert "Your open cases" not in text and "Start a check" not in text
    [start] = [b["accessory"] for b in home["blocks"] if b.get("accessory", {}).get("action_id") == "start_check"]
    assert start["text"]["text"] == "Dechrau gwiriad"

    welsh.sender.interactive(home_block_actions(EMPLOYEE, {"action_id": "start_check", "value": start["value"]}))
    welsh.settle()
    [opened] = welsh.fake.opened_views
    modal = valid_view(opened["view"])
    assert modal["title"]["text"] == "Gwirio’r polisi" and modal["close"]["text"] == "Canslo"
    assert "Beth sy’n digwydd?" in view_text(modal) and "What is happening?" not in view_text(modal)


def test_a_welsh_manager_messages_the_employee_and_acknowledges_in_welsh(
    welsh: SlackHarness, fake_slack: FakeSlackAPI
) -> None:
    welsh.slash(EMPLOYEE)
    welsh.click(EMPLOYEE, welsh.last_dm(EMPLOYEE), LEGAL_THREAT_CY)
    for label in ("Ar gyfrif neu dudalen y cyngor", "Ydy, mae’n dal i fyny", "Gallaf"):
        welsh.click(EMPLOYEE, welsh.last_dm(EMPLOYEE), label)
    deliver(welsh, fake_slack)
    [to_bob] = welsh.fake.messages_in(dm(MANAGER))

    welsh.click(MANAGER, to_bob, "Anfon neges at y cyflogai")
    [opened] = welsh.fake.opened_views
    modal = valid_view(opened["view"])
    assert modal["title"]["text"] == "Ysgrifennu at y cyflogai" and modal["submit"]["text"] == "Anfon"
    assert "Neges at Alice Employee" in view_text(modal)
    empty = {"message": {"message_text": {"type": "plain_text_input", "value": " "}}}
    refused = welsh.sender.interactive(
        view_submission(MANAGER, "case_message_modal", empty, private_metadata=modal["private_metadata"])
    )
    assert refused.json() == {"response_action": "errors", "errors": {"message": "Ysgrifennwch neges, neu caewch hwn."}}
    values = {"message": {"message_text": {"type": "plain_text_input", "value": "Dewch i’m gweld"}}}
    welsh.sender.interactive(
        view_submission(MANAGER, "case_message_modal", values, private_metadata=modal["private_metadata"])
    )
    welsh.settle()
    deliver(welsh, fake_slack)
    assert any("Dewch i’m gweld" in all_text(m) for m in welsh.dm_messages(EMPLOYEE))  # it reached Alice
    # what the case service says back to Bob is in his Welsh too, not only the modal
    assert any("Wedi’i anfon at Alice Employee." in all_text(m) for m in welsh.dm_messages(MANAGER))

    welsh.click(MANAGER, to_bob, "Cydnabod")
    acknowledged = valid(welsh.fake.message(to_bob.channel, to_bob.ts))
    assert "✔️ Wedi’i gydnabod gan Bob Manager. Mae’r cyflogai wedi cael gwybod." in all_text(acknowledged)
    thanks = "Diolch, Bob Manager: mae Alice Employee wedi cael gwybod eich bod yn delio ag ef."
    assert any(thanks in all_text(m) for m in welsh.dm_messages(MANAGER))
    assert not any("has been told you are dealing with it" in all_text(m) for m in welsh.dm_messages(MANAGER))

    # Bob's Home tab speaks as the bot does to him in a conversation: his Slack is in English. Only
    # his case work (the case message and its status line, the modals about it) follows his
    # directory entry's Welsh.
    welsh.event(app_home_opened(MANAGER))
    text = view_text(valid_view(welsh.fake.home_views[MANAGER]))
    assert "Cases waiting for you" in text and "_acknowledged_" in text
    # Alice's Home tab follows her Welsh Slack: her case, where it stands and who has it, in Welsh
    welsh.event(app_home_opened(EMPLOYEE))
    home = valid_view(welsh.fake.home_views[EMPLOYEE])
    text = view_text(home)
    assert "Eich achosion agored" in text and "_wedi’i gydnabod_" in text
    assert "Wedi’i anfon at Bob Manager" in text and "mae Bob Manager yn delio ag ef" in text
    [withdraw] = [b["accessory"] for b in home["blocks"] if b.get("accessory", {}).get("action_id") == "case_withdraw"]
    assert withdraw["text"]["text"] == "Tynnu’n ôl" and withdraw["confirm"]["deny"]["text"] == "Ei gadw"
