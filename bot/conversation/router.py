"""From free text to the likeliest flows: the one interface the rest of the core routes through.

``understand`` says, for a person's own words, how likely each flow is (0..1, best first), which
language the words are in, and how much they resemble anything the flows' examples describe.
What to do with that (start a flow, offer a few, ask a question) is the opening policy's business
(bot.conversation.opening), not the router's.

The router behind this interface is learnt from the flows' own ``examples``, ``welsh_examples``,
``negatives``, titles and triggers (bot.conversation.routing; docs/routing.md has the choice and
its measurements). It is built on first use, once per process for each set of flow versions, and
its libraries are imported only then, so commands that never route start no slower.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.language.flow_model import Flow

HEAD_CHARS = 200  # a long message is cut to its start ...
TAIL_CHARS = 100  # ... and its end, where people say what they want ("... can I post this?")


@dataclass(frozen=True)
class Match:
    flow: Flow
    score: float


@dataclass(frozen=True)
class Routing:
    """What the router made of a message."""

    matches: list[Match]  # every flow, best first; scores are probabilities that add up to about 1
    language: str = "en"  # "cy" for a message written in Welsh
    familiarity: float = 0.0  # 0..1: how closely the message resembles the nearest example
    nearest: str | None = None  # that example, for `policybot route` and the routing report
    text: str = ""  # the text that was scored, after cutting
    scores: dict[str, float] = field(default_factory=dict)  # the same scores by flow id

    def score_of(self, flow_id: str) -> float:
        return self.scores.get(flow_id, 0.0)


class Router(Protocol):
    """Anything that can rank flows for a message; ``router_for`` gives the shipped one."""

    def understand(self, text: str) -> Routing: ...


def cut(text: str) -> str:
    """A message of any length reduced to what is worth scoring, so 40,000 characters cost no
    more than a short one: the start and the end, joined by a space."""
    text = text.strip()
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return f"{text[:HEAD_CHARS]} {text[-TAIL_CHARS:]}"


class ExampleRouter:
    """The shipped router: naive Bayes over the flows' examples (bot.conversation.routing)."""

    def __init__(self, flows: Sequence[Flow]) -> None:
        from bot.conversation.routing.cache import load_or_learn  # numpy and friends load here, on first use

        self.flows = list(flows)
        self.model = load_or_learn(self.flows)

    def understand(self, text: str) -> Routing:
        text = cut(text)
        if not text or not self.flows:
            return Routing([], text=text)
        scored = self.model.score(text)
        matches = sorted(
            (Match(flow, round(p, 4)) for flow, p in zip(self.flows, scored.probabilities, strict=True)),
            key=lambda m: (-m.score, m.flow.id),
        )
        return Routing(
            matches,
            language=scored.language,
            familiarity=round(scored.familiarity, 4),
            nearest=scored.nearest,
            text=text,
            scores={m.flow.id: m.score for m in matches},
        )


_routers: dict[tuple[tuple[str, str], ...], Router] = {}
_building = threading.Lock()


def router_for(flows: Sequence[Flow]) -> Router:
    """The router for exactly these flows (by id and version), built once per process.

    An edited flow file is a new version and so gets a new router; the old one is dropped.
    """
    key = tuple(sorted((f.id, f.version) for f in flows))
    found = _routers.get(key)
    if found is not None:
        return found
    with _building:
        found = _routers.get(key)
        if found is None:
            found = ExampleRouter(sorted(flows, key=lambda f: f.id))
            if len(_routers) >= 4:  # a process sees a few flow sets at most (tests see many)
                _routers.clear()
            _routers[key] = found
    return found


def understand(text: str, flows: Sequence[Flow]) -> Routing:
    return router_for(flows).understand(text)


def route(text: str, flows: Sequence[Flow]) -> list[Match]:
    """Every flow with its score for ``text``, best first (ties broken by id for stable output)."""
    if not text.strip():
        return []
    return understand(text, flows).matches
