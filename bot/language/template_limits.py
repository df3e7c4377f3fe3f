"""The template sandbox and its limits: what a flow's text may reach, and how much work it may do.

Flow files come from anyone on the comms team, and a template is code that runs in a worker
thread in the middle of a turn. Jinja2's sandbox stops templates reaching Python itself; this
module also stops them using up the service (issue 12 found ``{{ 'a' * 10**9 }}``, nested
``range(100000)`` loops, ``lipsum(1000000)`` and ``10**(10**10)`` all passing ``validate`` and
then pinning workers with gigabytes of memory):

- Only the names docs/flows.md promises are reachable: ``org``, ``user``, ``answers``, ``score``,
  ``score_total``, and the filters in ``ALLOWED_FILTERS``. Jinja's globals (``range``, ``lipsum``,
  ``cycler``, ``joiner``, ``namespace``, ``dict``) are gone, and a template cannot call anything
  (no methods, no macros): ``call`` refuses every call.
- Arithmetic goes through ``call_binop`` for every operator, which refuses a text or list that
  would pass ``MAX_TEXT`` and a number past ``MAX_INT_BITS`` *before* making it. Intercepted
  operators are also never folded at compile time, which is how ``10**(10**9)`` in a branch
  condition used to hang ``validate`` before anything was shown.
- Each render has a budget (``RenderBudget``): loop steps, characters produced (output, joins,
  ``~``, and each loop step's own text) and processor time, checked at every loop step, output
  and operator. The time is the rendering thread's own CPU time less its garbage collections
  (bot.language.render_clock), not the wall clock: a template is refused for the work it does,
  never because the machine was busy or the heap was being collected.
  The loop and ``~`` checks are filters the code generator wraps round every
  ``for`` and ``~`` (their names hold a ``:``, so no template can name them).
- List, tuple and dict literals, ``+`` and ``*`` are held to ``MAX_TEXT`` by weight (the
  characters the value would print as), so no value a template can build is big to print,
  join or compare.

``check_constants`` gives ``validate`` the same refusals for constant expressions, with the
template's line, so a hostile flow is refused before any employee reaches it.
"""

from __future__ import annotations

import contextvars
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.errors import PolicybotError
from bot.language.render_clock import work_time

MAX_TEXT = 10_000  # characters in any one text or list a template makes
MAX_OUTPUT = 20_000  # characters one rendered text may have (Slack shows at most 3,000 in a block)
MAX_WORK = 100_000  # characters produced in one render, loop bodies and intermediate texts included
MAX_LOOP_STEPS = 10_000  # loop iterations in one render, nested loops counted together
MAX_INT_BITS = 256  # about 77 digits: far past any score or count
RENDER_SECONDS = 0.5  # processor time one render may take (bot.language.render_clock: its own work only)

# Filters docs/flows.md lists. Each takes a text or a short list and gives back no more than it had.
ALLOWED_FILTERS = ("capitalize", "d", "default", "first", "join", "last", "length", "lower", "title", "trim", "upper")
# Text methods docs/flows.md lists (flows test answers with ``answers.x.startswith('Yes')``). Each
# gives back a flag or a text no longer than about the one it was called on.
TEXT_METHODS = frozenset({"capitalize", "endswith", "lower", "startswith", "strip", "title", "upper"})
LOOP_GUARD = "policybot:loop"
TEXT_GUARD = "policybot:text"
VALUE_GUARD = "policybot:value"


class TemplateProblem(PolicybotError):
    """A template could not be rendered. The message says what to change."""


class TemplateLimit(TemplateProblem):
    """A template would pass one of the limits above. The message says which, in words."""


@dataclass
class RenderBudget:
    """What one render may still do; set for the duration of a render by ``budget()``."""

    deadline: float = field(default_factory=lambda: work_time() + RENDER_SECONDS)
    steps: int = MAX_LOOP_STEPS
    work: int = MAX_WORK

    def tick(self, steps: int = 0, work: int = 0) -> None:
        self.steps -= steps
        self.work -= work
        if self.steps < 0:
            raise TemplateLimit(f"this needs more than {MAX_LOOP_STEPS:,} loop steps to fill in")
        if self.work < 0:
            raise TemplateLimit(f"this makes more than {MAX_WORK:,} characters while it is filled in")
        if work_time() > self.deadline:
            raise TemplateLimit(f"this takes more than {RENDER_SECONDS:g} s to fill in")


_BUDGET: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("policybot_render_budget", default=None)


def run_with_budget(work: Callable[[], Any]) -> Any:
    """Run one render (or condition) with a fresh budget."""
    token = _BUDGET.set(RenderBudget())
    try:
        return work()
    finally:
        _BUDGET.reset(token)


def _tick(steps: int = 0, work: int = 0) -> None:
    budget = _BUDGET.get()
    if budget is not None:  # None while Jinja folds constants at compile time: sizes are still checked
        budget.tick(steps, work)


def weight(value: Any, limit: int = MAX_TEXT) -> int:
    """About how many characters ``value`` prints as, counted only up to just past ``limit``.

    Walks containers iteratively and stops once past the limit, so it costs at most ``limit``
    steps however the value is nested or shared.
    """
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + len(item)
            stack.extend(item)
        else:
            total += 8
    return total


_NUMBER = f"this makes a number longer than about 77 digits ({MAX_INT_BITS} bits)"


def _too_long(what: str) -> TemplateLimit:
    return TemplateLimit(f"this makes {what} longer than {MAX_TEXT:,} characters, more than any message can show")


def _check_size(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise _too_long("a text")
    elif isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(_NUMBER)
    elif isinstance(value, list | tuple | dict | set | frozenset) and weight(value) > MAX_TEXT:
        raise _too_long("a list")
    return value


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


def _size(value: str | list[Any] | tuple[Any, ...]) -> int:
    return len(value) if isinstance(value, str) else weight(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def checked_binop(op: str, left: Any, right: Any) -> Any:
    """``left op right``, refused before the work when the result would pass a limit."""
    _tick()
    if op == "%" and isinstance(left, str):
        raise TemplateLimit("'%' cannot format text in a template; write the text out")
    huge_power = _is_int(left) and _is_int(right) and right > 0 and (abs(left).bit_length() - 1) * right > MAX_INT_BITS
    if op == "**" and huge_power:
        raise TemplateLimit(_NUMBER)
    if op == "*":
        if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise TemplateLimit(_NUMBER)
        sequence, times = (left, right) if _is_int(right) else (right, left)
        if _is_int(times) and isinstance(sequence, str | list | tuple) and _size(sequence) * max(times, 0) > MAX_TEXT:
            raise _too_long("a text" if isinstance(sequence, str) else "a list")
    joined = isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
    if op == "+" and joined and _size(left) + _size(right) > MAX_TEXT:
        raise _too_long("a text" if isinstance(left, str) else "a list")
    result = _BINOPS[op](left, right)
    return _check_size(result)


def _loop_guard(iterable: Any, body_text: int = 0) -> Iterator[Any]:
    """Every ``for`` iterates through this: one budget step per item, plus the loop body's own text
    (``body_text`` characters, counted when the code is generated) as work."""
    for item in iterable:
        _tick(steps=1, work=body_text)
        yield item


def _text_guard(value: Any) -> Any:
    """Every ``~`` goes through this."""
    _tick(work=len(value) if isinstance(value, str) else 0)
    return _check_size(value)


def _value_guard(value: Any) -> Any:
    """Every list, tuple and dict literal goes through this."""
    return _check_size(value)


def bounded_text(value: Any) -> str:
    """``str(value)``, refused when it would pass ``MAX_TEXT``, and counted against the budget."""
    _check_size(value)
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TEXT:
        raise _too_long("a text")
    _tick(work=len(text))
    return text


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` output passes here: its size is checked and counted (an undefined name
    raises its own error when made into text, as it would without this)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return bounded_text(value)


def _text_filter(filter_function: Callable[..., Any]) -> Callable[..., Any]:
    """A string filter whose input is first turned into a bounded text."""

    def guarded(value: Any, *args: Any, **kwargs: Any) -> Any:
        return filter_function(bounded_text(value), *args, **kwargs)

    return guarded


def _join(value: Iterable[Any], separator: str = "", attribute: Any = None) -> str:
    if attribute is not None:
        raise SecurityError("join(attribute=...) is not available in templates")
    parts = [bounded_text(item) for item in value]
    if sum(len(p) for p in parts) + len(separator) * len(parts) > MAX_TEXT:
        raise _too_long("a text")
    text = bounded_text(separator).join(parts)
    _tick(work=len(text))
    return text


def _filters() -> dict[str, Callable[..., Any]]:
    allowed: dict[str, Callable[..., Any]] = {name: FILTERS[name] for name in ALLOWED_FILTERS}
    for name in ("capitalize", "lower", "title", "trim", "upper"):
        allowed[name] = _text_filter(FILTERS[name])
    allowed["join"] = _join
    allowed[LOOP_GUARD] = _loop_guard
    allowed[TEXT_GUARD] = _text_guard
    allowed[VALUE_GUARD] = _value_guard
    return allowed


def _guarded(node: nodes.Node, guard: str, *args: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(node, guard, list(args), [], None, None, lineno=node.lineno)


def _body_text(loop: nodes.For) -> int:
    return sum(len(data.data) for part in loop.body for data in part.find_all(nodes.TemplateData))


class _GuardingCodeGenerator(CodeGenerator):
    """Wraps every ``for`` iterable, ``~`` and container literal in its guard before generating code.

    Done to the whole tree first, so Jinja's dependency pass sees the guard filters.
    """

    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = _guarded(loop.iter, LOOP_GUARD, nodes.Const(_body_text(loop), lineno=loop.lineno))
        _wrap_children(node)
        super().visit_Template(node, frame)


_WRAPPED = (nodes.Concat, nodes.List, nodes.Tuple, nodes.Dict)


def _wrap_children(tree: nodes.Node) -> None:
    """Replace each Concat / List / Tuple / Dict expression with itself inside a guard filter."""
    stack: list[nodes.Node] = [tree]
    while stack:
        parent = stack.pop()
        for field_name, value in parent.iter_fields():
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, _WRAPPED) and _may_wrap(parent, field_name, item):
                        value[i] = _guarded(item, TEXT_GUARD if isinstance(item, nodes.Concat) else VALUE_GUARD)
                    if isinstance(item, nodes.Node):
                        stack.append(item)
            elif isinstance(value, nodes.Node):
                if isinstance(value, _WRAPPED) and _may_wrap(parent, field_name, value):
                    wrapped = _guarded(value, TEXT_GUARD if isinstance(value, nodes.Concat) else VALUE_GUARD)
                    setattr(parent, field_name, wrapped)
                stack.append(value)


def _may_wrap(parent: nodes.Node, field_name: str, node: nodes.Node) -> bool:
    """Not an assignment target (``{% for a, b in … %}``, ``{% set a, b = … %}``) and not a guard's own input."""
    if isinstance(node, nodes.Tuple) and node.ctx == "store":
        return False
    return not (isinstance(parent, nodes.Filter) and parent.name in (TEXT_GUARD, VALUE_GUARD) and field_name == "node")


class PolicybotSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with nothing to call, every operator checked, and the guards above."""

    intercepted_binops = frozenset(_BINOPS)
    intercepted_unops = frozenset({"-", "+"})
    code_generator_class = _GuardingCodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=_finalize)
        self.globals.clear()
        self.filters = _filters()

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return checked_binop(operator, left, right)

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        _tick()
        return _check_size(-arg if operator == "-" else +arg)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Only the TEXT_METHODS of a text may be called; nothing else (no macros, no functions)."""
        owner = getattr(__obj, "__self__", None)
        if not (isinstance(owner, str) and getattr(__obj, "__name__", None) in TEXT_METHODS):
            raise SecurityError("templates cannot call functions or methods other than the text methods listed")
        _tick(work=len(owner))
        for arg in (*args, *kwargs.values()):
            _check_size(arg)
        return _check_size(__obj(*args, **kwargs))


# -- validation: the same limits, on constants, before anyone renders -------------------------------


class _NotConstant(Exception):
    pass


_FOLDED = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)


FOLDED_NODES = (*_FOLDED, nodes.Const)


def check_constants(candidates: Iterable[nodes.Node]) -> list[tuple[str, int]]:
    """Constant expressions that would pass a limit (``'a' * 10**9``), as (message, line), without
    ever making the value: each operation is checked before it is done. ``candidates`` are the
    template's FOLDED_NODES, outermost first (as ``find_all`` yields them)."""
    found: list[tuple[str, int]] = []
    memo: dict[int, Any] = {}
    for node in candidates:
        if isinstance(node, nodes.Const):
            if _is_int(node.value) and node.value.bit_length() > MAX_INT_BITS:
                found.append((f"this number is longer than about 77 digits ({MAX_INT_BITS} bits)", node.lineno))
            continue
        try:
            _fold(node, memo)
        except TemplateLimit as err:
            found.append((str(err), node.lineno))
        except (_NotConstant, ArithmeticError, TypeError, ValueError):
            continue
    return list(dict.fromkeys(found))


def _fold(node: nodes.Node, memo: dict[int, Any]) -> Any:
    if id(node) in memo:
        value = memo[id(node)]
        if isinstance(value, BaseException):
            raise _NotConstant
        return value
    try:
        if isinstance(node, nodes.Const):
            value = node.value
        elif isinstance(node, nodes.Neg | nodes.Pos):
            inner = _fold(node.node, memo)
            value = -inner if isinstance(node, nodes.Neg) else +inner
        elif isinstance(node, _FOLDED):
            value = checked_binop(node.operator, _fold(node.left, memo), _fold(node.right, memo))
        else:
            raise _NotConstant
    except Exception as err:
        memo[id(node)] = err  # reported once, at the outermost operation that first fails
        raise
    memo[id(node)] = value
    return value
