"""JSON Schema checks that speak in ``file:line: plain words``.

jsonschema finds what is wrong; this module says where (using the line numbers kept by
bot.language.yamlload) and rewrites the commonest messages for a non-developer, including a
"did you mean" for misspelt keys.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import fastjsonschema

from bot.errors import Problem
from bot.language.yamlload import LineDict, LineList

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid file (see _validators)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def line_at(root: Any, path: Iterable[Any]) -> int:
    """The line of the value at ``path`` (keys and list indexes), or of its nearest parent."""
    node: Any = root
    line = int(getattr(root, "line", 1))
    for step in path:
        found = (isinstance(node, LineDict) and isinstance(step, str) and step in node) or (
            isinstance(node, LineList) and isinstance(step, int) and step < len(node)
        )
        if not found:
            break
        line, node = node.line_of(step), node[step]
    return line


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# Patterns a person cannot be expected to read, said in words.
_PATTERN_WORDS = {
    "^[a-z][a-z0-9_]*$": "lowercase letters, digits and _ only, starting with a letter",
    "^[a-z][a-z0-9-]*$": "lowercase letters, digits and - only, starting with a letter",
}


def _yaml_word(value: Any) -> str:
    """A value as it is written in YAML (true, not Python's True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _quote_hint(expected: Any, instance: Any) -> str:
    """Why YAML read something as a flag or a number when text was meant, and the fix."""
    if "string" not in (expected if isinstance(expected, list) else [expected]):
        return ""
    if isinstance(instance, bool):
        return ' (YAML reads Yes, No, On and Off as true or false; put the text in quotes, like "Yes")'
    if isinstance(instance, int | float):
        return " (put it in quotes to make it text)"
    if isinstance(instance, dict) and len(instance) == 1:
        return " (a ': ' inside the text made YAML read it as 'key: value'; put the whole text in quotes)"
    return ""


def _describe(error: ValidationError) -> list[tuple[list[Any], str]]:
    path = list(error.absolute_path)
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    where = f"'{path[-1]}'" if path and isinstance(path[-1], str) else "this value"
    if error.validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extra = sorted(set(instance) - set(allowed)) if isinstance(instance, dict) else []
        # each unknown key on its own line, so every one of them is easy to find
        return [([*path, key], f"unknown key '{key}'{did_you_mean(key, allowed)}") for key in extra] or [
            (path, error.message)
        ]
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return [(path, f"'{missing}' is missing here")]
    if error.validator == "type":
        hint = _quote_hint(error.validator_value, instance)
        return [(path, f"{where} should be {_a(error.validator_value)}, not {_a(type(instance).__name__)}{hint}")]
    if error.validator == "enum":
        values = [_yaml_word(v) for v in error.validator_value]  # type: ignore[union-attr]
        hint = did_you_mean(_yaml_word(instance), values)
        return [(path, f"{where} is '{_yaml_word(instance)}' but must be one of: {', '.join(values)}{hint}")]
    if error.validator == "pattern" and "propertyNames" in error.schema_path:
        words = _PATTERN_WORDS.get(str(error.validator_value), f"the form {error.validator_value}")
        return [([*path, instance], f"the name '{instance}' is not allowed here; use {words}")]
    return [_describe_rest(error, path, schema, instance, where)]


def _describe_rest(
    error: ValidationError, path: list[Any], schema: dict[str, Any], instance: Any, where: str
) -> tuple[list[Any], str]:
    if error.validator == "pattern":
        return (
            path,
            f"{where} '{instance}' is not in the expected form ({schema.get('description') or error.validator_value})",
        )
    if error.validator in ("minItems", "minProperties"):
        return path, f"{where} must not be empty"
    if error.validator == "minLength":
        return path, f"{where} must not be empty"
    if error.validator == "minimum":
        return path, f"{where} is {instance} but must be at least {error.validator_value}"
    if error.validator == "exclusiveMinimum":
        return path, f"{where} is {instance} but must be more than {error.validator_value}"
    return path, error.message


def _a(type_name: Any) -> str:
    names = {
        "string": "text",
        "str": "text",
        "array": "a list",
        "list": "a list",
        "object": "a mapping",
        "dict": "a mapping",
        "LineDict": "a mapping",
        "LineList": "a list",
        "boolean": "true or false",
        "bool": "true or false",
        "integer": "a whole number",
        "int": "a whole number",
        "NoneType": "empty",
        "null": "empty",
        "number": "a number",
        "float": "a number",
    }
    if isinstance(type_name, list):
        return " or ".join(names.get(str(t), str(t)) for t in type_name)
    return names.get(type_name, str(type_name))


_QUICK: dict[int, tuple[dict[str, Any], Callable[[Any], Any]]] = {}
_THOROUGH: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}


def _quick_validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """A fast yes/no check, compiled once per schema object.

    fastjsonschema compiles the schema to Python and answers "valid?" some twenty times faster
    than jsonschema, which matters when loading hundreds of flows; jsonschema then explains the
    rare invalid file in detail (_thorough_validator). The compiled check raises bare
    exceptions (``detailed_exceptions=False``): nothing reads their text, and leaving the
    schema out of the generated code makes compiling it several times faster, which is most of
    what a command like ``policybot route`` spends on schemas (docs/benchmarks.md, "CLI start").
    """
    found = _QUICK.get(id(schema))
    if found is None or found[0] is not schema:
        local = {k: v for k, v in schema.items() if k not in ("$id", "$schema")}  # every $ref is inside
        quick = fastjsonschema.compile(
            local, handlers={"http": _no_fetch, "https": _no_fetch}, detailed_exceptions=False
        )
        found = _QUICK[id(schema)] = (schema, quick)
    return found[1]


def _thorough_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """jsonschema's validator, which lists every error: built (and jsonschema imported) only for
    a file that fails the quick check, since importing jsonschema costs more than all the checks."""
    from jsonschema import Draft202012Validator

    found = _THOROUGH.get(id(schema))
    if found is None or found[0] is not schema:
        found = _THOROUGH[id(schema)] = (schema, Draft202012Validator(schema))
    return found[1]


def _no_fetch(uri: str) -> Any:
    """Schemas are checked offline: a $ref that points outside the file is a bug, not a download."""
    raise ValueError(f"schema reference {uri} is not part of the schema")


def schema_problems(data: Any, schema: dict[str, Any], filename: str) -> list[Problem]:
    """Every schema violation in ``data`` as a Problem, deepest first, without repeats."""
    try:
        _quick_validator(schema)(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    problems: list[Problem] = []
    for error in sorted(_thorough_validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        leaves = _leaf_errors(error)
        for leaf in leaves:
            for path, message in _describe(leaf):
                problems.append(Problem(filename, line_at(data, path), message))
    return list(dict.fromkeys(problems))


def _leaf_errors(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf, report the branch that got furthest instead of 'is not valid under any'."""
    if error.context:
        best = max(error.context, key=lambda e: len(list(e.absolute_path)))
        deepest = [e for e in error.context if len(list(e.absolute_path)) == len(list(best.absolute_path))]
        return [leaf for e in deepest[:1] for leaf in _leaf_errors(e)]
    return [error]
