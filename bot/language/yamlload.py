"""Safe YAML loading that remembers the line of every key and list item.

Flow authors need ``file:line`` messages, so the loader keeps where each value came from.
Only PyYAML's SafeLoader is used: a YAML file can never construct Python objects.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

import yaml

from bot.errors import FileProblems, Problem


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line (1-based) of itself and of each key."""

    line: int
    key_lines: dict[str, int]
    value_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def value_line(self, key: str) -> int:
        """The line where the value's text begins: for ``say: |`` that is the line after the key.

        Template problems are reported at the template's own lines, counted from here.
        """
        return self.value_lines.get(key, self.line_of(key))


class LineList(list[Any]):
    """A sequence from YAML that knows its own line and the line of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that builds LineDict / LineList and refuses duplicate keys."""

    duplicate_keys: list[tuple[int, str]]
    breaks: list[int] | None  # where lines end, when YAML's count would differ from an editor's

    def line(self, mark: Any) -> int:
        """The 1-based line of a mark, as an editor numbers lines.

        YAML also ends a line at NEL (U+0085), U+2028/U+2029 and a lone carriage return, which
        most editors show inside a line; in a text holding one, lines are counted by '\n' instead.
        """
        if self.breaks is None:
            return int(mark.line) + 1
        return bisect.bisect_left(self.breaks, mark.index) + 1

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """Keep dates and clock times as the text the person wrote.

        YAML 1.1 reads ``17:00`` as the number 1020 (base 60) and ``2026-12-25`` as a date, and a
        date that does not exist (``2026-13-40``) crashed the loader. Our files want text for both.
        """
        tag = super().resolve(kind, value, implicit)
        if kind is yaml.ScalarNode and implicit[0] and (
            tag == _TIMESTAMP or (tag in (_INT, _FLOAT) and _BASE_60.match(value))
        ):
            return _STR
        return tag

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """A value YAML cannot build (``!!int abc``) is a syntax problem on its line, not a crash."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as err:
            raise yaml.constructor.ConstructorError(
                None, None, f"this value cannot be read ({err})", node.start_mark
            ) from None


_STR, _INT, _FLOAT, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "timestamp"))
_BASE_60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = loader.line(node.start_mark)
    result.key_lines = {}
    result.value_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):  # 'no:' stays 'no', not 'False': the name as the person wrote it
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key)
        if key in result:
            loader.duplicate_keys.append((loader.line(key_node.start_mark), key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = loader.line(key_node.start_mark)
        block = isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">")
        result.value_lines[key] = loader.line(value_node.start_mark) + block
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = loader.line(node.start_mark)
    result.item_lines = [loader.line(child.start_mark) for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_text(text: str, filename: str) -> Any:
    """Parse YAML text safely; raise FileProblems with the line of any syntax error."""
    loader = _LineLoader(text)
    loader.duplicate_keys = []
    loader.breaks = [m.start() for m in _LINE_BREAK.finditer(text)] if _ODD_BREAK.search(text) else None
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        line, what = _explain(err, text, loader)
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


_ODD_BREAK = re.compile("[\x85\u2028\u2029]|\r(?!\n)")
_LINE_BREAK = re.compile("\n")


def _explain(err: yaml.MarkedYAMLError, text: str, loader: _LineLoader) -> tuple[int, str]:
    """The line to look at and what is wrong there, in words a comms officer can act on.

    The parser's own words ("mapping values are not allowed in this context") say what it
    expected, not what the person did; the commonest mistakes get a plain explanation, and the
    parser's message is kept after it for anyone searching the web for it.
    """
    mark = err.problem_mark or err.context_mark
    lines = text.removesuffix("\n").split("\n")
    # At the end of a file with no final newline the parser's mark is one line past the last.
    line = min(loader.line(mark), len(lines)) if mark else 1
    start = loader.line(err.context_mark) if err.context_mark else line
    problem = err.problem or "this is not valid YAML"
    context = err.context or ""
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "tab" in problem or ("cannot start any token" in problem and "\t" in here):
        hint = "a tab character is used for indenting; indent with spaces only"
    elif "cannot start any token" in problem:
        hint = "a value starts with a character YAML reserves (such as ` or @); put the whole text in quotes"
    elif "mapping values are not allowed" in problem:
        hint = (
            "YAML read a ': ' here as the start of a new key; if the text contains ': ', put the whole text "
            "in quotes, otherwise check the indentation"
        )
    elif "quoted scalar" in context:
        return start, f"the quoted text that starts on this line is never closed; add the closing quote ({problem})"
    elif "flow mapping" in context or "flow sequence" in context:
        bracket = "{" if "mapping" in context else "["
        return start, f"the '{bracket}' opened on this line is not closed, or a comma is missing ({problem})"
    elif "block mapping" in context or "block collection" in context:
        hint = "this line is not indented like the lines above it; line it up with its neighbours"
    elif "another document" in problem:
        hint = "a second document ('---') starts here; a file holds one document, so remove the '---'"
    elif "constructor for the tag" in problem:
        hint = "tags such as '!!python/...' are not allowed; write plain text, numbers, lists and mappings"
    else:
        return line, problem
    return line, f"{hint} ({problem})"


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
