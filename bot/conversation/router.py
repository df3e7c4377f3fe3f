"""From free text to the likeliest flows.

rapidfuzz scores the text against each flow's title, description and trigger phrases; the best
match per flow counts. Scores are 0..1. The engine starts the top flow outright only when it is
clearly ahead, otherwise it offers the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, utils

from bot.language.flow_model import Flow

CONFIDENT = 0.72  # at or above: start this flow without asking
MARGIN = 0.08  # ...provided the runner-up is this far behind
SHOW_AT_LEAST = 0.35  # below this a flow is not worth offering


@dataclass(frozen=True)
class Match:
    flow: Flow
    score: float


def _score(text: str, phrase: str) -> float:
    """Mostly word overlap regardless of order (token_set), tempered by whole-phrase similarity
    (token_sort) so a short question that happens to sit inside a long trigger does not tie with
    the flow it really names. An exact phrase scores 1."""
    a, b = utils.default_process(text), utils.default_process(phrase)
    if a == b:
        return 1.0
    return (0.7 * fuzz.token_set_ratio(a, b) + 0.3 * fuzz.token_sort_ratio(a, b)) / 100.0


def route(text: str, flows: list[Flow]) -> list[Match]:
    """Every flow with its score for ``text``, best first (ties broken by id for stable output)."""
    if not text.strip():
        return []
    matches = []
    for flow in flows:
        phrases = [flow.title, *flow.triggers] + ([flow.description] if flow.description else [])
        best = max(_score(text, phrase) for phrase in phrases)
        matches.append(Match(flow, round(best, 4)))
    return sorted(matches, key=lambda m: (-m.score, m.flow.id))


def confident_choice(matches: list[Match]) -> Flow | None:
    """The one flow to start without asking, if the router is sure enough."""
    if not matches or matches[0].score < CONFIDENT:
        return None
    if len(matches) > 1 and matches[0].score - matches[1].score < MARGIN:
        return None
    return matches[0].flow
