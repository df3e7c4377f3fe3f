"""The interface strings in every language: gettext catalogues, managed with Babel.

The English text is the message id: code says ``_("Start again")`` with ``_ = interface(lang)``,
and a translator sees exactly what an English reader sees. The catalogues are the committed
``locale/<lang>/LC_MESSAGES/policybot.po`` files; each is compiled with Babel the first time a
language is used in a process (a few milliseconds), so there is no build step to forget and no
stale ``.mo`` file to ship. A message with no translation (or a fuzzy one) is shown in English.

Developers refresh the catalogues with Babel's own tool (docs/languages.md):
``pybabel extract -F babel.cfg -o bot/language/i18n/policybot.pot .`` then
``pybabel update -i bot/language/i18n/policybot.pot -d bot/language/i18n/locale -D policybot``.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.language.i18n.languages import ENGLISH

DOMAIN = "policybot"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Mark a module-level constant for translation; translate it where it is shown."""
    return message


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available() -> tuple[str, ...]:
    """English and every language with a catalogue shipped."""
    found = (
        sorted(p.name for p in LOCALE_DIR.iterdir() if catalog_path(p.name).is_file()) if LOCALE_DIR.is_dir() else []
    )
    return (ENGLISH, *found)


def read_catalog(language: str) -> Catalog:
    """The language's PO file as a Babel catalogue (empty for English or a language we lack)."""
    path = catalog_path(language)
    if language == ENGLISH or not path.is_file():
        return Catalog(locale=None, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@lru_cache(maxsize=8)
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalogue for one language, compiled once per process."""
    if language == ENGLISH or not catalog_path(language).is_file():
        return _gettext.NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, read_catalog(language), use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def interface(language: str | None) -> Callable[[str], str]:
    """``_`` for one language: the translation of an English message, or the English itself."""
    return translations(language or ENGLISH).gettext


def plural(language: str | None) -> Callable[[str, str, int], str]:
    """``ngettext`` for one language (Welsh has six plural forms; the catalogue knows them)."""
    return translations(language or ENGLISH).ngettext


# How long, in words: the forms Duration.describe and describe_duration write, as messages.
DURATIONS = (
    N_("{n} working hour"),
    N_("{n} working hours"),
    N_("{n} hour"),
    N_("{n} hours"),
    N_("{n} day"),
    N_("{n} days"),
    N_("{n} minute"),
    N_("{n} minutes"),
)


def in_words(english: str, language: str | None) -> str:
    """ "4 working hours" in ``language`` (Welsh keeps the noun singular after a number: "4 awr waith")."""
    if language in (None, ENGLISH):
        return english
    amount, _, unit = english.partition(" ")
    return interface(language)("{n} " + unit).format(n=amount)
