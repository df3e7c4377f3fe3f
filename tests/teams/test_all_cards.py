"""Every card the Teams adapter can produce passes the Adaptive Card 1.5 rules Teams relies on.

All shipped flows (and the fixed test flows), every state: each flow is walked through the real
engine along enough paths to reach every question and every outcome, and every reply is rendered
exactly as the bot renders it (render_activities). Outcomes are also drawn in each escalation state
(offered, sent, declined), answered cards for every option, the menus, and every kind of case
notification the case service writes, before and after each button. Each card must pass
tests/teams/card_rules.py (element and action types, required fields, version <= 1.5, Execute with
a Submit fallback, size under 28 KB).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.teams import cards
from adapters.teams.bot import render_activities
from bot.cases.notify import Notification, Recipient
from bot.cases.tables import outbox
from bot.conversation.events import Actor, Choose, Start
from bot.conversation.library import default_flows_dir
from bot.conversation.paths import all_paths
from bot.conversation.replies import (
    CitationView,
    EscalationOffer,
    Explanation,
    Feedback,
    FlowCandidate,
    FlowChoice,
    OptionView,
    Outcome,
    Question,
    Verdict,
)
from bot.language.settings import RULE_CHOICES
from bot.runtime import Runtime, build_runtime

from .card_rules import card_problems
from .conftest import TEST_FLOWS
from .fake_connector import adaptive_cards


def check(content: dict[str, Any], where: str, found: list[str]) -> None:
    found.extend(f"{where}: {problem}" for problem in card_problems(content))


def walk_every_state(runtime: Runtime, covered: dict[str, set[str]]) -> tuple[int, list[str]]:
    """Drive the engine to every state of every flow it can reach with this runtime's settings
    (``covered`` collects them across runtimes); check every card rendered on the way."""
    problems: list[str] = []
    rendered = 0
    engine = runtime.engine
    for flow in runtime.library.all():
        seen = covered.setdefault(flow.id, set())
        for n, path in enumerate(all_paths(flow, runtime.settings)):
            states = {s.state for s in path.steps} | {path.outcome}
            if states <= seen:
                continue
            seen |= states
            actor = Actor(user_id=f"teams:all-cards-{flow.id}-{n}", display_name="Card Checker", platform="teams")
            replies = engine.handle(actor, Start(flow_id=flow.id))
            for step in path.steps:
                question = next(r for r in replies if isinstance(r, Question))
                rendered += check_question(question, f"{flow.id}/{question.state}", problems)
                option = next(o for o in question.options if o.label == step.answer)
                replies = engine.handle(
                    actor, Choose(question.conversation_id, question.state, option.index, question.turn)
                )
                rendered += check_replies(replies, f"{flow.id}/{step.state}->", problems)
            outcome = next(r for r in replies if isinstance(r, Outcome))
            rendered += check_outcome(outcome, f"{flow.id}/{outcome.state}", problems)
    return rendered, problems


def unreached(runtime: Runtime, covered: dict[str, set[str]]) -> dict[str, list[str]]:
    missing = {}
    for flow in runtime.library.all():
        states = {name for name, state in flow.states.items() if state.kind != "branch"}
        left = sorted(states - covered.get(flow.id, set()))
        if left:
            missing[flow.id] = left
    return missing


def runtimes_for_every_rule(flows: Path, tmp_path: Path) -> list[Runtime]:
    """The default settings, then each organisation rule set to each of its other choices (flows
    branch on these, so some states are only reachable under one of them)."""
    runtimes = [build_runtime(database_url=f"sqlite:///{tmp_path / 'default.db'}", flows_dir=flows)]
    defaults = runtimes[0].settings.rules
    for rule, choices in RULE_CHOICES.items():
        for choice in choices:
            if choice == defaults.get(rule):
                continue
            name = f"{rule}-{choice}"
            settings = tmp_path / f"{name}.yaml"
            settings.write_text(json.dumps({"rules": {rule: choice}}), encoding="utf-8")  # JSON is YAML
            runtimes.append(build_runtime(settings, f"sqlite:///{tmp_path / (name + '.db')}", flows_dir=flows))
    return runtimes


def check_replies(replies: list[Any], where: str, problems: list[str]) -> int:
    count = 0
    for activity in render_activities(replies):
        for content in adaptive_cards(activity.model_dump(by_alias=True, exclude_none=True, mode="json")):
            check(content, where, problems)
            count += 1
    return count


def check_question(q: Question, where: str, problems: list[str]) -> int:
    count = check_replies([q], where, problems)
    content = cards.question_card(q)
    for action in content["body"][-2]["actions"] if q.citations else content["body"][-1]["actions"]:
        shown = action["data"]["v"]
        check(cards.answered_card(shown, cards.chosen_status(shown)), f"{where} answered", problems)
        count += 1
    return count


def check_outcome(o: Outcome, where: str, problems: list[str]) -> int:
    variants: list[tuple[Outcome, str | None]] = [(o, None)]
    if o.escalation is not None:
        open_offer = replace(o, case_id=None, escalation=replace(o.escalation, required=False))
        variants += [(open_offer, None), (open_offer, "declined"), (o, "sent"), (replace(o, case_id=None), None)]
    for variant, state in variants:
        check(cards.outcome_card(variant, escalation_state=state), f"{where} [{state}]", problems)
    check(cards.explanation_card(Explanation(o.conversation_id, o.citations)), f"{where} why", problems)
    return len(variants) + 1


@pytest.fixture(params=["shipped flows", "test flows"])
def every_flow_runtimes(request: pytest.FixtureRequest, tmp_path: Path) -> list[Runtime]:
    flows = default_flows_dir() if request.param == "shipped flows" else TEST_FLOWS
    return runtimes_for_every_rule(flows, tmp_path)


def test_every_card_of_every_flow_and_state_passes_the_rules(every_flow_runtimes: list[Runtime]) -> None:
    covered: dict[str, set[str]] = {}
    problems: list[str] = []
    rendered = 0
    for runtime in every_flow_runtimes:
        count, found = walk_every_state(runtime, covered)
        rendered += count
        problems += found
    assert unreached(every_flow_runtimes[0], covered) == {}
    assert problems == [], "\n".join(problems[:50])
    assert rendered > 10 * len(every_flow_runtimes[0].library.all())

    menu = every_flow_runtimes[0].engine.menu()
    extra = [
        cards.flow_choice_card(menu),
        cards.flow_choice_card(menu, intro="Hello!"),
        cards.resume_card("c1", "A flow", "A question?"),
        cards.cases_card([], []),
    ]
    for content in extra:
        check(content, "menus", problems)
    assert problems == []


def test_every_case_notification_the_service_wrote_renders_within_the_rules(
    every_flow_runtimes: list[Runtime],
) -> None:
    rows: list[Any] = []
    covered: dict[str, set[str]] = {}
    for runtime in every_flow_runtimes:
        walk_every_state(runtime, covered)  # opens a case at every escalating outcome
        with runtime.store.engine.connect() as conn:
            rows += conn.execute(select(outbox)).mappings().all()
    assert rows, "no escalating outcome opened a case"
    problems: list[str] = []
    for row in rows:
        n = Notification(
            id=row["id"],
            case_id=row["case_id"],
            kind=row["kind"],
            recipient=Recipient(**json.loads(row["recipient"])),
            title=row["title"],
            text=row["text"],
            actions=list(json.loads(row["actions"])),
            facts=[(str(a), str(b)) for a, b in json.loads(row["facts"])],
            urgency=row["urgency"],
        )
        check_case_card(n, problems)
    assert problems == [], "\n".join(problems[:50])


KINDS = [
    "case_opened",
    "reminder",
    "re_escalated",
    "acknowledged",
    "resolved",
    "withdrawn",
    "message",
    "delivery_failed",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("urgency", ["normal", "urgent"])
def test_case_cards_of_every_kind_before_and_after_each_button(kind: str, urgency: str) -> None:
    actions = (
        ["acknowledge", "resolve", "message_employee"]
        if kind in ("case_opened", "reminder", "re_escalated", "message")
        else []
    )
    n = Notification(
        id=f"n-{kind}",
        case_id="0123456789abcdef0123456789abcdef",
        kind=kind,
        recipient=Recipient(kind="person", key="jo", name="Jo Manager"),
        title=f"{kind}: Alex Example needs you",
        text="Alex Example used the policy check and was told: Act now.\n" * 40,
        actions=actions,
        facts=[("Employee", "Alex Example"), ("Situation", "Legal threat"), ("Case", "01234567")],
        urgency=urgency,
    )
    problems: list[str] = []
    check_case_card(n, problems)
    assert problems == []


def check_case_card(n: Notification, problems: list[str]) -> None:
    content = cards.case_card(n)
    check(content, f"case {n.kind}", problems)
    for status, keep in (("Thanks, Jo: Alex has been told.", True), ("Resolved. Alex has been told.", False)):
        check(cards.case_card_after(content, status, keep_actions=keep), f"case {n.kind} after", problems)
    check(cards.case_card_after(None, "Done."), f"case {n.kind} unknown card", problems)


def test_oversized_replies_are_shrunk_to_fit_teams() -> None:
    long = "A very long policy paragraph that goes on and on. " * 200
    citations = [
        CitationView(f"c{i}", "A council policy with a long title " * 3, f"paragraph {i}", long, long)
        for i in range(12)
    ]
    question = Question(
        conversation_id="c" * 32,
        flow_id="f",
        flow_title="A flow",
        state="s",
        text=long,
        options=[OptionView(i, f"Option {i}: " + "words " * 60) for i in range(10)],
        step=1,
        max_steps=9,
        turn=1,
        intro=long,
        can_go_back=True,
        citations=citations,
    )
    outcome = Outcome(
        conversation_id="c" * 32,
        flow_id="f",
        flow_title="A flow",
        state="o",
        verdict=Verdict.CARE,
        text=long,
        checklist=[long] * 10,
        citations=citations,
        answers=[],
        escalation=EscalationOffer(["comms"], ["legal"], 7200, False, long * 3, {"comms": "Comms"}),
    )
    for content in (
        cards.question_card(question),
        cards.outcome_card(outcome),
        cards.explanation_card(Explanation("c", citations)),
        cards.flow_choice_card(FlowChoice("Pick", [FlowCandidate(f"f{i}", long[:300], 0.0) for i in range(20)])),
        cards.feedback_card(Feedback(long, True)),
    ):
        assert card_problems(content) == []
    # every answer survives the shrinking: ten long options are a choice set, all ten shown, one button
    body = cards.question_card(question)["body"]
    [choices] = [b for b in body if b.get("type") == "Input.ChoiceSet"]
    assert [c["value"] for c in choices["choices"]] == [str(i) for i in range(10)]
    assert choices["style"] == "expanded" and choices["wrap"] is True
