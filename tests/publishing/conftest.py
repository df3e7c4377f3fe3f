"""Fixtures for the flow library tests: an organisation on disk (a copy of the shipped flows,
settings naming authors and reviewers, a staff directory), real databases, and a helper that
walks a flow the way a person would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.conversation.events import Actor, FreeText, Start
from bot.conversation.replies import Outcome, Question, Reply
from bot.runtime import Runtime, build_runtime

SHIPPED = Path(__file__).resolve().parents[2] / "flows"

DIRECTORY = """\
people:
  - {id: asha, name: Asha Patel, email: asha@example.gov.uk, slack_id: U0ASHA, roles: [comms]}
  - {id: lee, name: Lee Morgan, email: lee@example.gov.uk, slack_id: U0LEE, teams_id: 29:lee}
  - {id: sam, name: Sam Reviewer, email: sam@example.gov.uk, slack_id: U0SAM}
  - {id: kim, name: Kim Staff, email: kim@example.gov.uk, slack_id: U0KIM, manager: lee}
"""

SETTINGS = """\
directory: directory.yaml
authoring:
  authors: [asha]
  reviewers: [lee, sam]
  two_approvals_for: [legal, safeguarding]
  reload_seconds: 0.2
"""

ASHA = Actor(user_id="slack:T1:U0ASHA", display_name="Asha", email="asha@example.gov.uk", platform="slack")
LEE = Actor(user_id="slack:T1:U0LEE", display_name="Lee", email="lee@example.gov.uk", platform="slack")
KIM = Actor(user_id="slack:T1:U0KIM", display_name="Kim", email="kim@example.gov.uk", platform="slack")
STRANGER = Actor(user_id="slack:T1:U0NOBODY", display_name="Nobody", email="x@elsewhere.example", platform="slack")

# wiki-edit, Wikipedia: the outcome whose advice the tests change
WIKI_ANSWERS = [
    "The council, its services, councillors or staff",
    "Correct or add facts, or undo obvious vandalism",
    "Wikipedia",
]
WIKI_ADVICE = "Yes, but with advice first, and openly."
NEW_ADVICE = "Reviewed wording: talk to Comms before any edit."


@dataclass
class Org:
    folder: Path
    flows: Path
    settings: Path

    def edited_wiki(self, text: str = NEW_ADVICE) -> Path:
        """An author's edited copy of wiki-edit.yaml, outside the flows folder, with new advice."""
        source = (self.flows / "wiki-edit.yaml").read_text(encoding="utf-8")
        assert WIKI_ADVICE in source
        edited = self.folder / "edits" / "wiki-edit.yaml"
        edited.parent.mkdir(exist_ok=True)
        edited.write_text(source.replace(WIKI_ADVICE, f"{text} {WIKI_ADVICE}", 1), encoding="utf-8")
        return edited

    def edited_legal(self) -> Path:
        source = (self.flows / "legal-threat.yaml").read_text(encoding="utf-8")
        edited = self.folder / "edits" / "legal-threat.yaml"
        edited.parent.mkdir(exist_ok=True)
        assert "\ntitle:\n  en: " in source  # the English title, with its Welsh beside it
        edited.write_text(source.replace("\ntitle:\n  en: ", "\ntitle:\n  en: Reviewed - ", 1), encoding="utf-8")
        return edited

    def runtime(self, database_url: str, **kwargs: object) -> Runtime:
        return build_runtime(self.settings, database_url, flows_dir=self.flows, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def org(tmp_path: Path) -> Org:
    flows = tmp_path / "flows"
    shutil.copytree(SHIPPED, flows, ignore=shutil.ignore_patterns("__pycache__", "__init__.py", "*.example.yaml"))
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(SETTINGS, encoding="utf-8")
    return Org(tmp_path, flows, settings)


@pytest.fixture
def runtime(org: Org, sqlite_url: str) -> Iterator[Runtime]:
    made = org.runtime(sqlite_url)
    yield made
    made.close()


def walk(engine: Engine, actor: Actor, flow_id: str, answers: list[str]) -> list[Reply]:
    """Start a flow and give the answers in order; the last replies."""
    replies = engine.handle(actor, Start(flow_id=flow_id))
    for answer in answers:
        question = next(r for r in reversed(replies) if isinstance(r, Question))
        replies = engine.handle(actor, FreeText(answer, question.conversation_id))
    return replies


def outcome_of(replies: list[Reply]) -> Outcome:
    found = [r for r in replies if isinstance(r, Outcome)]
    assert found, replies
    return found[-1]
