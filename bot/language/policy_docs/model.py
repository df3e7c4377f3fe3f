"""A policy document as clauses, and where a quoted passage falls in it.

The text a quote is checked against is the clauses' text joined with spaces and normalised the
way the citation registry normalises (``bot.language.citations.normalise``: whitespace, curly
quotes, dash styles, ``**``). Every word of the source survives parsing: only bullet glyphs and
the numbers in front of numbered paragraphs are taken off the start of a line (they are in the
clause's label instead), so a quote copied from the document is found in its clauses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bot.language.citations import normalise

# What a clause is; the label says where it is, the kind says what sort of line it came from.
HEADING = "heading"  # a heading or a numbered section title ("2.1 Participation as an employee")
PARAGRAPH = "paragraph"  # a paragraph of text, numbered ("27. If you are threatened...") or not
BULLET = "bullet"  # one bullet or list item
KINDS = (HEADING, PARAGRAPH, BULLET)


@dataclass(frozen=True)
class Clause:
    """One clause: ``label`` is unique in its document and is how a person finds it."""

    label: str
    kind: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class PolicyDocument:
    """A document's clauses in order. Two documents with the same clauses have the same digest,
    whatever format they were read from (a Word file and its text export are one version)."""

    clauses: tuple[Clause, ...]

    @cached_property
    def _spans(self) -> tuple[str, tuple[tuple[int, int], ...]]:
        parts: list[str] = []
        spans: list[tuple[int, int]] = []
        at = 0
        for clause in self.clauses:
            words = normalise(clause.text)
            spans.append((at, at + len(words)))
            parts.append(words)
            at += len(words) + 1
        return " ".join(parts), tuple(spans)

    @property
    def text(self) -> str:
        """The whole document, normalised: what quotes are matched against."""
        return self._spans[0]

    @cached_property
    def digest(self) -> str:
        """sha256 of the clauses (labels, kinds and text): a new version only when this changes."""
        canonical = json.dumps([c.to_json() for c in self.clauses], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def contains(self, passage: str) -> bool:
        """Whether ``passage`` is word for word in the document (normalised as quotes are)."""
        return normalise(passage) in self.text

    def locate(self, passage: str) -> list[Clause]:
        """The clauses every occurrence of ``passage`` overlaps, in document order (none if absent).

        A quote normally lies inside one clause; one that runs from a heading into its first
        paragraph, or across a line the parser split, names both.
        """
        needle = normalise(passage)
        text, spans = self._spans
        if not needle:
            return []
        found: dict[int, None] = {}
        start = text.find(needle)
        while start != -1:
            end = start + len(needle)
            for index, (first, last) in enumerate(spans):
                if first < end and start < last:
                    found[index] = None
            start = text.find(needle, start + 1)
        return [self.clauses[i] for i in sorted(found)]

    def clause(self, label: str) -> Clause | None:
        return next((c for c in self.clauses if c.label == label), None)

    def to_json(self) -> list[dict[str, str]]:
        return [c.to_json() for c in self.clauses]

    @classmethod
    def from_json(cls, data: Any) -> PolicyDocument:
        """The document as stored (a JSON list of clauses)."""
        return cls(tuple(Clause(str(c["label"]), str(c["kind"]), str(c["text"])) for c in data))
