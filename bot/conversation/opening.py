"""Opening a conversation from a person's own words: the confidence policy on top of the router.

The router (bot.conversation.router) says how likely each flow is. This module decides what the
person sees, in three steps they can feel:

- **confident** (the top flow is likely enough and nothing urgent is close behind): start that
  flow at once, with one line saying which situation was understood and a one-tap way to the
  next best ("Not this?").
- **unsure**: the three likeliest flows as buttons, plus "Something else".
- **no idea** (nothing is likely, or the words resemble no example): one clarifying question,
  what is it mainly about (a post, a person, a council account, someone at risk, the rules),
  and then the flows of that kind.

Flows marked ``always_offer`` (safeguarding, legal threats) are never buried: whenever one scores
anywhere near the top it is among the choices shown, and it stops a confident start of another
flow when it is a close second.

Buttons that are not a flow carry a routing choice as their flow id ("routing:other",
"routing:about:post"); ``Start(flow_id=...)`` brings it back here through ``follow``. Every
decision and what the person did next is written to the routing log (bot.store.routing_log) for
``policybot routing-report``; none of it changes routing by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import Connection

from bot.clock import Clock
from bot.conversation.events import Actor
from bot.conversation.presenter import MENU_PROMPT, Presenter
from bot.conversation.replies import ChoiceKind, FlowCandidate, FlowChoice, Notice, Reply
from bot.conversation.router import Match, Routing, understand
from bot.language.flow_model import Flow
from bot.language.i18n.catalog import N_
from bot.store import routing_log as log
from bot.store.routing_log import RoutingLog

CONFIDENT = 0.6  # the top flow at least this likely: start it (on the evaluation set: never wrong)
NO_IDEA = 0.3  # the top flow less likely than this: ask what it is about first
UNFAMILIAR = 0.15  # words this unlike every example are "no idea" whatever the scores say
OFFER = 3  # flows offered when unsure
NEAR_TOP_RANK = 5  # an always-offer flow this high up ...
NEAR_TOP_SCORE = 0.05  # ... or at least this likely is "near the top", and is shown
ALARM = 0.15  # an always-offer flow this likely, behind another, stops that one starting outright
NEW_SITUATION_WORDS = 4  # typed text this long that is no option and clearly names a flow starts that flow
PICK_WINDOW = timedelta(minutes=30)  # a pick this soon after a routing answer is the answer to it
REPHRASE_WINDOW = timedelta(minutes=10)  # new words this soon after an unanswered offer are a rephrasing

CHOICE_PREFIX = "routing:"  # flow ids never contain a colon, so these cannot clash with one
SOMETHING_ELSE = "routing:other"
NOT_THIS = "routing:not-this"
ABOUT_PREFIX = "routing:about:"
# In English here; bot.conversation.speaking shows them in the person's language (the catalogue).
SOMETHING_ELSE_LABEL = N_("Something else")
NOT_THIS_LABEL = N_("Not this")
NOT_THIS_PROMPT = N_("Which of these is it, then?")
EVERYTHING_LABEL = N_("Show me every topic")
CLARIFY_PROMPT = N_("I'm not sure I've understood. What is it mainly about?")
TOPICS = {  # the values of a flow's ``about:`` (bot/flow.schema.json), in the order asked
    "risk": N_("Someone at risk, or a threat of legal action"),
    "post": N_("A post or comment: mine, a colleague's or the public's"),
    "people": N_("A person: a friend request, a reference, a group"),
    "account": N_("A council page or account I run"),
    "rules": N_("Learning the rules"),
}

CONFIDENT_KIND, UNSURE_KIND, NO_IDEA_KIND = "confident", "unsure", "no_idea"


@dataclass(frozen=True)
class Opening:
    """What the first words lead to: a flow to start now (``replies`` go before its first
    question), or replies that offer a choice."""

    flow: Flow | None = None
    replies: list[Reply] = field(default_factory=list)
    confidence: str = NO_IDEA_KIND
    language: str = "en"  # the language the words were in ("cy" for Welsh), as the router read them


def is_routing_choice(flow_id: str) -> bool:
    return flow_id.startswith(CHOICE_PREFIX)


def confidence_of(routing: Routing) -> str:
    """confident, unsure or no_idea, for the router's answer about one message."""
    if not routing.matches:
        return NO_IDEA_KIND
    top = routing.matches[0]
    if top.score < NO_IDEA or routing.familiarity < UNFAMILIAR:
        return NO_IDEA_KIND
    urgent_behind = any(m.flow.always_offer and m.score >= ALARM for m in routing.matches[1:])
    if top.score >= CONFIDENT and not urgent_behind:
        return CONFIDENT_KIND
    return UNSURE_KIND


def confident_flow(routing: Routing) -> Flow | None:
    """The one flow to start without asking, if the router is sure enough."""
    return routing.matches[0].flow if confidence_of(routing) == CONFIDENT_KIND else None


def near_top_urgent(matches: Sequence[Match]) -> list[Flow]:
    """Always-offer flows scoring anywhere near the top, best first."""
    return [
        m.flow
        for rank, m in enumerate(matches)
        if m.flow.always_offer and (rank < NEAR_TOP_RANK or m.score >= NEAR_TOP_SCORE)
    ]


def _candidate(match: Match) -> FlowCandidate:
    return FlowCandidate(match.flow.id, match.flow.title, match.score)


def _with_urgent(chosen: list[Match], matches: Sequence[Match]) -> list[Match]:
    """``chosen`` plus every near-the-top always-offer flow that is not in it yet."""
    ids = {m.flow.id for m in chosen}
    by_id = {m.flow.id: m for m in matches}
    return chosen + [by_id[f.id] for f in near_top_urgent(matches) if f.id not in ids]


def _something_else() -> FlowCandidate:
    return FlowCandidate(SOMETHING_ELSE, SOMETHING_ELSE_LABEL, 0.0)


def likely_choice(routing: Routing, flows: Sequence[Flow]) -> FlowChoice:
    """The unsure answer: the likeliest few and any urgent flow near the top, then "Something else"."""
    shown = _with_urgent(list(routing.matches[:OFFER]), routing.matches)
    candidates = [_candidate(m) for m in shown]
    if len(shown) < len(flows):
        candidates.append(_something_else())
    return FlowChoice(MENU_PROMPT, candidates, ChoiceKind.LIKELY)


def clarifying_question(routing: Routing, flows: Sequence[Flow]) -> FlowChoice | None:
    """The no-idea answer: what is it about? None when the flows carry too few topics to ask."""
    present = [topic for topic in TOPICS if any(topic in f.about for f in flows)]
    if len(present) < 2:
        return None
    candidates = [FlowCandidate(ABOUT_PREFIX + topic, TOPICS[topic], 0.0) for topic in present]
    by_id = {m.flow.id: m for m in routing.matches}
    urgent = [by_id[f.id] for f in near_top_urgent(routing.matches) if f.id in by_id]
    candidates += [_candidate(m) for m in urgent]  # never buried behind a question
    candidates.append(FlowCandidate(SOMETHING_ELSE, EVERYTHING_LABEL, 0.0))
    return FlowChoice(CLARIFY_PROMPT, candidates, ChoiceKind.CLARIFY)


def not_this(routing: Routing) -> FlowChoice:
    """The confident answer's one line: which situation was understood, and one tap to say it is not."""
    title = routing.matches[0].flow.title
    flow = routing.matches[0].flow
    return FlowChoice(
        f"Understood: {title}.", [FlowCandidate(NOT_THIS, NOT_THIS_LABEL, 0.0)], ChoiceKind.NOT_THIS, subject=flow.id
    )


def next_best(routing: Routing, flows: Sequence[Flow], started: str) -> FlowChoice:
    """After "Not this": the likeliest flows except the one that was started, then "Something else"."""
    rest = [m for m in routing.matches if m.flow.id != started]
    shown = _with_urgent(rest[:OFFER], rest)
    candidates = [_candidate(m) for m in shown]
    if len(shown) < len(flows) - 1:
        candidates.append(_something_else())
    return FlowChoice(NOT_THIS_PROMPT, candidates, ChoiceKind.LIKELY)


def about_choice(topic: str, routing: Routing | None, flows: Sequence[Flow]) -> FlowChoice:
    """The flows of one topic, likeliest first for the words the person typed (when known)."""
    members = [f for f in flows if topic in f.about]
    if routing is not None and routing.matches:
        members.sort(key=lambda f: (-routing.score_of(f.id), f.id))
        extra = [f for f in near_top_urgent(routing.matches) if f not in members]
        members += extra
    candidates = [FlowCandidate(f.id, f.title, routing.score_of(f.id) if routing else 0.0) for f in members]
    candidates.append(_something_else())
    return FlowChoice(MENU_PROMPT, candidates, ChoiceKind.LIKELY)


def decide(routing: Routing, flows: Sequence[Flow]) -> Opening:
    """The policy alone, with no database: what to show for this routing answer."""
    confidence = confidence_of(routing)
    if confidence == CONFIDENT_KIND:
        return Opening(flow=routing.matches[0].flow, replies=[not_this(routing)], confidence=confidence)
    if confidence == NO_IDEA_KIND and len(flows) > OFFER + 1:
        question = clarifying_question(routing, flows)
        if question is not None:
            return Opening(replies=[question], confidence=confidence)
    return Opening(replies=[likely_choice(routing, flows)], confidence=confidence)


class Opener:
    """The confidence policy with its memory: it records each decision and what followed."""

    def __init__(self, presenter: Presenter, clock: Clock, routing_log: RoutingLog | None = None) -> None:
        self.presenter = presenter
        self.clock = clock
        self.log = routing_log or RoutingLog()

    def open(self, conn: Connection, actor: Actor, text: str) -> Opening:
        """The first words of a conversation: start a flow, offer the likely few, or ask."""
        flows = self.presenter.library.all()
        routing = understand(text, flows)
        opening = replace(decide(routing, flows), language=routing.language)
        self._remember(conn, actor, routing, opening)
        return opening

    def follow(self, conn: Connection, actor: Actor, choice: str) -> list[Reply]:
        """A routing button that is not a flow: "Not this", a topic of the clarifying question, or
        "Something else". The words they answer are read back from the routing log."""
        flows = self.presenter.library.all()
        decision = self.log.latest(conn, self.log.person(conn, actor.user_id), self.clock.now() - PICK_WINDOW)
        routing = understand(decision.text, flows) if decision is not None and decision.text else None
        topic = choice.removeprefix(ABOUT_PREFIX)
        if choice.startswith(ABOUT_PREFIX) and topic in TOPICS:
            return [about_choice(topic, routing, flows)]
        if choice == NOT_THIS and routing is not None and decision is not None and decision.guess:
            return [next_best(routing, flows, decision.guess)]
        notice = Notice(N_("Here is everything I can help with. You can also describe it again in other words."))
        return [notice, self.presenter.menu()]

    def picked(self, conn: Connection, actor: Actor, flow_id: str) -> None:
        """A flow started by its id (a button, the menu): the answer to the last routing decision."""
        now = self.clock.now()
        decision = self.log.latest(conn, self.log.person(conn, actor.user_id), now - PICK_WINDOW)
        if decision is None or (decision.outcome == log.STARTED and decision.guess == flow_id):
            return
        self.log.chose(conn, decision, flow_id, now)

    def _remember(self, conn: Connection, actor: Actor, routing: Routing, opening: Opening) -> None:
        now = self.clock.now()
        person = self.log.person(conn, actor.user_id)
        before = self.log.latest(conn, person, now - REPHRASE_WINDOW)
        top = routing.matches[0] if routing.matches else None
        shown = [c.flow_id for r in opening.replies if isinstance(r, FlowChoice) for c in r.candidates]
        row = self.log.record(
            conn,
            person=person,
            at=now,
            text=routing.text,
            language=routing.language,
            guess=top.flow.id if top else None,
            score=top.score if top else 0.0,
            confidence=opening.confidence,
            shown=[s for s in shown if not is_routing_choice(s)],
            outcome=log.STARTED if opening.flow is not None else log.OFFERED,
        )
        if before is not None and before.outcome == log.OFFERED:
            # typed again instead of picking; if the new words were clear, that flow answers both
            self.log.rephrased(conn, before, row, now, opening.flow.id if opening.flow else None)


def new_situation(text: str, presenter: Presenter) -> Flow | None:
    """A typed line that is no answer to the current question but clearly names another flow."""
    if len(text.split()) < NEW_SITUATION_WORDS:
        return None
    return confident_flow(understand(text, presenter.library.all()))
