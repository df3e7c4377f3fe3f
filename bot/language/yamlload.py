"""Safe YAML loading that remembers the line of every key and list item.

Flow authors need ``file:line`` messages, so the loader keeps where each value came from.
Only PyYAML's SafeLoader is used: a YAML file can never construct Python objects.

A flow file may also be careless or hostile, so the loader keeps within limits (YamlLimits), each
refused with a ``file:line`` message before it can cost time or memory:

- the file's size, checked before anything is parsed;
- nesting depth: libyaml's parser slows with the square of the depth and PyYAML's C composer
  recurses once per level (a 50,000-deep mapping crashed the process), so nodes are composed by
  PyYAML's Python composer over libyaml's events, counting the depth as it goes and stopping at
  the first level too deep, long before either cost is paid;
- aliases, and the number of values once every alias is followed: a 650-byte "billion laughs"
  stands for 387 million values, and the first thing to walk it (the schema check) hung.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer

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


@dataclass(frozen=True)
class YamlLimits:
    """How big a YAML file may be. The defaults fit a flow (the largest shipped flow is 25 kB,
    nested six deep, with no aliases) with a wide margin; a staff directory passes larger ones."""

    max_bytes: int = 1_000_000
    max_depth: int = 40
    max_aliases: int = 1_000
    max_values: int = 200_000  # scalars, lists and mappings, an alias counted as all it stands for

    def describe_size(self) -> str:
        return f"{self.max_bytes / 1_000_000:g} MB" if self.max_bytes >= 100_000 else f"{self.max_bytes:,} bytes"


FLOW_LIMITS = YamlLimits()
# A staff directory or citation registry may well be longer than a flow, but is never deep.
LARGE_FILE_LIMITS = YamlLimits(max_bytes=50_000_000, max_values=5_000_000)


class _TooMuch(Exception):
    """A limit was passed at ``line``; ``message`` says which, in words."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader that builds LineDict / LineList, refuses duplicate keys and keeps to YamlLimits.

    Events come from libyaml when it is installed; nodes are composed by PyYAML's Python composer
    (the methods taken from ``Composer`` below), whose ``compose_node`` is wrapped to count.
    """

    duplicate_keys: list[tuple[int, str]]
    breaks: list[int] | None  # where lines end, when YAML's count would differ from an editor's
    limits: YamlLimits

    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    compose_scalar_node = Composer.compose_scalar_node
    compose_sequence_node = Composer.compose_sequence_node
    compose_mapping_node = Composer.compose_mapping_node
    check_node = Composer.check_node
    get_node = Composer.get_node

    def start(self, limits: YamlLimits) -> None:
        self.limits = limits
        self.anchors: dict[str, Any] = {}
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._sizes: dict[str, int] = {}  # anchor -> values it stands for

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        limits = self.limits
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > limits.max_aliases:
                raise _TooMuch(
                    self.line(event.start_mark),
                    f"more than {limits.max_aliases:,} aliases (*name) in one file; write the values out instead",
                )
            self._count(self._sizes.get(str(event.anchor), 1), event)
            return Composer.compose_node(self, parent, index)
        self._depth += 1
        if self._depth > limits.max_depth:
            raise _TooMuch(
                self.line(event.start_mark),
                f"the values here are nested more than {limits.max_depth} levels deep; "
                "a flow needs far fewer: check the brackets and the indentation",
            )
        before = self._values
        self._values += 1
        if self._values > limits.max_values:
            self._count(0, event)  # raises, with the line
        node = Composer.compose_node(self, parent, index)
        self._depth -= 1
        if event.anchor is not None:
            self._sizes[str(event.anchor)] = self._values - before
        return node

    def _count(self, values: int, event: Any) -> None:
        self._values += values
        if self._values > self.limits.max_values:
            raise _TooMuch(
                self.line(event.start_mark),
                f"this file holds more than {self.limits.max_values:,} values once its aliases (*name) are "
                "followed; write out what is needed, or split the file",
            )

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
        if (
            kind is yaml.ScalarNode
            and implicit[0]
            and (tag == _TIMESTAMP or (tag in (_INT, _FLOAT) and _BASE_60.match(value)))
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


def load_yaml_text(text: str, filename: str, *, limits: YamlLimits = FLOW_LIMITS) -> Any:
    """Parse YAML text safely; raise FileProblems with the line of any syntax error, passed limit
    or key written twice."""
    data, duplicates = parse_yaml_text(text, filename, limits=limits)
    if duplicates:
        raise FileProblems(duplicates)
    return data


def parse_yaml_text(text: str, filename: str, *, limits: YamlLimits = FLOW_LIMITS) -> tuple[Any, list[Problem]]:
    """Parse YAML text safely: the data, and a problem for each key written twice (the later value
    is kept), so a flow's other problems can be checked in the same run. Syntax errors and passed
    limits raise FileProblems: nothing can be read past them."""
    if len(text) > limits.max_bytes or len(text.encode("utf-8")) > limits.max_bytes:
        raise FileProblems([_too_big(filename, len(text.encode("utf-8")), limits)])
    loader = _LineLoader(text)
    loader.start(limits)
    loader.duplicate_keys = []
    loader.breaks = [m.start() for m in _LINE_BREAK.finditer(text)] if _ODD_BREAK.search(text) else None
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        line, what = _explain(err, text, loader)
        raise FileProblems([Problem(filename, line, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as err:
        raise FileProblems([Problem(filename, 1, f"YAML syntax error: {err}")]) from None
    except _TooMuch as err:
        raise FileProblems([Problem(filename, err.line, err.message)]) from None
    finally:
        loader.dispose()
    duplicates = [
        Problem(filename, line, f"the key '{key}' appears twice here; keep one") for line, key in loader.duplicate_keys
    ]
    return data, duplicates


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


def read_text_file(path: Path, *, limits: YamlLimits = FLOW_LIMITS) -> str:
    """A file's UTF-8 text; a missing, unreadable, oversized or non-UTF-8 file is a clear FileProblems.

    The size is checked before reading, so a huge file costs nothing.
    """
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise FileProblems([_too_big(str(path), size, limits)])
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblems([Problem(str(path), 1, "file not found")]) from None
    except UnicodeDecodeError:
        raise FileProblems([Problem(str(path), 1, "the file is not UTF-8 text; save it as UTF-8")]) from None
    except OSError as err:
        raise FileProblems([Problem(str(path), 1, f"cannot read the file: {err.strerror}")]) from None


def _too_big(filename: str, size: int, limits: YamlLimits) -> Problem:
    return Problem(
        filename,
        1,
        f"the file is {size / 1_000_000:.1f} MB; a file like this may be at most {limits.describe_size()}: "
        "split it into smaller files",
    )


def load_yaml_file(path: Path, *, limits: YamlLimits = FLOW_LIMITS) -> Any:
    """Read and parse one YAML file; a missing or unreadable file is a clear FileProblems."""
    return load_yaml_text(read_text_file(path, limits=limits), str(path), limits=limits)
