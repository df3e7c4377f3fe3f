"""The studio on publishing: submit from the Edit page, review on the Changes page, history, rollback.

Every rule is Publishing's (bot.publishing); these tests check the studio passes each request on
with the signed-in person's directory id, shows Publishing's refusal sentence, and that what a
reviewer approves here is what the bot then says.
"""

from __future__ import annotations

import re

from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.replies import Outcome, Question
from bot.runtime import Runtime
from bot.store.routing_log import STARTED, RoutingLog

AUTHORING = {"authors": ["ana", "cara"], "reviewers": ["raj", "cara"]}
OLD = "If anyone is in immediate danger, call 999 first."
NEW = "If anyone is in immediate danger, call 999 straight away."
SAFEGUARDING = ("1", "Suggests a child or vulnerable adult may be at risk of harm")


def advice(runtime: Runtime, answers: tuple[str, ...] = SAFEGUARDING, flow_id: str = "negative-comment") -> str:
    """What the bot itself (the runtime's engine) says at the end of ``answers``."""
    actor = Actor("console:emma", "Emma", None, "console")
    replies = runtime.engine.handle(actor, Start(flow_id=flow_id))
    for answer in answers:
        question = next(r for r in reversed(replies) if isinstance(r, Question))
        label = next((o.label for o in question.options if o.label == answer), answer)
        replies = runtime.engine.handle(actor, FreeText(label, question.conversation_id))
    return " ".join(r.text for r in replies if isinstance(r, Outcome))


def _submit(client, source: str, note: str = "clearer 999 advice"):
    client.get("/flows/negative-comment/edit")
    return client.post("/flows/negative-comment/submit", {"source": source, "note": note})


def _change_id(page_url: str) -> str:
    found = re.search(r"/changes/([0-9a-f]{32})$", page_url)
    assert found, page_url
    return found.group(1)


def test_an_author_submits_and_a_different_reviewer_approves_then_the_bot_says_the_new_advice(
    start_studio, client_for, provider
):
    studio = start_studio(authoring=AUTHORING)
    source = studio.runtime.library.get("negative-comment").source
    assert OLD in source and OLD in advice(studio.runtime)
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    submitted = _submit(ana, source.replace(OLD, NEW))
    assert submitted.status_code == 200, submitted.text
    change_id = _change_id(submitted.url)
    assert studio.runtime.publishing.get(change_id).author == "ana"
    assert "clearer 999 advice" in submitted.text
    assert "before: " in submitted.text and "[+straight away.+]" in submitted.text  # bot.publishing.diff's words
    assert "Approve</button>" not in submitted.text  # Ana is an author, not a reviewer
    flows = ana.get("/flows").text
    row = re.search(r'href="/flows/negative-comment".*?</tr>', flows, re.S).group(0)
    assert 'aria-label="1 open change to' in row  # the open changes column
    # Ana cannot approve her own change even by sending the form: the page is for reviewers
    assert ana.post(f"/changes/{change_id}/approve").status_code == 403
    raj = client_for(studio)
    raj.sign_in(provider, "raj")
    page = raj.get(f"/changes/{change_id}")
    assert "Approve</button>" in page.text
    approved = raj.post(f"/changes/{change_id}/approve")
    assert approved.status_code == 200 and "Published as library version 2" in approved.text
    assert studio.runtime.library.version == 2
    said = advice(studio.runtime)
    assert NEW in said and OLD not in said
    history = raj.get("/changes").text
    assert "approved by raj" in history and "clearer 999 advice" in history and "published as version 2" in history


def test_a_reviewer_cannot_approve_their_own_change_and_sees_publishings_sentence(start_studio, client_for, provider):
    studio = start_studio(authoring=AUTHORING)
    source = studio.runtime.library.get("negative-comment").source
    cara = client_for(studio)  # named an author and a reviewer
    cara.sign_in(provider, "cara")
    change_id = _change_id(_submit(cara, source.replace(OLD, NEW)).url)
    refused = cara.post(f"/changes/{change_id}/approve")
    assert refused.status_code == 403
    assert "you submitted this change, so someone else has to review it" in refused.text
    assert studio.runtime.publishing.get(change_id).status == "pending"
    assert OLD in advice(studio.runtime)


def test_a_draft_that_fails_the_submit_checks_comes_back_with_its_problems_beside_the_lines(
    start_studio, client_for, provider
):
    studio = start_studio(authoring=AUTHORING)
    source = studio.runtime.library.get("negative-comment").source
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    # validate finds nothing wrong with this; the flow's scenario test expects "act" (library submit runs both)
    broken = source.replace("  remove_safeguarding:\n    verdict: act", "  remove_safeguarding:\n    verdict: stop")
    assert studio.runtime.library.get("negative-comment") and not ana.post(
        "/flows/negative-comment/check", {"source": broken}
    ).text.count('"line"')
    assert broken != source
    refused = _submit(ana, broken)
    assert refused.status_code == 422
    assert "FAIL negative-comment / a comment suggests a child is at risk" in refused.text
    assert studio.runtime.publishing.history() == []
    same = _submit(ana, source)
    assert same.status_code == 422 and "there is nothing to submit" in same.text


def test_request_changes_sends_it_back_with_the_reason_in_the_history(start_studio, client_for, provider):
    studio = start_studio(authoring=AUTHORING)
    source = studio.runtime.library.get("negative-comment").source
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    change_id = _change_id(_submit(ana, source.replace(OLD, NEW)).url)
    raj = client_for(studio)
    raj.sign_in(provider, "raj")
    raj.get(f"/changes/{change_id}")
    sent_back = raj.post(f"/changes/{change_id}/request-changes", {"why": "say who to call as well"})
    assert sent_back.status_code == 200 and "Sent back to the author" in sent_back.text
    assert studio.runtime.publishing.get(change_id).status == "rejected"
    assert "say who to call as well" in ana.get("/changes").text
    again = raj.post(f"/changes/{change_id}/approve")
    assert again.status_code == 409 and "already rejected" in again.text


def test_a_reviewer_rolls_a_flow_back_to_an_earlier_version(start_studio, client_for, provider):
    studio = start_studio(authoring=AUTHORING)
    source = studio.runtime.library.get("negative-comment").source
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    change_id = _change_id(_submit(ana, source.replace(OLD, NEW)).url)
    raj = client_for(studio)
    raj.sign_in(provider, "raj")
    raj.get("/changes")
    raj.post(f"/changes/{change_id}/approve")
    assert NEW in advice(studio.runtime)
    assert ana.post("/changes/rollback", {"flow": "negative-comment", "version": "1"}).status_code == 403
    page = raj.get("/changes")
    assert 'name="version"' in page.text and "version 1, seed" in page.text
    rolled = raj.post("/changes/rollback", {"flow": "negative-comment", "version": "1", "note": "back to the old"})
    assert rolled.status_code == 200, rolled.text
    assert "back as it was in version 1: now library version 3" in rolled.text
    said = advice(studio.runtime)
    assert OLD in said and NEW not in said
    assert "rollback" in rolled.text and "back to the old" in rolled.text


def _miss(runtime: Runtime, text: str, guess: str, chosen: str) -> None:
    """A message the router sent to ``guess`` first, whose sender then went to ``chosen``."""
    log = RoutingLog()
    now = runtime.clock.now()
    with runtime.store.transaction() as conn:
        log.record(conn, person=log.person(conn, "console:emma"), at=now, text=text, language="en", guess=guess,
                   score=0.4, confidence="low", shown=[guess], outcome=STARTED)  # fmt: skip
        decision = log.since(conn, None)[-1]
        log.chose(conn, decision, chosen, now)


MISS = "a resident keeps posting angry replies under our bin collection update"


def test_a_routing_miss_becomes_a_change_request_adding_it_as_an_example(start_studio, client_for, provider):
    studio = start_studio(authoring=AUTHORING)
    text = MISS
    _miss(studio.runtime, text, "can-i-post", "negative-comment")
    ana = client_for(studio)
    ana.sign_in(provider, "ana")
    page = ana.get("/insights").text
    link = re.search(r'href="(/insights/add-example\?[^"]+)"', page)
    assert link and "add as example to flow negative-comment" in page
    confirm = ana.get(link.group(1).replace("&amp;", "&"))
    assert confirm.status_code == 200 and "Yes, submit this change request" in confirm.text
    assert studio.runtime.publishing.history() == []  # the click alone submits nothing
    done = ana.post("/insights/add-example", {"to": "negative-comment", "text": text})
    change = studio.runtime.publishing.get(_change_id(done.url))
    assert change.author == "ana" and change.flows == ["negative-comment"]
    assert f"  - {text}\n" in change.files["negative-comment.yaml"]
    assert "examples" in done.text  # the readable diff names what changed
    # a message the report does not list for that flow cannot be pushed in through the form
    assert ana.post("/insights/add-example", {"to": "negative-comment", "text": "anything"}).status_code == 404
    raj = client_for(studio)  # a reviewer, not an author: no add-example for him
    raj.sign_in(provider, "raj")
    assert "add as example" not in raj.get("/insights").text
