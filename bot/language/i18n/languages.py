"""Which languages there are, what each is called, and how a platform's locale names one.

A language is a short code (``en``, ``cy``). Each is named in its own language, so a Welsh
speaker looks for "Cymraeg", never for "Welsh" in an English list.
"""

from __future__ import annotations

import hashlib
import re

ENGLISH = "en"
WELSH = "cy"

# Each language's name in that language: what the one-tap switch says.
NAMES: dict[str, str] = {ENGLISH: "English", WELSH: "Cymraeg"}

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def name_of(language: str) -> str:
    """The language's own name for itself ("Cymraeg"), or its code for one we have no name for."""
    return NAMES.get(language, language)


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
