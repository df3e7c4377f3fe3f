"""Flow text templates: Jinja2 in a sandbox, undefined names are errors.

Flow authors are not developers and flow files may come from anyone on the comms team, so a
template can read ``org``, ``user``, ``answers`` and the quiz ``score`` and nothing else: no
Python attributes, no imports, no code. The checks here run at validation time so a mistake
shows up as ``file:line`` before any employee sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.errors import PolicybotError

TEMPLATE_NAMES = frozenset({"org", "user", "answers", "score", "score_total"})
USER_FIELDS = frozenset({"id", "name", "first_name", "email", "manager_name", "roles", "platform"})
# Attribute names that lead out of the data into Python itself, beyond the underscore ones.
_UNSAFE_ATTRIBUTES = frozenset(
    {
        "mro",
        "func_globals",
        "f_globals",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "f_builtins",
        "func_code",
        "im_class",
        "format",
        "format_map",
    }
)

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateProblem(PolicybotError):
    """A template could not be rendered. The message says what to change."""


@dataclass(frozen=True)
class TemplateIssue:
    message: str
    line_offset: int = 0  # line within the template text (0-based)


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def _skeleton(source: str) -> str:
    """The template's tags with the plain text between them reduced to its line breaks.

    Plain text cannot make a template invalid, but lexing it is most of the cost of parsing a
    long paragraph; keeping the line breaks keeps error line numbers right.
    """
    parts: list[str] = []
    end = 0
    for match in _TAG.finditer(source):
        parts.append("\n" * source.count("\n", end, match.start()))
        parts.append(match.group(0))
        end = match.end()
    parts.append("\n" * source.count("\n", end))
    if "{" in _TAG.sub("", source):  # an unclosed {{ or {% : let Jinja report it on the whole text
        return source
    return "".join(parts)


@lru_cache(maxsize=4096)
def _parsed(source: str) -> nodes.Template:
    """Syntax trees are only read, never changed, so snippets that recur across flows
    ("{{ org.contacts.comms }}") are parsed once."""
    return _ENV.parse(source)


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    return _ENV.from_string(source)


@lru_cache(maxsize=1024)
def _compiled_expression(source: str) -> Any:
    return _ENV.compile_expression(source, undefined_to_none=False)


def is_plain(source: str) -> bool:
    """True when the text has no template syntax, so it can be shown as it is."""
    return "{" not in source


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render a template; a missing name or a blocked attribute is a TemplateProblem."""
    if is_plain(source):
        return source.strip()
    try:
        return str(_compiled(source).render(**context)).strip()
    except UndefinedError as err:
        raise TemplateProblem(f"the text uses something that is not defined: {err.message}") from None
    except SecurityError as err:
        raise TemplateProblem(f"the text tries to reach something it may not: {err}") from None


def evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a branch condition (``org.rules.welsh_language_standards``) to true or false."""
    try:
        return bool(_compiled_expression(expression)(**context))
    except UndefinedError as err:
        raise TemplateProblem(f"the condition uses something that is not defined: {err.message}") from None
    except SecurityError as err:
        raise TemplateProblem(f"the condition tries to reach something it may not: {err}") from None


def check_template(
    source: str,
    *,
    expression: bool = False,
    org_keys: Iterable[str],
    rule_keys: Iterable[str],
    answer_keys: Iterable[str],
) -> list[TemplateIssue]:
    """Every static problem in one template or branch condition, without rendering it."""
    if not expression and not any(mark in source for mark in ("{{", "{%", "{#")):
        return []  # plain text: nothing for Jinja to do, nothing to check
    try:
        tree = _parsed(_skeleton(source) if not expression else "{{ (" + source + ") }}")
    except TemplateSyntaxError as err:
        return [TemplateIssue(f"the template does not parse: {err.message}", max(0, (err.lineno or 1) - 1))]
    issues: list[TemplateIssue] = []
    for name in sorted(_free_names(tree) - TEMPLATE_NAMES):
        issues.append(
            TemplateIssue(
                f"the template uses '{name}', which does not exist; "
                f"templates can use {', '.join(sorted(TEMPLATE_NAMES))}"
            )
        )
    known = {"org": set(org_keys), "user": set(USER_FIELDS), "answers": set(answer_keys)}
    rules = set(rule_keys)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attr = _attribute_name(node)
        line = max(0, node.lineno - 1)
        if attr is None:
            continue
        if attr.startswith("_") or attr in _UNSAFE_ATTRIBUTES:
            issues.append(TemplateIssue(f"'{attr}' reaches into Python internals, which templates may not do", line))
            continue
        owner = node.node  # type: ignore[attr-defined]  # both Getattr and Getitem have .node
        if isinstance(owner, nodes.Name) and owner.name in known and attr not in known[owner.name]:
            issues.append(TemplateIssue(_unknown(owner.name, attr, known[owner.name]), line))
        elif (
            isinstance(owner, nodes.Getattr)
            and isinstance(owner.node, nodes.Name)
            and owner.node.name == "org"
            and owner.attr == "rules"
            and attr not in rules
        ):
            issues.append(TemplateIssue(_unknown("org.rules", attr, rules), line))
    return issues


def _free_names(tree: nodes.Template) -> set[str]:
    """Names the template reads but does not define itself (loop variables, set, macros).

    A plain walk of the syntax tree: jinja2.meta.find_undeclared_variables gives the same answer
    for templates like ours but runs the whole code generator, which made validating 200 flows
    take seconds.
    """
    loaded: set[str] = set()
    defined: set[str] = set(_ENV.globals) | {"loop", "caller", "varargs", "kwargs"}
    for name in tree.find_all(nodes.Name):
        (loaded if name.ctx == "load" else defined).add(name.name)
    return loaded - defined


def _attribute_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return str(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _unknown(owner: str, attr: str, choices: set[str]) -> str:
    from bot.schema_check import did_you_mean

    return f"'{owner}.{attr}' does not exist{did_you_mean(attr, choices)}"
