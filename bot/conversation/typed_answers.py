"""Typed answers: which option, or which command, a line of text means.

The terminal and a DM both let a person type instead of clicking: the option's number, its words
or a close spelling of them, or a command word (back, restart, why, quit).
"""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

# Words typed at any step that act as commands rather than answers.
COMMAND_WORDS: dict[str, str] = {
    "back": "back",
    "undo": "back",
    "previous": "back",
    "restart": "restart",
    "start again": "restart",
    "start over": "restart",
    "why": "why",
    "why?": "why",
    "quit": "cancel",
    "cancel": "cancel",
    "stop": "cancel",
    "exit": "cancel",
}
FUZZY_MATCH = 80  # rapidfuzz WRatio a typed answer needs to count as an option ("counsil acount")
FUZZY_MARGIN = 10  # ...and how far ahead of the next option it must be, so a vague answer is asked again


def command_for(text: str) -> str | None:
    """The command a typed line names ("back", "restart", "why", "cancel"), or None."""
    return COMMAND_WORDS.get(text.strip().lower())


def match_option(text: str, labels: list[str]) -> int | None:
    """An option number, the option's words, or a close enough spelling of them; None if unclear."""
    if text.isascii() and text.isdigit():
        number = int(text)
        return number - 1 if 1 <= number <= len(labels) else None
    folded = [label.casefold() for label in labels]
    if text.casefold() in folded:
        return folded.index(text.casefold())
    best = process.extract(text, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=2)
    if best and best[0][1] >= FUZZY_MATCH and (len(best) == 1 or best[0][1] - best[1][1] >= FUZZY_MARGIN):
        return int(best[0][2])
    return None
