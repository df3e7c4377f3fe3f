"""Safe YAML loading that remembers the line of every key and list item.

Flow authors need ``file:line`` messages, so the loader keeps where each value came from.
Only PyYAML's SafeLoader is used: a YAML file can never construct Python objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.errors import FileProblems, Problem


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line (1-based) of itself and of each key."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence from YAML that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that builds LineDict / LineList and refuses duplicate keys."""

    duplicate_keys: list[tuple[int, str]]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            loader.duplicate_keys.append((key_node.start_mark.line + 1, key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_text(text: str, filename: str) -> Any:
    """Parse YAML text safely; raise FileProblems with the line of any syntax error."""
    loader = _LineLoader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        # At the end of a file with no final newline the parser's mark is one line past the last.
        line = min(mark.line + 1, max(1, len(text.splitlines()))) if mark else 1
        what = err.problem or "this is not valid YAML"
        raise FileProblems([Problem(filename, line, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as err:
        raise FileProblems([Problem(filename, 1, f"YAML syntax error: {err}")]) from None
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        raise FileProblems(
            [
                Problem(filename, line, f"the key '{key}' appears twice here; keep one")
                for line, key in loader.duplicate_keys
            ]
        )
    return data


def load_yaml_file(path: Path) -> Any:
    """Read and parse one YAML file; a missing or unreadable file is a clear FileProblems."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblems([Problem(str(path), 1, "file not found")]) from None
    except UnicodeDecodeError:
        raise FileProblems([Problem(str(path), 1, "the file is not UTF-8 text; save it as UTF-8")]) from None
    except OSError as err:
        raise FileProblems([Problem(str(path), 1, f"cannot read the file: {err.strerror}")]) from None
    return load_yaml_text(text, str(path))
