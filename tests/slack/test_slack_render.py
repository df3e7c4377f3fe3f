"""Whatever a flow author writes, the rendered Block Kit stays within Slack's limits.

Slack refuses a whole message when one field is too long; these properties feed the renderer
replies of any size and check every limit the issue names (50 blocks, 75-character button text,
3000-character section text, 2000-character values) and the others Slack enforces.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack import render as R
from adapters.slack.limits import fit_blocks
from bot.cases.notify import Notification, Recipient
from bot.conversation.replies import (
    CitationView,
    EscalationOffer,
    FlowCandidate,
    FlowChoice,
    Notice,
    NoticeKind,
    OptionView,
    Outcome,
    Question,
    Verdict,
)

text = st.text(min_size=1, max_size=4000)
short = st.text(min_size=1, max_size=300)


def check(blocks: list[dict[str, Any]], max_blocks: int = 50) -> None:
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        kind = block["type"]
        assert len(block.get("block_id", "")) <= 255
        if kind == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
            accessory = block.get("accessory")
            if accessory:
                check_element(accessory)
        elif kind == "header":
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 2000 for e in block["elements"])
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                check_element(element)


def check_element(element: dict[str, Any]) -> None:
    assert len(element.get("action_id", "")) <= 255
    if element["type"] == "button":
        assert 0 < len(element["text"]["text"]) <= 75
        assert len(element["value"]) <= 2000
        confirm = element.get("confirm")
        if confirm:
            assert len(confirm["text"]["text"]) <= 300 and len(confirm["title"]["text"]) <= 100
    elif element["type"] == "overflow":
        assert 2 <= len(element["options"]) <= 5
    elif element["type"] == "static_select":
        assert 0 < len(element["options"]) <= 100
    for option in element.get("options", []):
        assert 0 < len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150


def citations(n: int, body: str) -> list[CitationView]:
    return [CitationView(f"c{i}", f"Policy {i} " + body[:200], f"para {i}", body, body) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(
    question=text,
    intro=st.none() | text,
    labels=st.lists(short, min_size=1, max_size=40),
    title=short,
    step=st.integers(1, 30),
)
def test_any_question_fits(question: str, intro: str | None, labels: list[str], title: str, step: int) -> None:
    q = Question(
        conversation_id="c" * 32,
        flow_id="f",
        flow_title=title,
        state="s" * 100,
        text=question,
        options=[OptionView(i, label) for i, label in enumerate(labels)],
        step=step,
        max_steps=step + 3,
        turn=10**6,
        intro=intro,
        can_go_back=step > 1,
    )
    message = R.render_question(q)
    check(message.blocks)
    assert 0 < len(message.text) <= 3000
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    if len(message.blocks) < 50:  # nothing had to be dropped: every option has its button
        assert len(buttons) == len(labels)


@settings(max_examples=60, deadline=None)
@given(
    verdict=st.sampled_from(list(Verdict)),
    advice=st.text(min_size=1, max_size=9000),
    checklist=st.lists(short, max_size=60),
    n_citations=st.integers(0, 60),
    preview=st.text(min_size=1, max_size=7000),
)
def test_any_outcome_fits_and_keeps_the_escalation_buttons(
    verdict: Verdict, advice: str, checklist: list[str], n_citations: int, preview: str
) -> None:
    offer = EscalationOffer(["line_manager"], ["comms", "legal"], 7200, False, preview, {"line_manager": "Bob"})
    outcome = Outcome(
        "c" * 32, "f", "Title", "s", verdict, advice, checklist, citations(n_citations, advice), [], escalation=offer
    )
    message = R.render_outcome(outcome)
    check(message.blocks)
    ids = [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert "escalate_send" in ids  # even a huge outcome never loses the button that sends the escalation
    assert message.blocks[0]["text"]["text"].startswith(R.VERDICT_EMOJI[verdict])


@settings(max_examples=30, deadline=None)
@given(facts=st.lists(st.tuples(short, text), max_size=80), body=text)
def test_any_notification_fits_and_keeps_its_buttons(facts: list[tuple[str, str]], body: str) -> None:
    n = Notification(
        "n1",
        "case1",
        "case_opened",
        Recipient("person", "bob", "Bob"),
        "A case",
        body,
        ["acknowledge", "resolve", "message_employee"],
        facts,
        "urgent",
    )
    message = R.render_notification(n)
    check(message.blocks)
    assert any(b.get("block_id") == R.CASE_ACTIONS_BLOCK for b in message.blocks)


def test_home_with_many_cases_fits_a_view() -> None:
    cases = [R.HomeCase(f"case{i}", "x" * 400, "waiting", "y" * 3000) for i in range(200)]
    view = R.render_home(R.HomeData(open_cases=cases, waiting_cases=cases, onboarding="Not done yet."))
    check(view["blocks"], max_blocks=100)


def test_flow_choice_uses_buttons_for_a_few_and_a_select_for_many() -> None:
    few = R.render_flow_choice(FlowChoice("Which?", [FlowCandidate(f"f{i}", f"Flow {i}", 0.5) for i in range(3)]))
    many = R.render_flow_choice(FlowChoice("Which?", [FlowCandidate(f"f{i}", f"Flow {i}", 0.5) for i in range(14)]))
    assert [e["type"] for e in few.blocks[-1]["elements"]] == ["button"] * 3
    [select] = many.blocks[-1]["elements"]
    assert select["type"] == "static_select" and len(select["options"]) == 14
    check(few.blocks)
    check(many.blocks)


def test_flow_and_employee_text_cannot_ping_a_channel_or_forge_a_link() -> None:
    q = Question(
        "c", "f", "<!channel>", "s", "Hi <!here> & <https://evil.example|your bank>", [OptionView(0, "ok")], 1, 1, 1
    )
    rendered = str(R.render_question(q).blocks)
    assert "<!here>" not in rendered and "<!channel>" not in rendered and "<https://" not in rendered
    assert "&lt;!here&gt; &amp; &lt;https://evil.example|your bank&gt;" in rendered
    n = Notification("n", "case", "message", Recipient("channel", "legal", "Legal"), "Note", "<!channel> look")
    assert "<!channel>" not in str(R.render_notification(n).blocks)


def test_a_duplicate_notice_is_not_shown_and_others_are() -> None:
    assert "already" in R.render_notice(Notice("already done", NoticeKind.DUPLICATE)).text
    shown = R.render_notice(Notice("That button belongs to an earlier question.", NoticeKind.STALE))
    assert shown is not None and shown.text == "That button belongs to an earlier question."


def test_too_many_blocks_say_that_something_was_left_out() -> None:
    blocks = [R.section(f"part {i}") for i in range(80)]
    fitted = fit_blocks(blocks)
    assert len(fitted) == 50
    assert "more parts were left out" in str(fitted[-1])
