"""Adding a routing miss's message to a flow's ``examples:`` list, as text, for a change request.

The routing report (bot.ops.routing_report) shows what people typed when the router's first guess
was wrong and which flow they really wanted. "Add as example" puts that message in the flow's
``examples:`` list and submits the file through publishing like any other edit, so validate's
example checks and a reviewer see it before the router does. Only the text of the file changes
(one list item added), so the author's comments and layout are kept.
"""

from __future__ import annotations

import re

import yaml

from bot.errors import PolicybotError

_BLOCK = re.compile(r"^examples:[ \t]*(#.*)?$", re.M)
_ITEM = re.compile(r"^([ \t]+)- ")


def with_example(source: str, text: str) -> str:
    """``source`` with ``text`` as the last item of its top-level ``examples:`` block (made if missing)."""
    text = " ".join(text.split())
    if not text:
        raise PolicybotError("there is no message to add as an example")
    item = yaml.safe_dump([text], allow_unicode=True, width=10_000).strip()  # "- text", quoted when it must be
    lines = source.split("\n")
    found = _BLOCK.search(source)
    if found is None:
        if re.search(r"^examples:", source, re.M):
            raise PolicybotError(
                "this flow's examples are written on one line; add the message in the flow's Edit page instead"
            )
        end = "" if source.endswith("\n") else "\n"
        return f"{source}{end}examples:\n  {item}\n"
    at = source[: found.start()].count("\n")  # the line of "examples:"
    indent, last = "  ", at
    for n in range(at + 1, len(lines)):
        if lines[n].strip() and not lines[n].startswith((" ", "\t")):
            break  # the next top-level key
        matched = _ITEM.match(lines[n])
        if matched:
            indent = matched.group(1)
        if lines[n].strip():
            last = n  # an item, or an item's text carried on to the next line
    lines.insert(last + 1, f"{indent}{item}")
    return "\n".join(lines)
