"""The routing evaluation sets (eval.yaml, holdout.yaml) and the rule that keeps them honest: no
message may be copied, or nearly copied, from what the router learns from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from bot.language.example_checks import same_message
from bot.language.flow_model import Flow

HERE = Path(__file__).resolve().parent
EVAL = HERE / "eval.yaml"
HOLDOUT = HERE / "holdout.yaml"
NEAR = 90  # rapidfuzz similarity (0..100) at or above which two messages count as one copied


@dataclass(frozen=True)
class Labelled:
    text: str
    flow: str
    language: str  # "english" or "welsh"


def load(path: Path) -> list[Labelled]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Labelled(text, flow, language) for language, groups in data.items() for flow, texts in groups.items()
            for text in texts]  # fmt: skip


def taught(flows: Iterable[Flow]) -> list[tuple[str, str]]:
    """Every message the router learns from, with where it comes from."""
    found: list[tuple[str, str]] = []
    for f in flows:
        found += [(f.title, f"{f.id} title"), *((t, f"{f.id} trigger") for t in f.triggers)]
        found += [(t, f"{f.id} example") for t in (*f.examples, *f.welsh_examples)]
        found += [(t, f"{f.id} negative") for t in f.negatives]
    return found


def copies(messages: Sequence[Labelled], sources: Sequence[tuple[str, str]]) -> list[str]:
    """Each evaluation message that repeats, or nearly repeats, a message the router learns from."""
    prepared = [(same_message(text), text, where) for text, where in sources]
    found = []
    for m in messages:
        mine = same_message(m.text)
        for theirs, text, where in prepared:
            if mine == theirs or max(fuzz.ratio(mine, theirs), fuzz.token_sort_ratio(mine, theirs)) >= NEAR:
                found.append(f"{m.text!r} ({m.flow}) copies {text!r} ({where})")
    return found
