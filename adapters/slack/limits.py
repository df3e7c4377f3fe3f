"""Block Kit's size limits, enforced on every message and view before it leaves the adapter.

Slack rejects a whole message (``invalid_blocks``) when one field is one character too long, and
a flow author can write a question, an option or a quote of any length. So nothing is sent as
it is: every block goes through ``fit_blocks`` which shortens what is too long (marking the cut
with an ellipsis) and caps the number of blocks, so a long flow degrades into a shorter message
instead of an error the person never sees.
"""

from __future__ import annotations

import copy
from typing import Any

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100  # Home tab and modals
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OVERFLOW_OPTIONS = 5
MAX_SELECT_OPTIONS = 100
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24
MAX_INPUT_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_PRIVATE_METADATA = 3000
MAX_FALLBACK_TEXT = 3000  # Slack allows 40,000 but notifications and screen readers want it short

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, the cut marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Long prose split into chunks of at most ``limit`` characters, at paragraph or line breaks
    where possible, so advice longer than one section is shown whole instead of cut."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _fit_text_object(obj: Any, limit: int) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = clip(obj["text"], limit) or " "


def _fit_option(option: Any) -> None:
    if not isinstance(option, dict):
        return
    _fit_text_object(option.get("text"), MAX_OPTION_TEXT)
    if isinstance(option.get("value"), str) and len(option["value"]) > MAX_OPTION_VALUE:
        raise ValueError(f"option value longer than {MAX_OPTION_VALUE} characters: {option['value'][:40]}…")


def _fit_confirm(confirm: Any) -> None:
    if not isinstance(confirm, dict):
        return
    _fit_text_object(confirm.get("title"), MAX_CONFIRM_TITLE)
    _fit_text_object(confirm.get("text"), MAX_CONFIRM_TEXT)
    _fit_text_object(confirm.get("confirm"), MAX_CONFIRM_BUTTON)
    _fit_text_object(confirm.get("deny"), MAX_CONFIRM_BUTTON)


def _fit_element(element: Any) -> None:
    """Buttons, overflow menus and selects, wherever they appear."""
    if not isinstance(element, dict):
        return
    kind = element.get("type")
    if isinstance(element.get("action_id"), str) and len(element["action_id"]) > MAX_ACTION_ID:
        raise ValueError("action_id too long: ids are built by the adapter and must stay short")
    if kind == "button":
        _fit_text_object(element.get("text"), MAX_BUTTON_TEXT)
        value = element.get("value")
        if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
            # Values carry ids, never prose; an over-long one is a bug, not user content to cut.
            raise ValueError(f"button value longer than {MAX_BUTTON_VALUE} characters")
    elif kind == "overflow":
        element["options"] = element.get("options", [])[:MAX_OVERFLOW_OPTIONS]
    elif kind == "static_select":
        _fit_text_object(element.get("placeholder"), MAX_PLACEHOLDER)
        element["options"] = element.get("options", [])[:MAX_SELECT_OPTIONS]
    elif kind == "plain_text_input":
        _fit_text_object(element.get("placeholder"), MAX_PLACEHOLDER)
    for option in element.get("options", []) or []:
        _fit_option(option)
    _fit_confirm(element.get("confirm"))


def fit_block(block: Block) -> Block:
    """One block within its limits (a copy; the input is left alone)."""
    block = copy.deepcopy(block)
    kind = block.get("type")
    if isinstance(block.get("block_id"), str):
        block["block_id"] = block["block_id"][:MAX_BLOCK_ID]
    if kind == "section":
        _fit_text_object(block.get("text"), MAX_SECTION_TEXT)
        for field in block.get("fields", []) or []:
            _fit_text_object(field, MAX_SECTION_FIELD)
        if "fields" in block:
            block["fields"] = block["fields"][:10]
        _fit_element(block.get("accessory"))
    elif kind == "header":
        _fit_text_object(block.get("text"), MAX_HEADER_TEXT)
    elif kind == "context":
        block["elements"] = block.get("elements", [])[:MAX_CONTEXT_ELEMENTS]
        for element in block["elements"]:
            _fit_text_object(element, MAX_CONTEXT_TEXT)
    elif kind == "actions":
        block["elements"] = block.get("elements", [])[:MAX_ACTIONS_ELEMENTS]
        for element in block["elements"]:
            _fit_element(element)
    elif kind == "input":
        _fit_text_object(block.get("label"), MAX_INPUT_LABEL)
        _fit_element(block.get("element"))
    return block


def fit_blocks(blocks: list[Block], *, limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """Every block within its limits, and no more than ``limit`` blocks.

    When there are too many, the last kept block says so: the person learns something is
    missing (and where to find it) rather than silently reading half an answer. Blocks with
    buttons at the end (the escalation offer) are kept in preference to the middle.
    """
    fitted = [fit_block(b) for b in blocks]
    if len(fitted) <= limit:
        return fitted
    last = fitted[-3:]
    keep_tail = last if any(b.get("type") == "actions" for b in last) else []
    room = limit - 1 - len(keep_tail)
    note = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": f"{ELLIPSIS} {len(fitted) - room - len(keep_tail)} more parts were left out "
                "because Slack limits the size of a message. Ask *Why?* for the policy paragraphs.",
            }
        ],
    }
    return [*fitted[:room], note, *keep_tail]


def fallback_text(text: str) -> str:
    """The plain-text version shown in notifications and read by screen readers."""
    return clip(" ".join(text.split()), MAX_FALLBACK_TEXT) or "Policy Bot"
