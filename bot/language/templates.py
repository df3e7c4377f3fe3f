"""Flow text templates: Jinja2 in a sandbox, undefined names are errors.

Flow authors are not developers and flow files may come from anyone on the comms team, so a
template can read ``org``, ``user``, ``answers`` and the quiz ``score`` and nothing else: no
Python attributes, no imports, no calls, and only the filters docs/flows.md lists. How much work
a render may do is limited too (bot.language.template_limits). The checks here run at validation
time so a mistake shows up as ``file:line`` before any employee sees it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

from bot.language.i18n.catalog import N_, interface
from bot.language.template_limits import (
    ALLOWED_FILTERS,
    FOLDED_NODES,
    MAX_OUTPUT,
    TEXT_METHODS,
    PolicybotSandbox,
    TemplateLimit,
    TemplateProblem,
    check_constants,
    run_with_budget,
)

log = logging.getLogger(__name__)

TEMPLATE_NAMES = frozenset({"org", "user", "answers", "score", "score_total", "escalation"})
ESCALATION_FIELDS = frozenset({"to"})  # who an escalating outcome's case goes to first, in words
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

# What else a template can raise while rendering (1/0, "a" + 1, a huge range, a text that never
# went through validation): reported as a TemplateProblem, never as a crash in the middle of a turn.
_RENDER_FAILURES = (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError)

# The nodes check_template looks at, found in a single walk of the syntax tree.
_CHECKED_NODES = (
    nodes.Getattr,
    nodes.Getitem,
    nodes.Filter,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Extends,
    nodes.Call,
    nodes.Macro,
    nodes.CallBlock,
)

_ENV = PolicybotSandbox()

# What the employee reads when a text of the flow passes a limit as it is filled in: the flow is at
# fault, not them, and the log line (``template_limit_hit``) tells the comms team which text.
LIMIT_APOLOGY = N_(
    "Sorry: part of this advice could not be shown, because the flow's text is too big to fill in. "
    "The problem has been logged for the communications team; ask them if you need this advice now."
)
CONDITION_APOLOGY = N_(
    "Sorry: I could not work out the next step, because this check's flow has a text too big to work out. "
    "Your earlier answers are kept. The problem has been logged for the communications team; "
    "ask them if you need this advice now."
)


__all__ = [
    "CONDITION_APOLOGY",
    "LIMIT_APOLOGY",
    "TemplateIssue",
    "TemplateLimit",
    "TemplateProblem",
    "check_template",
    "evaluate",
    "render",
]


def report_limit(err: TemplateLimit, where: str) -> None:
    """The log line for comms: which flow text passed which limit. Never the text or any answer."""
    log.warning("template_limit_hit where=%s limit=%r", where, str(err))


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
    """Render a template; a missing name or a blocked attribute is a TemplateProblem.

    A render that passes a limit raises TemplateLimit (see render_for_employee).
    """
    if is_plain(source):
        return source.strip()
    try:
        template = _compiled(source)  # compiled once, outside the render's budget
        text = str(run_with_budget(lambda: template.render(**context))).strip()
    except TemplateLimit:
        raise
    except UndefinedError as err:
        raise TemplateProblem(f"the text uses something that is not defined: {err.message}") from None
    except SecurityError as err:
        raise TemplateProblem(f"the text tries to reach something it may not: {err}") from None
    except _RENDER_FAILURES as err:
        raise TemplateProblem(f"the text could not be filled in: {err}") from None
    if len(text) > MAX_OUTPUT:
        raise TemplateLimit(f"this is longer than {MAX_OUTPUT:,} characters once filled in")
    return text


def render_for_employee(source: str, context: Mapping[str, Any], where: str, language: str | None = None) -> str:
    """``render``, but a text that passes a limit becomes LIMIT_APOLOGY (in ``language``) and one
    log line (``where`` names the flow, version and state), so the employee gets a polite reply and
    the turn goes on."""
    try:
        return render(source, context)
    except TemplateLimit as err:
        report_limit(err, where)
        return interface(language)(LIMIT_APOLOGY)


def evaluate_for_employee(expression: str, context: Mapping[str, Any], where: str) -> bool:
    """``evaluate``, but a condition that passes a limit is logged for comms (``where``: flow,
    version, state) and raised as a TemplateProblem whose message is the polite CONDITION_APOLOGY."""
    try:
        return evaluate(expression, context)
    except TemplateLimit as err:
        report_limit(err, where)
        raise TemplateProblem(CONDITION_APOLOGY) from None


def evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a branch condition (``org.rules.welsh_language_standards``) to true or false."""
    try:
        condition = _compiled_expression(expression)  # compiled once, outside the budget
        return bool(run_with_budget(lambda: condition(**context)))
    except TemplateLimit:
        raise
    except UndefinedError as err:
        raise TemplateProblem(f"the condition uses something that is not defined: {err.message}") from None
    except SecurityError as err:
        raise TemplateProblem(f"the condition tries to reach something it may not: {err}") from None
    except _RENDER_FAILURES as err:
        raise TemplateProblem(f"the condition could not be worked out: {err}") from None


def check_template(
    source: str,
    *,
    expression: bool = False,
    org_keys: Iterable[str],
    rule_keys: Iterable[str],
    answer_keys: Iterable[str],
    contact_keys: Iterable[str] | None = None,
    answered: Container[str] | None = None,
) -> list[TemplateIssue]:
    """Every static problem in one template or branch condition, without rendering it.

    ``contact_keys`` are the escalation targets ``org.contacts`` has; ``answered`` (when given) the
    questions sure to have an answer wherever this text is shown, so ``answers.x`` for a question
    that some ways here skip is caught before an employee meets the error.
    """
    if not expression and not any(mark in source for mark in ("{{", "{%", "{#")):
        return []  # plain text: nothing for Jinja to do, nothing to check
    try:
        if expression:  # what evaluate() compiles; "a) or (b" parses only once wrapped below
            _compiled_expression(source)
        tree = _parsed(_skeleton(source) if not expression else "{{ (" + source + ") }}")
    except TemplateSyntaxError as err:
        return [TemplateIssue(f"the template does not parse: {err.message}", max(0, (err.lineno or 1) - 1))]
    issues: list[TemplateIssue] = []
    for name in sorted(_free_names(tree) - TEMPLATE_NAMES):
        first = min(n.lineno for n in tree.find_all(nodes.Name) if n.name == name)  # the line it is on
        issues.append(
            TemplateIssue(
                f"the template uses '{name}', which does not exist; "
                f"templates can use {', '.join(sorted(TEMPLATE_NAMES))}",
                max(0, first - 1),
            )
        )
    known = {
        "org": set(org_keys),
        "user": set(USER_FIELDS),
        "answers": set(answer_keys),
        "escalation": set(ESCALATION_FIELDS),
    }
    rules = set(rule_keys)
    nested = {"rules": rules} | ({"contacts": set(contact_keys)} if contact_keys is not None else {})
    sure = answered
    guarded: set[int] | None = None  # worked out only if an answer may be missing
    internals = "reaches into Python internals, which templates may not do"
    constants: list[nodes.Node] = []
    for node in tree.find_all((*_CHECKED_NODES, *FOLDED_NODES)):  # one walk over the tree for every check below
        if isinstance(node, FOLDED_NODES):
            constants.append(node)
            if not isinstance(node, _CHECKED_NODES):
                continue
        line = max(0, node.lineno - 1)
        if isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            issues.append(TemplateIssue("templates may not include, import or extend other files", line))
            continue
        if isinstance(node, nodes.Filter):  # org.name|attr('__class__') is a Getattr in disguise
            if node.name == "attr" and node.args and isinstance(node.args[0], nodes.Const):
                name = str(node.args[0].value)
                if name.startswith("_") or name in _UNSAFE_ATTRIBUTES:
                    issues.append(TemplateIssue(f"'{name}' {internals}", line))
                    continue
            if node.name not in ALLOWED_FILTERS:
                issues.append(TemplateIssue(_unknown_filter(node.name), line))
            continue
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            issues.append(TemplateIssue("templates cannot define or call macros; write the text out", line))
            continue
        if isinstance(node, nodes.Call):
            unknown_name = isinstance(node.node, nodes.Name) and node.node.name not in TEMPLATE_NAMES
            called = _attribute_name(node.node) if isinstance(node.node, nodes.Getattr) else None
            internal = called is not None and (called.startswith("_") or called in _UNSAFE_ATTRIBUTES)
            if not (unknown_name or internal or called in TEXT_METHODS):  # other problems are reported as such
                issues.append(
                    TemplateIssue(
                        "templates cannot call functions or methods here; the text methods they can use are "
                        + ", ".join(sorted(TEXT_METHODS)),
                        line,
                    )
                )
            continue
        attr = _attribute_name(node)
        if attr is None:
            continue
        if attr.startswith("_") or attr in _UNSAFE_ATTRIBUTES:
            issues.append(TemplateIssue(f"'{attr}' {internals}", line))
            continue
        owner = node.node  # type: ignore[attr-defined]  # both Getattr and Getitem have .node
        if isinstance(owner, nodes.Name) and owner.name in known and attr not in known[owner.name]:
            issues.append(TemplateIssue(_unknown(owner.name, attr, known[owner.name]), line))
        elif owner_is_answers(owner) and sure is not None and attr not in sure:
            if guarded is None:
                guarded = _guarded_uses(tree)
            if id(node) in guarded:
                continue
            issues.append(
                TemplateIssue(
                    f"'answers.{attr}' may have no answer here: some ways to this point do not ask '{attr}' "
                    f"first (check with 'answers.{attr} is defined', or move the text)",
                    line,
                )
            )
        elif (
            isinstance(owner, nodes.Getattr | nodes.Getitem)
            and isinstance(owner.node, nodes.Name)
            and owner.node.name == "org"
            and (group := _attribute_name(owner)) in nested
            and attr not in nested[group]
        ):
            issues.append(TemplateIssue(_unknown(f"org.{group}", attr, nested[group]), line))
    issues += [TemplateIssue(message, max(0, line - 1)) for message, line in check_constants(constants)]
    return issues


def owner_is_answers(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "answers"


def _answer_use(node: nodes.Node) -> str | None:
    """'x' for ``answers.x`` or ``answers['x']``, else None."""
    if isinstance(node, nodes.Getattr | nodes.Getitem) and owner_is_answers(node.node):
        return _attribute_name(node)
    return None


def _checked_answers(expr: nodes.Node) -> set[str]:
    """Questions an expression checks for: ``answers.x is defined``, ``'x' in answers``."""
    checked: set[str] = set()
    for test in [expr, *expr.find_all(nodes.Test)]:
        if isinstance(test, nodes.Test) and test.name == "defined" and (name := _answer_use(test.node)):
            checked.add(name)
    for compare in [expr, *expr.find_all(nodes.Compare)]:
        if not (isinstance(compare, nodes.Compare) and isinstance(compare.expr, nodes.Const)):
            continue
        for operand in compare.ops:
            if operand.op == "in" and owner_is_answers(operand.expr) and isinstance(compare.expr.value, str):
                checked.add(compare.expr.value)
    return checked


def _guarded_uses(tree: nodes.Template) -> set[int]:
    """The ``answers.x`` uses (by node id) that are safe when x has no answer.

    Those are the checks themselves (``answers.x is defined``), what a check guards (the body of
    its ``if``, the first branch of an inline if, the rest of an ``and``) and ``answers.x|default(..)``.
    A use of the same answer elsewhere in the text is still reported.
    """
    safe: set[int] = set()

    def mark(parts: list[nodes.Node], names: set[str]) -> None:
        for part in parts:
            for node in [part, *part.find_all((nodes.Getattr, nodes.Getitem))]:
                if _answer_use(node) in names:
                    safe.add(id(node))

    for test in tree.find_all(nodes.Test):
        if test.name in ("defined", "undefined") and _answer_use(test.node):
            safe.add(id(test.node))
    for fil in tree.find_all(nodes.Filter):
        if fil.name in ("default", "d") and fil.node is not None and _answer_use(fil.node):
            safe.add(id(fil.node))
    for guard in tree.find_all((nodes.If, nodes.CondExpr, nodes.And)):
        if isinstance(guard, nodes.And):
            mark([guard.right], _checked_answers(guard.left))
        elif isinstance(guard, nodes.If):
            mark([guard.test, *guard.body], _checked_answers(guard.test))
        elif isinstance(guard, nodes.CondExpr):
            mark([guard.test, guard.expr1], _checked_answers(guard.test))
    return safe


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


def _unknown_filter(name: str) -> str:
    from bot.language.schema_check import did_you_mean

    return (
        f"the filter '{name}' is not available{did_you_mean(name, ALLOWED_FILTERS)}; "
        f"templates can use {', '.join(ALLOWED_FILTERS)}"
    )


def _unknown(owner: str, attr: str, choices: set[str]) -> str:
    from bot.language.schema_check import did_you_mean

    return f"'{owner}.{attr}' does not exist{did_you_mean(attr, choices)}"
