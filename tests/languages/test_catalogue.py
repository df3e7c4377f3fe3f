"""The interface catalogue: every string the code marks is in the Welsh catalogue, translated,
with the same {placeholders}; the catalogue compiles; and the layer-1 machinery reads locales."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.language.i18n.catalog import interface, read_catalog, translations
from bot.language.i18n.languages import join_names, language_of_locale, offered_order

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def marked_messages() -> set[str]:
    """What Babel extracts from the code with the project's babel.cfg (the core and the console)."""
    found: set[str] = set()
    for folder in ("bot", "adapters"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            REPO / folder, method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
        ):
            if isinstance(message, str):
                found.add(message)
    return found


def test_every_marked_string_has_a_welsh_translation_with_the_same_placeholders() -> None:
    catalog = read_catalog("cy")
    marked = marked_messages()
    assert len(marked) > 100  # the notices, buttons, case notifications and terminal words
    untranslated = sorted(m for m in marked if not (catalog.get(m) and catalog.get(m).string))
    assert untranslated == [], "run pybabel extract/update and translate these (docs/languages.md)"
    for message in marked:
        welsh = str(catalog.get(message).string)
        assert sorted(PLACEHOLDER.findall(welsh)) == sorted(PLACEHOLDER.findall(message)), message


def test_the_catalogue_compiles_and_answers_in_welsh_and_english() -> None:
    assert interface("cy")("Start again") == "Dechrau eto"
    assert interface("en")("Start again") == "Start again"
    assert interface(None)("Why?") == "Why?"
    assert interface("cy")("a message nobody marked") == "a message nobody marked"
    assert translations("cy") is translations("cy")  # compiled once per process


def test_locales_and_the_order_languages_are_offered_in() -> None:
    assert language_of_locale("cy-GB", ("en", "cy")) == "cy"
    assert language_of_locale("cy_GB.UTF-8", ("en", "cy")) == "cy"
    assert language_of_locale("cy-GB", ("en",)) is None
    assert language_of_locale("C.UTF-8", ("en", "cy")) is None
    assert offered_order(("en", "cy")) == ("cy", "en")


def test_welsh_and_joins_names_the_welsh_way() -> None:
    assert join_names(["Dai", "y tîm Cyfathrebu"], "cy", "a") == "Dai a’r tîm Cyfathrebu"
    assert join_names(["Dai", "Ifan"], "cy", "a") == "Dai ac Ifan"
    assert join_names(["Dai", "Cara", "Lee"], "cy", "a") == "Dai, Cara a Lee"
    assert join_names(["Dev", "Lee"], "en", "and") == "Dev and Lee"
