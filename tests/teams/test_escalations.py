"""Proactive escalations in Teams, end to end over real HTTP.

The employee talks to the bot; the engine opens a case; the core's worker delivers its
notifications through ``TeamsNotifier`` to the fake Bot Connector; the manager (or a team member
in a channel) clicks the card; the case service checks them against the staff directory; the
employee hears back. The clock is a FakeClock so retries can be brought forward without sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.teams.cards import preview
from adapters.teams.notifier import TeamsNotifier
from bot.cases.notify import Notification, Recipient
from bot.cases.tables import outbox
from bot.cases.worker import PassReport, Worker
from bot.clock import FakeClock
from bot.runtime import Runtime, build_runtime

from .conftest import TEST_FLOWS, RunningBot, start_bot
from .fake_connector import FakeConnector, StoredActivity, adaptive_cards
from .teams_client import TeamsUser, all_actions, texts_of

ALEX_AAD = "00000000-0000-4000-8000-0000000000a1"
JO_AAD = "00000000-0000-4000-8000-0000000000b1"
CAM_AAD = "00000000-0000-4000-8000-0000000000c1"
RILEY_AAD = "00000000-0000-4000-8000-0000000000d1"  # in the directory, in no team
PAT_AAD = "00000000-0000-4000-8000-0000000000e1"  # managed by someone with no way to reach them
COMMS_CHANNEL = "19:comms-escalations@thread.tacv2"
LEGAL_CHANNEL = "19:legal-escalations@thread.tacv2"
LEGAL = "someone is threatening to sue me over my tweet"

DIRECTORY = f"""\
people:
  - {{id: alex, name: Alex Example, email: alex@council.example, teams_id: {ALEX_AAD}, manager: jo}}
  - {{id: jo, name: Jo Manager, email: jo@council.example, teams_id: {JO_AAD}}}
  - {{id: cam, name: Cam Comms, email: cam@council.example, teams_id: {CAM_AAD}, roles: [comms]}}
  - {{id: riley, name: Riley Bystander, email: riley@council.example, teams_id: {RILEY_AAD}}}
  - {{id: pat, name: Pat Example, email: pat@council.example, teams_id: {PAT_AAD}, manager: kim}}
  - {{id: kim, name: Kim Unreachable, email: kim@council.example}}
"""
SETTINGS = f"""\
directory: directory.yaml
escalation:
  comms: {{name: the Communications team, teams_channel: "{COMMS_CHANNEL}"}}
  legal: {{name: Legal Services, teams_channel: "{LEGAL_CHANNEL}"}}
cases:
  delivery_attempts: 5
  retry_base_seconds: 60
  delivery_timeout_seconds: 10
"""


@dataclass
class Org:
    bot: RunningBot
    runtime: Runtime
    clock: FakeClock
    connector: FakeConnector
    worker: Worker

    def person(self, name: str, teams_id: str, aad_id: str, email: str, conversation_id: str = "") -> TeamsUser:
        return TeamsUser(
            self.bot.url,
            self.connector,
            name=name,
            teams_id=teams_id,
            aad_id=aad_id,
            email=email,
            conversation_id=conversation_id,
        )

    def deliver(self) -> PassReport:
        """One worker pass: due timers, then due notifications through the Teams notifier."""
        return self.worker.run_once()

    def outbox_rows(self) -> list[dict[str, object]]:
        with self.runtime.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.created_at)).mappings()]


@pytest.fixture
def org(tmp_path: Path, connector: FakeConnector, database_url: str) -> Iterator[Org]:
    """An organisation on SQLite and on PostgreSQL (the shared ``database_url`` fixture)."""
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    (tmp_path / "policybot.yaml").write_text(SETTINGS, encoding="utf-8")
    clock = FakeClock()
    runtime = build_runtime(tmp_path / "policybot.yaml", database_url, flows_dir=TEST_FLOWS, clock=clock)
    running = start_bot(runtime, connector)
    notifier = TeamsNotifier(running.service, loop=running.server.loop)
    try:
        yield Org(running, runtime, clock, connector, Worker(runtime, notifier))
    finally:
        running.server.stop()
        runtime.store.close()


@pytest.fixture
def alex(org: Org) -> TeamsUser:
    return org.person("Alex Example", "29:1alex", ALEX_AAD, "alex@council.example")


@pytest.fixture
def jo(org: Org) -> TeamsUser:
    manager = org.person("Jo Manager", "29:1jo", JO_AAD, "jo@council.example")
    assert manager.post(manager.installation("add")).status == 201  # Jo has the app: a reference is stored
    return manager


def joined(card: dict[str, object]) -> str:
    return "\n".join(texts_of(card))


def case_cards(user: TeamsUser) -> list[tuple[StoredActivity, dict[str, object]]]:
    return [(a, c) for a, c in user.cards() if any(str(x.get("title")) == "Resolved" for x in all_actions(c))]


def reach_the_outcome(alex: TeamsUser, manager_available: str = "Yes") -> dict[str, object]:
    alex.say(LEGAL)
    alex.click("On a council account or page")
    alex.click("Yes, it is still up")
    alex.click(manager_available)
    return alex.last_card()[1]


def test_full_scenario_manager_acknowledges_and_the_employee_hears_back(
    org: Org, alex: TeamsUser, jo: TeamsUser
) -> None:
    outcome = reach_the_outcome(alex)
    assert "✔ Sent to Jo Manager" in joined(outcome)  # the case opened with the outcome (required escalation)

    report = org.deliver()
    assert len(report.deliveries.delivered) == 1
    [(card_activity, card)] = case_cards(jo)
    text = joined(card)
    assert "URGENT: Alex Example needs you: Someone is threatening legal action over a post" in text
    assert text.count("URGENT") == 1
    assert "Where was the post made? On a council account or page" in text  # the employee's answers
    titles = [a["title"] for a in all_actions(card)]
    assert titles[:3] == ["Acknowledge", "Resolved", "Message the employee"]

    result = jo.click("Acknowledge", card=(card_activity, card))
    redrawn = result.body["value"]
    assert "Thanks, Jo Manager: Alex Example has been told you are dealing with it." in joined(redrawn)
    assert "Acknowledge" not in [a["title"] for a in all_actions(redrawn)]
    assert "Resolved" in [a["title"] for a in all_actions(redrawn)]

    org.deliver()
    assert "Jo Manager has picked up your case" in joined(alex.last_card()[1])

    jo.click("Send", card=(card_activity, redrawn), message="Call me when you can, I'm in all day.")
    org.deliver()
    assert "Call me when you can" in joined(alex.last_card()[1])

    result = jo.click("Resolved", card=(card_activity, redrawn))
    assert all_actions(result.body["value"]) == []
    org.deliver()
    assert "Your case is resolved" in joined(alex.last_card()[1])
    assert {row["status"] for row in org.outbox_rows()} == {"delivered"}


def test_the_manager_card_is_a_proactive_message_into_the_stored_1to1_chat(
    org: Org, alex: TeamsUser, jo: TeamsUser, connector: FakeConnector
) -> None:
    reach_the_outcome(alex)
    org.deliver()
    [(stored, _)] = case_cards(jo)
    assert stored.conversation_id == jo.conversation_id
    assert connector.successful("create_conversation") == []


def test_failing_deliveries_are_retried_from_the_outbox_and_nothing_is_lost(
    org: Org, alex: TeamsUser, jo: TeamsUser, connector: FakeConnector
) -> None:
    reach_the_outcome(alex)
    connector.fail_next(1, 429, retry_after=30, operations={"send", "reply"})
    connector.fail_next(1, 503, operations={"send", "reply"})

    first = org.deliver()
    assert first.deliveries.retrying and not first.deliveries.delivered
    [row] = org.outbox_rows()
    assert row["attempts"] == 1 and "429" in str(row["last_error"])
    assert row["next_attempt_at"] == org.clock.now() + timedelta(seconds=30)  # the service's Retry-After
    assert org.deliver().deliveries.attempted == 0  # not due yet

    org.clock.advance(timedelta(seconds=31))
    second = org.deliver()
    assert second.deliveries.retrying  # the 503
    org.clock.advance(timedelta(hours=1))
    third = org.deliver()
    assert len(third.deliveries.delivered) == 1
    assert len(case_cards(jo)) == 1  # delivered once, despite three attempts
    [row] = org.outbox_rows()
    assert row["status"] == "delivered" and row["attempts"] == 3


def test_a_notification_already_delivered_is_not_sent_twice(org: Org, alex: TeamsUser, jo: TeamsUser) -> None:
    reach_the_outcome(alex)
    org.deliver()
    [row] = org.outbox_rows()
    again = Notification(
        id=str(row["id"]),
        case_id=str(row["case_id"]),
        kind=str(row["kind"]),
        recipient=Recipient(**json.loads(str(row["recipient"]))),
        title=str(row["title"]),
        text=str(row["text"]),
        actions=list(json.loads(str(row["actions"]))),
    )
    org.worker.notifier.deliver(again)  # the outbox delivers at least once: a repeat must not show twice
    assert len(case_cards(jo)) == 1


def test_without_the_manager_the_case_goes_to_the_comms_and_legal_channels(
    org: Org, alex: TeamsUser, connector: FakeConnector
) -> None:
    reach_the_outcome(alex, manager_available="No, they are away or not answering")
    report = org.deliver()
    assert len(report.deliveries.delivered) == 2
    created = connector.successful("create_conversation")
    channels = sorted(c.body["channelData"]["channel"]["id"] for c in created)  # type: ignore[index]
    assert channels == sorted([COMMS_CHANNEL, LEGAL_CHANNEL])
    assert all(c.body["isGroup"] is True for c in created)  # type: ignore[index]
    posts = {
        c.conversation_id.split(";")[0]: (c, adaptive_cards(c.latest)[0])
        for c in connector.activities.values()
        if c.conversation_id.startswith("19:")
    }
    assert "URGENT: Alex Example needs you" in joined(posts[COMMS_CHANNEL][1])


def test_in_a_channel_only_the_team_may_act_and_a_refusal_leaves_the_card_alone(
    org: Org, alex: TeamsUser, connector: FakeConnector
) -> None:
    reach_the_outcome(alex, manager_available="No, they are away or not answering")
    org.deliver()
    comms_post = next(
        (a, adaptive_cards(a.latest)[0])
        for a in connector.activities.values()
        if a.conversation_id.startswith(COMMS_CHANNEL)
    )
    riley = org.person("Riley Bystander", "29:1riley", RILEY_AAD, "riley@council.example")
    refused = riley.click("Acknowledge", card=comms_post)
    assert refused.body["type"] == "application/vnd.microsoft.activity.message"
    assert len(comms_post[0].versions) == 1  # the shared card was not touched

    cam = org.person("Cam Comms", "29:1cam", CAM_AAD, "cam@council.example")
    accepted = cam.click("Acknowledge", card=comms_post)
    assert "Thanks, Cam Comms" in joined(accepted.body["value"])
    org.deliver()
    assert "Cam Comms has picked up your case" in joined(alex.last_card()[1])


def test_a_manager_who_never_opened_the_bot_gets_a_new_1to1_chat(
    org: Org, alex: TeamsUser, connector: FakeConnector
) -> None:
    reach_the_outcome(alex)  # Jo has not installed the app: no stored reference for Jo
    report = org.deliver()
    assert len(report.deliveries.delivered) == 1
    [created] = connector.successful("create_conversation")
    assert created.body["members"] == [{"id": JO_AAD}]  # type: ignore[index]
    assert created.body["isGroup"] is False  # type: ignore[index]
    conversation = next(iter(connector.conversations))
    card_activity = connector.sent_to(conversation)[0]
    jo = org.person("Jo Manager", "29:1jo", JO_AAD, "jo@council.example", conversation_id=conversation)
    result = jo.click("Acknowledge", card=(card_activity, adaptive_cards(card_activity.latest)[0]))
    assert "Thanks, Jo Manager" in joined(result.body["value"])


def test_an_unreachable_manager_is_reported_to_comms_instead_of_being_lost(org: Org, connector: FakeConnector) -> None:
    pat = org.person("Pat Example", "29:1pat", PAT_AAD, "pat@council.example")
    reach_the_outcome(pat)  # Kim, Pat's manager, has no Teams id and never used the bot
    report = org.deliver()
    assert report.deliveries.failed  # permanent: retrying cannot find Kim
    [failed] = [r for r in org.outbox_rows() if r["status"] == "failed"]
    assert "Kim Unreachable" in str(failed["last_error"]) and "teams_id" in str(failed["last_error"])
    org.deliver()  # the comms team's "could not deliver" notice goes to its channel
    comms_posts = [a for a in connector.activities.values() if a.conversation_id.startswith(COMMS_CHANNEL)]
    assert any("could not deliver" in joined(adaptive_cards(a.latest)[0]) for a in comms_posts)


def test_my_cases_lists_what_i_raised_and_what_waits_for_me(org: Org, alex: TeamsUser, jo: TeamsUser) -> None:
    reach_the_outcome(alex)
    alex.say("my cases")
    mine = joined(alex.last_card()[1])
    assert "Your cases" in mine and "Someone is threatening legal action over a post" in mine
    jo.say("my cases")
    waiting = joined(jo.last_card()[1])
    assert "Waiting for you" in waiting and "Alex Example" in waiting


def test_a_submit_fallback_click_on_a_case_card_updates_it_too(
    org: Org, alex: TeamsUser, jo: TeamsUser, connector: FakeConnector
) -> None:
    reach_the_outcome(alex)
    org.deliver()
    [(stored, card)] = case_cards(jo)
    result = jo.click("Acknowledge", via="submit", card=(stored, card))
    assert result.status == 201
    assert len(stored.versions) == 2
    assert "Thanks, Jo Manager" in joined(adaptive_cards(stored.latest)[0])
    assert [u.activity_id for u in connector.successful("update")][-1] == stored.activity_id


def test_my_cases_is_never_listed_in_a_channel(org: Org, alex: TeamsUser, connector: FakeConnector) -> None:
    reach_the_outcome(alex)
    activity = alex.channel_mention("my cases", "19:general@thread.tacv2", "19:general@thread.tacv2")
    alex.post(activity)
    [reply] = connector.sent_to(activity["conversation"]["id"])
    assert reply.latest["text"].startswith("Your cases are private")
    assert not adaptive_cards(reply.latest)


KIM_AAD = "00000000-0000-4000-8000-0000000000f1"


def reference_keys(org: Org) -> list[str]:
    from adapters.teams.storage import references

    with org.runtime.store.engine.connect() as conn:
        return sorted(row.key for row in conn.execute(select(references.c.key)))


def test_a_manager_known_only_by_email_who_installed_but_never_wrote_gets_the_card(org: Org) -> None:
    kim = org.person("Kim Unreachable", "29:1kim", KIM_AAD, "kim@council.example")
    assert kim.post(kim.installation("add")).status == 201  # installed (by Kim or an admin); never writes
    assert "email:kim@council.example" in reference_keys(org)  # filed under the roster's email
    pat = org.person("Pat Example", "29:1pat", PAT_AAD, "pat@council.example")
    reach_the_outcome(pat)
    report = org.deliver()
    assert report.deliveries.delivered, report
    [(card_activity, card)] = case_cards(kim)
    assert "Pat Example" in joined(card)
    # the notification's preview text is the card's first line ("URGENT: …"), not Teams' "Sent a card"
    assert card_activity.latest["summary"] == preview(texts_of(card)[0])
    assert card_activity.latest["summary"].startswith("URGENT")


def test_uninstalling_removes_every_key_for_the_person(org: Org) -> None:
    kim = org.person("Kim Unreachable", "29:1kim", KIM_AAD, "kim@council.example")
    kim.say("help")  # filed under Teams id, Entra id, email and policybot id
    assert {"user:29:1kim", f"aad:{KIM_AAD}", "email:kim@council.example"} <= set(reference_keys(org))
    assert kim.post(kim.installation("remove")).status == 201
    assert [k for k in reference_keys(org) if "kim" in k or KIM_AAD in k] == []
