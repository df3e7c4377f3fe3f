"""Which flows a change touches, and so whose scenario tests it needs and how many approvals.

Settings and citations are read by every flow: a change to either counts as touching them all.
"""

from __future__ import annotations

from bot.errors import FileProblems
from bot.language.flow_loader import FlowProblems, parse_flow
from bot.language.flow_model import Flow
from bot.publishing.snapshot import Files


def touched_flows(base: dict[str, str], files: Files) -> list[str]:
    """Flow ids a change touches: its flow files and the flows its scenario files test."""
    found: list[str] = []
    for name in files:
        if name.endswith(".test.yaml"):
            found.append(name.removesuffix(".test.yaml"))
        elif name.endswith(".yaml") and "/" not in name and name != "citations.yaml":
            found.append(name.removesuffix(".yaml"))
    return sorted(set(found))


def is_flow_name(name: str) -> bool:
    return name.endswith(".yaml") and not name.endswith(".test.yaml") and "/" not in name and name != "citations.yaml"


def scope(files: Files, flows: list[str]) -> set[str] | None:
    """Whose scenario tests a change needs: its flows', or everyone's when it changes shared files."""
    return None if shared(files) else set(flows)


def shared(files: Files) -> bool:
    return any(not is_flow_name(n) and not n.endswith(".test.yaml") for n in files)


def flows_of(before: dict[str, str], after: dict[str, str], flow_ids: list[str]) -> list[Flow]:
    """The touched flows as they were and as they will be (either may escalate to Legal)."""
    parsed = []
    for files in (before, after):
        for flow_id in flow_ids:
            text = files.get(f"{flow_id}.yaml")
            if text is None:
                continue
            try:
                parsed.append(parse_flow(text, f"{flow_id}.yaml", check_file_name=False))
            except (FlowProblems, FileProblems):
                continue
    return parsed
