"""How far each flow is translated, for authors: ``policybot coverage`` and ``policybot flows``.

Per flow and language: its status (``draft`` until the council's translation service has
reviewed it, then ``reviewed``), how many texts are translated and current, and how many are
stale. A language counts when the settings offer it or any flow carries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.language.flow_model import Flow
from bot.language.i18n.flow_texts import FlowText
from bot.language.i18n.languages import ENGLISH, english_name, name_of


@dataclass(frozen=True)
class TranslationState:
    flow_id: str
    language: str
    status: str  # draft, reviewed, or "none" when nothing is translated yet
    current: int  # texts translated from the English they now have
    stale: int  # texts whose English changed after they were translated
    total: int

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow_id,
            "language": self.language,
            "status": self.status,
            "current": self.current,
            "stale": self.stale,
            "total": self.total,
        }

    def describe(self) -> str:
        name = english_name(self.language)
        if self.status == "none":
            return f"{name}: not translated yet (0 of {self.total} texts)"
        share = 100.0 * self.current / self.total if self.total else 100.0
        stale = f", {self.stale} stale" if self.stale else ""
        return f"{name}, {self.status}: {self.current} of {self.total} texts ({share:.0f}%){stale}"

    @property
    def missing(self) -> int:
        """Texts with no translation at all yet (shown in English, like the stale ones)."""
        return self.total - self.current - self.stale

    def in_words(self) -> str:
        """The same state for a comms officer in the studio, the language named in itself first
        (as the bot's switch names it) and in English after:
        "Cymraeg (Welsh): draft — 118 of 120 texts current, 2 stale"."""
        name = f"{name_of(self.language)} ({english_name(self.language)})"
        if name_of(self.language) == english_name(self.language):
            name = name_of(self.language)
        if self.status == "none":
            return f"{name}: not translated yet — 0 of {self.total} texts"
        words = f"{name}: {self.status} — {self.current} of {self.total} texts current"
        if self.stale:
            words += f", {self.stale} stale"
        if self.missing:
            words += f", {self.missing} not translated yet"
        return words


def languages_in(flows: Iterable[Flow], offered: Iterable[str] = ()) -> list[str]:
    found = {code for flow in flows for text in flow.texts.values() for code in text.translations}
    return sorted((found | set(offered)) - {ENGLISH})


def translation_states(flows: list[Flow], offered: Iterable[str] = ()) -> list[TranslationState]:
    return [state_of(flow, language) for language in languages_in(flows, offered) for flow in flows]


def state_of(flow: Flow, language: str) -> TranslationState:
    """One flow's state in one language (the studio asks per flow, the CLI for them all)."""
    texts = list(flow.texts.values())
    current = sum(1 for t in texts if t.current(language) is not None)
    stale = len(stale_texts(flow, language))
    status = flow.translation_status.get(language, "draft" if current or stale else "none")
    return TranslationState(flow.id, language, status, current, stale, len(texts))


def stale_texts(flow: Flow, language: str) -> list[FlowText]:
    """The texts whose English changed after they were translated, in file order: people reading
    ``language`` see their English until the translation is brought up to date."""
    return sorted((t for t in flow.texts.values() if t.is_stale(language)), key=lambda t: t.line)


def format_states(states: list[TranslationState]) -> list[str]:
    if not states:
        return []
    width = max(len(s.flow_id) for s in states)
    lines = ["", "Translations (draft: not yet reviewed by the translation service; docs/languages.md):"]
    lines += [f"  {s.flow_id.ljust(width)}  {s.describe()}" for s in states]
    return lines
