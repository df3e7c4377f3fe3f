"""Draw a flow: Mermaid (renders on GitHub) or Graphviz dot.

Questions are boxes, branches are diamonds, outcomes are rounded and coloured by verdict; option
labels sit on the edges. An outcome is labelled with its verdict and state name (what a flow
author looks for in the file), then the first sentence of its advice, or of each branch of an
``{% if %}…{% else %}`` in it, one line each: squashing both branches into one line told the
reader both things at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jinja2 import Environment, TemplateSyntaxError, nodes

from bot.language.flow_model import BRANCH, OUTCOME, QUESTION, Flow, State

# Fill and text colour per verdict. Each pair has a WCAG contrast ratio of at least 4.5:1
# (tests/core/test_graph.py computes it): white on green, red and blue; near-black on amber.
VERDICT_COLOURS = {"go": "#2e7d32", "care": "#f9a825", "stop": "#c62828", "act": "#1565c0"}
VERDICT_TEXT = {"go": "#ffffff", "care": "#1f1f1f", "stop": "#ffffff", "act": "#ffffff"}
_PARSER = Environment()  # parsing only: outcome text is split into its if/else branches, never rendered
_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s|$)")

# Jinja statements and comments ({% if ... %}, {# ... #}) mean nothing to a reader of the chart.
_JINJA_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Mermaid entity codes for characters that would end a quoted label, start an entity or an HTML
# tag, or a Markdown string. '#' goes first, so the codes themselves are not escaped again.
_MERMAID_ESCAPES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;"))


def _readable(text: str) -> str:
    """Template text as a reader of the chart should see it: no {% %} tags, {{ x }} shown as x."""
    return _JINJA_TAG.sub(" ", text).replace("{{", "").replace("}}", "")


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mermaid_text(text: str) -> str:
    return _mermaid_escape(_clip(_readable(text)))


def _mermaid_escape(text: str) -> str:
    for char, code in _MERMAID_ESCAPES:
        text = text.replace(char, code)
    return text


def outcome_lines(state: State) -> list[str]:
    """An outcome's label, line by line: "ACT · state_name", then the first sentence of its
    advice, or of each branch of the if/elif/else it starts with."""
    verdict = state.verdict.value if state.verdict else "go"
    return [f"{verdict.upper()} · {state.name}", *(_clip(s) for s in branch_sentences(state.say or ""))]


def branch_sentences(source: str) -> list[str]:
    """The first sentence of a template, or of each branch when it opens with ``{% if %}``."""
    try:
        body = _PARSER.parse(source).body
    except TemplateSyntaxError:
        return [_first_sentence(_readable(source))]
    content = [n for n in body if not (isinstance(n, nodes.Output) and not _text(n.nodes).strip())]
    if content and isinstance(content[0], nodes.If):
        rest = _text(content[1:])
        branches = _branches(content[0])
        found = [_first_sentence(_text(branch) or rest) for branch in branches]
        return [s for s in found if s] or [_first_sentence(rest)]
    return [_first_sentence(_text(body))]


def _branches(node: nodes.If) -> list[Sequence[nodes.Node]]:
    out: list[Sequence[nodes.Node]] = [node.body, *(e.body for e in node.elif_)]
    if node.else_:
        out.append(node.else_)
    return out


def _text(items: Sequence[nodes.Node]) -> str:
    """What a reader of the chart sees of some template nodes: the words, ``{{ x }}`` as x, and of
    an if inside them its first branch."""
    parts: list[str] = []
    for item in items:
        if isinstance(item, nodes.TemplateData):
            parts.append(item.data)
        elif isinstance(item, nodes.Output):
            parts.append(_text(item.nodes))
        elif isinstance(item, nodes.If):
            parts.append(_text(item.body))
        elif isinstance(item, nodes.Expr):
            parts.append(_expression(item))
    return "".join(parts)


def _expression(node: nodes.Expr) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expression(node.node)}.{node.attr}"
    if isinstance(node, nodes.Const):
        return str(node.value)
    if isinstance(node, nodes.Or | nodes.Filter):
        return _expression(node.left if isinstance(node, nodes.Or) else node.node)  # type: ignore[arg-type]
    if isinstance(node, nodes.CondExpr):
        return _expression(node.expr1)
    return ""


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = _SENTENCE.match(text)
    return match.group(1) if match else text


def _node(name: str) -> str:
    """A Mermaid node id for a state. State names such as end, class, style, graph or click are
    Mermaid keywords and break the whole chart, so every id gets a prefix no keyword has."""
    return f"s_{name}"


def mermaid(flow: Flow) -> str:
    lines = ["flowchart TD"]
    for state in flow.states.values():
        node = _node(state.name)
        if state.kind == QUESTION:
            lines.append(f'    {node}["{_mermaid_text(state.ask or state.name)}"]')
        elif state.kind == BRANCH:
            lines.append(f'    {node}{{"{state.name.replace("_", " ")}"}}')
        else:
            verdict = state.verdict.value if state.verdict else "go"
            label = "<br/>".join(_mermaid_escape(line) for line in outcome_lines(state))
            lines.append(f'    {node}(["{label}"])')
            lines.append(f"    class {node} {verdict}")
    for state in flow.states.values():
        for option in state.options:
            lines.append(f'    {_node(state.name)} -->|"{_mermaid_text(option.label)}"| {_node(option.next)}')
        for rule in state.branch:
            label = _mermaid_text(rule.condition) if rule.condition else "otherwise"
            lines.append(f'    {_node(state.name)} -.->|"{label}"| {_node(rule.next)}')
    for verdict, colour in VERDICT_COLOURS.items():
        lines.append(f"    classDef {verdict} fill:{colour},color:{VERDICT_TEXT[verdict]},stroke:{colour}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return _dot_escape(_clip(_readable(text)))


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot(flow: Flow) -> str:
    # ids are quoted: a state called node, edge or graph is a dot keyword otherwise
    lines = [f'digraph "{flow.id}" {{', "    rankdir=TB;", '    node [fontname="Helvetica"];']
    for state in flow.states.values():
        if state.kind == QUESTION:
            lines.append(f'    "{state.name}" [shape=box, label="{_dot_text(state.ask or state.name)}"];')
        elif state.kind == BRANCH:
            lines.append(f'    "{state.name}" [shape=diamond, label="{state.name}"];')
        elif state.kind == OUTCOME:
            verdict = state.verdict.value if state.verdict else "go"
            label = "\\n".join(_dot_escape(line) for line in outcome_lines(state))
            lines.append(
                f'    "{state.name}" [shape=box, style="rounded,filled", fillcolor="{VERDICT_COLOURS[verdict]}", '
                f'fontcolor="{VERDICT_TEXT[verdict]}", label="{label}"];'
            )
    for state in flow.states.values():
        for option in state.options:
            lines.append(f'    "{state.name}" -> "{option.next}" [label="{_dot_text(option.label)}"];')
        for rule in state.branch:
            label = _dot_text(rule.condition) if rule.condition else "otherwise"
            lines.append(f'    "{state.name}" -> "{rule.next}" [style=dashed, label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
