"""The terminal conversation loop: read a line, turn it into an engine event, print the replies.

The loop keeps only what is on screen (which conversation, the last question, a menu or a
switch offer to answer by number or word); everything else is in the store, so quitting and
starting again offers to carry on where the person left off. Leaving (quit, exit, Ctrl-D,
Ctrl-C) never loses anything; only "stop this check" ends a check.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace

import click

from adapters.console.render import NOT_THIS_WORDS, preview, render, terminal_width, wrap
from bot.conversation.engine import Engine
from bot.conversation.events import (
    Actor,
    Cancel,
    ConfirmEscalation,
    DeclineEscalation,
    Event,
    FreeText,
    SetLanguage,
    Start,
)
from bot.conversation.replies import (
    ChoiceKind,
    EscalationSent,
    Explanation,
    FlowChoice,
    LanguageSwitch,
    Outcome,
    Question,
    Reply,
    SwitchOffer,
)
from bot.conversation.typed_answers import command_for
from bot.language.i18n.catalog import N_, interface

LEAVE_WORDS = {"quit", "exit", "bye", ":q", "hwyl"}
INTERRUPTED = 130  # the shell's status for a program stopped by Ctrl-C (128 + SIGINT)
WELCOME = N_(
    "policybot — social media policy help. Describe your situation in a few words "
    '(for example: "someone threatened to sue me over my tweet"), or type list to see every topic.'
)
RESUME_HINT = N_(
    "Press Enter to carry on, n to start something else (it stays saved), "
    '"stop this check" to end it, or quit to leave.'
)
MENU_WORDS = ("list", "menu", "help", "topics", "rhestr", "help", "pynciau")
YES_WORDS = ("", "y", "yes", "i", "ie", "ydw")


def _read_line(prompt: str) -> str:
    """A line typed at the terminal. When the input is not a terminal (a script, a test, a pasted
    transcript) the line is echoed, so the output reads exactly as the screen would."""
    line = input(prompt + " ")
    if not sys.stdin.isatty():
        click.echo(line)
    return line


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
        width: int | None = None,
    ) -> None:
        self.engine = engine
        # Runs one worker pass after an escalation, so the terminal shows what was sent at once.
        self.deliver = deliver
        self.actor = actor
        self.ask = ask or _read_line
        self.say = say or click.echo
        self.width = width or terminal_width()
        self.conversation_id: str | None = None
        self.menu: FlowChoice | None = None
        self.switch: SwitchOffer | None = None
        self.question: Question | None = None  # the last question shown, shown again after "why"
        self.not_this: FlowChoice | None = None  # "Understood: ..." above the current flow, if routed
        self.languages: LanguageSwitch | None = None  # the last language switch shown
        self.language = engine.language_of(actor)  # the language of the terminal's own words

    def _(self, message: str) -> str:
        return interface(self.language)(message)

    def run(self) -> int:
        """Talk until the person leaves; the exit status (130 after Ctrl-C, else 0)."""
        try:
            self.say(wrap(self._(WELCOME), self.width))
            if self._offer_resume():
                self._talk()
        except EOFError:
            self.say("")  # Ctrl-D leaves the cursor after the prompt: "Bye." goes on its own line
        except (KeyboardInterrupt, click.exceptions.Abort):
            self.say("")
            self._leave()
            return INTERRUPTED
        self._leave()
        return 0

    def _talk(self) -> None:
        while True:
            line = self.ask(">").strip()
            if not line:
                continue
            if line.lower() in LEAVE_WORDS:
                return
            self._handle_line(line)

    def _offer_resume(self) -> bool:
        """Offer the unfinished (or set-aside) check; False when the person chose to leave."""
        unfinished = self.engine.unfinished(self.actor)
        if unfinished is None:
            return True
        waiting = self._('You have an unfinished check: "{title}" ({answered} answered so far).')
        self.say(wrap(waiting.format(title=unfinished.flow_title, answered=unfinished.answered), self.width))
        self.say(click.style(wrap(self._(RESUME_HINT), self.width), dim=True))
        answer = self.ask(self._("Carry on with it? [Y/n]")).strip()
        folded = answer.lower()
        if folded in YES_WORDS:
            self.show(self.engine.resume(self.actor, unfinished.conversation_id))
        elif folded in LEAVE_WORDS:
            return False
        elif command_for(folded) == "cancel":  # "stop", "stop this check", "cancel": an explicit end
            self.show(self.engine.handle(self.actor, Cancel(unfinished.conversation_id)))
        elif folded not in ("n", "no"):
            self._handle_line(answer)  # a new situation typed straight away: the old check is set aside
        return True

    def _handle_line(self, line: str) -> None:
        offer, self.switch = self.switch, None
        folded = line.lower()
        if folded in MENU_WORDS:
            self.show([self.engine.menu(replace(self.actor, language=self.language))])
            return
        chosen = self._language_named(folded)
        if chosen is not None:
            self.show(self.send(SetLanguage(chosen, self.conversation_id)))
            return
        if offer is not None and folded in ("switch", "switch to it", "start it", "newid", self._("switch")):
            self.show(self.send(Start(flow_id=offer.flow_id)))
            return
        if self.not_this is not None and folded in (NOT_THIS_WORDS, self._(NOT_THIS_WORDS)):
            self.show(self.send(Start(flow_id=self.not_this.candidates[0].flow_id)))
            return
        if self.menu is not None and line.isdigit() and 1 <= int(line) <= len(self.menu.candidates):
            self.show(self.send(Start(flow_id=self.menu.candidates[int(line) - 1].flow_id)))
            return
        if self.conversation_id is None and command_for(line) != "resume":
            self.show(self.send(Start(text=line)))
            return
        self.show(self.send(FreeText(line, self.conversation_id)))

    def _language_named(self, folded: str) -> str | None:
        """The language a typed word names on the last switch shown ("cymraeg", "english")."""
        if self.languages is None:
            return None
        for choice in self.languages.choices:
            if folded in (choice.label.lower(), choice.language):
                return choice.language
        return None

    def send(self, event: Event) -> list[Reply]:
        return self.engine.handle(self.actor, event)

    def show(self, replies: list[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, LanguageSwitch):
                self.languages = reply
                self.language = reply.current
            elif isinstance(reply, Question | Outcome):
                self.language = reply.language
            self.say(render(reply, self.width, self.language))
            self.say("")
            if isinstance(reply, FlowChoice) and reply.kind is ChoiceKind.NOT_THIS:
                self.not_this = reply
            elif isinstance(reply, FlowChoice):
                self.menu = reply
                self.not_this = None
                hint = self._("Type the number of the closest topic, or describe it differently.")
                self.say(click.style(wrap(hint, self.width), dim=True))
            elif isinstance(reply, SwitchOffer):
                self.switch = reply
            elif isinstance(reply, Question):
                self.menu = None
                self.conversation_id = reply.conversation_id
                self.question = reply
            elif isinstance(reply, Explanation):
                if self.question is not None and self.question.conversation_id == reply.conversation_id:
                    self.say(render(self.question, self.width))  # the question again, to answer it
                    self.say("")
            elif isinstance(reply, Outcome):
                self.menu = None
                self.not_this = None
                self.conversation_id = None
                self.question = None
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
        _ = interface(outcome.language)
        if offer is not None and outcome.case_id is None:
            names = ", ".join(offer.first_names)
            if offer.required:
                text = _("Escalations are not switched on here: contact {names} yourself now.").format(names=names)
                self.say(click.style(wrap(text, self.width), fg="red"))
            else:
                text = _("This should go to {names}. This is exactly what would be sent:").format(names=names)
                self.say(click.style(wrap(text, self.width), bold=True))
                self.say(preview(offer.preview, self.width))
                if (
                    self._prompt(_("Send it to {names} now? [y/N]").format(names=names)).strip().lower()
                    in YES_WORDS[1:]
                ):
                    note = self._prompt(_("A short note for them (Enter for none):")).strip()
                    self.show(self.send(ConfirmEscalation(outcome.conversation_id, note or None)))
                else:
                    self.show(self.send(DeclineEscalation(outcome.conversation_id)))
        waiting = self.engine.unfinished(self.actor)
        if waiting is not None:
            text = _('Your check "{title}" is still waiting: type resume to carry on with it.').format(
                title=waiting.flow_title
            )
            self.say(click.style(wrap(text, self.width), fg="cyan"))
        hint = _("Describe another situation, type list for all topics, or quit.")
        self.say(click.style(wrap(hint, self.width), dim=True))

    def _prompt(self, question: str) -> str:
        """Ask on one line when it fits the terminal; otherwise the question wrapped above a short prompt."""
        if len(question) + 20 <= self.width:  # room for a short answer after it
            return self.ask(question)
        self.say(wrap(question, self.width))
        return self.ask(">")

    def _leave(self) -> None:
        if self.conversation_id is not None or self.engine.unfinished(self.actor) is not None:
            self.say(self._("Bye. Your answers are saved: run policybot chat again to carry on."))
        else:
            self.say(self._("Bye."))
