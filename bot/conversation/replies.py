"""Engine replies: what the bot says, in transport-neutral terms.

Adapters render these as Block Kit, Adaptive Cards or terminal text. They carry everything a
renderer needs (ids for buttons, turn counters for stale detection, citations, progress) so that
no adapter has to look anything up or make a policy decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.language.i18n.catalog import N_, interface
from bot.language.verdicts import Verdict

QUIZ_FINISHED = N_("Finished")  # the headline of a quiz's ending (see Outcome.headline)

# The words of the buttons every adapter draws beside the replies, as catalogue messages: an
# adapter shows ``interface(reply.language)(BACK)`` and so on (docs/languages.md).
BACK = N_("Back")
WHY = N_("Why?")
START_AGAIN = N_("Start again")
STOP = N_("Stop")
SEND = N_("Send")
DONT_SEND = N_("Don't send")
NOTE = N_("A short note for them (optional)")
PROGRESS = N_("Question {step} of up to {steps}")
BASED_ON = N_("Based on")
WHAT_TO_DO = N_("What to do")


@dataclass(frozen=True)
class CitationView:
    """One cited policy paragraph, ready to show."""

    id: str
    policy_title: str
    clause: str  # as the registry writes it ("heading '…', must, bullet 5")
    summary: str
    quote: str
    label: str = ""  # the clause in words a reader follows ("'…', what you must do, point 5")
    source_language: str = "en"  # the language of the policy, and so of ``quote`` (never translated)

    @property
    def where(self) -> str:
        """The clause as a person should read it: the readable label, else the registry's words."""
        return self.label or self.clause


@dataclass(frozen=True)
class CitedClause:
    """One clause of a policy, listed once however many citation ids point at it."""

    label: str
    summaries: list[str]
    quotes: list[str]
    ids: list[str]

    @property
    def summary(self) -> str:
        return " ".join(self.summaries)


@dataclass(frozen=True)
class CitationGroup:
    """The clauses cited from one policy, so the policy (and its council) is named once."""

    policy_title: str
    clauses: list[CitedClause]


def group_citations(citations: Iterable[CitationView]) -> list[CitationGroup]:
    """Citations as every adapter lists them: by policy, in first-cited order, each clause once.

    Several citation ids may rest on one paragraph (the registry gives each rule in it its own id),
    and a reader should see that paragraph once, with each distinct summary and quote.
    """
    groups: dict[str, dict[str, tuple[str, list[str], list[str], list[str]]]] = {}
    for c in citations:
        clauses = groups.setdefault(c.policy_title, {})
        _, summaries, quotes, ids = clauses.setdefault(c.clause, (c.where, [], [], []))
        for found, value in ((summaries, c.summary), (quotes, c.quote), (ids, c.id)):
            if value and value not in found:
                found.append(value)
    return [
        CitationGroup(title, [CitedClause(*entry) for entry in clauses.values()]) for title, clauses in groups.items()
    ]


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
    language: str = "en"  # what the texts are written in; the adapter's own words follow it


@dataclass(frozen=True)
class EscalationOffer:
    """Who will be told, and exactly what they will receive."""

    targets: list[str]  # the flow's first targets: line_manager, comms, legal, hr, safeguarding
    then: list[str]  # who is told if nobody acknowledges in time
    unacknowledged_after_seconds: int | None
    required: bool  # True: sent without asking; False: the person confirms first
    preview: str  # the text that will be sent
    target_names: dict[str, str] = field(default_factory=dict)  # target -> person or team name
    deadline: str | None = None  # unacknowledged_after in words: "4 working hours", "30 minutes"
    # Who it really goes to first, by name, worked out before anything is sent: with no line
    # manager on file a line_manager target goes to the comms team, and this says so.
    recipients: list[str] = field(default_factory=list)

    @property
    def first_names(self) -> list[str]:
        """The names to show for "send it to …?": the real recipients, else the targets' names."""
        return self.recipients or [self.target_names.get(t, t.replace("_", " ")) for t in self.targets]


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
    language: str = "en"  # what the texts are written in; the adapter's own words follow it

    @property
    def headline(self) -> str:
        """The banner over the answer, in the outcome's language. A quiz's ending shows that it is
        finished: a verdict there ("Go ahead") would read as advice about something the person asked."""
        return interface(self.language)(QUIZ_FINISHED if self.score is not None else self.verdict.headline)


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


class ChoiceKind(StrEnum):
    """Why a list of situations is shown, so a renderer can make each feel different."""

    MENU = "menu"  # every flow: the person asked for the list, or said nothing yet
    LIKELY = "likely"  # the router is unsure: the likeliest few, then "Something else"
    CLARIFY = "clarify"  # the router has no idea: one question (what is it about?) before choices
    NOT_THIS = "not_this"  # a flow has just started: one line saying which, and a way to the next best


@dataclass(frozen=True)
class FlowChoice:
    """Situations to pick from. Each candidate's ``flow_id`` goes back as ``Start(flow_id=...)``:
    a flow id, or a routing choice such as "routing:other" that the core understands (see
    bot.conversation.opening); adapters pass it through without looking inside."""

    prompt: str
    candidates: list[FlowCandidate]
    kind: ChoiceKind = ChoiceKind.MENU
    subject: str | None = None  # the flow the prompt names ("Understood: …"), to name it in any language


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
class SwitchOffer:
    """Typed text mid-check that sounds like another situation: offer it, change nothing yet.

    Accepting is an ordinary ``Start(flow_id=...)``; the check in progress is then set aside, not
    lost, and ``resume`` takes it up again. Adapters show ``text`` and a way to accept.
    """

    conversation_id: str  # the check in progress, which stays where it is
    current_title: str
    flow_id: str  # the situation the text sounds like
    flow_title: str
    language: str = "en"

    @property
    def text(self) -> str:
        _ = interface(self.language)
        return _(
            'That sounds like a different situation: "{title}". Your check "{current}" is kept either way.'
        ).format(title=self.flow_title, current=self.current_title)


@dataclass(frozen=True)
class LanguageChoice:
    """One language of the switch, named in itself ("Cymraeg", "English")."""

    language: str
    label: str
    current: bool  # the language the replies above are in: shown as chosen, not as a button


@dataclass(frozen=True)
class LanguageSwitch:
    """The one-tap language switch, at the end of every reply set when the bot speaks several
    languages. Adapters draw each choice that is not ``current`` as a button whose press is
    ``SetLanguage(choice.language, conversation_id)``; the choices come Welsh first, so Welsh is
    never the harder choice. Nothing else about it is for the adapter to decide."""

    current: str
    choices: list[LanguageChoice]
    conversation_id: str | None = None


@dataclass(frozen=True)
class Unfinished:
    """A conversation the person left part-way, for "carry on where you left off?"."""

    conversation_id: str
    flow_id: str
    flow_title: str
    question: str
    answered: int


Reply = (
    Question | Outcome | Feedback | FlowChoice | Explanation | Notice | EscalationSent | SwitchOffer | LanguageSwitch
)


def language_of(replies: Sequence[Reply]) -> str | None:
    """The language a reply set is in: its language switch says so (when several languages are on),
    else a question, outcome or switch offer in it. Replies without a language of their own (a
    menu, feedback, a notice) follow it; None means the default, English, with one language."""
    for reply in replies:
        if isinstance(reply, LanguageSwitch):
            return reply.current
    for reply in replies:
        if isinstance(reply, Question | Outcome | SwitchOffer):
            return reply.language
    return None


def without_switch(replies: Sequence[Reply]) -> list[Reply]:
    """The replies with the language switch left out: what a scenario test or ``policybot run``
    reads as "where the conversation is", since the switch is added after the last of them."""
    return [r for r in replies if not isinstance(r, LanguageSwitch)]
