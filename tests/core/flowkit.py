"""Small flows for engine tests, written to a temporary folder with the real citation registry.

Engine tests use these instead of the production flows so that a comms edit to a real flow never
breaks a test of the engine's mechanics.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.language.settings import Settings, load_settings
from bot.store import Store

QUIZ_FLOW = """\
id: quiz
title: A short quiz about posting at work
triggers: [quiz me, test my knowledge]
start: intro_rule
states:
  intro_rule:
    intro: Posts on your own account can still reflect on the council.
    ask: Can a personal post get you into trouble at work?
    cite: [dcc-1-personally-responsible]
    options:
      - {label: "Yes", next: where_it, feedback: Right - you are responsible for it., correct: true}
      - {label: "No", next: where_it, feedback: It can - you are responsible for it., correct: false}
  where_it:
    branch:
      - if: "org.rules.personal_use_on_council_it == 'never'"
        next: strict_end
      - else: ask_time
  ask_time:
    ask: When may you use social media on a council computer?
    options:
      - {label: In my breaks, next: lenient_end, correct: true}
      - {label: Whenever I like, next: lenient_end, correct: false}
  strict_end:
    verdict: stop
    say: "Not on council computers. You scored {{ score }} of {{ score_total }}."
    cite: [dcc-1-own-time]
  lenient_end:
    verdict: care
    say: "Only in your breaks. You scored {{ score }} of {{ score_total }}."
    checklist: [Keep it to break times]
    cite: [dcc-1-own-time]
"""

REPORT_FLOW = """\
id: report
title: Someone threatened legal action about a post
triggers: [threatened to sue, legal action over my tweet]
start: where
states:
  where:
    ask: Where was it posted?
    cite: [notts-27]
    options:
      - {label: A council account, next: manager}
      - {label: My own account, next: own}
  manager:
    ask: Can you reach {{ user.manager_name or "your line manager" }} today?
    options:
      - {label: "Yes", next: tell_manager}
      - {label: "No", next: tell_comms}
  own:
    verdict: act
    say: Take it down and tell your line manager.
    cite: [notts-27]
    escalate: {to: [line_manager], then: [comms], unacknowledged_after: 2h}
  tell_manager:
    verdict: act
    say: Take it down now and tell {{ user.manager_name or "your line manager" }}.
    cite: [notts-27]
    escalate: {to: [line_manager], then: [comms, legal], unacknowledged_after: 4wh, required: true}
  tell_comms:
    verdict: act
    say: Take it down now and tell {{ org.contacts.comms }} and {{ org.contacts.legal }}.
    cite: [notts-27]
    escalate: {to: [comms, legal], required: true}
"""


def write_flows(folder: Path, flows: dict[str, str] | None = None) -> Path:
    """A flow folder holding the given flows (default: quiz and report) and the real registry."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(default_flows_dir() / "citations.yaml", folder / "citations.yaml")
    for flow_id, text in (flows or {"quiz": QUIZ_FLOW, "report": REPORT_FLOW}).items():
        (folder / f"{flow_id}.yaml").write_text(text, encoding="utf-8")
    return folder


def library(folder: Path, settings: Settings | None = None) -> FlowLibrary:
    return FlowLibrary.load(folder, settings or load_settings(None))


def sqlite_store(folder: Path) -> Store:
    folder.mkdir(parents=True, exist_ok=True)
    return Store(f"sqlite:///{folder / 'test.db'}")
