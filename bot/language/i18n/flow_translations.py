"""``validate``'s checks on translations: every text translated, none stale, every template sound.

They run for each language the organisation's settings list beside English (``languages:``), so a
council that has not switched Welsh on is never told its flows lack Welsh. A missing or stale
translation is reported at its ``file:line`` but never takes a flow off line: until it is fixed
the English is shown in its place (bot.language.flow_model.Flow.text_in), because outdated
advice in any language is worse than the right advice in English.
"""

from __future__ import annotations

import re
from collections import Counter

from bot.errors import Problem
from bot.language.citations import Registry
from bot.language.flow_model import Flow
from bot.language.i18n.flow_texts import FlowText
from bot.language.i18n.languages import ENGLISH, english_name
from bot.language.settings import Settings
from bot.language.templates import check_template

_CONTROL = re.compile(r"\{%-?\s*(.*?)\s*-?%\}", re.DOTALL)


def control_tags(source: str) -> Counter[str]:
    """The ``{% … %}`` tags of a template, spacing aside: the logic a translation must keep."""
    return Counter(" ".join(tag.split()) for tag in _CONTROL.findall(source))


def translation_problems(flow: Flow, settings: Settings) -> list[Problem]:
    """Every missing, stale or broken translation in ``flow``, for the languages the settings offer."""
    problems: list[Problem] = []
    for language in settings.languages:
        if language == ENGLISH:
            continue
        for text in flow.texts.values():
            problems += text_problems(flow.path, text, language, settings, question_names(flow))
        if language == "cy" and not flow.welsh_examples:
            message = "there are no welsh_examples, so a first message in Welsh may not find this flow"
            problems.append(Problem(flow.path, flow.lines.get("examples", 1), message))
    return problems


def question_names(flow: Flow) -> list[str]:
    return [s.name for s in flow.states.values() if s.options]


def text_problems(
    file: str, text: FlowText, language: str, settings: Settings, answer_keys: list[str] | None = None
) -> list[Problem]:
    """The problems of one text's translation into ``language``."""
    name = english_name(language)
    found = text.translations.get(language)
    if found is None:
        message = f"no {name} ({language}) for this text yet: add '{language}:' beside the English (docs/languages.md)"
        return [Problem(file, text.line, message)]
    if found.source is None:
        message = (
            f"the {name} has no '{language}_of', so nobody can tell whether it still matches the English: "
            f"add '{language}_of: {text.digest}' once you have checked it"
        )
        return [Problem(file, found.line, message)]
    if found.source != text.digest:
        message = (
            f"the {name} is stale: the English has changed since it was translated. Update the {name}, "
            f"then set '{language}_of: {text.digest}' (until then the English is shown)"
        )
        return [Problem(file, found.line, message)]
    if not text.template:
        return []
    problems = []
    org = settings.template_org(language)
    for issue in check_template(
        found.text,
        org_keys=list(org),
        rule_keys=list(settings.rules),
        answer_keys=answer_keys or [],
        contact_keys=list(org["contacts"]),
    ):
        problems.append(Problem(file, found.line + issue.line_offset, f"in the {name}: {issue.message}"))
    if control_tags(found.text) != control_tags(text.english):
        message = (
            f"the {name} does not have the same {{% if %}} conditions as the English: copy each condition "
            "unchanged (answers are compared in English in every language) and translate only the words"
        )
        problems.append(Problem(file, found.line, message))
    return problems


def registry_problems(registry: Registry, settings: Settings) -> list[Problem]:
    """Missing or stale translations of the citation summaries (the quotes stay in their policy's language)."""
    problems: list[Problem] = []
    for language in settings.languages:
        if language == ENGLISH:
            continue
        for citation in registry.citations.values():
            if citation.summary_text is not None:
                problems += text_problems(str(registry.path), citation.summary_text, language, settings)
    return problems
