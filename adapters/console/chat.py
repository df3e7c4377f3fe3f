"""The terminal conversation loop: read a line, turn it into an engine event, print the replies.

The loop keeps only which conversation is on screen; everything else is in the store, so quitting
and starting again offers to carry on where the person left off.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from adapters.console.render import NOT_THIS_WORDS, render
from bot.conversation.engine import Engine
from bot.conversation.events import Actor, Cancel, ConfirmEscalation, DeclineEscalation, Event, FreeText, Start
from bot.conversation.replies import ChoiceKind, EscalationSent, FlowChoice, Outcome, Question, Reply

LEAVE_WORDS = {"quit", "exit", "bye", ":q"}
WELCOME = (
    "policybot — social media policy help. Describe your situation in a few words "
    '(for example: "someone threatened to sue me over my tweet"), or type list to see every topic.'
)


class ConsoleChat:
    """One person at the terminal. ``ask`` and ``say`` are injectable so tests can drive it."""

    def __init__(
        self,
        engine: Engine,
        actor: Actor,
        *,
        ask: Callable[[str], str] | None = None,
        say: Callable[[str], None] | None = None,
        deliver: Callable[[], object] | None = None,
    ) -> None:
        self.engine = engine
        # Runs one worker pass after an escalation, so the terminal shows what was sent at once.
        self.deliver = deliver
        self.actor = actor
        self.ask = ask or (lambda prompt: click.prompt(prompt, prompt_suffix=" ", default="", show_default=False))
        self.say = say or click.echo
        self.conversation_id: str | None = None
        self.menu: FlowChoice | None = None
        self.not_this: FlowChoice | None = None  # "Understood: ..." above the current flow, if routed

    def run(self) -> None:
        self.say(WELCOME)
        self._offer_resume()
        while True:
            try:
                line = self.ask(">").strip()
            except (EOFError, click.exceptions.Abort):
                self._leave()
                return
            if not line:
                continue
            if line.lower() in LEAVE_WORDS:
                self._leave()
                return
            self._handle_line(line)

    def _offer_resume(self) -> None:
        unfinished = self.engine.unfinished(self.actor)
        if unfinished is None:
            return
        self.say(f'You have an unfinished check: "{unfinished.flow_title}" ({unfinished.answered} answered so far).')
        answer = self.ask("Carry on with it? [Y/n]").strip().lower()
        if answer in ("", "y", "yes"):
            self.show(self.engine.resume(self.actor, unfinished.conversation_id))
        else:
            self.show(self.engine.handle(self.actor, Cancel(unfinished.conversation_id)))

    def _handle_line(self, line: str) -> None:
        if line.lower() in ("list", "menu", "help", "topics"):
            self.show([self.engine.menu()])
            return
        if self.not_this is not None and line.lower() == NOT_THIS_WORDS:
            self.show(self.send(Start(flow_id=self.not_this.candidates[0].flow_id)))
            return
        if self.menu is not None and line.isdigit() and 1 <= int(line) <= len(self.menu.candidates):
            self.show(self.send(Start(flow_id=self.menu.candidates[int(line) - 1].flow_id)))
            return
        if self.conversation_id is None:
            self.show(self.send(Start(text=line)))
            return
        self.show(self.send(FreeText(line, self.conversation_id)))

    def send(self, event: Event) -> list[Reply]:
        return self.engine.handle(self.actor, event)

    def show(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.say(render(reply))
            self.say("")
            if isinstance(reply, FlowChoice) and reply.kind is ChoiceKind.NOT_THIS:
                self.not_this = reply
            elif isinstance(reply, FlowChoice):
                self.menu = reply
                self.not_this = None
                self.say(click.style("Type the number of the closest topic, or describe it differently.", dim=True))
            elif isinstance(reply, Question):
                self.menu = None
                self.conversation_id = reply.conversation_id
            elif isinstance(reply, Outcome):
                self.menu = None
                self.not_this = None
                self.conversation_id = None
                if reply.case_id is not None:
                    self._delivered()
                self._after_outcome(reply)
            elif isinstance(reply, EscalationSent):
                self._delivered()

    def _delivered(self) -> None:
        if self.deliver is not None:
            self.deliver()

    def _after_outcome(self, outcome: Outcome) -> None:
        offer = outcome.escalation
        if offer is not None and offer.required and outcome.case_id is None:
            names = ", ".join(offer.target_names.get(t, t) for t in offer.targets)
            self.say(click.style(f"Escalations are not switched on here: contact {names} yourself now.", fg="red"))
        elif offer is not None and not offer.required and outcome.case_id is None:
            names = ", ".join(offer.target_names.get(t, t) for t in offer.targets)
            self.say(click.style(f"This should go to {names}. This is exactly what would be sent:", bold=True))
            self.say("\n".join("    " + line for line in offer.preview.splitlines()))
            if self.ask(f"Send it to {names} now? [y/N]").strip().lower() in ("y", "yes"):
                note = self.ask("Add a short note for them (or press Enter for none):").strip()
                self.show(self.send(ConfirmEscalation(outcome.conversation_id, note or None)))
            else:
                self.show(self.send(DeclineEscalation(outcome.conversation_id)))
        self.say(click.style("Describe another situation, type list for all topics, or quit.", dim=True))

    def _leave(self) -> None:
        if self.conversation_id is not None:
            self.say("Bye. Your answers are saved: run policybot chat again to carry on.")
        else:
            self.say("Bye.")
