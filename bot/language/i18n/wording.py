"""A sentence the core decides, said in whichever language its reader has.

The core knows *what* to say (``Resolved. Sam has been told.``) before it knows who reads it: a
case result goes back to whoever clicked, in their language, and the same refusal may reach a
Welsh-speaking manager in Slack and an English-speaking one in Teams. So the core hands over the
English message id and the names that go in it, and the adapter asks for it in the reader's
language at the last moment. ``str()`` is the English, for logs and the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.errors import PolicybotError
from bot.language.i18n.catalog import interface

# A value is a name as written, or something said differently per language (a date, a duration).
Value = str | Callable[[str | None], str]


@dataclass(frozen=True)
class Wording:
    """An interface message (marked with ``N_`` where it is written) and the values it names."""

    message: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def said_in(self, language: str | None) -> str:
        return _say(self.message, self.values, language)

    def __str__(self) -> str:
        return self.said_in(None)


def said_in(err: PolicybotError, language: str | None) -> str:
    """An error's message in ``language`` when it was raised as a message id; else its English."""
    if not err.message_id:
        return str(err)
    return _say(err.message_id, err.values, language)


def _say(message: str, values: Mapping[str, Value], language: str | None) -> str:
    translated = interface(language)(message)
    if not values:
        return translated
    return translated.format(**{k: v if isinstance(v, str) else v(language) for k, v in values.items()})
