"""Adaptive Card 1.5 rules that the Teams adapter relies on, as a checker for tests.

Teams renders Adaptive Cards up to schema 1.5 and drops (or shows an error for) cards it cannot
parse: an unknown element type, a missing required field, a card over the ~28 KB message limit.
There is no offline copy of the full Adaptive Card schema here, so this module encodes the parts
of the 1.5 specification our cards use, strictly: anything not listed is an error, so a renderer
change that introduces a new element type has to be looked at (and added here) on purpose.

``card_problems(card)`` returns human-readable problems; an empty list means the card passes.
"""

from __future__ import annotations

import json
from typing import Any

MAX_CARD_BYTES = 28 * 1024
MAX_VERSION = (1, 5)
MAX_ACTIONS = 6  # Teams' host config (maxActions): more are cut off behind "…"
MAX_BUTTON_LABEL = 50  # a longer button title is cut off rather than wrapped

# Element type -> (fields that must be present, minimum card version that introduced it)
ELEMENTS: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "TextBlock": (("text",), (1, 0)),
    "RichTextBlock": (("inlines",), (1, 2)),
    "Image": (("url",), (1, 0)),
    "ImageSet": (("images",), (1, 0)),
    "Container": (("items",), (1, 0)),
    "ColumnSet": ((), (1, 0)),
    "FactSet": (("facts",), (1, 0)),
    "ActionSet": (("actions",), (1, 2)),
    "Table": ((), (1, 5)),
    "Input.Text": (("id",), (1, 0)),
    "Input.Number": (("id",), (1, 0)),
    "Input.Date": (("id",), (1, 0)),
    "Input.Time": (("id",), (1, 0)),
    "Input.Toggle": (("id", "title"), (1, 0)),
    "Input.ChoiceSet": (("id", "choices"), (1, 0)),
}
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "Action.Submit": ((), (1, 0)),
    "Action.OpenUrl": (("url",), (1, 0)),
    "Action.ShowCard": (("card",), (1, 0)),
    "Action.ToggleVisibility": (("targetElements",), (1, 2)),
    "Action.Execute": ((), (1, 4)),
}
TEXT_SIZES = {"default", "small", "medium", "large", "extralarge"}
WEIGHTS = {"default", "lighter", "bolder"}
COLOURS = {"default", "dark", "light", "accent", "good", "warning", "attention"}
CONTAINER_STYLES = {"default", "emphasis", "good", "attention", "warning", "accent"}
ACTION_STYLES = {"default", "positive", "destructive"}
SPACINGS = {"default", "none", "small", "medium", "large", "extralarge", "padding"}


def parse_version(text: Any) -> tuple[int, int] | None:
    try:
        major, minor = str(text).split(".")
        return int(major), int(minor)
    except ValueError:
        return None


def card_problems(card: dict[str, Any], *, require_execute_fallback: bool = True) -> list[str]:
    """Every rule the card breaks. ``require_execute_fallback``: Action.Execute must fall back to
    an Action.Submit carrying the same data (older Teams clients, and the adapter handles both)."""
    problems: list[str] = []
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if size >= MAX_CARD_BYTES:
        problems.append(f"card is {size} bytes; Teams refuses messages over {MAX_CARD_BYTES}")
    if card.get("type") != "AdaptiveCard":
        problems.append("top level type must be AdaptiveCard")
    version = parse_version(card.get("version"))
    if version is None:
        problems.append(f"version {card.get('version')!r} is not major.minor")
        version = MAX_VERSION
    elif version > MAX_VERSION:
        problems.append(f"version {card.get('version')} is above 1.5, which Teams does not render")
    checker = _Checker(version, require_execute_fallback)
    checker.card(card, "card")
    problems.extend(checker.problems)
    ids = checker.ids
    for path, target in checker.toggle_targets:
        if target not in ids:
            problems.append(f"{path}: Action.ToggleVisibility targets unknown element id {target!r}")
    return problems


class _Checker:
    def __init__(self, version: tuple[int, int], require_execute_fallback: bool) -> None:
        self.version = version
        self.require_execute_fallback = require_execute_fallback
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.toggle_targets: list[tuple[str, str]] = []

    def card(self, card: dict[str, Any], path: str) -> None:
        body = card.get("body", [])
        if not isinstance(body, list):
            self.problems.append(f"{path}.body must be a list")
            body = []
        for i, element in enumerate(body):
            self.element(element, f"{path}.body[{i}]")
        actions = card.get("actions", [])
        if not isinstance(actions, list):
            self.problems.append(f"{path}.actions must be a list")
            actions = []
        self._count(actions, path)
        for i, action in enumerate(actions):
            self.action(action, f"{path}.actions[{i}]")
        if not body and not actions:
            self.problems.append(f"{path} has neither body nor actions")

    def _count(self, actions: list[Any], path: str) -> None:
        if len(actions) > MAX_ACTIONS:
            self.problems.append(f"{path} has {len(actions)} actions; Teams shows {MAX_ACTIONS} and hides the rest")
        for i, action in enumerate(actions):
            title = action.get("title") if isinstance(action, dict) else None
            if isinstance(title, str) and len(title) > MAX_BUTTON_LABEL:
                self.problems.append(f"{path}.actions[{i}] title is {len(title)} characters; Teams cuts it off")

    def _id(self, item: dict[str, Any], path: str) -> None:
        if "id" in item:
            ident = item["id"]
            if not isinstance(ident, str) or not ident:
                self.problems.append(f"{path}.id must be a non-empty string")
            elif ident in self.ids:
                self.problems.append(f"{path}: duplicate id {ident!r}")
            else:
                self.ids.add(ident)

    def _enum(self, item: dict[str, Any], key: str, allowed: set[str], path: str) -> None:
        if key in item and str(item[key]).lower() not in allowed:
            self.problems.append(f"{path}.{key} {item[key]!r} is not one of {sorted(allowed)}")

    def element(self, element: Any, path: str) -> None:
        if not isinstance(element, dict):
            self.problems.append(f"{path} must be an object")
            return
        kind = element.get("type")
        if kind not in ELEMENTS:
            self.problems.append(f"{path}: unknown element type {kind!r}")
            return
        required, since = ELEMENTS[kind]
        self._requires(element, required, since, kind, path)
        self._id(element, path)
        self._enum(element, "spacing", SPACINGS, path)
        if kind == "TextBlock":
            if not isinstance(element.get("text"), str) or not element["text"].strip():
                self.problems.append(f"{path}.text must be non-empty text")
            self._enum(element, "size", TEXT_SIZES, path)
            self._enum(element, "weight", WEIGHTS, path)
            self._enum(element, "color", COLOURS, path)
        elif kind == "Container":
            self._enum(element, "style", CONTAINER_STYLES, path)
            items = element.get("items")
            if not isinstance(items, list) or not items:
                self.problems.append(f"{path}.items must be a non-empty list")
            else:
                for i, item in enumerate(items):
                    self.element(item, f"{path}.items[{i}]")
        elif kind == "ColumnSet":
            for i, column in enumerate(element.get("columns", [])):
                cpath = f"{path}.columns[{i}]"
                if not isinstance(column, dict) or column.get("type", "Column") != "Column":
                    self.problems.append(f"{cpath} must be a Column")
                    continue
                self._id(column, cpath)
                for j, item in enumerate(column.get("items", [])):
                    self.element(item, f"{cpath}.items[{j}]")
        elif kind == "FactSet":
            facts = element.get("facts")
            if not isinstance(facts, list) or not facts:
                self.problems.append(f"{path}.facts must be a non-empty list")
            else:
                for i, fact in enumerate(facts):
                    if (
                        not isinstance(fact, dict)
                        or not isinstance(fact.get("title"), str)
                        or not isinstance(fact.get("value"), str)
                    ):
                        self.problems.append(f"{path}.facts[{i}] needs string title and value")
        elif kind == "ActionSet":
            actions = element.get("actions")
            if not isinstance(actions, list) or not actions:
                self.problems.append(f"{path}.actions must be a non-empty list")
            else:
                self._count(actions, path)
                for i, action in enumerate(actions):
                    self.action(action, f"{path}.actions[{i}]")
        elif kind == "Input.Text":
            if "maxLength" in element and not isinstance(element["maxLength"], int):
                self.problems.append(f"{path}.maxLength must be a number")
        elif kind == "Input.ChoiceSet":
            for i, choice in enumerate(element.get("choices", [])):
                if not isinstance(choice, dict) or "title" not in choice or "value" not in choice:
                    self.problems.append(f"{path}.choices[{i}] needs title and value")

    def action(self, action: Any, path: str, *, in_fallback: bool = False) -> None:
        if not isinstance(action, dict):
            self.problems.append(f"{path} must be an object")
            return
        kind = action.get("type")
        if kind not in ACTIONS:
            self.problems.append(f"{path}: unknown action type {kind!r}")
            return
        required, since = ACTIONS[kind]
        self._requires(action, required, since, kind, path, check_version=not in_fallback)
        self._id(action, path)
        self._enum(action, "style", ACTION_STYLES, path)
        if not isinstance(action.get("title"), str) or not action["title"].strip():
            self.problems.append(f"{path}: an action shown as a button needs a title")
        if kind in ("Action.Submit", "Action.Execute") and "data" in action and not isinstance(action["data"], dict):
            self.problems.append(f"{path}.data must be an object so Teams can add its own fields")
        if kind == "Action.Execute":
            if not action.get("verb"):
                self.problems.append(f"{path}: Action.Execute needs a verb (the adapter routes on it)")
            fallback = action.get("fallback")
            if self.require_execute_fallback:
                if not isinstance(fallback, dict) or fallback.get("type") != "Action.Submit":
                    self.problems.append(f"{path}: Action.Execute needs an Action.Submit fallback")
                elif fallback.get("data", {}).get("verb", action.get("verb")) != action.get("verb"):
                    self.problems.append(f"{path}: the Action.Submit fallback must carry the same verb")
                elif not _same_payload(action.get("data", {}), fallback.get("data", {})):
                    self.problems.append(f"{path}: the Action.Submit fallback must carry the same data")
            if isinstance(fallback, dict):
                self.action(fallback, f"{path}.fallback", in_fallback=True)
        elif kind == "Action.ShowCard":
            sub = action.get("card")
            if not isinstance(sub, dict) or sub.get("type") != "AdaptiveCard":
                self.problems.append(f"{path}.card must be an AdaptiveCard")
            else:
                self.card(sub, f"{path}.card")
        elif kind == "Action.ToggleVisibility":
            targets = action.get("targetElements")
            if not isinstance(targets, list) or not targets:
                self.problems.append(f"{path}.targetElements must be a non-empty list")
            else:
                for target in targets:
                    ident = target.get("elementId") if isinstance(target, dict) else target
                    if not isinstance(ident, str):
                        self.problems.append(f"{path}.targetElements has an entry without an element id")
                    else:
                        self.toggle_targets.append((path, ident))
        elif kind == "Action.OpenUrl" and not str(action.get("url", "")).startswith(("https://", "http://")):
            self.problems.append(f"{path}.url must be an http(s) address")

    def _requires(
        self,
        item: dict[str, Any],
        required: tuple[str, ...],
        since: tuple[int, int],
        kind: str,
        path: str,
        *,
        check_version: bool = True,
    ) -> None:
        for key in required:
            if key not in item:
                self.problems.append(f"{path}: {kind} requires {key!r}")
        if check_version and since > self.version:
            self.problems.append(
                f"{path}: {kind} needs card version {since[0]}.{since[1]}, the card says "
                f"{self.version[0]}.{self.version[1]}"
            )


def _same_payload(execute_data: dict[str, Any], submit_data: dict[str, Any]) -> bool:
    """The Submit fallback may add Teams' ``msteams`` hints but must otherwise carry the same data."""
    return {k: v for k, v in submit_data.items() if k != "msteams"} == {
        k: v for k, v in execute_data.items() if k != "msteams"
    }
