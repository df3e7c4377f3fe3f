"""The translations a flow carries beside its English, read out of the YAML before anything else.

A person-facing text in a flow is either plain English (``ask: Where was the post made?``) or
the English with its translations beside it::

    ask:
      en: Where was the post made?
      cy: Ble cafodd y post ei wneud?
      cy_of: 0b7f1c2a

``cy_of`` is the fingerprint (``bot.language.i18n.languages.digest``) of the English the Welsh
was written from: when the English changes, the fingerprint no longer matches and ``validate``
says the Welsh is stale, at its line. Reading a flow, ``split_translations`` puts the English back
where a plain text would be, so every other check, the machine and the scenarios see the same
flow as before, and keeps the translations, by the text's path, in ``Flow.texts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.errors import Problem
from bot.language.i18n.languages import ENGLISH, LANGUAGE_CODE, digest
from bot.language.yamlload import LineDict, LineList

TOP_TEXTS = ("title", "description")
QUESTION_TEXTS = ("ask", "intro")
OPTION_TEXTS = ("label", "feedback")
OUTCOME_TEXTS = ("say",)
STATUS_KEY = "translation_status"  # per language: draft (not yet reviewed) or reviewed
STATUSES = ("draft", "reviewed")
SOURCE_SUFFIX = "_of"


@dataclass(frozen=True)
class Translation:
    """One translation of one text: the words, the fingerprint of the English they translate, the line."""

    text: str
    source: str | None
    line: int


@dataclass(frozen=True)
class FlowText:
    """One person-facing text of a flow: its English, where it is, and its translations."""

    path: str  # "states.where.ask", "states.where.options.0.label", "title"
    english: str
    line: int
    translations: dict[str, Translation] = field(default_factory=dict)
    template: bool = True  # rendered with the person's context (every text but title and description)

    @cached_property
    def digest(self) -> str:
        """The English's fingerprint, worked out once per loaded flow."""
        return digest(self.english)

    def current(self, language: str) -> str | None:
        """The translation to show in ``language``: None when there is none or it is stale
        (the English it was written from has changed, so it may now say something else)."""
        found = self.translations.get(language)
        if found is None or found.source != self.digest:
            return None
        return found.text

    def is_stale(self, language: str) -> bool:
        found = self.translations.get(language)
        return found is not None and found.source != self.digest


def text_paths(data: LineDict) -> list[tuple[str, Any, Any, int]]:
    """Every person-facing text position in raw flow data: (path, container, key, line)."""
    found: list[tuple[str, Any, Any, int]] = []
    for key in TOP_TEXTS:
        if key in data:
            found.append((key, data, key, data.line_of(key)))
    states = data.get("states")
    if not isinstance(states, LineDict):
        return found
    for name, raw in states.items():
        if not isinstance(raw, LineDict):
            continue
        base = f"states.{name}"
        for key in (*QUESTION_TEXTS, *OUTCOME_TEXTS):
            if key in raw:
                found.append((f"{base}.{key}", raw, key, raw.line_of(key)))
        options = raw.get("options")
        if isinstance(options, LineList):
            for index, option in enumerate(options):
                if isinstance(option, LineDict):
                    for key in OPTION_TEXTS:
                        if key in option:
                            found.append((f"{base}.options.{index}.{key}", option, key, option.line_of(key)))
        checklist = raw.get("checklist")
        if isinstance(checklist, LineList):
            for index in range(len(checklist)):
                found.append((f"{base}.checklist.{index}", checklist, index, checklist.line_of(index)))
        escalate = raw.get("escalate")
        if isinstance(escalate, LineDict) and "summary" in escalate:
            found.append((f"{base}.escalate.summary", escalate, "summary", escalate.line_of("summary")))
    return found


def split_translations(data: LineDict, filename: str) -> tuple[dict[str, FlowText], dict[str, str], list[Problem]]:
    """Take the translations out of raw flow data, leaving the English in their place.

    Returns the texts by path, each language's status (``translation_status``) and the problems
    with the translated texts' own shape; the data is changed in place.
    """
    texts: dict[str, FlowText] = {}
    problems: list[Problem] = []
    for path, container, key, line in text_paths(data):
        value = container[key]
        template = path not in TOP_TEXTS
        if isinstance(value, str):
            texts[path] = FlowText(path, value, line, template=template)
            continue
        if not isinstance(value, LineDict) or not _is_translated(value):
            continue  # not meant as a translated text: the schema says what is wrong with it
        english = value.get(ENGLISH)
        problems += _shape_problems(value, filename)
        if not isinstance(english, str):
            continue  # left a mapping: the schema reports that the text is missing its English
        container[key] = english
        translations = {
            code: Translation(text, _source(value, code), value.line_of(code))
            for code, text in value.items()
            if code != ENGLISH and LANGUAGE_CODE.match(code) and isinstance(text, str)
        }
        texts[path] = FlowText(path, english, value.line_of(ENGLISH), translations, template)
    status, status_problems = _statuses(data, filename)
    return texts, status, problems + status_problems


def _is_translated(value: LineDict) -> bool:
    """A mapping meant as a text with translations: it has its English, or only language keys."""
    return ENGLISH in value or all(LANGUAGE_CODE.match(key.removesuffix(SOURCE_SUFFIX)) for key in value)


def _source(value: LineDict, code: str) -> str | None:
    source = value.get(code + SOURCE_SUFFIX)
    return str(source) if isinstance(source, str | int) else None


def _shape_problems(value: LineDict, filename: str) -> list[Problem]:
    problems = []
    if ENGLISH not in value:
        problems.append(Problem(filename, value.line, "a translated text needs its English under 'en:'"))
    for code, text in value.items():
        if code.endswith(SOURCE_SUFFIX) and LANGUAGE_CODE.match(code.removesuffix(SOURCE_SUFFIX)):
            if code.removesuffix(SOURCE_SUFFIX) not in value:
                problems.append(
                    Problem(filename, value.line_of(code), f"'{code}' is here but there is no '{code[:-3]}:' text")
                )
            continue
        if not LANGUAGE_CODE.match(code):
            message = f"'{code}' is not a language code: write en, cy, and cy_of for the Welsh's fingerprint"
            problems.append(Problem(filename, value.line_of(code), message))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(filename, value.line_of(code), f"the '{code}' text should be words, not {text!r}"))
    return problems


def _statuses(data: LineDict, filename: str) -> tuple[dict[str, str], list[Problem]]:
    raw = data.get(STATUS_KEY)
    if raw is None:
        return {}, []
    if not isinstance(raw, LineDict):
        return {}, [
            Problem(filename, data.line_of(STATUS_KEY), f"'{STATUS_KEY}' should map languages to draft or reviewed")
        ]
    status: dict[str, str] = {}
    problems = []
    for code, value in raw.items():
        if LANGUAGE_CODE.match(code) and value in STATUSES:
            status[code] = str(value)
        else:
            message = f"'{STATUS_KEY}' for '{code}' should be draft or reviewed, not {value!r}"
            problems.append(Problem(filename, raw.line_of(code), message))
    return status, problems
