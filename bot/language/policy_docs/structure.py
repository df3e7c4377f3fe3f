"""Lines of a policy document into clauses: numbered paragraphs and sections, headings, bullets.

The four sample policies show what councils write (../shared/policy/README.md): numbered
paragraphs ("27. If you are threatened..."), numbered sections with bullets ("2.1 Participation
as an employee", "• You are personally responsible..."), headings with bullets under a lead-in
("Authorised Users must:"), FAQ questions, and text pasted from PDFs whose lines break
mid-sentence and whose bullet glyphs were lost. The rules, in order, for each line:

1. a blank line ends the paragraph being read;
2. ``# Heading`` (Markdown, and Word's heading styles) or a line that is bold and nothing else is a
   heading;
3. a line starting with a bullet glyph (``-``, ``*``, ``•``, ``▪``, ``–`` ...) or ``a)`` / ``(iv)``
   is a bullet;
4. a line starting ``27.`` / ``27)`` / ``2.1`` is numbered: a section title when it is short and
   does not end like a sentence ("2.1 Participation as an employee"), else paragraph 27;
5. a line that carries on the previous paragraph or bullet is joined to it: how a PDF's wrapped
   lines and page breaks come back together. It carries on when there is no blank line between
   and it starts in lower case, or the previous line did not end a sentence and was a full line
   (at least 3/4 of the document's usual longest line: it wrapped, it did not end); or, across
   blank lines, when it starts in lower case and the previous line did not end a sentence;
6. right after a lead-in ending with ``:``, plain lines are the list's items (a PDF that lost its
   bullet glyphs), until a blank line;
7. a short line (16 words or fewer) that does not end like a sentence, and whose next line does
   not start in lower case, is a heading; "?" may end one (an FAQ question);
8. anything else is a paragraph.

Labels name a clause the way a reader finds it: "paragraph 27", "section 2.1", "section 1,
paragraph 2", "section 1, bullet 5", "paragraph 21, bullet 3", "heading 'Personal use of social
media', bullet 2"; text before the first heading is "opening". Bullets are numbered through their
parent (the numbered paragraph they follow, else the section or heading). A label that would
repeat gets a count after it ("heading 'Context' (2)"), so every label is unique.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.language.policy_docs.model import BULLET, HEADING, PARAGRAPH, Clause, PolicyDocument

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$")
_BOLD_LINE = re.compile(r"^\*\*([^*].*?)\*\*:?$")
_BULLET = re.compile(r"^(?:[-*+•·▪●◦‣∙–—\uf0b7\uf0a7]|\(?[a-z]\)|\([ivx]+\))\s+(.*\S)$")
_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+)\.?\s+(\S.*)$|^(\d{1,3})[.)]\s+(\S.*)$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.,;:!]['\"’”)\]]*$")
_ENDS_THOUGHT = re.compile(r"[.;:!?]['\"’”)\]]*$")
TITLE_WORDS = 16
TITLE_CHARS = 120
LABEL_TEXT = 60
WRAPPED = 0.75  # a line at least this share of the document's full line width ran on to the next


def looks_like_title(text: str) -> bool:
    """Short, not ending like a sentence, not starting in lower case: a heading's shape."""
    words = text.split()
    return (
        0 < len(words) <= TITLE_WORDS
        and len(text) <= TITLE_CHARS
        and not _SENTENCE_END.search(text)
        and not text[0].islower()
    )


def heading_label(text: str) -> str:
    name = " ".join(text.replace("**", "").split())
    if len(name) > LABEL_TEXT:
        name = name[: LABEL_TEXT - 1].rstrip() + "…"
    return f"heading '{name}'"


@dataclass
class _Block:
    kind: str
    label: str
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class _Reader:
    """The parser's position: the section or heading we are under, the numbered paragraph whose
    bullets may follow, and the counts that number plain paragraphs and bullets."""

    blocks: list[_Block] = field(default_factory=list)
    section: str | None = None
    numbered: str | None = None
    open: _Block | None = None  # the paragraph or bullet the next line may carry on
    last: _Block | None = None  # the same, across blank lines (a page break mid-sentence)
    implicit_list: bool = False  # after a lead-in ending with ':', before any explicit bullet
    list_items: int = 0
    paragraphs: Counter[str] = field(default_factory=Counter)
    bullets: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    width: int = 0  # how long a full line of this document is (see parse_lines)

    def add(self, kind: str, label: str, text: str) -> _Block:
        self.labels[label] += 1
        if self.labels[label] > 1:
            label = f"{label} ({self.labels[label]})"
        block = _Block(kind, label, [text])
        self.blocks.append(block)
        self.open = self.last = block if kind != HEADING else None
        return block

    def heading(self, label: str, text: str) -> None:
        self.numbered, self.implicit_list = None, False
        self.section = self.add(HEADING, label, text).label

    def paragraph(self, text: str, label: str | None = None) -> None:
        if label is None:
            context = self.section or "opening"
            self.paragraphs[context] += 1
            label = f"{context}, paragraph {self.paragraphs[context]}"
            self.numbered = None
        else:
            self.numbered = label
        self.add(PARAGRAPH, label, text)
        self.implicit_list, self.list_items = text.endswith(":"), 0

    def bullet(self, text: str) -> None:
        parent = self.numbered or self.section or "opening"
        self.bullets[parent] += 1
        self.add(BULLET, f"{parent}, bullet {self.bullets[parent]}", text)
        self.list_items += 1

    def blank(self) -> None:
        self.open = None
        if self.list_items:
            self.implicit_list = False

    def carries_on(self, line: str) -> _Block | None:
        """The paragraph or bullet ``line`` continues (rule 5), if any."""
        lower = line[0].islower()
        if self.open is not None:
            if self.implicit_list and self.open.kind == BULLET:
                return self.open if lower else None  # each plain line of a lost-bullet list is an item
            previous = self.open.lines[-1]
            wrapped = len(previous) >= WRAPPED * self.width and not _ENDS_THOUGHT.search(previous)
            return self.open if lower or wrapped else None
        if self.last is not None and lower and not _ENDS_THOUGHT.search(self.last.lines[-1]):
            return self.last
        return None

    def line(self, raw: str, next_line: str = "") -> None:
        line = raw.strip()
        if not line:
            self.blank()
            return
        if _PAGE_NUMBER.fullmatch(line):
            return
        if match := _MARKDOWN_HEADING.match(line):
            self.heading(heading_label(match[1]), match[1])
            return
        if match := _BOLD_LINE.match(line):
            self.heading(heading_label(match[1]), line)
            return
        if match := _BULLET.match(line):
            self.implicit_list = False
            self.bullet(match[1])
            return
        if match := _NUMBERED.match(line):
            number, text = (match[1], match[2]) if match[1] else (match[3], match[4])
            if looks_like_title(text):
                self.heading(f"section {number}", text)
            else:
                self.paragraph(text, f"paragraph {number}")
            return
        if (block := self.carries_on(line)) is not None:
            block.lines.append(line)
            self.open = self.last = block
            if block.kind == PARAGRAPH and line.endswith(":"):
                self.implicit_list, self.list_items = True, 0
            return
        if self.implicit_list and not line.endswith(":"):
            self.bullet(line)
            return
        if looks_like_title(line) and not next_line[:1].islower():
            self.heading(heading_label(line), line)
            return
        self.paragraph(line)


def parse_lines(lines: Iterable[str]) -> PolicyDocument:
    """The clauses of a document given as lines of text (see the module docstring for the rules)."""
    reader = _Reader()
    cleaned = [raw.replace("\u00a0", " ").replace("\t", " ") for raw in lines]
    lengths = sorted(len(line.strip()) for line in cleaned if line.strip())
    reader.width = lengths[int(len(lengths) * 0.95)] if lengths else 0
    for index, line in enumerate(cleaned):
        reader.line(line, cleaned[index + 1].strip() if index + 1 < len(cleaned) else "")
    return PolicyDocument(tuple(Clause(b.label, b.kind, b.text) for b in reader.blocks))


def parse_text(text: str) -> PolicyDocument:
    return parse_lines(text.splitlines())
