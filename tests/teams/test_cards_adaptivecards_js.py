"""Every card the Teams adapter can send, parsed by the official ``adaptivecards`` npm library.

The cards are the ones tests/teams/test_all_cards.py draws (every state of every flow, shipped and
test flows, for every settings rule; the menus; case cards of every kind, before and after each
button, and the ones the case service really wrote). They are dumped to a file and parsed by
tests/teams/js/check-cards.js with the library's own parser, targeting Adaptive Cards 1.5 with
Teams' host config; any error or warning it reports fails the test.

Needs Node and ``npm ci`` in tests/teams/js (.ci/run does both). Without Node the test skips;
with POLICYBOT_REQUIRE_SERVICES=1 it fails instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapters.teams import cards
from bot.cases.notify import Notification, Recipient
from bot.conversation.library import default_flows_dir
from tests.shared_inputs import need_tools

from . import test_all_cards, test_welsh
from .conftest import TEST_FLOWS

JS = Path(__file__).resolve().parent / "js"


def node_or_skip() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "Node.js is not installed (apt-get install nodejs)"
    elif not (JS / "node_modules" / "adaptivecards").is_dir():
        problem = "the adaptivecards package is not installed: run `npm ci` in tests/teams/js"
    need_tools([problem] if problem else [])
    assert node is not None
    return node


def every_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    real = test_all_cards.card_problems

    def collecting(content: dict[str, Any], **kwargs: Any) -> list[str]:
        collected.append({"where": f"card {len(collected)}", "card": content})
        return real(content, **kwargs)

    monkeypatch.setattr(test_all_cards, "card_problems", collecting)
    for name, flows in (("shipped", default_flows_dir()), ("test", TEST_FLOWS)):
        covered: dict[str, set[str]] = {}
        runtimes = test_all_cards.runtimes_for_every_rule(flows, tmp_path / name)
        for runtime in runtimes:
            test_all_cards.walk_every_state(runtime, covered)
        menu = runtimes[0].engine.menu()
        for content in (
            cards.flow_choice_card(menu),
            cards.flow_choice_card(menu, intro="Hello!"),
            cards.resume_card("c1", "A flow", "A question?"),
            cards.resume_card("c1", "A flow", "A question?", start_new=(None, "someone is suing me")),
            cards.cases_card([], []),
        ):
            collecting(content)
    for kind in test_all_cards.KINDS:
        for urgency in ("normal", "urgent"):
            actions = ["acknowledge", "resolve", "message_employee"] if kind in ("case_opened", "reminder") else []
            n = Notification(
                id=f"n-{kind}",
                case_id="0123456789abcdef0123456789abcdef",
                kind=kind,
                recipient=Recipient(kind="person", key="jo", name="Jo Manager"),
                title=f"{kind}: Alex Example needs you",
                text="Alex Example used the policy check and was told: Act now.",
                actions=actions,
                facts=[("Employee", "Alex Example"), ("Case", "01234567")],
                urgency=urgency,
            )
            test_all_cards.check_case_card(n, [])
    for content in review_cards():
        collecting(content)
    for content in test_welsh.welsh_cards():  # Cymraeg: the adapter's own words, the switch, Welsh cases
        collecting(content)
    for content in test_welsh.welsh_flow_cards(tmp_path / "welsh"):
        collecting(content)
    return collected


def review_cards() -> list[dict[str, Any]]:
    """The flow library's review cards: a short and an over-long diff (markdown-like characters
    and indentation included), before and after each button, and the author's outcome card."""
    change = "0123456789abcdef0123456789abcdef"
    short = "== can-i-post.yaml (changed)\n  outcome 'go_ahead': advice\n    - Go ahead.\n    + Go *ahead*, _now_."
    long = "\n".join(f"  line {i}: " + "words " * 30 for i in range(400))
    out: list[dict[str, Any]] = []
    for text in (short, long):
        n = Notification(
            id="n-review",
            case_id=change,
            kind="change_submitted",
            recipient=Recipient(kind="person", key="jo", name="Jo Reviewer"),
            title=f"A change to the flow library waits for your review ({change[:8]})",
            text=text,
            actions=["approve_change", "request_changes"],
            facts=[
                ("Submitted by", "Alex Author"),
                ("Note", "clearer"),
                ("Flows", "can-i-post"),
                ("Change", "01234567"),
            ],
        )
        content = cards.notification_card(n)
        out += [content, cards.review_card_after(content, "Published as library version 2.")]
    decided = Notification(
        id="n-decided",
        case_id=change,
        kind="change_decided",
        recipient=Recipient(kind="person", key="alex", name="Alex Author"),
        title=f"Your change to the flow library ({change[:8]})",
        text="Changes requested by jo: keep the old wording.",
        facts=[("Flows", "can-i-post")],
    )
    out += [cards.notification_card(decided), cards.review_card_after(None, "Sent back to alex.")]
    return out


def test_the_official_adaptivecards_library_parses_every_card_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = node_or_skip()
    collected = every_card(tmp_path, monkeypatch)
    assert len(collected) > 200
    dump = tmp_path / "cards.json"
    dump.write_text(json.dumps(collected), encoding="utf-8")
    run = subprocess.run(
        [node, str(JS / "check-cards.js"), str(dump)], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.stdout, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["checked"] == len(collected)
    assert result["problems"] == [], "\n".join(result["problems"][:40])
    assert run.returncode == 0, run.stderr
