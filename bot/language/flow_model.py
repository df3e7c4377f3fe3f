"""The flow model: what a loaded, validated flow is made of.

Flows are immutable once loaded. A flow's ``version`` is the hash of its file's bytes, so a
conversation can say exactly which text it started on and finish on it after the YAML changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.language.i18n.flow_texts import FlowText
from bot.language.templates import evaluate
from bot.language.verdicts import Verdict

QUESTION = "question"
BRANCH = "branch"
OUTCOME = "outcome"

DEFAULT_TARGETS = ("line_manager", "comms", "legal", "hr", "safeguarding")

_DURATION = re.compile(r"^\s*(\d+)\s*(m|h|d|wh)\s*$")


@dataclass(frozen=True)
class Duration:
    """An escalation deadline. ``working_hours`` means only the org's working hours count."""

    seconds: int
    working_hours: bool = False

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(f"'{text}' is not a duration like 30m, 2h, 1d or 4wh")
        amount, unit = int(match.group(1)), match.group(2)
        seconds = amount * {"m": 60, "h": 3600, "d": 86400, "wh": 3600}[unit]
        return cls(seconds=seconds, working_hours=unit == "wh")

    def describe(self) -> str:
        """In words, for people: "30 minutes", "2 hours", "1 day", "4 working hours"."""
        if self.seconds % 86400 == 0 and not self.working_hours:
            n, unit = self.seconds // 86400, "day"
        elif self.seconds % 3600 == 0:
            n, unit = self.seconds // 3600, "working hour" if self.working_hours else "hour"
        else:
            n, unit = max(1, self.seconds // 60), "working minute" if self.working_hours else "minute"
        return f"{n} {unit}{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Option:
    label: str
    next: str
    line: int
    feedback: str | None = None
    correct: bool | None = None
    next_line: int = 0  # the line of its ``next:`` (problems with where it goes point there)


@dataclass(frozen=True)
class BranchRule:
    """``if`` is a Jinja expression over org/user/answers; ``condition`` None means 'else'."""

    condition: str | None
    next: str
    line: int


@dataclass(frozen=True)
class CiteRule:
    """One ``cite_if`` entry of an outcome: these ids are cited too when ``condition`` holds.

    An outcome that gathers conditions from several answers (the can-i-post check) shows only the
    conditions that apply, so it cites only the paragraphs behind those conditions.
    """

    condition: str
    cite: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Escalation:
    to: tuple[str, ...]
    then: tuple[str, ...] = ()
    unacknowledged_after: Duration | None = None
    required: bool = False
    urgency: str = "normal"
    summary: str | None = None

    @property
    def all_targets(self) -> list[str]:
        """First recipients then re-escalation targets, each once, in order."""
        seen: list[str] = []
        for target in (*self.to, *self.then):
            if target not in seen:
                seen.append(target)
        return seen


@dataclass(frozen=True)
class State:
    name: str
    kind: str  # QUESTION, BRANCH or OUTCOME
    line: int
    ask: str | None = None
    intro: str | None = None
    options: tuple[Option, ...] = ()
    branch: tuple[BranchRule, ...] = ()
    verdict: Verdict | None = None
    say: str | None = None
    checklist: tuple[str, ...] = ()
    cite: tuple[str, ...] = ()
    cite_if: tuple[CiteRule, ...] = ()
    escalate: Escalation | None = None
    # read from a state with structural problems, keeping only the parts of the right type: for
    # validate's other checks only, never served (the flow is refused while it has problems)
    loose: bool = False

    @property
    def every_cite(self) -> tuple[str, ...]:
        """Every id the state can cite, conditional ones included (for checks and coverage)."""
        return tuple(dict.fromkeys((*self.cite, *(cid for rule in self.cite_if for cid in rule.cite))))

    def cites_for(self, context: Mapping[str, Any]) -> tuple[str, ...]:
        """The ids this state cites for one conversation: ``cite``, then each ``cite_if`` that holds."""
        if not self.cite_if:
            return self.cite
        extra = (cid for rule in self.cite_if if evaluate(rule.condition, context) for cid in rule.cite)
        return tuple(dict.fromkeys((*self.cite, *extra)))

    @property
    def successors(self) -> list[str]:
        if self.kind == QUESTION:
            return [o.next for o in self.options]
        if self.kind == BRANCH:
            return [r.next for r in self.branch]
        return []


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    description: str
    triggers: tuple[str, ...]
    start: str
    states: dict[str, State]
    version: str  # sha256 of the source text, first 16 hex digits
    source: str  # the YAML text itself, kept so old versions can be reloaded from the store
    path: str
    cite: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line
    # How people describe the situation, for the router (docs/routing.md): messages as staff type
    # them, the same in Welsh, and look-alike messages that belong to another flow (message -> id).
    examples: tuple[str, ...] = ()
    welsh_examples: tuple[str, ...] = ()
    negatives: dict[str, str] = field(default_factory=dict)
    about: tuple[str, ...] = ()  # topics for the clarifying question: post, people, account, risk, rules
    always_offer: bool = False  # never buried: offered whenever it scores anywhere near the top
    # Every person-facing text by its path ("states.where.ask"), with its translations and lines
    # (bot.language.i18n.flow_texts), and each language's translation status (draft or reviewed).
    texts: dict[str, FlowText] = field(default_factory=dict)
    translation_status: dict[str, str] = field(default_factory=dict)

    def text_in(self, path: str, english: str, language: str | None) -> str:
        """The text at ``path`` in ``language``: its current translation, else the English.

        ``english`` is what the state holds; a translation is used only while it was written
        from that same English (not stale), so a person never reads advice the English no
        longer gives."""
        if not language or language == "en":
            return english
        found = self.texts.get(path)
        if found is None or found.english != english:
            return english
        return found.current(language) or english

    @property
    def outcomes(self) -> list[State]:
        return [s for s in self.states.values() if s.kind == OUTCOME]
