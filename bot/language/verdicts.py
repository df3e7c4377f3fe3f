"""The closed set of verdicts a flow can give, and their headlines.

They belong to the flow language (an outcome names one), so flows, the engine's replies and every
adapter read them from here.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """The closed set of answers a flow can give."""

    GO = "go"  # yes
    CARE = "care"  # yes, with the conditions listed
    STOP = "stop"  # no
    ACT = "act"  # do these steps now

    @property
    def headline(self) -> str:
        return VERDICT_HEADLINES[self]


VERDICT_HEADLINES = {
    Verdict.GO: "Go ahead",
    Verdict.CARE: "Go ahead, with care",
    Verdict.STOP: "Don't",
    Verdict.ACT: "Act now",
}
