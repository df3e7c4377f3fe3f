"""Draw a flow: Mermaid (renders on GitHub) or Graphviz dot.

Questions are boxes, branches are diamonds, outcomes are rounded and coloured by verdict; option
labels sit on the edges.
"""

from __future__ import annotations

import re

from bot.language.flow_model import BRANCH, OUTCOME, QUESTION, Flow

VERDICT_COLOURS = {"go": "#2e7d32", "care": "#f9a825", "stop": "#c62828", "act": "#1565c0"}

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
    text = _clip(_readable(text))
    for char, code in _MERMAID_ESCAPES:
        text = text.replace(char, code)
    return text


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
            lines.append(f'    {node}(["{verdict.upper()}: {_mermaid_text(state.say or "")}"])')
            lines.append(f"    class {node} {verdict}")
    for state in flow.states.values():
        for option in state.options:
            lines.append(f'    {_node(state.name)} -->|"{_mermaid_text(option.label)}"| {_node(option.next)}')
        for rule in state.branch:
            label = _mermaid_text(rule.condition) if rule.condition else "otherwise"
            lines.append(f'    {_node(state.name)} -.->|"{label}"| {_node(rule.next)}')
    for verdict, colour in VERDICT_COLOURS.items():
        lines.append(f"    classDef {verdict} fill:{colour},color:#ffffff,stroke:{colour}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return _clip(_readable(text)).replace("\\", "\\\\").replace('"', '\\"')


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
            lines.append(
                f'    "{state.name}" [shape=box, style="rounded,filled", fillcolor="{VERDICT_COLOURS[verdict]}", '
                f'fontcolor=white, label="{verdict.upper()}: {_dot_text(state.say or "")}"];'
            )
    for state in flow.states.values():
        for option in state.options:
            lines.append(f'    "{state.name}" -> "{option.next}" [label="{_dot_text(option.label)}"];')
        for rule in state.branch:
            label = _dot_text(rule.condition) if rule.condition else "otherwise"
            lines.append(f'    "{state.name}" -> "{rule.next}" [style=dashed, label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
