"""Reviewing and previewing a change to the flow library in Slack, over real HTTP.

An author submits an edit of the legal-threat flow (as ``policybot library submit`` does); the
outbox worker delivers the review request through the real SlackNotifier into the fake Slack; a
reviewer presses its buttons as signed requests; ``/policy preview`` walks the draft.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import GENERAL, REPO, SlackFactory, SlackHarness, all_text, button_labels, dm, find_button
from fake_slack_api import BOT_TOKEN, FakeSlackAPI, Message
from slack_requests import SIGNING_SECRET, dm_message, view_submission
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import func, select

from adapters.slack.config import SlackConfig
from adapters.slack.notifier import SlackNotifier, make_notifier_client
from adapters.slack.render_review import MAX_DIFF_SECTIONS, diff_sections, render_review_notification
from bot.cases.notify import Notification, Recipient
from bot.cases.tables import cases, outbox
from bot.cases.worker import Worker
from bot.publishing.model import Change
from bot.publishing.tables import library_outbox, library_reviews
from bot.runtime import Runtime

ASHA, LEE, KIM, NOBODY = "U0ASHA", "U0LEE", "U0KIM", "U0NOBODY"
SETTINGS = """
directory: directory.yaml
authoring:
  authors: [asha]
  reviewers: [lee]
"""
DIRECTORY = f"""
people:
  - {{id: asha, name: Asha Patel, email: asha@council.example, slack_id: {ASHA}, manager: lee}}
  - {{id: lee, name: Lee Morgan, email: lee@council.example, slack_id: {LEE}}}
  - {{id: kim, name: Kim Staff, email: kim@council.example, slack_id: {KIM}, manager: lee}}
"""
OLD_ADVICE = "Do not reply to the person making the threat or discuss it online."
NEW_ADVICE = "Reviewed wording: say nothing to the person making the threat, online or anywhere else."
MARK = "[PREVIEW of change"
TO_OUTCOME = ("On a council account or page", "Yes, it is still up", "Yes")


class Reviews:
    def __init__(self, slack: SlackHarness, fake: FakeSlackAPI, tmp_path: Path) -> None:
        self.slack = slack
        self.fake = fake
        self.tmp_path = tmp_path
        config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url)
        self.worker = Worker(slack.runtime, SlackNotifier(make_notifier_client(config, timeout=1)))

    @property
    def runtime(self) -> Runtime:
        return self.slack.runtime

    def submit(self, note: str = "Clearer advice") -> Change:
        source = (self.tmp_path / "flows" / "legal-threat.yaml").read_text(encoding="utf-8")
        assert OLD_ADVICE in source
        edited = self.tmp_path / "edits" / "legal-threat.yaml"
        edited.parent.mkdir(exist_ok=True)
        edited.write_text(source.replace(OLD_ADVICE, NEW_ADVICE), encoding="utf-8")
        assert self.runtime.publishing is not None
        return self.runtime.publishing.submit([edited], "asha", note)

    def deliver(self) -> int:
        return len(self.worker.run_once().deliveries.delivered)

    def review_message(self) -> Message:
        [message] = self.fake.messages_in(dm(LEE))
        return message

    def status(self, change: Change) -> str:
        assert self.runtime.publishing is not None
        return self.runtime.publishing.get(change.id).status

    def count(self, table: object) -> int:
        with self.runtime.store.transaction() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]

    def ephemeral_to(self, user: str) -> list[str]:
        return [str(e.get("text") or "") + str(e.get("blocks") or "") for e in self.fake.ephemeral if e["user"] == user]


@pytest.fixture
def reviews(slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path) -> Reviews:
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    # A submitted flow must pass its scenario tests: legal-threat's, beside the flows the app serves.
    (tmp_path / "flows").mkdir()
    shutil.copy(REPO / "flows" / "legal-threat.test.yaml", tmp_path / "flows")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")
    for user, name in ((ASHA, "asha"), (LEE, "lee"), (KIM, "kim"), (NOBODY, "nobody")):
        fake_slack.add_user(user, name, f"{name}@council.example", name.title())
    return Reviews(slack_factory(settings_path=settings), fake_slack, tmp_path)


def validate(message: Message) -> None:
    for block in message.blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ the notification


def test_the_review_request_reaches_the_reviewer_with_the_diff_and_two_buttons(reviews: Reviews) -> None:
    change = reviews.submit(note="Clearer advice <!channel> & more")
    assert reviews.deliver() == 1
    message = reviews.review_message()
    validate(message)
    text = all_text(message)
    assert "waits for your review" in message.text and change.id[:8] in message.text
    assert "*Submitted by:* Asha Patel" in text
    assert "&lt;!channel&gt; &amp; more" in text and "<!channel>" not in text  # people's text is escaped
    assert "```" in text and NEW_ADVICE.split(":")[0] in text  # the diff, preformatted
    assert button_labels(message) == ["Approve", "Request changes"]
    assert f"/policy preview {change.id[:8]}" in text
    assert reviews.fake.messages_in(dm(ASHA)) == []  # the author is not asked to review their own change


def test_a_long_diff_keeps_its_indentation_within_slacks_section_limit() -> None:
    lines = [f"  {n:04d} <b>&amp;</b> " + "word " * 20 for n in range(400)]
    blocks = diff_sections("\n".join(lines), "6651e17bcafe")
    assert len(blocks) == MAX_DIFF_SECTIONS + 1
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks[:-1])
    first = blocks[0]["text"]["text"].split("\n")
    assert first[0] == "```" and first[1].startswith("  0000 &lt;b&gt;") and first[-1] == "```"
    assert "policybot library diff 6651e17b" in blocks[-1]["elements"][0]["text"]
    fenced = diff_sections("before ``` after", "6651e17b")[0]["text"]["text"]
    assert fenced.count("```") == 2  # a fence inside the diff cannot close the block early
    message = render_review_notification(
        Notification(
            id="n",
            case_id="6651e17bcafe",
            kind="change_submitted",
            recipient=Recipient(kind="person", key="lee", name="Lee"),
            title="A change waits for your review",
            text="\n".join(lines),
            actions=["approve_change", "request_changes"],
            facts=[("Submitted by", "Asha")],
        )
    )
    for block in message.blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ the buttons


def test_approve_by_a_reviewer_publishes_and_the_author_hears(reviews: Reviews) -> None:
    change = reviews.submit()
    reviews.deliver()
    assert reviews.runtime.library_version == 1
    reviews.slack.click(LEE, reviews.review_message(), "Approve")
    assert reviews.status(change) == "published"
    message = reviews.review_message()
    assert "Published as library version 2" in all_text(message) and button_labels(message) == []
    validate(message)
    assert reviews.runtime.live is not None and reviews.runtime.live.check()
    assert reviews.runtime.library_version == 2  # the live library changed
    assert reviews.deliver() == 1
    [told] = reviews.fake.messages_in(dm(ASHA))
    assert "Published as library version 2" in all_text(told)


def test_a_double_click_on_approve_is_applied_once(reviews: Reviews) -> None:
    change = reviews.submit()
    reviews.deliver()
    message = reviews.review_message()
    block_id, element = find_button(message, "Approve")
    reviews.slack.send_click(LEE, message, block_id, element, settle=False)
    reviews.slack.send_click(LEE, message, block_id, element)
    assert reviews.status(change) == "published" and reviews.count(library_reviews) == 1
    assert reviews.ephemeral_to(LEE) == []  # the repeat is not told as an error
    assert "library version 2" in all_text(reviews.review_message())


def test_approve_by_the_author_is_refused_to_them_alone(reviews: Reviews) -> None:
    change = reviews.submit()
    reviews.deliver()
    review = reviews.review_message()
    # The author never gets the buttons; a click made anyway (a forwarded or crafted payload) is refused.
    own = Message(channel=dm(ASHA), ts=review.ts, text=review.text, blocks=review.blocks)
    reviews.slack.click(ASHA, own, "Approve")
    assert reviews.status(change) == "pending" and reviews.runtime.publishing is not None
    [refusal] = reviews.ephemeral_to(ASHA)
    assert "you submitted this change, so someone else has to review it" in refusal
    assert reviews.fake.calls_to("chat.update") == []
    assert button_labels(reviews.review_message()) == ["Approve", "Request changes"]


def test_request_changes_asks_why_and_a_replayed_submission_applies_once(reviews: Reviews) -> None:
    change = reviews.submit()
    reviews.deliver()
    reviews.slack.click(LEE, reviews.review_message(), "Request changes")
    [opened] = reviews.fake.opened_views
    view = opened["view"]
    assert view["callback_id"] == "request_changes_modal"
    empty = {"review_why": {"review_why_text": {"type": "plain_text_input", "value": "  "}}}
    refused = reviews.slack.sender.interactive(
        view_submission(LEE, "request_changes_modal", empty, private_metadata=view["private_metadata"])
    )
    assert refused.json()["response_action"] == "errors" and reviews.status(change) == "pending"

    values = {"review_why": {"review_why_text": {"type": "plain_text_input", "value": "Cite the <Appendix B> clause"}}}
    payload = view_submission(LEE, "request_changes_modal", values, private_metadata=view["private_metadata"])
    for _ in range(2):  # Slack's retry, or a replay: the same view id and hash
        assert reviews.slack.sender.interactive(payload).status == 200
        reviews.slack.settle()
    assert reviews.status(change) == "rejected"
    assert reviews.count(library_reviews) == 1
    assert reviews.count(library_outbox) == 2  # the review request, and one "changes requested"
    assert reviews.ephemeral_to(LEE) == []
    message = reviews.review_message()
    assert "Sent back to asha" in all_text(message) and button_labels(message) == []
    assert reviews.deliver() == 1
    [told] = reviews.fake.messages_in(dm(ASHA))
    assert "Changes requested by lee: Cite the &lt;Appendix B&gt; clause" in all_text(told)


# ------------------------------------------------------------------------------ preview


def test_the_author_previews_the_draft_marked_and_nothing_is_escalated(reviews: Reviews) -> None:
    change = reviews.submit()
    reviews.deliver()
    before_lee = len(reviews.fake.messages_in(dm(LEE)))
    reviews.slack.slash(ASHA, f"preview {change.id[:8]} someone threatened to sue me")
    for label in TO_OUTCOME:
        reviews.slack.click(ASHA, reviews.slack.last_dm(ASHA), label)
    shown = reviews.fake.messages_in(dm(ASHA))
    assert len(shown) >= 4
    for message in shown:
        assert MARK in message.text or MARK in all_text(message), message.text
    outcome = all_text(shown[-2])
    assert NEW_ADVICE in outcome and OLD_ADVICE not in outcome  # the draft, not the live flow
    assert "(preview: not sent)" in outcome
    assert "end of the preview" in all_text(shown[-1])
    assert reviews.count(cases) == 0 and reviews.count(outbox) == 0
    assert len(reviews.fake.messages_in(dm(LEE))) == before_lee  # Asha's manager heard nothing
    # The preview has ended: what Asha writes now goes to the live bot.
    reviews.slack.event(dm_message(ASHA, "someone threatened to sue me"))
    assert MARK not in reviews.slack.last_dm(ASHA).text


def test_a_preview_starts_with_the_marked_list_and_can_be_ended(reviews: Reviews) -> None:
    change = reviews.submit()
    reviews.slack.slash(LEE, f"preview {change.id[:8]}", channel=dm(LEE))  # a reviewer, from the bot's DM
    first = reviews.slack.last_dm(LEE)
    assert MARK in first.text
    reviews.slack.event(dm_message(LEE, "someone threatened to sue me"))
    assert MARK in reviews.slack.last_dm(LEE).text  # typed words go to the preview while it is going
    reviews.slack.slash(LEE, "preview end", channel=dm(LEE))
    assert "end of the preview" in all_text(reviews.slack.last_dm(LEE))
    reviews.slack.event(dm_message(LEE, "someone threatened to sue me"))
    assert MARK not in reviews.slack.last_dm(LEE).text


@pytest.mark.parametrize(
    ("user", "words"),
    [(KIM, "only the change's author and the reviewers"), (NOBODY, "staff directory")],
)
def test_a_preview_by_anyone_else_is_refused_privately(reviews: Reviews, user: str, words: str) -> None:
    change = reviews.submit()
    reviews.slack.slash(user, f"preview {change.id[:8]}", channel=GENERAL)
    [refusal] = reviews.ephemeral_to(user)
    assert words in refusal
    assert reviews.fake.messages_in(dm(user)) == []
    reviews.slack.event(dm_message(user, "someone threatened to sue me"))
    assert MARK not in reviews.slack.last_dm(user).text


def test_policy_preview_followed_by_ordinary_words_is_an_ordinary_check(reviews: Reviews) -> None:
    reviews.slack.slash(KIM, "preview of my post was shared")
    assert MARK not in reviews.slack.last_dm(KIM).text and reviews.ephemeral_to(KIM) == []


# ------------------------------------------------------------------------------ in Welsh


@pytest.fixture
def welsh_reviews(slack_factory: SlackFactory, fake_slack: FakeSlackAPI, tmp_path: Path) -> Reviews:
    """The same library, with Lee, the reviewer, reading Welsh (his directory entry says so)."""
    (tmp_path / "directory.yaml").write_text(
        DIRECTORY.replace(f"slack_id: {LEE}}}", f"slack_id: {LEE}, language: cy}}"), encoding="utf-8"
    )
    (tmp_path / "flows").mkdir()
    shutil.copy(REPO / "flows" / "legal-threat.test.yaml", tmp_path / "flows")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")  # the directory entry alone says Welsh
    for user, name in ((ASHA, "asha"), (LEE, "lee")):
        fake_slack.add_user(user, name, f"{name}@council.example", name.title())
    return Reviews(slack_factory(settings_path=settings), fake_slack, tmp_path)


def test_a_welsh_reviewer_gets_the_review_request_and_the_reason_modal_in_welsh(welsh_reviews: Reviews) -> None:
    change = welsh_reviews.submit()
    assert welsh_reviews.deliver() == 1
    message = welsh_reviews.review_message()
    validate(message)
    text = all_text(message)
    short = change.id[:8]
    assert f"Mae newid i’r llyfrgell lifoedd yn aros i chi ei adolygu ({short})" in message.text
    assert "*Cyflwynwyd gan:* Asha Patel" in text and "*Cymeradwyaethau sydd eu hangen:* 1" in text
    assert f"Rhowch gynnig arno yn gyntaf: `/policy preview {short}`" in text
    assert button_labels(message) == ["Cymeradwyo", "Gofyn am newidiadau"]
    assert "waits for your review" not in text and "Submitted by" not in text
    _, approve = find_button(message, "Cymeradwyo")
    assert approve["confirm"]["title"]["text"] == "Cymeradwyo’r newid hwn?"

    welsh_reviews.slack.click(LEE, message, "Gofyn am newidiadau")
    [opened] = welsh_reviews.fake.opened_views
    view = opened["view"]
    View(**view).validate_json()
    assert view["title"]["text"] == "Gofyn am newidiadau" and view["submit"]["text"] == "Anfon yn ôl"
    assert view["blocks"][0]["label"]["text"] == "Beth ddylai’r awdur ei newid?"
    empty = {"review_why": {"review_why_text": {"type": "plain_text_input", "value": ""}}}
    refused = welsh_reviews.slack.sender.interactive(
        view_submission(LEE, "request_changes_modal", empty, private_metadata=view["private_metadata"])
    )
    assert refused.json()["errors"] == {"review_why": "Dywedwch beth ddylai’r awdur ei newid."}
    values = {"review_why": {"review_why_text": {"type": "plain_text_input", "value": "Dyfynnwch y cymal"}}}
    welsh_reviews.slack.sender.interactive(
        view_submission(LEE, "request_changes_modal", values, private_metadata=view["private_metadata"])
    )
    welsh_reviews.slack.settle()
    assert welsh_reviews.status(change) == "rejected"  # the language suffix did not get in the way
    assert welsh_reviews.deliver() == 1
    [told] = welsh_reviews.fake.messages_in(dm(ASHA))
    assert f"Your change to the flow library ({short})" in all_text(told)  # Asha reads English
