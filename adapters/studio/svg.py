"""Pictures drawn on the server as SVG: a flow's diagram and the insight charts.

No chart or graph library runs in the browser (nothing to download, nothing for the CSP to
allow): the layout is computed here from the same graph ``policybot graph`` draws
(bot.language.graph: node labels, verdict colours, option labels on edges). Every picture has a
<title> and a <desc>, and each page shows the same figures as a table beside it.
"""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.language.flow_model import BRANCH, QUESTION, Flow
from bot.language.graph import VERDICT_COLOURS, VERDICT_TEXT, _clip, _readable, outcome_lines

NODE_W = 230
GAP_X = 40
GAP_Y = 80
LINE_H = 16
PAD = 10
INK = "#1f1f1f"
MUTED = "#505a5f"  # 7:1 on white
QUESTION_FILL = "#ffffff"
BRANCH_FILL = "#f3f2f1"
ACCENT = "#1d4f91"  # 8.6:1 on white


@dataclass
class _Node:
    name: str
    lines: list[str]
    fill: str
    text: str
    kind: str
    x: float = 0
    y: float = 0

    @property
    def height(self) -> float:
        return PAD * 2 + LINE_H * len(self.lines)


def _wrap(text: str, width: int = 30, lines: int = 4) -> list[str]:
    wrapped = textwrap.wrap(" ".join(text.split()), width) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], _clip(wrapped[lines - 1] + "…", width)]
    return wrapped


def _nodes(flow: Flow) -> dict[str, _Node]:
    found: dict[str, _Node] = {}
    for state in flow.states.values():
        if state.kind == QUESTION:
            found[state.name] = _Node(
                state.name, _wrap(_readable(state.ask or state.name)), QUESTION_FILL, INK, "question"
            )
        elif state.kind == BRANCH:
            found[state.name] = _Node(
                state.name, _wrap("Check: " + state.name.replace("_", " ")), BRANCH_FILL, INK, "branch"
            )
        else:
            verdict = state.verdict.value if state.verdict else "go"
            lines = outcome_lines(state)
            body = [line for text in lines[1:] for line in _wrap(text, 30, 2)][:3]
            found[state.name] = _Node(
                state.name, [lines[0], *body], VERDICT_COLOURS[verdict], VERDICT_TEXT[verdict], "outcome"
            )
    return found


def _edges(flow: Flow) -> list[tuple[str, str, str, bool]]:
    edges = []
    for state in flow.states.values():
        for option in state.options:
            edges.append((state.name, option.next, _clip(_readable(option.label), 28), False))
        for rule in state.branch:
            edges.append((state.name, rule.next, _clip(rule.condition or "otherwise", 28), True))
    return edges


def flow_diagram(flow: Flow) -> Markup:
    """The flow as a top-down diagram: rows by distance from the start, questions as white boxes,
    checks grey, outcomes in their verdict's colour, each answer written on its arrow."""
    nodes = _nodes(flow)
    edges = _edges(flow)
    level: dict[str, int] = {flow.start: 0}
    queue = deque([flow.start])
    while queue:
        name = queue.popleft()
        for src, dst, _label, _dashed in edges:
            if src == name and dst not in level:
                level[dst] = level[name] + 1
                queue.append(dst)
    for name in nodes:  # unreachable states (validate reports them) go in a last row
        level.setdefault(name, max(level.values()) + 1)
    rows: dict[int, list[str]] = {}
    for name in nodes:
        rows.setdefault(level[name], []).append(name)
    widest = max(len(r) for r in rows.values())
    width = widest * (NODE_W + GAP_X) + GAP_X
    y = 20.0
    for depth in sorted(rows):
        row = rows[depth]
        offset = (width - len(row) * (NODE_W + GAP_X) + GAP_X) / 2
        for i, name in enumerate(row):
            nodes[name].x = offset + i * (NODE_W + GAP_X)
            nodes[name].y = y
        y += max(nodes[n].height for n in row) + GAP_Y
    height = y - GAP_Y + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="dg-title dg-desc">',
        f'<title id="dg-title">Diagram of the flow {escape(flow.title)}</title>',
        f'<desc id="dg-desc">{len(nodes)} steps; the table of paths below lists every way through it.</desc>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{MUTED}"/></marker></defs>',
    ]
    labels = []
    for src, dst, label, dashed in edges:
        a, b = nodes[src], nodes[dst]
        x1, y1 = a.x + NODE_W / 2, a.y + a.height
        x2, y2 = b.x + NODE_W / 2, b.y
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        if b.y <= a.y:  # back to an earlier step: round the side
            x1, y1, x2, y2 = a.x + NODE_W, a.y + a.height / 2, b.x + NODE_W, b.y + b.height / 2
            bend = max(x1, x2) + GAP_X
            path = f"M {x1:.0f} {y1:.0f} C {bend:.0f} {y1:.0f} {bend:.0f} {y2:.0f} {x2:.0f} {y2:.0f}"
            lx, ly = bend - 10, (y1 + y2) / 2
        else:
            mid = (y1 + y2) / 2
            path = f"M {x1:.0f} {y1:.0f} C {x1:.0f} {mid:.0f} {x2:.0f} {mid:.0f} {x2:.0f} {y2:.0f}"
            lx, ly = x2, y2 - 22  # by the arrow's head: the rows' targets are spread apart, the sources are not
        out.append(f'<path d="{path}" fill="none" stroke="{MUTED}" stroke-width="1.5"{dash} marker-end="url(#arrow)"/>')
        w = 6.2 * len(label) + 8
        labels.append(
            f'<rect x="{lx - w / 2:.0f}" y="{ly - 10:.0f}" width="{w:.0f}" height="18" rx="3" fill="#ffffff" '
            f'stroke="#b1b4b6"/><text x="{lx:.0f}" y="{ly + 3:.0f}" text-anchor="middle" font-size="11" '
            f'fill="{INK}">{escape(label)}</text>'
        )
    for node in nodes.values():
        rx = 14 if node.kind == "outcome" else 3
        stroke = ACCENT if node.kind == "question" else node.fill if node.kind == "outcome" else MUTED
        out.append(
            f'<g class="node {node.kind}" id="node-{escape(node.name)}"><title>{escape(node.name)}</title>'
            f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_W}" height="{node.height:.0f}" rx="{rx}" '
            f'fill="{node.fill}" stroke="{stroke}" stroke-width="1.5"/>'
        )
        for i, line in enumerate(node.lines):
            weight = ' font-weight="bold"' if i == 0 and node.kind == "outcome" else ""
            out.append(
                f'<text x="{node.x + PAD:.0f}" y="{node.y + PAD + LINE_H * (i + 1) - 4:.0f}" font-size="12"'
                f'{weight} fill="{node.text}">{escape(line)}</text>'
            )
        out.append("</g>")
    out.extend(labels)
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str = ACCENT
    text: str | None = None  # what is written at the end of the bar (default: the value)


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, unit: str = "") -> Markup:
    """Horizontal bars, one row each, labelled on the left with the value at the bar's end."""
    label_w, bar_w, row_h = 260, 340, 26
    height = max(1, len(bars)) * row_h + 16
    top = max((b.value for b in bars), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {label_w + bar_w + 230} {height}" '
        f'role="img" aria-labelledby="{chart_id}-t"><title id="{chart_id}-t">{escape(title)}</title>'
    ]
    if not bars:
        out.append(f'<text x="8" y="20" font-size="13" fill="{MUTED}">Nothing recorded yet.</text>')
    for i, bar in enumerate(bars):
        y = 8 + i * row_h
        w = max(1.0, bar_w * bar.value / top) if bar.value else 0
        shown = bar.text if bar.text is not None else f"{bar.value:g}{unit}"
        out.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="{INK}">'
            f"{escape(_clip(bar.label, 40))}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 8}" fill="{bar.colour}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="{INK}">{escape(shown)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))
