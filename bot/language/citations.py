"""The citation registry: every policy paragraph a flow may cite, loaded and checked.

Every outcome a flow gives must rest on a policy paragraph, so flows cite ids from
``flows/citations.yaml`` instead of quoting policies freely. Each entry says where the clause is
("paragraph 27"), a short verbatim quote that proves it exists, and a plain-English summary.
``load_registry`` reports every structural problem at once with ``file:line``; ``check_quotes``
proves each quote is really in its policy text, so a mistyped or invented quote cannot ship.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.errors import FileProblems, PolicybotError, Problem
from bot.language.i18n.flow_texts import FlowText, Translation
from bot.language.i18n.languages import ENGLISH, LANGUAGE_CODE
from bot.language.yamlload import LineDict, load_yaml_file

AUDIENCES = ("employee", "manager", "comms")
_ID = re.compile(r"[a-z0-9][a-z0-9.-]*")
_TOP_KEYS = ("policies", "citations")
_POLICY_KEYS = ("file", "title", "language")
_REQUIRED = ("policy", "clause", "quote", "summary", "audience")
_OPTIONAL = ("verbatim",)
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


@dataclass(frozen=True)
class Policy:
    """One policy document in the policy folder; ``line`` is where the registry names it."""

    key: str
    file: str
    title: str
    line: int = field(default=0, compare=False)
    language: str = ENGLISH  # the language the policy is written in: its quotes stay in it


@dataclass(frozen=True)
class Citation:
    """One citable clause. ``line`` is the registry line of its id, for error messages."""

    id: str
    policy: Policy
    clause: str
    quote: str
    summary: str
    audience: str
    verbatim: str | None
    line: int
    # the summary with its translations and lines (a summary may be {en, cy, cy_of}, like a flow text)
    summary_text: FlowText | None = field(default=None, compare=False)

    def summary_in(self, language: str | None) -> str:
        """The summary in ``language`` when a current translation exists, else in English.

        The quote is never translated here: until a council imports its policy in another
        language, the quote is shown in the language the policy is written in."""
        if not language or language == ENGLISH or self.summary_text is None:
            return self.summary
        return self.summary_text.current(language) or self.summary


@dataclass(frozen=True)
class Registry:
    """All policies and citations from one registry file."""

    path: Path
    policies: dict[str, Policy]
    citations: dict[str, Citation]

    def __contains__(self, cid: object) -> bool:
        return cid in self.citations

    def get(self, cid: str) -> Citation:
        """The citation with this id; an unknown id names the closest ids so typos are quick to fix."""
        try:
            return self.citations[cid]
        except KeyError:
            close = difflib.get_close_matches(cid, self.citations, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise PolicybotError(
                f"There is no citation '{cid}' in {self.path}.{hint} "
                "Cite an id that the registry lists, or add the clause to the registry first."
            ) from None

    def ids(self) -> list[str]:
        """Every citation id, in registry order (which follows the policy documents)."""
        return list(self.citations)


# The registry's clause words (precise, for whoever maintains it) and how a reader says them.
_READABLE = (
    (re.compile(r"^heading (['‘’\"“”])"), r"\1"),  # "heading 'Use of…'" is just the heading's name
    (re.compile(r", (?:you )?must not, "), ", what you must not do, "),
    (re.compile(r", (?:you )?must, "), ", what you must do, "),
    (re.compile(r", (?:you )?should, "), ", what you should do, "),
    (re.compile(r"\bsub-bullet(s?)\b"), r"sub-point\1"),
    (re.compile(r"\bbullet(s?)\b"), r"point\1"),
)


# The same words in Welsh, for a reader who has chosen Cymraeg (headings stay as the policy has them).
_READABLE_CY = (
    (re.compile(r"^heading (['‘’\"“”])"), r"\1"),
    (re.compile(r", (?:you )?must not, "), ", yr hyn na ddylech ei wneud, "),
    (re.compile(r", (?:you )?must, "), ", yr hyn y mae'n rhaid i chi ei wneud, "),
    (re.compile(r", (?:you )?should, "), ", yr hyn y dylech ei wneud, "),
    (re.compile(r"\bsub-bullets?\b"), "is-bwynt"),
    (re.compile(r"\bbullets?\b"), "pwynt"),
    (re.compile(r"\bparagraphs?\b"), "paragraff"),
    (re.compile(r"\bsections?\b"), "adran"),
    (re.compile(r"\bheading\b"), "pennawd"),
    (re.compile(r"\band\b"), "a"),
)


@lru_cache(maxsize=4096)
def readable_clause(clause: str, language: str | None = None) -> str:
    """A clause as a person reads it: "heading 'Use of Social Media at work', must, bullet 5"
    becomes "'Use of Social Media at work', what you must do, point 5"; "paragraph 27" stays.

    The registry keeps its own precise wording (coverage reports and reviewers use it); this is
    only what employees and case recipients are shown.
    """
    for pattern, replacement in _READABLE_CY if language == "cy" else _READABLE:
        clause = pattern.sub(replacement, clause)
    return clause


def normalise(text: str) -> str:
    """Make text comparable: collapse whitespace, straighten quotes and dashes, drop ``**`` bold.

    Policy texts come from PDFs and web pages, so line breaks and typography are accidents of
    conversion; the words are what a quote has to match.
    """
    return " ".join(text.replace("**", "").translate(_TYPOGRAPHY).split())


def _mapping(value: Any, where: str, file: str, line: int, problems: list[Problem]) -> LineDict | None:
    if isinstance(value, LineDict):
        return value
    problems.append(Problem(file, line, f"{where} must be a mapping of 'key: value' lines"))
    return None


def _unknown_keys(mapping: LineDict, allowed: tuple[str, ...], where: str, file: str) -> list[Problem]:
    return [
        Problem(file, mapping.line_of(key), f"unknown key '{key}' in {where}; allowed: {', '.join(allowed)}")
        for key in mapping
        if key not in allowed
    ]


def _text(mapping: LineDict, key: str, where: str, file: str, line: int, problems: list[Problem]) -> str | None:
    """A required non-empty string field, or None after recording why it is unusable.

    A missing field is reported at ``line`` (the entry's id), where the person will look for it.
    """
    if key not in mapping:
        problems.append(Problem(file, line, f"{where} is missing '{key}'"))
        return None
    value = mapping[key]
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(file, mapping.line_of(key), f"'{key}' in {where} must be non-empty text"))
        return None
    return value.strip()


def _load_policies(raw: LineDict, file: str, problems: list[Problem]) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for key, value in raw.items():
        line = raw.line_of(key)
        where = f"policy '{key}'"
        if not _ID.fullmatch(key):
            problems.append(Problem(file, line, f"policy key '{key}' may use only a-z, 0-9, '.' and '-'"))
        entry = _mapping(value, where, file, line, problems)
        if entry is None:
            continue
        problems.extend(_unknown_keys(entry, _POLICY_KEYS, where, file))
        fname = _text(entry, "file", where, file, line, problems)
        title = _text(entry, "title", where, file, line, problems)
        language = entry.get("language", ENGLISH)
        if not (isinstance(language, str) and LANGUAGE_CODE.match(language)):
            problems.append(
                Problem(file, entry.line_of("language"), f"'language' in {where} should be a code like en or cy")
            )
            language = ENGLISH
        if fname is not None and (Path(fname).name != fname or fname in (".", "..")):
            message = f"'file' in {where} must be a bare file name in the policy folder"
            problems.append(Problem(file, entry.line_of("file"), message))
            fname = None
        if fname is not None and title is not None:
            policies[key] = Policy(key, fname, title, line, language)
    return policies


def _load_citation(
    cid: str,
    value: Any,
    line: int,
    policies: dict[str, Policy],
    known_keys: set[str],
    file: str,
    problems: list[Problem],
) -> Citation | None:
    where = f"citation '{cid}'"
    if not _ID.fullmatch(cid):
        problems.append(Problem(file, line, f"citation id '{cid}' may use only a-z, 0-9, '.' and '-'"))
    entry = _mapping(value, where, file, line, problems)
    if entry is None:
        return None
    problems.extend(_unknown_keys(entry, _REQUIRED + _OPTIONAL, where, file))
    summary_text = _split_summary(entry, file, problems)
    fields = {key: _text(entry, key, where, file, line, problems) for key in _REQUIRED}
    policy_key, audience = fields["policy"], fields["audience"]
    if policy_key is not None and policy_key not in policies:
        if policy_key not in known_keys:  # a broken policy entry is already reported above
            problems.append(
                Problem(
                    file,
                    entry.line_of("policy"),
                    f"{where} names policy '{policy_key}', which 'policies' does not list; "
                    f"known: {', '.join(sorted(known_keys))}",
                )
            )
        policy_key = None
    if audience is not None and audience not in AUDIENCES:
        problems.append(
            Problem(file, entry.line_of("audience"), f"'audience' in {where} must be one of: {', '.join(AUDIENCES)}")
        )
        audience = None
    verbatim = None
    if "verbatim" in entry:
        verbatim = _text(entry, "verbatim", where, file, line, problems)
    if None in fields.values() or policy_key is None or audience is None:
        return None
    return Citation(
        id=cid,
        policy=policies[policy_key],
        clause=str(fields["clause"]),
        quote=str(fields["quote"]),
        summary=str(fields["summary"]),
        audience=audience,
        verbatim=verbatim,
        line=line,
        summary_text=summary_text,
    )


def _split_summary(entry: LineDict, file: str, problems: list[Problem]) -> FlowText | None:
    """A summary with translations beside it ({en, cy, cy_of}): its English put back in place."""
    value = entry.get("summary")
    line = entry.line_of("summary")
    if isinstance(value, str):
        return FlowText("summary", value.strip(), line, template=False)
    if not isinstance(value, LineDict) or not isinstance(value.get(ENGLISH), str):
        return None
    english = str(value[ENGLISH]).strip()
    entry["summary"] = english
    translations = {
        code: Translation(str(text).strip(), _source_of(value, code), value.line_of(code))
        for code, text in value.items()
        if code != ENGLISH and LANGUAGE_CODE.match(code) and isinstance(text, str)
    }
    unknown = [k for k in value if not LANGUAGE_CODE.match(k.removesuffix("_of"))]
    problems += [
        Problem(file, value.line_of(k), f"'{k}' is not a language code: write en, cy and cy_of") for k in unknown
    ]
    return FlowText("summary", english, value.line_of(ENGLISH), translations, template=False)


def _source_of(value: LineDict, code: str) -> str | None:
    source = value.get(code + "_of")
    return str(source) if isinstance(source, str | int) else None


def load_registry(path: Path) -> Registry:
    """Load and validate a registry; raise FileProblems listing every problem found, with lines."""
    file = str(path)
    data = load_yaml_file(path)
    problems: list[Problem] = []
    top = _mapping(data, "the registry", file, 1, problems)
    if top is None:
        raise FileProblems(problems)
    problems.extend(_unknown_keys(top, _TOP_KEYS, "the registry", file))
    for key in _TOP_KEYS:
        if key not in top:
            problems.append(Problem(file, top.line, f"the registry is missing its '{key}:' section"))
    raw_policies = _mapping(top.get("policies", LineDict()), "'policies'", file, top.line_of("policies"), problems)
    raw_citations = _mapping(top.get("citations", LineDict()), "'citations'", file, top.line_of("citations"), problems)
    policies = _load_policies(raw_policies, file, problems) if raw_policies is not None else {}
    known_keys = set(raw_policies) if raw_policies is not None else set()
    citations: dict[str, Citation] = {}
    if raw_citations is not None:
        for cid, value in raw_citations.items():
            line = raw_citations.line_of(cid)
            citation = _load_citation(cid, value, line, policies, known_keys, file, problems)
            if citation is not None:
                citations[cid] = citation
    if problems:
        raise FileProblems(problems)
    return Registry(path=path, policies=policies, citations=citations)


def default_registry_path() -> Path:
    """The registry shipped beside the flows, wherever the ``flows`` package is installed."""
    import flows

    return Path(flows.__file__).parent / "citations.yaml"


def default_policy_dir() -> Path | None:
    """Where the policy texts are: $POLICYBOT_POLICY_DIR, else ../shared/policy beside the repo.

    None means no policy texts are available here (for example in a deployed image), so quote
    checks cannot run; callers decide whether that is an error.
    """
    env = os.environ.get("POLICYBOT_POLICY_DIR")
    if env:
        return Path(env)
    import flows

    candidate = Path(flows.__file__).resolve().parent.parent.parent / "shared" / "policy"
    return candidate if candidate.is_dir() else None


def check_quotes(registry: Registry, policy_dir: Path) -> list[Problem]:
    """One Problem per quote or verbatim passage not found in its policy text.

    Matching ignores whitespace, curly versus straight quotes, dash styles and ``**`` bold
    markers, and is otherwise exact (case included): a quote is evidence, not a paraphrase.
    """
    file = str(registry.path)
    problems: list[Problem] = []
    texts: dict[str, str] = {}
    for policy in registry.policies.values():
        source = policy_dir / policy.file
        try:
            texts[policy.key] = normalise(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            reason = "not found" if isinstance(err, FileNotFoundError) else f"unreadable ({err})"
            problems.append(Problem(file, policy.line, f"policy file {source} of '{policy.key}' is {reason}"))
    for citation in registry.citations.values():
        text = texts.get(citation.policy.key)
        if text is None:
            continue
        for what, passage in (("quote", citation.quote), ("verbatim", citation.verbatim)):
            if passage is not None and normalise(passage) not in text:
                problems.append(
                    Problem(
                        file,
                        citation.line,
                        f"the {what} of '{citation.id}' is not in {citation.policy.file}; copy it exactly "
                        "from the policy text",
                    )
                )
    return problems
