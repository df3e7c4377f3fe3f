"""Engine replies: what the bot says, in transport-neutral terms.

Adapters render these as Block Kit, Adaptive Cards or terminal text. They carry everything a
renderer needs (ids for buttons, turn counters for stale detection, citations, progress) so that
no adapter has to look anything up or make a policy decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.language.verdicts import Verdict

QUIZ_FINISHED = "Finished"  # the headline of a quiz's ending (see Outcome.headline)


@dataclass(frozen=True)
class CitationView:
    """One cited policy paragraph, ready to show."""

    id: str
    policy_title: str
    clause: str
    summary: str
    quote: str


@dataclass(frozen=True)
class OptionView:
    index: int
    label: str


@dataclass(frozen=True)
class AnswerView:
    """One question and the answer given, for summaries and escalation previews."""

    state: str
    question: str
    answer: str


@dataclass(frozen=True)
class Question:
    """Ask the person to choose one option."""

    conversation_id: str
    flow_id: str
    flow_title: str
    state: str
    text: str
    options: list[OptionView]
    step: int  # 1-based number of this question in the conversation
    max_steps: int  # "question 2 of up to 4": this step plus the longest way on to an outcome
    turn: int  # the conversation's version counter when this was asked (goes on the buttons)
    intro: str | None = None  # a card shown before the question (onboarding, context)
    can_go_back: bool = False
    citations: list[CitationView] = field(default_factory=list)


@dataclass(frozen=True)
class EscalationOffer:
    """Who will be told, and exactly what they will receive."""

    targets: list[str]  # first recipients: line_manager, comms, legal, hr, safeguarding
    then: list[str]  # who is told if nobody acknowledges in time
    unacknowledged_after_seconds: int | None
    required: bool  # True: sent without asking; False: the person confirms first
    preview: str  # the text that will be sent
    target_names: dict[str, str] = field(default_factory=dict)  # target -> person or team name
    deadline: str | None = None  # unacknowledged_after in words: "4 working hours", "30 minutes"


@dataclass(frozen=True)
class Score:
    correct: int
    total: int


@dataclass(frozen=True)
class Outcome:
    """The answer: verdict, advice, steps, and the paragraphs it rests on."""

    conversation_id: str
    flow_id: str
    flow_title: str
    state: str
    verdict: Verdict
    text: str
    checklist: list[str]
    citations: list[CitationView]
    answers: list[AnswerView]
    escalation: EscalationOffer | None = None
    score: Score | None = None
    case_id: str | None = None  # set when a required escalation opened a case
    sent_to: list[str] = field(default_factory=list)  # who that case went to, by name

    @property
    def headline(self) -> str:
        """The banner over the answer. A quiz's ending shows that it is finished: a verdict there
        ("Go ahead") would read as advice about something the person asked."""
        return QUIZ_FINISHED if self.score is not None else self.verdict.headline


@dataclass(frozen=True)
class Feedback:
    """Said straight after an answer that carries feedback (onboarding quiz questions)."""

    text: str
    correct: bool | None = None


@dataclass(frozen=True)
class FlowCandidate:
    flow_id: str
    title: str
    score: float


@dataclass(frozen=True)
class FlowChoice:
    """The router is unsure: offer the likeliest flows (or all of them) to pick from."""

    prompt: str
    candidates: list[FlowCandidate]


@dataclass(frozen=True)
class Explanation:
    """The answer to "why?": the citations behind the current question or outcome."""

    conversation_id: str
    citations: list[CitationView]


class NoticeKind(StrEnum):
    INFO = "info"
    STALE = "stale"  # an old button was clicked; the current question follows
    DUPLICATE = "duplicate"  # the same delivery arrived twice and was applied once; where things stand follows
    NOT_YOURS = "not_yours"  # someone clicked a check that belongs to another person; answer the clicker alone
    INVALID = "invalid"  # typed text did not match an option
    ERROR = "error"


@dataclass(frozen=True)
class Notice:
    text: str
    kind: NoticeKind = NoticeKind.INFO


@dataclass(frozen=True)
class EscalationSent:
    """An escalation left the engine as a case; the person is told who will hear."""

    conversation_id: str
    case_id: str
    text: str


@dataclass(frozen=True)
class Unfinished:
    """A conversation the person left part-way, for "carry on where you left off?"."""

    conversation_id: str
    flow_id: str
    flow_title: str
    question: str
    answered: int


Reply = Question | Outcome | Feedback | FlowChoice | Explanation | Notice | EscalationSent
