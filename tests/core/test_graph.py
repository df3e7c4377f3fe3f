"""bot.language.graph: Mermaid (rendered by GitHub) and Graphviz dot drawings of a flow.

No browser here, so the Mermaid output is held to the text rules of the flowchart grammar that
matter for our output, checked line by line: node ids that are never Mermaid keywords (a state
called ``end`` or ``class`` broke the whole chart), labels always in double quotes with the
characters that would end or reinterpret them written as Mermaid entity codes. The same rules were
checked once against mermaid 11's own parser (``mermaid.parse``) on this fixture and the
production flows; see the commit that added this file.
"""

from __future__ import annotations

import re

from bot.conversation.library import default_flows_dir
from bot.language.flow_loader import load_flow_file, parse_flow
from bot.language.flow_model import BRANCH, OUTCOME, QUESTION, Flow
from bot.language.graph import VERDICT_COLOURS, VERDICT_TEXT, branch_sentences, dot, mermaid
from tests.core.fixtures.flowfiles import FIXTURE_FLOWS, flow_text

ODD = flow_text(
    """
    id: odd-names
    title: States named like Mermaid and dot keywords, labels full of punctuation
    start: end
    states:
      end:
        ask: 'Is it "quoted" (with brackets) and: colons; a #hash, <b>tags</b>, `ticks` | pipes?'
        options:
          - {label: 'Yes: "really" (100%)', next: class}
          - {label: "No <not> #1 | `x` \\\\ back", next: graph}
      class:
        branch:
          - if: org.rules.welsh_language_standards
            next: node
          - else: style
      graph:
        ask: "{% if answers.end %}You said {{ answers.end }}.{% endif %} Next?"
        options:
          - {label: Subgraph, next: subgraph}
          - {label: Click, next: click}
          - {label: Edge, next: edge}
      node: {verdict: go, say: "Fine for {{ org.name }}", cite: [notts-27]}
      style: {verdict: care, say: Careful, cite: [notts-27]}
      subgraph: {verdict: stop, say: Stop, cite: [notts-27]}
      click: {verdict: act, say: Act now, cite: [notts-27]}
      edge: {verdict: act, say: Act, cite: [notts-27]}
    """
)

MERMAID_KEYWORDS = {
    "end", "class", "classdef", "style", "linkstyle", "click", "call", "href", "graph", "flowchart",
    "subgraph", "direction", "interpolate", "default",
}  # fmt: skip
DOT_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}

_ID = r"s_[a-z][a-z0-9_]*"
_LABEL = r'"([^"]*)"'
MERMAID_LINE = re.compile(
    rf"^flowchart TD$"
    rf"|^    (?P<node>{_ID})(?:\[{_LABEL}\]|\{{{_LABEL}\}}|\(\[{_LABEL}\]\))$"
    rf"|^    (?P<src>{_ID}) (?P<arrow>-->|-\.->)\|{_LABEL}\| (?P<dst>{_ID})$"
    rf"|^    class (?P<classed>{_ID}) (?P<verdict>go|care|stop|act)$"
    rf"|^    classDef (go|care|stop|act) fill:#[0-9a-f]{{6}},color:#[0-9a-f]{{6}},stroke:#[0-9a-f]{{6}}$"
)


def odd_flow() -> Flow:
    return parse_flow(ODD, "odd-names.yaml")


def check_mermaid_text(text: str, flow: Flow) -> dict[str, str]:
    """Assert the text rules; return node id -> verdict class for outcomes."""
    assert text.endswith("\n")
    declared: set[str] = set()
    classes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = MERMAID_LINE.match(line)
        assert match, f"not a line our Mermaid grammar allows: {line!r}"
        for label in re.findall(r'"([^"]*)"', line):
            label = label.replace("<br/>", " ")  # the one tag we write: a line break in an outcome's label
            assert not set(label) & set('"<>`'), f"unescaped character in label {label!r}"
            assert all(re.match(r"#(\w+);", label[i:]) for i in range(len(label)) if label[i] == "#"), label
            assert "{%" not in label and "{{" not in label, f"template code shown in {label!r}"
        if match["node"]:
            declared.add(match["node"])
        if match["src"]:
            edges.append((match["src"], match["dst"]))
        if match["classed"]:
            classes[match["classed"]] = match["verdict"]
    assert declared == {f"s_{name}" for name in flow.states}
    assert all(src in declared and dst in declared for src, dst in edges)
    assert not any(node.lower() in MERMAID_KEYWORDS for node in declared)
    return classes


def test_mermaid_draws_every_state_option_and_branch() -> None:
    flow = load_flow_file(FIXTURE_FLOWS / "quick-post.yaml")
    text = mermaid(flow)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    s_mentions_work["Does the post mention org.short_name or your job?"]' in lines
    assert '    s_it_rule{"it rule"}' in lines
    assert '    s_fine(["GO · fine<br/>Go ahead."])' in lines
    assert '    s_on_council_it -->|"Yes: from council equipment"| s_it_rule' in lines
    assert '    s_explain_it -->|"Back to the question"| s_on_council_it' in lines
    assert (
        '    s_it_rule -.->|"org.rules.personal_use_on_council_it == #quot;never#quot;"| s_not_on_council_it' in lines
    )
    assert '    s_it_rule -.->|"otherwise"| s_breaks_only' in lines
    option_edges = [line for line in lines if " -->|" in line]
    assert len(option_edges) == sum(len(s.options) for s in flow.states.values())
    classes = check_mermaid_text(text, flow)
    assert classes == {f"s_{s.name}": s.verdict.value for s in flow.states.values() if s.verdict is not None}


def test_mermaid_colours_each_verdict() -> None:
    text = mermaid(load_flow_file(FIXTURE_FLOWS / "quick-post.yaml"))
    for verdict, colour in VERDICT_COLOURS.items():
        line = f"    classDef {verdict} fill:{colour},color:{VERDICT_TEXT[verdict]},stroke:{colour}"
        assert line in text.splitlines()
    assert len(set(VERDICT_COLOURS.values())) == 4


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour written #rrggbb."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_ratio_is_computed_as_wcag_defines_it() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#777777") == 1.0
    assert round(contrast("#f9a825", "#ffffff"), 2) == 1.97  # the old white-on-amber "care" boxes


def test_every_verdict_colour_reads_with_a_contrast_of_at_least_4_5() -> None:
    for verdict, fill in VERDICT_COLOURS.items():
        assert contrast(fill, VERDICT_TEXT[verdict]) >= 4.5, verdict
    for text in (mermaid(odd_flow()), dot(odd_flow())):
        pairs = re.findall(r"fill:(#\w+),color:(#\w+)", text)
        pairs += re.findall(r'fillcolor="(#\w+)", fontcolor="(#\w+)"', text)
        assert pairs and all(contrast(fill, ink) >= 4.5 for fill, ink in pairs), pairs


def test_an_if_else_outcome_shows_its_state_verdict_and_each_branch_on_its_own_line() -> None:
    flow = load_flow_file(default_flows_dir() / "legal-threat.yaml")  # the shipped flow the issue names
    lines = mermaid(flow).splitlines()
    assert (
        '    s_act_official(["ACT · act_official<br/>Take the post down now, before you do anything else.'
        '<br/>Good: the post is already down."])'
    ) in lines
    dot_lines = dot(flow).splitlines()
    assert any(
        'label="ACT · act_official_no_manager\\nTake the post down now, before you do anything else.'
        '\\nGood: the post is already down."' in line
        for line in dot_lines
    )


def test_branch_sentences_take_the_first_sentence_of_each_branch() -> None:
    assert branch_sentences("Fine. More words here.") == ["Fine."]
    assert branch_sentences("{% if a %}One. Two.{% elif b %}Three{% else %}Four! Five.{% endif %} After.") == [
        "One.",
        "Three",
        "Four!",
    ]
    assert branch_sentences("{% if a %}{% else %}Else.{% endif %} Shared ending. More.") == [
        "Shared ending.",
        "Else.",
    ]
    assert branch_sentences("Tell {{ user.manager_name or 'your manager' }} now. Then wait.") == [
        "Tell user.manager_name now."
    ]


def test_mermaid_survives_keyword_state_names_and_punctuation() -> None:
    flow = odd_flow()
    text = mermaid(flow)
    classes = check_mermaid_text(text, flow)
    assert classes == {"s_node": "go", "s_style": "care", "s_subgraph": "stop", "s_click": "act", "s_edge": "act"}
    lines = text.splitlines()
    assert '    s_end["Is it #quot;quoted#quot; (with brackets) and: colons; a #35;hash, #lt;b#gt;tag…"]' in lines
    assert '    s_end -->|"Yes: #quot;really#quot; (100%)"| s_class' in lines
    assert '    s_end -->|"No #lt;not#gt; #35;1 | #96;x#96; \\ back"| s_graph' in lines
    # template statements are left out of the picture; expressions show what they refer to
    assert '    s_graph["You said answers.end . Next?"]' in lines
    assert '    s_node(["GO · node<br/>Fine for org.name"])' in lines


def test_mermaid_for_every_fixture_flow_keeps_the_rules() -> None:
    for path in sorted(FIXTURE_FLOWS.glob("*.yaml")):
        if path.name != "citations.yaml":
            flow = load_flow_file(path)
            check_mermaid_text(mermaid(flow), flow)


DOT_LINE = re.compile(
    r'^digraph "[a-z0-9-]+" \{$|^    rankdir=TB;$|^    node \[fontname="Helvetica"\];$|^\}$'
    r'|^    "(?P<node>[a-z][a-z0-9_]*)" \[(?P<attrs>.*)\];$'
    r'|^    "(?P<src>[a-z][a-z0-9_]*)" -> "(?P<dst>[a-z][a-z0-9_]*)" \[(?P<eattrs>.*)\];$'
)
_DOT_STRING = r'"(?:[^"\\]|\\.)*"'


def check_dot_text(text: str, flow: Flow) -> dict[str, str]:
    """Assert dot's rules for our output; return node -> attribute text."""
    nodes: dict[str, str] = {}
    for line in text.splitlines():
        match = DOT_LINE.match(line)
        assert match, f"not a dot line we expect: {line!r}"
        attrs = match["attrs"] or match["eattrs"]
        if attrs is not None:
            # attribute lists are name=value pairs, values bare words or properly escaped strings
            assert re.fullmatch(rf"(?:\w+=(?:[\w#]+|{_DOT_STRING})(?:, )?)+", attrs), attrs
        if match["node"]:
            nodes[match["node"]] = attrs
        if match["src"]:
            assert match["src"] in flow.states and match["dst"] in flow.states
    outside = re.sub(_DOT_STRING, '""', text)
    assert outside.count("{") == outside.count("}") == 1
    assert set(nodes) == set(flow.states)
    return nodes


def test_dot_quotes_ids_so_keyword_state_names_work() -> None:
    flow = odd_flow()
    text = dot(flow)
    nodes = check_dot_text(text, flow)
    assert set(nodes) & DOT_KEYWORDS == {"node", "graph", "subgraph", "edge"}
    lines = text.splitlines()
    assert '    "end" -> "class" [label="Yes: \\"really\\" (100%)"];' in lines
    assert '    "end" -> "graph" [label="No <not> #1 | `x` \\\\ back"];' in lines
    assert '    "class" -> "node" [style=dashed, label="org.rules.welsh_language_standards"];' in lines
    assert '    "class" -> "style" [style=dashed, label="otherwise"];' in lines


def test_dot_shapes_and_colours_by_kind_and_verdict() -> None:
    flow = load_flow_file(FIXTURE_FLOWS / "quick-post.yaml")
    nodes = check_dot_text(dot(flow), flow)
    for state in flow.states.values():
        attrs = nodes[state.name]
        if state.kind == QUESTION:
            assert attrs.startswith("shape=box, label=")
        elif state.kind == BRANCH:
            assert attrs == f'shape=diamond, label="{state.name}"'
        else:
            assert state.kind == OUTCOME and state.verdict is not None
            assert f'fillcolor="{VERDICT_COLOURS[state.verdict.value]}"' in attrs
            assert f'label="{state.verdict.value.upper()} · {state.name}\\n' in attrs
            assert f'fontcolor="{VERDICT_TEXT[state.verdict.value]}"' in attrs


def test_long_text_is_clipped_for_the_picture() -> None:
    flow = odd_flow()
    for text in (mermaid(flow), dot(flow)):
        for label in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
            # entity codes and escapes aside, each line of a label is at most 60 characters
            for line in re.split(r"<br/>|\\n", label):
                plain = re.sub(r"#\w+;", "x", line).replace('\\"', '"').replace("\\\\", "\\")
                assert len(plain) <= 60, label
