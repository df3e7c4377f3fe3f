"""What changed between two versions of a policy: new, changed and removed clauses.

Clauses are lined up by their text, not their labels: inserting a bullet renumbers every bullet
after it, and that is not a change to any of them. ``difflib`` aligns the two sequences of
clause texts; inside a run that differs, an old and a new clause that still read mostly alike
(at least half the same, by ``SequenceMatcher.ratio``) are one clause *changed*, and the rest are
*removed* (only in the old version) or *new* (only in the new one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from bot.language.citations import normalise
from bot.language.policy_docs.model import Clause, PolicyDocument

SAME_CLAUSE = 0.5  # how alike an old and a new text must be to count as one clause edited


@dataclass(frozen=True)
class Changes:
    added: list[Clause] = field(default_factory=list)
    changed: list[tuple[Clause, Clause]] = field(default_factory=list)  # (old, new)
    removed: list[Clause] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def counts(self) -> str:
        return f"{len(self.changed)} changed, {len(self.added)} new, {len(self.removed)} removed"


def compare(old: PolicyDocument, new: PolicyDocument) -> Changes:
    """The clauses that differ from ``old`` to ``new`` (an empty ``Changes`` when none do)."""
    before = [normalise(c.text) for c in old.clauses]
    after = [normalise(c.text) for c in new.clauses]
    changes = Changes()
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        _pair(old.clauses[i1:i2], before[i1:i2], new.clauses[j1:j2], after[j1:j2], changes)
    return changes


def _pair(
    old: tuple[Clause, ...], old_texts: list[str], new: tuple[Clause, ...], new_texts: list[str], changes: Changes
) -> None:
    """Pair each old clause with the next new clause that still reads like it, in order."""
    start = 0
    for clause, text in zip(old, old_texts, strict=True):
        match = None
        for index in range(start, len(new)):
            if SequenceMatcher(None, text, new_texts[index], autojunk=False).ratio() >= SAME_CLAUSE:
                match = index
                break
        if match is None:
            changes.removed.append(clause)
            continue
        changes.added.extend(new[start:match])
        changes.changed.append((clause, new[match]))
        start = match + 1
    changes.added.extend(new[start:])
