"""Previewing a draft (marked, nothing escalated) and the review messages reviewers get."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adapters.console.notifier import ConsoleNotifier
from bot.cases.tables import cases, outbox
from bot.cases.worker import Worker
from bot.conversation.replies import Outcome
from bot.errors import NotAllowed
from bot.publishing.notices import APPROVE_ACTION, CHANGE_DECIDED, CHANGE_SUBMITTED, REQUEST_CHANGES_ACTION
from bot.publishing.tables import library_outbox
from bot.runtime import Runtime
from tests.publishing.conftest import ASHA, KIM, LEE, NEW_ADVICE, STRANGER, WIKI_ANSWERS, Org, outcome_of, walk


def rows(runtime: Runtime, table: object) -> int:
    with runtime.store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_preview_marks_every_reply_and_serves_the_draft_not_the_live_library(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    preview = runtime.preview(change.id[:8], person="asha")
    replies = walk(preview, ASHA, "wiki-edit", WIKI_ANSWERS)
    for reply in replies:
        text = getattr(reply, "text", None) or getattr(reply, "prompt", None)
        assert text is not None and text.startswith(f"[PREVIEW of change {change.id[:8]}"), reply
    assert NEW_ADVICE in outcome_of(replies).text
    assert preview.menu().prompt.startswith("[PREVIEW")
    # the live library is untouched
    assert NEW_ADVICE not in outcome_of(walk(runtime.engine, KIM, "wiki-edit", WIKI_ANSWERS)).text


def test_a_preview_escalates_to_nobody_but_says_who_would_have_received_it(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_legal()], "asha")
    preview = runtime.preview(change.id, person="lee")
    before_cases, before_outbox = rows(runtime, cases), rows(runtime, outbox)
    flow = preview.library.get("legal-threat")
    # walk the first option of every question until an outcome that escalates
    from bot.conversation.events import FreeText, Start
    from bot.conversation.replies import Question

    replies = preview.handle(KIM, Start(flow_id=flow.id))
    for _ in range(12):
        question = next((r for r in reversed(replies) if isinstance(r, Question)), None)
        if question is None:
            break
        replies = preview.handle(KIM, FreeText("1", question.conversation_id))
    outcome = next(r for r in replies if isinstance(r, Outcome))
    assert outcome.escalation is not None and outcome.escalation.required
    assert outcome.sent_to and all("(preview: not sent)" in name for name in outcome.sent_to)
    assert any("Lee Morgan" in name for name in outcome.sent_to)  # Kim's line manager, from the directory
    assert (rows(runtime, cases), rows(runtime, outbox)) == (before_cases, before_outbox)


def test_only_the_author_and_reviewers_may_preview(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    with pytest.raises(NotAllowed, match="author and the reviewers"):
        runtime.preview(change.id, person="kim")
    with pytest.raises(NotAllowed, match="author and the reviewers"):
        runtime.preview(change.id, KIM)  # an adapter's authenticated person
    with pytest.raises(NotAllowed, match="staff directory"):
        runtime.preview(change.id, STRANGER)
    assert runtime.preview(change.id, LEE).change_id == change.id


def test_each_reviewer_but_the_author_is_sent_the_change_with_its_diff_and_buttons(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "lee", "clearer wording")  # lee is a reviewer too
    said: list[str] = []
    notifier = ConsoleNotifier(say=said.append, width=100)
    sent: list[object] = []
    original = notifier.deliver

    def deliver(notification: object) -> None:
        sent.append(notification)
        original(notification)  # type: ignore[arg-type]

    notifier.deliver = deliver  # type: ignore[method-assign]
    report = Worker(runtime, notifier).run_once()
    assert len(report.deliveries.delivered) == 1
    [notification] = sent
    assert notification.kind == CHANGE_SUBMITTED and notification.case_id == change.id  # type: ignore[attr-defined]
    assert notification.recipient.key == "sam" and notification.recipient.slack_id == "U0SAM"  # type: ignore[attr-defined]
    assert notification.actions == [APPROVE_ACTION, REQUEST_CHANGES_ACTION]  # type: ignore[attr-defined]
    assert "outcome 'wikipedia_care': advice" in notification.text  # type: ignore[attr-defined]
    [shown] = said
    assert "[Approve] [Request changes]" in shown and NEW_ADVICE in shown
    assert f"library approve {change.id[:8]}" in shown
    assert rows(runtime, library_outbox) == 1


def test_a_button_press_is_checked_against_the_reviewer_list_by_who_pressed_it(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    with pytest.raises(NotAllowed, match="someone else has to review"):
        runtime.publishing.review_by_actor(ASHA, change.id, "approve")
    with pytest.raises(NotAllowed, match="not a reviewer"):
        runtime.publishing.review_by_actor(KIM, change.id, "approve")
    with pytest.raises(NotAllowed, match="staff directory"):
        runtime.publishing.review_by_actor(STRANGER, change.id, "approve")
    published = runtime.publishing.review_by_actor(LEE, change.id, "approve")
    assert "Published as library version 2" in str(published)
    assert published.said_in("cy").startswith("Wedi’i gyhoeddi fel fersiwn 2 o’r llyfrgell")
    # the author hears about it, through the same outbox
    sent: list[object] = []

    class Collect:
        def deliver(self, notification: object) -> None:
            sent.append(notification)

    Worker(runtime, Collect()).run_once()  # type: ignore[arg-type]
    decided = [n for n in sent if n.kind == CHANGE_DECIDED]  # type: ignore[attr-defined]
    assert [n.recipient.key for n in decided] == ["asha"]  # type: ignore[attr-defined]
    assert "Published as library version 2" in decided[0].text  # type: ignore[attr-defined]


def test_request_changes_from_a_button_sends_the_change_back(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    answer = runtime.publishing.review_by_actor(LEE, change.id, "request_changes", "say which policy")
    assert "Sent back to asha" in str(answer)
    found = runtime.publishing.get(change.id)
    assert found.status == "rejected" and found.reviews[0].why == "say which policy"
