"""PO files for translators: ``policybot i18n export`` writes them, ``policybot i18n import`` reads them.

One PO file per flow (``<flow id>.po``) and one for the citation summaries (``citations.po``).
Each message is one text: ``msgctxt`` says where it is (``states.where.ask``), ``msgid`` is the
English exactly as the flow has it, ``msgstr`` the translation. A stale translation is exported
with the ``fuzzy`` flag, so a translator's tool shows it as needing review. Any PO editor (Poedit,
Weblate, a translation service's own tools) works on them.

Import checks every message before it writes anything: the file must name a flow, each
``msgctxt`` a text of that flow whose English is still the ``msgid`` (otherwise the English has
changed since the export, and the message is refused), and a template's translation must keep
the English's ``{% if %}`` conditions and use only names templates may use. Good messages are
written beside their English in the flow file (``cy:`` and ``cy_of:``) with ruamel.yaml, which
keeps the file's comments and layout; fuzzy and empty messages are left out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.errors import PolicybotError, Problem
from bot.language.citations import Registry
from bot.language.flow_model import Flow
from bot.language.i18n.flow_texts import STATUS_KEY, STATUSES, FlowText
from bot.language.i18n.flow_translations import text_problems
from bot.language.i18n.languages import ENGLISH, LANGUAGE_CODE, digest
from bot.language.settings import Settings

CITATIONS = "citations"
STATUS_HEADER = "X-Policybot-Status"  # draft or reviewed: written to the flow's translation_status
WRAP = 96  # where a long translation is folded in the YAML, as the flows are written


# -- export ------------------------------------------------------------------------------------------


def flow_catalog(flow: Flow, language: str) -> Catalog:
    """One flow's texts as a PO catalogue for ``language``, with what is already translated."""
    catalog = _catalog(language)
    for text in flow.texts.values():
        _add(catalog, text, language, f"{Path(flow.path).name}:{text.line}")
    return catalog


def registry_catalog(registry: Registry, language: str) -> Catalog:
    catalog = _catalog(language)
    for citation in registry.citations.values():
        if citation.summary_text is not None:
            text = FlowText(
                citation.id,
                citation.summary,
                citation.summary_text.line,
                citation.summary_text.translations,
                template=False,
            )
            _add(
                catalog,
                text,
                language,
                f"{registry.path.name}:{text.line}",
                note=f"The summary of {citation.policy.title}, {citation.clause}. The quote stays in English.",
            )
    return catalog


def _catalog(language: str) -> Catalog:
    return Catalog(locale=language, domain="policybot-flows", fuzzy=False, project="policybot")


def _add(catalog: Catalog, text: FlowText, language: str, where: str, note: str | None = None) -> None:
    found = text.translations.get(language)
    stale = found is not None and found.source != text.digest
    comments = [f"at {where}"]
    if note:
        comments.append(note)
    if text.template and "{" in text.english:
        comments.append("Keep every {% ... %} exactly as it is; move {{ ... }} where the sentence needs it.")
    if stale:
        comments.append("The English has changed since this was translated: check it against the English.")
    catalog.add(
        text.english,
        found.text if found else "",
        context=text.path,
        auto_comments=comments,
        flags=("fuzzy",) if stale else (),
    )


def write_catalog(catalog: Catalog, path: Path, status: str = "draft") -> None:
    """The catalogue as a PO file, with the translation's status (draft or reviewed) in its header."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True, omit_header=False)
    text = buffer.getvalue().decode("utf-8")
    text = text.replace('"Generated-By:', f'"{STATUS_HEADER}: {status}\\n"\n"Generated-By:', 1)
    path.write_text(text, encoding="utf-8")


def export(flows: list[Flow], registry: Registry, language: str, folder: Path) -> list[Path]:
    """Write ``<flow id>.po`` for every flow and ``citations.po``; returns the files written."""
    if language == ENGLISH or not LANGUAGE_CODE.match(language):
        raise PolicybotError(f"'{language}' is not a language to translate into: use a code such as cy")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for flow in flows:
        path = folder / f"{flow.id}.po"
        write_catalog(flow_catalog(flow, language), path, flow.translation_status.get(language, "draft"))
        written.append(path)
    path = folder / f"{CITATIONS}.po"
    write_catalog(registry_catalog(registry, language), path)
    written.append(path)
    return written


# -- import ------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did: translations written per file, and every message refused (with why)."""

    written: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=False)


def _status(path: Path) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f'"{STATUS_HEADER}:'):
            value = line.split(":", 1)[1].strip().strip('"').removesuffix("\\n").strip()
            return value if value in STATUSES else None
    return None


def import_folder(folder: Path, flows: list[Flow], registry: Registry, settings: Settings) -> ImportResult:
    """Check every PO file in ``folder`` and write the good translations into the flow files."""
    result = ImportResult()
    by_id = {flow.id: flow for flow in flows}
    files = sorted(folder.glob("*.po"))
    if not files:
        raise PolicybotError(f"there are no .po files in {folder}: export them first with policybot i18n export")
    for path in files:
        catalog = read_catalog(path)
        language = str(catalog.locale) if catalog.locale else None
        if language is None or not LANGUAGE_CODE.match(language.lower()):
            result.problems.append(Problem(str(path), 1, "the file names no language ('Language: cy' in its header)"))
            continue
        language = language.lower()
        stem = path.stem
        if stem == CITATIONS:
            texts = {
                c.id: FlowText(
                    c.id,
                    c.summary,
                    c.summary_text.line if c.summary_text else c.line,
                    c.summary_text.translations if c.summary_text else {},
                    template=False,
                )
                for c in registry.citations.values()
            }
            target = registry.path
        elif stem in by_id:
            texts = by_id[stem].texts
            target = Path(by_id[stem].path)
        else:
            result.problems.append(Problem(str(path), 1, f"there is no flow called '{stem}' to import this into"))
            continue
        accepted: dict[str, str] = {}
        for message in catalog:
            if not message.id or not message.string or message.fuzzy:
                continue
            line = message.lineno or 1
            english = str(message.id)
            translated = str(message.string)
            text = texts.get(str(message.context or ""))
            if text is None:
                result.problems.append(Problem(str(path), line, f"'{message.context}' is not a text of {stem}"))
                continue
            if text.english != english:
                why = "its English has changed since the export: export again and translate the new English"
                result.problems.append(Problem(str(path), line, f"'{message.context}': {why}"))
                continue
            checked = FlowText(text.path, text.english, line, {language: _current(translated, text)}, text.template)
            refused = text_problems(str(path), checked, language, settings, list(_question_names(by_id.get(stem))))
            if refused:
                result.problems += refused
                continue
            if _unchanged(text, language, translated):
                continue
            accepted[text.path] = translated
        status = None if stem == CITATIONS else _status(path)
        has_any = any(language in t.translations for t in texts.values())
        if status is not None and not accepted and (not has_any or status == _flow_status(by_id.get(stem), language)):
            status = None  # nothing new: the file is left exactly as it is
        if accepted or status:
            write_translations(target, language, accepted, texts, status=status)
        result.written[str(target)] = len(accepted)
    return result


def _flow_status(flow: Flow | None, language: str) -> str | None:
    return None if flow is None else flow.translation_status.get(language)


def _current(translated: str, text: FlowText) -> Any:
    from bot.language.i18n.flow_texts import Translation

    return Translation(translated, text.digest, 1)


def _question_names(flow: Flow | None) -> list[str]:
    return [] if flow is None else [s.name for s in flow.states.values() if s.options]


def _unchanged(text: FlowText, language: str, translated: str) -> bool:
    found = text.translations.get(language)
    return found is not None and found.text == translated and found.source == text.digest


# -- writing into YAML, keeping its comments and layout ------------------------------------------------


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap what the author wrote
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def write_translations(
    path: Path,
    language: str,
    translations: dict[str, str],
    texts: dict[str, FlowText],
    *,
    status: str | None = None,
) -> None:
    """Put each translation beside its English (``<lang>:`` and ``<lang>_of:``) in the YAML file."""
    yaml = _yaml()
    data = yaml.load(path.read_text(encoding="utf-8"))
    for where, translated in translations.items():
        container, key = _locate(data, where, path)
        _set(container, key, language, translated, texts[where].english)
    if status:
        _set_status(data, language, status)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _locate(data: Any, where: str, path: Path) -> tuple[Any, Any]:
    """The container holding the text at ``where`` and its key there."""
    if path.name == "citations.yaml" or "states" not in data:
        return data["citations"][where], "summary"
    parts: list[Any] = [int(p) if p.isdigit() else p for p in where.split(".")]
    node = data
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def _set(container: Any, key: Any, language: str, translated: str, english: str) -> None:
    from ruamel.yaml.comments import CommentedMap

    value = container[key]
    if isinstance(value, dict):
        mapping = value
    else:
        mapping = CommentedMap()
        mapping[ENGLISH] = value  # the English as written, in its own style (a >- block stays one)
        if hasattr(container, "fa"):
            container.fa.set_block_style()  # a {label: …, next: …} option opens up to hold it
        container[key] = mapping
    mapping[language] = _styled(translated, value if not isinstance(value, dict) else mapping.get(ENGLISH))
    mapping[language + "_of"] = _hash_scalar(digest(english))


def _styled(text: str, english: Any) -> Any:
    """The translation in the style of its English: a ``|`` block stays one, and any other long or
    multi-line text is a folded ``>-`` block wrapped like the rest of the file."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    if isinstance(english, LiteralScalarString):
        return LiteralScalarString(text)
    if isinstance(english, FoldedScalarString) or len(text) > WRAP or "\n" in text:
        folded = FoldedScalarString(text)
        folded.fold_pos = _fold_positions(text)
        return folded
    return text


def _fold_positions(text: str) -> list[int]:
    """Where to fold a long line so the YAML reads like the rest of the file: at single spaces
    outside ``{{ … }}`` and ``{% … %}``, so a template's tags stay whole on their lines."""
    positions = []
    start = 0
    for paragraph in text.split("\n"):
        column, last_space, inside = 0, -1, False
        for offset, char in enumerate(paragraph):
            pair = paragraph[offset : offset + 2]
            if pair in ("{{", "{%"):
                inside = True
            elif pair in ("}}", "%}"):
                inside = False
            single = 0 < offset < len(paragraph) - 1 and paragraph[offset - 1] != " " != paragraph[offset + 1]
            if char == " " and single and not inside:
                last_space = offset
            column += 1
            if column > WRAP and last_space >= 0:
                positions.append(start + last_space)
                column = offset - last_space
                last_space = -1
        start += len(paragraph) + 1
    return positions


def _hash_scalar(value: str) -> Any:
    """A fingerprint as YAML text: quoted when it would otherwise read as a number."""
    import yaml as pyyaml
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    return value if isinstance(pyyaml.safe_load(value), str) else SingleQuotedScalarString(value)


def _set_status(data: Any, language: str, status: str) -> None:
    from ruamel.yaml.comments import CommentedMap

    block = data.get(STATUS_KEY)
    if block is None:
        block = CommentedMap()
        block.fa.set_flow_style()
        keys = list(data)
        after = keys.index("description") + 1 if "description" in keys else len(keys)
        data.insert(after, STATUS_KEY, block)
    block[language] = status
