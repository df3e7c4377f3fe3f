"""Reviewing changes to the flow library in Teams, end to end over real HTTP.

An author's change is submitted through the core (bot/publishing); the worker delivers the review
notification through ``TeamsNotifier`` to the fake Bot Connector; a reviewer clicks Approve or
Request changes on the card; the core decides, by the clicker's authenticated identity, whether
they may. ``preview CHANGE`` in a personal chat walks the draft, every reply marked, nothing sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.teams import cards
from adapters.teams.notifier import TeamsNotifier
from bot.cases.tables import cases, outbox
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.publishing.model import Change
from bot.runtime import Runtime, build_runtime

from .card_rules import card_problems
from .conftest import TEST_FLOWS, RunningBot, start_bot
from .fake_connector import FakeConnector, StoredActivity
from .teams_client import TeamsUser, all_actions

ALEX_AAD = "00000000-0000-4000-8000-0000000000a1"  # the author
JO_AAD = "00000000-0000-4000-8000-0000000000b1"  # a reviewer
CAM_AAD = "00000000-0000-4000-8000-0000000000c1"  # a reviewer
RILEY_AAD = "00000000-0000-4000-8000-0000000000d1"  # in the directory, neither author nor reviewer
OLD_ADVICE = "Go ahead."
NEW_ADVICE = "Go ahead, as the new draft says."

DIRECTORY = f"""\
people:
  - {{id: alex, name: Alex Author, email: alex@council.example, teams_id: {ALEX_AAD}, manager: jo}}
  - {{id: jo, name: Jo Reviewer, email: jo@council.example, teams_id: {JO_AAD}}}
  - {{id: cam, name: Cam Reviewer, email: cam@council.example, teams_id: {CAM_AAD}, roles: [comms]}}
  - {{id: riley, name: Riley Bystander, email: riley@council.example, teams_id: {RILEY_AAD}}}
"""
SETTINGS = """\
directory: directory.yaml
authoring:
  authors: [alex]
  reviewers: [jo, cam]
"""

SCENARIOS = f"""\
flow: can-i-post
scenarios:
  - name: a council account post the comms team approved
    answers: [A council account, "Yes"]
    expect: {{state: go_ahead, verdict: go, says: ["{NEW_ADVICE}"]}}
  - name: a council account post nobody approved
    answers: [A council account, "No"]
    expect: {{state: ask_comms, verdict: act}}
  - name: my own account, about work
    answers: [My own account, "Yes"]
    expect: {{state: careful, verdict: care}}
  - name: my own account, criticising the council
    answers: [My own account, It criticises the council]
    expect: {{state: dont, verdict: stop}}
"""


@dataclass
class Org:
    bot: RunningBot
    runtime: Runtime
    connector: FakeConnector
    worker: Worker

    def person(self, name: str, teams_id: str, aad_id: str, email: str) -> TeamsUser:
        return TeamsUser(self.bot.url, self.connector, name=name, teams_id=teams_id, aad_id=aad_id, email=email)

    def submit(self) -> Change:
        assert self.runtime.publishing is not None
        text = (TEST_FLOWS / "can-i-post.yaml").read_text(encoding="utf-8")
        assert f"say: {OLD_ADVICE}" in text
        edited = text.replace(f"say: {OLD_ADVICE}", f"say: {NEW_ADVICE}")
        files: dict[str, str | None] = {"can-i-post.yaml": edited, "can-i-post.test.yaml": SCENARIOS}
        return self.runtime.publishing.submit_files(files, "alex", "clearer advice")

    def live_version(self) -> int:
        assert self.runtime.publishing is not None
        return self.runtime.publishing.all_versions()[-1].number


def running_org(
    tmp_path: Path, connector: FakeConnector, database_url: str, directory: str, settings: str
) -> Iterator[Org]:
    """The council with this directory and these settings, the bot on a socket, its worker."""
    (tmp_path / "directory.yaml").write_text(directory, encoding="utf-8")
    (tmp_path / "policybot.yaml").write_text(settings, encoding="utf-8")
    runtime = build_runtime(tmp_path / "policybot.yaml", database_url, flows_dir=TEST_FLOWS, clock=FakeClock())
    running = start_bot(runtime, connector)
    notifier = TeamsNotifier(running.service, loop=running.server.loop)
    try:
        yield Org(running, runtime, connector, Worker(runtime, notifier))
    finally:
        running.server.stop()
        runtime.store.close()


@pytest.fixture
def org(tmp_path: Path, connector: FakeConnector, database_url: str) -> Iterator[Org]:
    yield from running_org(tmp_path, connector, database_url, DIRECTORY, SETTINGS)


def installed(org: Org, name: str, teams_id: str, aad: str, email: str) -> TeamsUser:
    user = org.person(name, teams_id, aad, email)
    assert user.post(user.installation("add")).status == 201  # the app is installed: a reference is stored
    return user


@pytest.fixture
def alex(org: Org) -> TeamsUser:
    return installed(org, "Alex Author", "29:1alex", ALEX_AAD, "alex@council.example")


@pytest.fixture
def jo(org: Org) -> TeamsUser:
    return installed(org, "Jo Reviewer", "29:1jo", JO_AAD, "jo@council.example")


@pytest.fixture
def cam(org: Org) -> TeamsUser:
    return installed(org, "Cam Reviewer", "29:1cam", CAM_AAD, "cam@council.example")


def words(node: Any) -> str:
    """Every text on a card (TextBlocks, text runs, facts), one per line."""
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
            out.append(node["text"])
        if "title" in node and "value" in node and isinstance(node["value"], str):
            out.append(f"{node['title']}: {node['value']}")
        for key, value in node.items():
            if key != "fallback":
                out.append(words(value))
    elif isinstance(node, list):
        out.extend(words(v) for v in node)
    return "\n".join(x for x in out if x)


def review_card(user: TeamsUser) -> tuple[StoredActivity, dict[str, Any]]:
    found = [(a, c) for a, c in user.cards() if any(x.get("title") == "Approve" for x in all_actions(c))]
    assert len(found) == 1, f"{user.name} has {len(found)} review cards"
    return found[0]


def test_the_review_card_shows_the_change_and_passes_the_card_rules(
    org: Org, alex: TeamsUser, jo: TeamsUser, cam: TeamsUser
) -> None:
    change = org.submit()
    report = org.worker.run_once()
    assert len(report.deliveries.delivered) == 2  # jo and cam; never the author
    activity, content = review_card(jo)
    review_card(cam)
    assert not [c for _, c in alex.cards() if any(x.get("title") == "Approve" for x in all_actions(c))]
    assert card_problems(content) == []
    shown = words(content)
    assert f"waits for your review ({change.id[:8]})" in shown
    assert "Submitted by: Alex Author" in shown and f"Change: {change.id[:8]}" in shown
    assert "Note: clearer advice" in shown
    assert NEW_ADVICE in shown and "== can-i-post.yaml (changed)" in shown  # the diff, as the core wrote it
    assert f"Case {change.id[:8]}" not in shown  # review cards carry the Change fact instead
    runs = [r for r in _runs(content) if NEW_ADVICE in r["text"]]
    assert runs and all(r.get("fontType") == "Monospace" for r in runs)
    assert activity.latest["summary"].startswith("Change waiting for your review: can-i-post, from Alex Author")
    titles = [a["title"] for a in all_actions(content)]
    assert titles == ["Approve", "Request changes", "Send back to the author"]
    [reason] = [i for i in _inputs(content) if i["id"] == "why"]
    assert reason["isRequired"] is True


def test_a_long_diff_is_cut_with_a_pointer_to_the_whole_one() -> None:
    from bot.cases.notify import Notification, Recipient

    diff = "\n".join(f"  line {i}: " + "words " * 30 for i in range(400))
    n = Notification(
        id="n1",
        case_id="0123456789abcdef0123456789abcdef",
        kind="change_submitted",
        recipient=Recipient(kind="person", key="jo", name="Jo"),
        title="A change to the flow library waits for your review (01234567)",
        text=diff,
        actions=["approve_change", "request_changes"],
        facts=[("Change", "01234567")],
    )
    content = cards.notification_card(n)
    assert card_problems(content) == []
    assert cards.size_of(content) <= cards.MAX_CARD_BYTES
    assert "policybot library diff 01234567" in words(content)
    assert "line 399" not in words(content)


def test_approve_by_a_reviewer_publishes_and_redraws_the_card(
    org: Org, alex: TeamsUser, jo: TeamsUser, cam: TeamsUser
) -> None:
    change = org.submit()
    org.worker.run_once()
    assert org.live_version() == 1
    result = jo.click("Approve", card=review_card(jo))
    redrawn = result.body["value"]
    assert "Published as library version 2" in words(redrawn)
    assert all_actions(redrawn) == []
    assert org.live_version() == 2
    assert org.runtime.publishing is not None and org.runtime.publishing.get(change.id).status == "published"
    assert org.runtime.live is not None and org.runtime.live.check()  # this replica now serves version 2
    # the author hears about it, as a plain card
    org.worker.run_once()
    decided = alex.last_card()[1]
    assert "Published as library version 2 (approved by jo)" in words(decided)
    assert all_actions(decided) == [] and card_problems(decided) == []
    # cam's card is still there to press, and pressing it says it is already decided, privately
    late = cam.click("Approve", card=review_card(cam))
    assert late.body["type"] == "application/vnd.microsoft.activity.message"
    assert "already published" in late.body["value"]


def test_approve_by_the_author_is_refused_privately_and_the_card_is_unchanged(
    org: Org, alex: TeamsUser, jo: TeamsUser
) -> None:
    org.submit()
    org.worker.run_once()
    stored, content = review_card(jo)
    refused = alex.click("Approve", card=(stored, content))  # the author presses it (a forwarded card, say)
    assert refused.body["type"] == "application/vnd.microsoft.activity.message"
    assert "you submitted this change, so someone else has to review it" in refused.body["value"]
    assert len(stored.versions) == 1 and stored.latest == jo.connector.sent_to(jo.conversation_id)[-1].latest
    assert org.live_version() == 1
    stranger = installed(org, "Riley Bystander", "29:1riley", RILEY_AAD, "riley@council.example")
    refused = stranger.click("Approve", card=(stored, content))
    assert "riley is not a reviewer" in refused.body["value"]
    assert org.live_version() == 1 and len(stored.versions) == 1


def test_request_changes_with_a_reason_sends_it_back_to_the_author(org: Org, alex: TeamsUser, jo: TeamsUser) -> None:
    change = org.submit()
    org.worker.run_once()
    card = review_card(jo)
    empty = jo.click("Send back to the author", card=card)
    assert "Say what should change first" in empty.body["value"]
    result = jo.click("Send back to the author", card=card, why="Keep the old wording for council accounts.")
    assert "Sent back to alex" in words(result.body["value"])
    assert org.runtime.publishing is not None and org.runtime.publishing.get(change.id).status == "rejected"
    assert org.live_version() == 1
    org.worker.run_once()
    told = words(alex.last_card()[1])
    assert "Changes requested by jo: Keep the old wording for council accounts." in told


def test_a_repeated_invoke_applies_once(org: Org, alex: TeamsUser, jo: TeamsUser, cam: TeamsUser) -> None:
    org.submit()
    org.worker.run_once()
    first = jo.click("Approve", card=review_card(jo))
    again = jo.post(jo.sent[-1])  # Teams delivers the same invoke (same activity id) again
    assert first.body == again.body
    assert "Published as library version 2" in words(again.body["value"])
    assert org.live_version() == 2
    assert org.runtime.publishing is not None
    [published] = [c for c in org.runtime.publishing.history() if c.status == "published"]
    assert len(published.approvals) == 1


def _count(runtime: Runtime, table: Any) -> int:
    with runtime.store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_preview_by_the_author_walks_the_draft_marked_and_escalates_nothing(
    org: Org, alex: TeamsUser, jo: TeamsUser
) -> None:
    change = org.submit()
    before = (_count(org.runtime, cases), _count(org.runtime, outbox))
    start = len(alex.inbox())
    alex.say(f"preview {change.id[:8]}")
    alex.click("Can I post this?")
    alex.click("A council account")
    alex.click("Yes")  # -> go_ahead, the outcome the change rewrote
    shown = alex.inbox()[start:]
    outcome = words(shown[-2].latest)
    assert NEW_ADVICE in outcome
    marked = [words(a.latest) or a.latest.get("text", "") for a in shown[:-1]]
    assert marked and all(f"PREVIEW of change {change.id[:8]}" in m for m in marked), marked
    assert "Preview of change" in shown[-1].latest["text"] and "ended" in shown[-1].latest["text"]
    # the preview is over: the published library answers again
    alex.say("check a post")
    alex.click("A council account")
    alex.click("Yes")
    live = words(alex.last_card()[1])
    assert OLD_ADVICE in live and NEW_ADVICE not in live and "PREVIEW" not in live
    # the escalating outcome in a preview sends nothing to anyone
    alex.say(f"preview {change.id[:8]}")
    alex.click("Can I post this?")
    alex.click("A council account")
    alex.click("No")  # -> ask_comms, which offers to escalate to Comms
    offer = alex.last_card()[1]
    assert "PREVIEW" in words(offer)
    [send] = [a["title"] for a in all_actions(offer) if str(a.get("title", "")).startswith("Send to ")]
    sent = alex.click(send, card=alex.last_card())  # a click on a draft's card goes to the draft's engine
    assert "Sent to Cam Reviewer (preview: not sent)" in words(sent.body["value"])  # who would have got it
    assert (_count(org.runtime, cases), _count(org.runtime, outbox)) == before  # no case, no notification
    delivered = org.worker.run_once().deliveries.delivered
    assert len(delivered) == 2  # only the two review requests, to jo and cam
    review_card(jo)
    assert not any("needs you" in words(c) for _, c in jo.cards())  # no case card reached Alex's manager


def _has(user: TeamsUser, title: str) -> bool:
    return any(a.get("title") == title for a in all_actions(user.last_card()[1]))


def test_preview_end_and_a_stranger_is_refused(org: Org, alex: TeamsUser) -> None:
    change = org.submit()
    riley = installed(org, "Riley Bystander", "29:1riley", RILEY_AAD, "riley@council.example")
    riley.say(f"preview {change.id[:8]}")
    assert riley.texts()[-1] == "only the change's author and the reviewers may preview it"
    alex.say(f"preview {change.id[:8]}")
    assert "PREVIEW" in words(alex.last_card()[1])
    alex.say("preview end")
    assert alex.texts()[-1].startswith(f"Preview of change {change.id[:8]} ended")
    alex.say("check a post")
    assert "PREVIEW" not in words(alex.last_card()[1])


def _runs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "TextRun" else []
        return found + [r for v in node.values() for r in _runs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _runs(v)]
    return []


def _inputs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if str(node.get("type", "")).startswith("Input.") else []
        return found + [r for v in node.values() for r in _inputs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _inputs(v)]
    return []


@pytest.fixture
def welsh_org(tmp_path: Path, connector: FakeConnector, database_url: str) -> Iterator[Org]:
    """The same council, with Jo (a reviewer) and Alex (the author) reading Welsh (directory entries)."""
    directory = DIRECTORY.replace("manager: jo}", "manager: jo, language: cy}").replace(
        "teams_id: " + JO_AAD + "}", "teams_id: " + JO_AAD + ", language: cy}"
    )
    assert directory.count("language: cy") == 2
    yield from running_org(tmp_path, connector, database_url, directory, SETTINGS + "languages: [en, cy]\n")


def test_a_welsh_reviewer_reviews_in_welsh_and_a_welsh_author_hears_in_welsh(welsh_org: Org) -> None:
    org = welsh_org
    alex = installed(org, "Alex Author", "29:1alex", ALEX_AAD, "alex@council.example")
    jo = installed(org, "Jo Reviewer", "29:1jo", JO_AAD, "jo@council.example")
    change = org.submit()
    org.worker.run_once()
    found = [(a, c) for a, c in jo.cards() if any(x.get("title") == "Cymeradwyo" for x in all_actions(c))]
    assert len(found) == 1, "Jo got no Welsh review card"
    activity, content = found[0]
    assert card_problems(content) == []
    shown = words(content)
    short = change.id[:8]
    assert f"Mae newid i’r llyfrgell lifoedd yn aros i chi ei adolygu ({short})" in shown
    assert "Cyflwynwyd gan: Alex Author" in shown and "Submitted by" not in shown
    assert activity.latest["summary"].startswith("Newid yn aros i chi ei adolygu: can-i-post, gan Alex Author")
    titles = [a["title"] for a in all_actions(content)]
    assert titles == ["Cymeradwyo", "Gofyn am newidiadau", "Anfon yn ôl at yr awdur"]

    empty = jo.click("Anfon yn ôl at yr awdur", card=found[0])
    assert "Dywedwch beth ddylai newid yn gyntaf" in empty.body["value"]
    result = jo.click("Anfon yn ôl at yr awdur", card=found[0], why="Cadwch yr hen eiriad.")
    assert "Wedi’i anfon yn ôl at alex gyda’ch cais am newidiadau." in words(result.body["value"])
    org.worker.run_once()
    told = words(alex.last_card()[1])
    assert f"Eich newid i’r llyfrgell lifoedd ({short})" in told
    assert "Mae jo wedi gofyn am newidiadau: Cadwch yr hen eiriad." in told  # the reason as Jo wrote it
    assert "Changes requested" not in told
