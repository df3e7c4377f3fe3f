"""Which languages there are, what each is called, and how a platform's locale names one.

A language is a short code (``en``, ``cy``). Each is named in its own language, so a Welsh
speaker looks for "Cymraeg", never for "Welsh" in an English list.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

ENGLISH = "en"
WELSH = "cy"

# Each language's name in that language: what the one-tap switch says.
NAMES: dict[str, str] = {ENGLISH: "English", WELSH: "Cymraeg"}

# Each language's name in English: what validate's messages to a comms officer say.
ENGLISH_NAMES: dict[str, str] = {ENGLISH: "English", WELSH: "Welsh"}

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def name_of(language: str) -> str:
    """The language's own name for itself ("Cymraeg"), or its code for one we have no name for."""
    return NAMES.get(language, language)


def english_name(language: str) -> str:
    return ENGLISH_NAMES.get(language, language)


def join_names(names: list[str], language: str | None, and_word: str) -> str:
    """ "A, B and C" in ``language``, where ``and_word`` is that language's "and".

    Welsh "a" becomes "ac" before a vowel and joins "y" to "a'r" ("a'r tîm Cyfathrebu")."""
    if len(names) <= 1:
        return "".join(names)
    last = names[-1]
    joiner = f" {and_word} "
    if language == WELSH and and_word == "a":
        if last.startswith("y ") or last.startswith("yr "):
            last, joiner = last.split(" ", 1)[1], " a’r "
        elif last[:1].lower() in "aeiouwyâêîôûŵŷ":
            joiner = " ac "
    return ", ".join(names[:-1]) + joiner + last


@lru_cache(maxsize=256)  # asked on every turn, with a handful of distinct locales
def language_of_locale(locale: str | None, offered: tuple[str, ...]) -> str | None:
    """The offered language a platform locale names, or None.

    Slack and Teams write ``cy-GB`` or ``en-GB``, a terminal's LANG ``cy_GB.UTF-8``; only the
    language part counts, so ``cy-GB``, ``cy_GB.UTF-8`` and ``cy`` all mean Welsh.
    """
    if not locale:
        return None
    code = re.split(r"[-_.@]", locale.strip().lower(), maxsplit=1)[0]
    return code if code in offered else None


def offered_order(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The languages in the order they are offered: Welsh first whenever it is on, so that Welsh
    is never the harder choice (Welsh Language Standards), then the rest as the settings list them."""
    return tuple(sorted(languages, key=lambda code: code != WELSH))


def digest(english: str) -> str:
    """A short fingerprint of an English text, stored beside its translation (``cy_of``).

    Spacing and line breaks do not count, so re-wrapping a paragraph does not make its
    translation stale; any change of words does.
    """
    return hashlib.sha256(" ".join(english.split()).encode("utf-8")).hexdigest()[:8]
