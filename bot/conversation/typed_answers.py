"""Typed answers: which option, or which command, a line of text means.

The terminal and a DM both let a person type instead of clicking: the option's number, its words
or the leading words of it ("council account" for "On a council account or page"), yes or no for
an option that starts with it, or a close spelling ("a clinet I work with"). When the text is near
an option but not clearly one, the reading names the closest options so the engine can ask "did
you mean…?" instead of guessing; a guess that picks the wrong branch of a policy check is worse
than one more question.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, utils

from bot.conversation.replies import Notice, NoticeKind
from bot.language.i18n.catalog import interface

# Words typed at any step that act as commands rather than answers.
COMMAND_WORDS: dict[str, str] = {
    "back": "back",
    "undo": "back",
    "previous": "back",
    "restart": "restart",
    "start again": "restart",
    "start over": "restart",
    "why": "why",
    "why?": "why",
    "quit": "cancel",
    "cancel": "cancel",
    "stop": "cancel",
    "stop this check": "cancel",
    "exit": "cancel",
    "resume": "resume",
    "carry on": "resume",
    # the same in Welsh, so a person speaking Cymraeg can type them too
    "nôl": "back",
    "yn ôl": "back",
    "ailddechrau": "restart",
    "dechrau eto": "restart",
    "pam": "why",
    "pam?": "why",
    "stopio": "cancel",
    "gadael": "cancel",
    "parhau": "resume",
    "ailgydio": "resume",
}
WORD_MATCH = 80  # rapidfuzz ratio for one typed word to count as a word of the label ("clinet" ~ "client")
SUGGEST_AT_MOST = 2  # options offered back for a near miss; more is a list to read, not a suggestion

# Words that carry no choice between options ("a", "the", "on"): matching ignores them. Pronouns
# stay, because "a page I run" and "a page someone else runs" differ by exactly those words.
_FILLER = frozenset({"a", "an", "the", "of", "to", "on", "in", "at", "for", "with", "and", "or", "is", "it", "be"})
_YES = frozenset({"yes", "y", "yeah", "yep", "yup", "ok", "sure"})
_NO = frozenset({"no", "n", "nope", "nah", "not really"})


@dataclass(frozen=True)
class Reading:
    """What a typed line means for one question: the option it picks (``index``), or none and
    the closest options to offer back by number (``suggestions``, closest first)."""

    index: int | None = None
    suggestions: tuple[int, ...] = ()


def command_for(text: str) -> str | None:
    """The command a typed line names ("back", "restart", "why", "cancel", "resume"), or None."""
    return COMMAND_WORDS.get(" ".join(text.strip().lower().split()))


def match_option(text: str, labels: list[str]) -> int | None:
    """The option a typed line clearly picks, or None (see ``read_answer``)."""
    return read_answer(text, labels).index


def read_answer(text: str, labels: list[str]) -> Reading:
    """Read a typed answer against the current options, most certain rule first.

    1. the option's number; 2. its words exactly; 3. yes or no for the one option starting with
    it; 4. every meaningful typed word found (exactly, as a word's beginning, or closely spelt) in
    exactly one option, or clearly more of them in one. Otherwise the options holding at least
    half the typed words are suggested, or none. (Whole-text fuzzy scores are not used: they
    rate a long sentence that shares a few words with an option as a match.)
    """
    text = text.strip()
    if text.isascii() and text.isdigit():
        number = int(text)
        return Reading(number - 1) if 1 <= number <= len(labels) else Reading()
    folded = [label.casefold() for label in labels]
    if text.casefold() in folded:
        return Reading(folded.index(text.casefold()))
    typed = utils.default_process(text)
    if not typed:
        return Reading()
    yes_no = _yes_or_no(typed, labels)
    if yes_no is not None:
        return yes_no
    words = [w for w in typed.split() if w not in _FILLER] or typed.split()
    scores = [_word_score(words, utils.default_process(label).split()) for label in labels]
    ranked = sorted(range(len(labels)), key=lambda i: -scores[i][0])
    best = ranked[0] if ranked else None
    if best is not None and scores[best][1] == len(words):
        runner_up = ranked[1] if len(ranked) > 1 else None
        if runner_up is None or scores[runner_up][1] < len(words) or scores[best][0] - scores[runner_up][0] >= 0.5:
            return Reading(best)
    near = [i for i in ranked if scores[i][1] * 2 >= len(words) and scores[i][1] > 0]
    if near:
        top = scores[near[0]][0]
        near = [i for i in near if top - scores[i][0] < 1.0]  # only those about as close as the closest
    return Reading(suggestions=tuple(near[:SUGGEST_AT_MOST]))


def not_an_answer(reading: Reading, labels: list[str], language: str | None = None) -> Notice:
    """Why typed text was not taken as an answer, naming the closest options by number."""
    _ = interface(language)
    either = _(" or ")
    if reading.suggestions:
        close = either.join(f"{i + 1}. {labels[i]}" for i in reading.suggestions)
        numbers = either.join(str(i + 1) for i in reading.suggestions)
        text = _("Did you mean: {close}? Type {numbers} to answer.").format(close=close, numbers=numbers)
        return Notice(text, NoticeKind.INVALID)
    numbers = ", ".join(f"{i + 1}" for i in range(len(labels)))
    text = _(
        "Please answer with one of the options ({numbers}) or its words. You can also type back, restart, why or stop."
    ).format(numbers=numbers)
    return Notice(text, NoticeKind.INVALID)


def _yes_or_no(typed: str, labels: list[str]) -> Reading | None:
    """ "no" for "No, they are away or not answering": the only option that starts with it.

    Two options starting with "No" are a question for the person, not a guess for us; None when
    the text is no plain yes or no (it is read as words instead).
    """
    word = "yes" if typed in _YES else "no" if typed in _NO else None
    if word is None:
        return None
    starting = [i for i, label in enumerate(labels) if utils.default_process(label).split()[:1] == [word]]
    if len(starting) == 1:
        return Reading(starting[0])
    return Reading(suggestions=tuple(starting[:SUGGEST_AT_MOST])) if starting else None


def _word_score(words: list[str], label_words: list[str]) -> tuple[float, int]:
    """(how well, how many) of the typed words appear in a label: an exact word scores 1, the
    beginning of a word ("abuse" of "abuses", "run" of "running") or a close spelling less."""
    total, found = 0.0, 0
    for word in words:
        best = 0.0
        for candidate in label_words:
            if candidate == word:
                best = 1.0
                break
            if len(word) >= 3 and candidate.startswith(word):
                best = max(best, 0.9)
            elif len(word) >= 4:
                ratio = fuzz.ratio(word, candidate)
                if ratio >= WORD_MATCH:
                    best = max(best, 0.9 * ratio / 100)
        if best:
            total += best
            found += 1
    return total, found
