"""The closed set of verdicts a flow can give, and their headlines.

They belong to the flow language (an outcome names one), so flows, the engine's replies and every
adapter read them from here.
"""

from __future__ import annotations

from enum import StrEnum

from bot.language.i18n.catalog import N_, interface


class Verdict(StrEnum):
    """The closed set of answers a flow can give."""

    GO = "go"  # yes
    CARE = "care"  # yes, with the conditions listed
    STOP = "stop"  # no
    ACT = "act"  # do these steps now

    @property
    def headline(self) -> str:
        """In English; ``headline_in`` for another language."""
        return VERDICT_HEADLINES[self]

    def headline_in(self, language: str | None) -> str:
        return interface(language)(VERDICT_HEADLINES[self])


VERDICT_HEADLINES = {
    Verdict.GO: N_("Go ahead"),
    Verdict.CARE: N_("Go ahead, with care"),
    Verdict.STOP: N_("Don't"),
    Verdict.ACT: N_("Act now"),
}
