"""Cymraeg in Teams, over real HTTP against the fake Bot Connector, with ``languages: [en, cy]``.

A person whose Teams client is in Welsh (``locale: cy-GB``) walks the shipped legal-threat flow in
Welsh, presses the language switch halfway and finishes in English; their manager, whose directory
entry says ``language: cy``, receives the urgent case card in Welsh, buttons too. Every card sent
is checked against the Adaptive Card rules by the ``connector`` fixture.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text as sql

from adapters.teams import cards
from adapters.teams.bot import ended_line, render_activities
from adapters.teams.notifier import TeamsNotifier
from bot.cases.notify import Notification, Recipient
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.replies import (
    CitationView,
    EscalationOffer,
    FlowCandidate,
    FlowChoice,
    LanguageChoice,
    LanguageSwitch,
    Notice,
    OptionView,
    Outcome,
    Question,
)
from bot.language.verdicts import Verdict
from bot.runtime import Runtime, build_runtime

from .conftest import RunningBot, start_bot
from .fake_connector import FakeConnector, adaptive_cards
from .teams_client import TeamsUser, all_actions, offered, texts_of

ALEX_AAD = "00000000-0000-4000-8000-0000000000a1"
DAI_AAD = "00000000-0000-4000-8000-0000000000b2"
COMMS_CHANNEL = "19:comms-escalations@thread.tacv2"
LEGAL_CHANNEL = "19:legal-escalations@thread.tacv2"
LEGAL_TITLE_CY = "Mae rhywun yn bygwth camau cyfreithiol oherwydd post"

DIRECTORY = f"""\
people:
  - {{id: alex, name: Alex Example, email: alex@council.example, teams_id: {ALEX_AAD}, manager: dai}}
  - {{id: dai, name: Dai Jones, email: dai@council.example, teams_id: {DAI_AAD}, language: cy}}
"""
SETTINGS = f"""\
languages: [en, cy]
directory: directory.yaml
escalation:
  comms: {{name: the Communications team, teams_channel: "{COMMS_CHANNEL}"}}
  legal: {{name: Legal Services, teams_channel: "{LEGAL_CHANNEL}"}}
"""


@dataclass
class Council:
    bot: RunningBot
    runtime: Runtime
    worker: Worker


@pytest.fixture
def council(tmp_path: Path, connector: FakeConnector) -> Iterator[Council]:
    """A bilingual council on the shipped flows (which carry their Welsh), the bot on a socket."""
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    (tmp_path / "policybot.yaml").write_text(SETTINGS, encoding="utf-8")
    runtime = build_runtime(tmp_path / "policybot.yaml", f"sqlite:///{tmp_path / 'bot.db'}", clock=FakeClock())
    running = start_bot(runtime, connector)
    try:
        yield Council(running, runtime, Worker(runtime, TeamsNotifier(running.service, loop=running.server.loop)))
    finally:
        running.server.stop()
        runtime.store.close()


def joined(card: dict[str, Any]) -> str:
    return "\n".join(texts_of(card))


def titles(card: dict[str, Any]) -> list[str]:
    return [str(a.get("title")) for a in all_actions(card)]


def question_cards(user: TeamsUser) -> list[dict[str, Any]]:
    return [c for _stored, c in user.cards() if any(a.get("verb") == "choose" for a in all_actions(c))]


def test_a_legal_threat_in_welsh_in_teams_switching_to_english_halfway(
    council: Council, connector: FakeConnector
) -> None:
    alex = TeamsUser(
        council.bot.url, connector, name="Alex Example", teams_id="29:1alex", aad_id=ALEX_AAD, locale="cy-GB"
    )
    dai = TeamsUser(
        council.bot.url,
        connector,
        name="Dai Jones",
        teams_id="29:1dai",
        aad_id=DAI_AAD,
        email="dai@council.example",
        locale="en-GB",  # Dai's Teams is in English; the directory says he reads Welsh
    )
    assert dai.post(dai.installation("add")).status == 201  # the manager has the app: his chat is known

    # "help": the menu in Welsh (Teams says cy-GB), the legal threat by its Welsh title
    assert alex.say("help").status == 201
    _stored, menu = alex.last_card()
    assert LEGAL_TITLE_CY in offered(menu)
    assert "Dechrau" in titles(menu)  # the menu's own button, from the catalogue
    assert alex.click(LEGAL_TITLE_CY).status == 200

    first = question_cards(alex)[-1]
    text = joined(first)
    assert "Ble cafodd y post ei wneud?" in text
    assert "Cwestiwn 1 o hyd at 4" in text
    buttons = titles(first)
    assert buttons[:2] == ["Ar gyfrif neu dudalen y cyngor", "Ar fy nghyfrif personol fy hun"]
    assert "Pam?" in buttons and "Stopio" in buttons  # the adapter's own words in Welsh
    assert "English" in buttons and "Cymraeg" not in buttons  # the switch: a visible button, not "…"
    switch = next(a for a in all_actions(first) if a.get("title") == "English")
    assert switch["verb"] == "language" and switch["fallback"]["data"] == switch["data"]
    assert next(b for b in first["body"] if b.get("id") == "language")["actions"] == [switch]
    hidden = joined(next(b for b in first["body"] if b.get("id") == "why"))
    assert "Pam: y polisi y tu ôl i hyn" in hidden and "(yn Saesneg)" in hidden  # the policy's own language

    clicked = alex.click("Ar gyfrif neu dudalen y cyngor")
    assert "✔ Eich ateb: Ar gyfrif neu dudalen y cyngor" in joined(clicked.body["value"])
    second = question_cards(alex)[-1]
    assert "Ydy’r post yn dal ar-lein?" in joined(second)
    assert "Yn ôl" in titles(second) and "English" in titles(second)

    # halfway: the switch. The Welsh card is redrawn without buttons; the question follows in English
    before = len(alex.cards())
    pressed = alex.click("English")
    assert pressed.status == 200
    redrawn = pressed.body["value"]
    assert "🌐 English" in joined(redrawn) and all_actions(redrawn) == []
    assert "I will speak English from now on." in alex.texts()
    english = question_cards(alex)[-1]
    assert len(alex.cards()) > before
    assert "Is the post still online?" in joined(english) and "Question 2 of up to 3" in joined(english)
    assert titles(english)[:2] == ["Yes, it is still up", "No, it has already been taken down"]
    assert "Back" in titles(english) and "Cymraeg" in titles(english) and "English" not in titles(english)

    # and the rest in English, as a repeat of the same press would not change
    alex.click("Yes, it is still up")
    assert "Can you reach your line manager today?" in joined(question_cards(alex)[-1])
    alex.click("Yes")
    _stored, outcome = alex.last_card()
    shown = joined(outcome)
    assert "ACT NOW" in shown.upper() and "What to do" in shown and "Based on" in shown
    assert "Dai Jones" in shown and "Start again" in titles(outcome) and "Cymraeg" in titles(outcome)
    assert "(yn Saesneg)" not in shown  # English reader, English policy: nothing to say

    # the case reaches Dai in Welsh, because his directory entry says so
    council.worker.run_once()
    dai_cards = [c for _s, c in dai.cards()]
    assert dai_cards, "Dai got no case card"
    case = dai_cards[-1]
    words = joined(case)
    assert "BRYS: Mae angen eich help ar Alex Example: " + LEGAL_TITLE_CY in words
    assert "URGENT" not in words
    assert "Cydnabod" in titles(case) and "Anfon neges at y cyflogai" in titles(case)
    message = next(a for a in all_actions(case) if a.get("type") == "Action.ShowCard")
    assert message["card"]["body"][0]["label"] == "Eich neges"
    assert [a["title"] for a in message["card"]["actions"]] == ["Anfon"]
    acknowledged = dai.click("Cydnabod", card=dai.cards()[-1])
    assert acknowledged.status == 200
    after = acknowledged.body["value"]
    assert "Cydnabod" not in titles(after) and "Anfon neges at y cyflogai" in titles(after)
    # the status line the case service gives back is in Dai's Welsh, like the card it goes on
    assert "Diolch, Dai Jones: mae Alex Example wedi cael gwybod eich bod yn delio ag ef." in joined(after), joined(
        after
    )


def test_the_adapters_own_messages_the_help_menu_and_its_switch_in_welsh(council: Council) -> None:
    """Everything the adapter says itself, for a person whose Teams is in Welsh: the help menu with
    the language switch, "my cases", the preview commands, a stale button and the pop-ups."""
    alex = TeamsUser(council.bot.url, council.bot.connector, name="Alex Example", aad_id=ALEX_AAD, locale="cy-GB")

    assert alex.post(alex.installation("add")).status == 201  # the welcome: Welsh, with the switch
    _stored, welcome = alex.last_card()
    assert joined(welcome).startswith("Helo!") and "English" in titles(welcome)

    assert alex.say("help").status == 201
    _stored, menu = alex.last_card()
    assert "Dechrau" in titles(menu) and "English" in titles(menu) and "Cymraeg" not in titles(menu)
    switch = next(a for a in all_actions(menu) if a.get("title") == "English")
    assert switch["verb"] == "language" and switch["data"]["lg"] == "en" and "c" not in switch["data"]

    alex.say("my cases")
    _stored, mine = alex.last_card()
    assert "Eich achosion" in joined(mine) and "Nid ydych chi wedi codi unrhyw achosion." in joined(mine)
    assert "Your cases" not in joined(mine)

    alex.say("preview")
    assert alex.texts()[-1] == (
        "Dywedwch pa newid i’w ragweld: preview ac yna ei rif (mae’r cerdyn adolygu yn ei ddangos)."
    )
    alex.say("preview end")
    assert alex.texts()[-1] == (
        "Does gennych chi ddim rhagolwg ar waith. Dywedwch preview ac yna rhif newid i ddechrau un."
    )

    stale = alex.post(alex.invoke({"verb": "choose", "data": {"v": "not a card of ours"}}, _stored.activity_id))
    assert stale.status == 200
    assert stale.body["value"].startswith("Mae’r botwm hwnnw ar gerdyn na allaf ei ddefnyddio mwyach.")

    # a check part-way, then "help": the carry-on card; carrying on says so in Welsh
    alex.say("help")
    assert alex.click(LEGAL_TITLE_CY, card=alex.cards()[-1]).status == 200
    alex.say("help")
    second_menu = alex.last_card()  # the menu, after the carry-on card, with the switch
    assert "English" in titles(second_menu[1]) and "Dechrau" in titles(second_menu[1])
    resume = next(c for c in reversed(alex.cards()) if "Parhau" in titles(c[1]))
    carried = alex.click("Parhau", card=resume)
    assert carried.body["value"] == "Parhau."
    assert "Ble cafodd y post ei wneud?" in joined(question_cards(alex)[-1])

    # the menu's switch: pressed, the pop-up names the language; the next menu is English, offering Welsh
    pressed = alex.click("English", card=second_menu)
    assert pressed.body["value"] == "🌐 English"
    alex.say("help")
    _stored, english = alex.last_card()
    assert "Start" in titles(english) and "Cymraeg" in titles(english) and "English" not in titles(english)


def test_an_apology_for_a_failed_turn_is_in_welsh(
    council: Council, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    alex = TeamsUser(council.bot.url, connector, name="Alex Example", aad_id=ALEX_AAD, locale="cy-GB")
    alex.say("help")
    alex.click(LEGAL_TITLE_CY)
    with council.runtime.store.engine.begin() as conn:  # break the database under the running bot
        conn.execute(sql("DROP TABLE conversations"))
    caplog.set_level(logging.ERROR, logger="policybot.teams")
    result = alex.click("Ar gyfrif neu dudalen y cyngor")
    message = result.body["value"]
    assert message.startswith("Mae’n ddrwg gen i, aeth rhywbeth o’i le")
    reference = message.rsplit(" ", 1)[-1]
    assert any(reference in r.getMessage() for r in caplog.records)
    alex.say("2")
    assert alex.texts()[-1].startswith("Mae’n ddrwg gen i")


def test_the_preview_ended_line_and_unnamed_escalation_targets_in_welsh() -> None:
    assert ended_line("0123456789abcdef", "cy") == (
        "Mae’r rhagolwg o newid 01234567 wedi dod i ben. Rydych chi’n ôl gyda’r gwiriadau cyhoeddedig; "
        "dywedwch preview 01234567 i fynd drwyddo eto."
    )
    shown = joined(cards.outcome_card(welsh_outcome()))
    assert "eich rheolwr llinell a Cyfathrebu" in shown or "eich rheolwr llinell a’r Cyfathrebu" in shown
    assert "your line manager" not in shown and "Communications" not in shown


def welsh_outcome() -> Outcome:
    """A Welsh outcome whose escalation targets the settings give no name to."""
    return Outcome(
        conversation_id="c" * 32,
        flow_id="f",
        flow_title="Gwiriad",
        state="o",
        verdict=Verdict.CARE,
        text="Gofalwch.",
        checklist=["Un peth"],
        citations=[],
        answers=[],
        escalation=EscalationOffer(["line_manager", "comms"], ["legal"], 7200, False, "Neges"),
        language="cy",
    )


def welsh_cases_card() -> dict[str, Any]:
    """ "my cases" for a Welsh reader with cases of their own and cases waiting for them."""

    def case(state: str, by: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(
            flow_title=LEGAL_TITLE_CY, state=state, acknowledged_by_name=by, short_id="01234567", employee_name="Alex"
        )

    return cards.cases_card([case("open"), case("acknowledged", "Dai Jones"), case("resolved")], [case("open")], "cy")


def test_my_cases_card_in_welsh() -> None:
    shown = joined(welsh_cases_card())
    for words in ("Eich achosion", "yn aros i rywun ei gymryd", "wedi’i gymryd gan Dai Jones", "wedi’i ddatrys"):
        assert words in shown
    assert "Yn aros amdanoch chi" in shown and "(achos 01234567)" in shown
    assert "Defnyddiwch y botymau ar gerdyn pob achos i weithredu arno." in shown
    assert "case " not in shown and "Waiting" not in shown


def test_a_welsh_reply_set_of_notices_only_gets_the_switch_on_a_small_card_of_its_own() -> None:
    switch = LanguageSwitch(
        current="cy", choices=[LanguageChoice("cy", "Cymraeg", True), LanguageChoice("en", "English", False)]
    )
    activities = render_activities([Notice("Helo"), switch])
    assert activities[0].text == "Helo"
    alone = adaptive_cards(activities[1].model_dump(by_alias=True, exclude_none=True))[0]
    assert "🌐 Cymraeg" in joined(alone)
    button = next(a for a in all_actions(alone) if a.get("type") == "Action.Execute")
    assert button["title"] == "English" and button["data"]["lg"] == "en" and "c" not in button["data"]


def welsh_cards() -> list[dict[str, Any]]:
    """Welsh cards the conversation test does not reach, for the card rules and the npm check:
    a question with a choice set and a Welsh policy, the switch alone, feedback, a resume card,
    every case card kind for a Welsh reader, and a Welsh reviewer's card."""
    switch = LanguageSwitch(
        current="cy",
        choices=[LanguageChoice("cy", "Cymraeg", True), LanguageChoice("en", "English", False)],
        conversation_id="c1",
    )
    long_options = [f"Opsiwn hir iawn rhif {i}, sy’n rhy hir i fotwm yn Teams o bell ffordd" for i in range(7)]
    question = Question(
        conversation_id="c1",
        flow_id="f",
        flow_title="Gwiriad",
        state="s",
        turn=1,
        step=3,
        max_steps=3,
        text="Pa un?",
        options=[OptionView(i, label) for i, label in enumerate(long_options)],
        citations=[CitationView("p1", "Polisi Cymraeg", "c", "crynodeb", "dyfyniad", "paragraff 1", "cy")],
        can_go_back=True,
        language="cy",
    )
    out = [
        a.attachments[0].content  # type: ignore[index]
        for a in render_activities([question, switch])
    ]
    alone = cards.language_switch_card(switch)
    assert alone is not None
    out.append(alone)
    out.append(cards.resume_card("c1", "Gwiriad", "Pa un?", start_new=(None, "geiriau"), language="cy"))
    for kind in ("case_opened", "reminder", "case_escalated", "case_acknowledged"):
        actions = ["acknowledge", "resolve", "message_employee"] if kind in ("case_opened", "reminder") else []
        n = Notification(
            id=f"n-{kind}",
            case_id="0123456789abcdef0123456789abcdef",
            kind=kind,
            recipient=Recipient(kind="person", key="dai", name="Dai Jones", language="cy"),
            title="BRYS: Mae angen eich help ar Alex Example: " + LEGAL_TITLE_CY,
            text="Mae Alex Example wedi cael ei fygwth â chamau cyfreithiol.",
            actions=actions,
            facts=[("Cyflogai", "Alex Example"), ("Achos", "01234567")],
            urgency="urgent",
        )
        content = cards.notification_card(n)
        out += [content, cards.case_card_after(content, "Wedi’i gydnabod", keep_actions=True)]
    review = Notification(
        id="n-review",
        case_id="0123456789abcdef0123456789abcdef",
        kind="change_submitted",
        recipient=Recipient(kind="person", key="dai", name="Dai Jones", language="cy"),
        title="Newid i’r llyfrgell",
        text="== legal-threat.yaml (changed)",
        actions=["approve_change", "request_changes"],
        facts=[("Flows", "legal-threat")],
    )
    out.append(cards.notification_card(review))
    out += [welsh_cases_card(), cards.cases_card([], [], "cy"), cards.outcome_card(welsh_outcome())]
    menu = FlowChoice("Beth sy’n digwydd?", [FlowCandidate("legal-threat", LEGAL_TITLE_CY, 0.0)])
    menu_switch = LanguageSwitch(
        current="cy", choices=[LanguageChoice("cy", "Cymraeg", True), LanguageChoice("en", "English", False)]
    )
    out += [a.attachments[0].content for a in render_activities([menu, menu_switch])]  # type: ignore[index]
    return out


def welsh_flow_cards(folder: Path) -> list[dict[str, Any]]:
    """Every shipped flow's first question, and the answers down its first options to an outcome,
    as a Welsh reader in Teams gets them (``languages: [en, cy]``, the switch on each card)."""
    folder.mkdir()
    settings = folder / "policybot.yaml"
    settings.write_text("languages: [en, cy]\n", encoding="utf-8")
    runtime = build_runtime(settings, f"sqlite:///{folder / 'bot.db'}")
    actor = Actor(user_id="teams:welsh", platform="teams", locale="cy-GB")
    out: list[dict[str, Any]] = []
    for flow in runtime.library.all():
        replies: list[Any] = runtime.engine.handle(actor, Start(flow_id=flow.id))
        for _step in range(12):
            out += [c for a in render_activities(replies) for c in adaptive_cards(a.model_dump(by_alias=True))]
            question = next((r for r in replies if isinstance(r, Question)), None)
            if question is None:
                break
            replies = runtime.engine.handle(actor, Choose(question.conversation_id, question.state, 0, question.turn))
    runtime.store.close()
    return out


def test_welsh_cards_pass_the_card_rules(tmp_path: Path) -> None:
    from .card_rules import card_problems

    found = welsh_cards()
    flows = welsh_flow_cards(tmp_path / "welsh")
    problems = [p for content in [*found, *flows] for p in card_problems(content)]
    assert problems == []
    assert len(flows) > 40 and "Ble cafodd y post ei wneud?" in "\n".join(joined(c) for c in flows)
    assert all("English" in titles(c) for c in flows if any(a.get("verb") == "choose" for a in all_actions(c)))
    text = "\n".join(joined(c) for c in found)
    assert "Cwestiwn 3 (yr un olaf)" in text and "Polisi Cymraeg" in text and "(yn" not in text
    all_titles = [t for c in found for t in titles(c)]
    assert {"Ateb", "Yn ôl", "Stopio", "English", "Parhau", "Cydnabod", "Wedi’i ddatrys", "Cymeradwyo"} <= set(
        all_titles
    )


def test_a_channel_hears_welsh_first_and_a_welsh_speaker_is_moved_in_welsh(
    council: Council, connector: FakeConnector
) -> None:
    """A channel is shared: the bot's greeting there is bilingual, Welsh first (nobody's language
    is known). The neutral line left behind when a check moves to a private chat is in the
    language the bot speaks to the person who started it."""
    channel, team = "19:general@thread.tacv2", "19:team-general@thread.tacv2"
    alex = TeamsUser(
        council.bot.url, connector, name="Alex Example", teams_id="29:1alex", aad_id=ALEX_AAD, locale="cy-GB"
    )
    assert alex.post(alex.team_installation(channel, team)).status == 201
    hello = " ".join(a.latest.get("text") or "" for a in connector.sent_to(channel))
    welsh, english = hello.index("Helo! Policybot ydw i."), hello.index("Hello! I'm Policybot.")
    assert welsh < english

    # English words from someone whose Teams is in Welsh: the router's "not Welsh" keeps their Welsh
    mention = alex.channel_mention("someone is threatening to sue me over my tweet", channel, team)
    assert alex.post(mention).status == 201
    said = [a.latest.get("text") or "" for a in connector.sent_to(mention["conversation"]["id"])]
    assert "Alex, rydw i wedi anfon neges breifat atoch chi i barhau â hyn." in said, said
    assert not any("I've sent you a private message" in line for line in said)


def test_welsh_command_words_work_as_the_english_ones_do(council: Council, connector: FakeConnector) -> None:
    alex = TeamsUser(council.bot.url, connector, name="Alex Example", teams_id="29:1alex", aad_id=ALEX_AAD)
    assert alex.say("cymorth").status == 201  # an English Teams: the words still work
    _stored, menu = alex.last_card()
    assert any(a.get("verb") == "start" for a in all_actions(menu)), titles(menu)
    assert alex.say("my cases").status == 201
    english = connector.sent_to(alex.conversation_id)[-1].latest
    assert alex.say("fy achosion").status == 201
    welsh = connector.sent_to(alex.conversation_id)[-1].latest
    assert welsh is not english and welsh.get("attachments") == english.get("attachments")
    assert welsh.get("text") == english.get("text")
    assert "cases" in json.dumps(english).lower(), english  # it is the cases answer, not a routed situation
