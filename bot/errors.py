"""One exception base for everything policybot reports to a person.

Messages are written for the person who has to fix the problem (a comms officer editing YAML,
an IT admin deploying the bot), not for a developer: they say what is wrong, where, and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class PolicybotError(Exception):
    """Base of every error policybot raises on purpose. ``str(err)`` is the whole message, in English.

    An error an employee or manager may read in chat is raised with its English sentence as a
    message id and the names in it as values, ``NotAllowed(N_("Only {name} can do that."),
    name=...)``, so ``bot.language.i18n.wording.said_in`` can say it in the reader's language.
    (This module is below the language layer, so it only keeps the two apart.)
    """

    def __init__(self, message: str = "", /, **values: str | Callable[[str | None], str]) -> None:
        # a value is a name as written, or a function of the language (a count in words, a date)
        self.message_id = message
        self.values = values
        english = {k: v if isinstance(v, str) else v(None) for k, v in values.items()}
        super().__init__(message.format(**english) if values else message)


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a file, reported as ``file:line: message``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FileProblems(PolicybotError):
    """A file (flow, registry, settings, directory, scenario) has one or more problems.

    Every problem is kept, so a comms officer sees them all at once rather than one per run.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SettingsError(PolicybotError):
    """The organisation settings are unusable (missing file, wrong value)."""


class UnknownFlow(PolicybotError):
    """A flow id was asked for that no loaded flow has."""


class StaleConversation(PolicybotError):
    """Another writer saved this conversation first; the caller must reload and try again."""


class NotAllowed(PolicybotError):
    """The person asking may not do this (for example act on a case not sent to them)."""
