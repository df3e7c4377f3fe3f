"""The router's evidence, checked: ``examples``, ``welsh_examples`` and ``negatives`` across every flow.

The router learns what a flow is for from these lists, so a mistake in them quietly sends people
to the wrong situation. ``policybot validate`` reports, at the line of the message:

- a blank message, or one repeated in the same flow;
- a message given as an example of two flows (the router cannot learn both);
- a negative that names its own flow, names a flow that does not exist but looks like a
  misspelling of one that does, or is an example of a different flow than the one it names.
  (A negative naming a flow the organisation does not have at all is not used, and not an error:
  deleting a flow must not break the others.)

Messages are compared as people read them: case, accents, punctuation and spacing aside.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import FileProblems, Problem
from bot.language.flow_model import Flow
from bot.language.schema_check import did_you_mean
from bot.language.yamlload import LineDict, LineList, load_yaml_text

LISTS = ("examples", "welsh_examples")
_NOT_WORD = re.compile(r"[\W_]+")


def same_message(text: str) -> str:
    """A message reduced to what matters when comparing two: "Can I post this?" == "can i post this"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("'", "").replace("\u2019", "")
    return " ".join(_NOT_WORD.sub(" ", plain).split())


@dataclass(frozen=True)
class _Entry:
    flow: Flow
    key: str  # examples, welsh_examples or negatives
    index: int  # position in its list (negatives: in file order)
    text: str
    belongs_to: str  # the flow the message is evidence for

    @property
    def line(self) -> int:
        return _lines(self.flow).get((self.key, self.index), self.flow.lines.get(self.key, 1))


def _entries(flow: Flow) -> list[_Entry]:
    found = [_Entry(flow, key, i, text, flow.id) for key in LISTS for i, text in enumerate(getattr(flow, key))]
    found += [_Entry(flow, "negatives", i, text, other) for i, (text, other) in enumerate(flow.negatives.items())]
    return found


_line_cache: dict[str, dict[tuple[str, int], int]] = {}


def _lines(flow: Flow) -> dict[tuple[str, int], int]:
    """The line of each message in the flow's file, read again from its text only when a problem
    needs one: clean flows (nearly all, at start-up) never pay for a second parse."""
    found = _line_cache.get(flow.version)
    if found is not None:
        return found
    try:
        data = load_yaml_text(flow.source, flow.path) if flow.source else None
    except FileProblems:
        data = None
    top = data if isinstance(data, LineDict) else LineDict()
    found = {}
    for key in LISTS:
        raw = top.get(key)
        if isinstance(raw, LineList):
            found.update({(key, i): raw.line_of(i) for i in range(len(raw))})
    negatives = top.get("negatives")
    if isinstance(negatives, LineDict):
        found.update({("negatives", i): negatives.line_of(text) for i, text in enumerate(negatives)})
    if len(_line_cache) > 256:
        _line_cache.clear()
    _line_cache[flow.version] = found
    return found


def example_problems(flows: Sequence[Flow], known: Sequence[str] = ()) -> list[Problem]:
    """Every problem in the examples and negatives of these flows, one flow against the others too.

    ``known`` adds the ids of flows that exist but were not loaded (their files sit in the same
    folder), so checking one file does not call a negative's flow missing.
    """
    problems: list[Problem] = []
    ids = sorted({*known, *(f.id for f in flows)})
    first_example: dict[str, _Entry] = {}  # message -> where it is first given as an example
    entries = [e for f in flows for e in _entries(f)]
    for entry in entries:
        where = entry.flow.path
        key = same_message(entry.text)
        if not key:
            what = entry.key[:-1].replace("_", " ")
            problems.append(Problem(where, entry.line, f"this {what} is blank: write the message or remove the line"))
            continue
        if entry.key == "negatives":
            problems += _negative_problems(entry, ids)
            continue
        seen = first_example.get(key)
        if seen is None:
            first_example[key] = entry
        elif seen.flow.id == entry.flow.id:
            problems.append(Problem(where, entry.line, f"'{entry.text}' repeats the example on line {seen.line}"))
        else:
            problems.append(
                Problem(
                    where,
                    entry.line,
                    f"'{entry.text}' is also an example of '{seen.flow.id}' ({seen.flow.path}:{seen.line}); "
                    "a message can teach the router only one situation, so keep it in the flow it belongs to",
                )
            )
    for entry in entries:
        if entry.key != "negatives":
            continue
        example = first_example.get(same_message(entry.text))
        if example is not None and example.flow.id != entry.belongs_to:
            problems.append(
                Problem(
                    entry.flow.path,
                    entry.line,
                    f"'{entry.text}' is named as belonging to '{entry.belongs_to}' but is an example of "
                    f"'{example.flow.id}' ({example.flow.path}:{example.line}); keep one of the two",
                )
            )
    return problems


def _negative_problems(entry: _Entry, ids: list[str]) -> list[Problem]:
    # entry.line re-reads the file, so it is asked for only once there is a problem to place
    where = entry.flow.path
    if entry.belongs_to == entry.flow.id:
        return [
            Problem(
                where,
                entry.line,
                f"'{entry.text}' is a negative, so it must name another flow; to teach this flow, move it to examples",
            )
        ]
    # A negative naming a flow this organisation does not have (deleted, or never copied) is simply
    # not used; only one that looks like a misspelling of a flow that exists is worth a problem.
    hint = did_you_mean(entry.belongs_to, ids) if entry.belongs_to not in ids else ""
    if hint:
        return [Problem(where, entry.line, f"'{entry.text}' names '{entry.belongs_to}', which is not a flow{hint}")]
    return []
