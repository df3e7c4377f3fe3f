"""Which language the bot speaks to a person, the one-tap switch, and the words of the menus.

The language of a turn is, in order: the person's own choice (the switch, remembered in
bot.store.languages), the language of their platform (``Actor.locale``: Slack's users.info locale,
the Teams activity's locale, the terminal's LANG), and the organisation's ``default_language``.
A person who opens with a message in Welsh is answered in Welsh from then on, as if they had
pressed the switch. With more than one language on, every reply set ends with a
``LanguageSwitch`` that adapters render like any other button (Welsh offered first).

``localise`` puts the replies built from fixed English words (the notices whose text is a
catalogue message, the situation menus and their titles) into the turn's language, in one place,
so the router and the opening policy stay free of languages.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from bot.conversation.events import Actor
from bot.conversation.library import FlowLibrary
from bot.conversation.replies import (
    ChoiceKind,
    FlowCandidate,
    FlowChoice,
    LanguageChoice,
    LanguageSwitch,
    Notice,
    Outcome,
    Question,
    Reply,
)
from bot.language.i18n.catalog import interface
from bot.language.i18n.languages import ENGLISH, language_of_locale, name_of
from bot.store.languages import choose_language, chosen_language


class Speaking:
    """Works out the language of each turn and writes the menus in it. Safe to share."""

    def __init__(self, library: FlowLibrary) -> None:
        self.library = library
        self.offered = library.settings.languages
        # the switch's choices for each language it can be in: the same few on every turn
        self._choices = {
            current: tuple(LanguageChoice(code, name_of(code), code == current) for code in self.offered)
            for current in self.offered
        }
        self.default = library.settings.default_language

    @property
    def several(self) -> bool:
        return len(self.offered) > 1

    def settle(self, conn: Connection, actor: Actor) -> Actor:
        """The actor with ``language`` set for this turn."""
        if not self.several:
            return actor if actor.language == self.offered[0] else replace(actor, language=self.offered[0])
        chosen = chosen_language(conn, actor.user_id)
        if chosen in self.offered:
            return replace(actor, language=chosen)
        return replace(actor, language=language_of_locale(actor.locale, self.offered) or self.default)

    def after_words(self, conn: Connection, actor: Actor, replies: list[Reply]) -> Actor:
        """The actor after a turn of typed words, which may have switched the language: the
        language of the question or outcome shown, else the person's choice as now stored."""
        for reply in replies:
            if isinstance(reply, Question | Outcome):
                return actor if reply.language == actor.language else replace(actor, language=reply.language)
        return self.settle(conn, actor)

    def to_everyone(self, message: str) -> str:
        """An interface message for a shared place (a channel, a group chat) where nobody's
        language is known: in every offered language, Welsh first when it is on (the Welsh
        Language Standards' bilingual notices), each once."""
        said = [interface(language)(message) for language in self.offered]
        return "\n\n".join(dict.fromkeys(said))

    def offers(self, language: str) -> bool:
        return language in self.offered

    def first_words(self, conn: Connection, actor: Actor, language: str) -> bool:
        """Whether first words in ``language`` should switch the bot to it: Welsh (the only
        language the router tells apart) is offered here and the person has chosen no language.

        The router's "en" means "not Welsh" (too short, a name, or English), so it never switches:
        someone whose Teams or Slack is in Welsh and types "FB post" keeps their Welsh, with the
        one-tap switch to English on every reply (docs/languages.md, the order of the choices)."""
        if language == ENGLISH or not self.several or language not in self.offered:
            return False
        return chosen_language(conn, actor.user_id) is None

    def choose(self, conn: Connection, actor: Actor, language: str, now: datetime) -> Actor:
        """Remember the person's language and speak it from this reply on."""
        choose_language(conn, actor.user_id, language, now)
        return replace(actor, language=language)

    def switch(self, language: str, conversation_id: str | None) -> LanguageSwitch:
        """The one-tap switch: every offered language named in itself, Welsh first."""
        choices = self._choices.get(language) or tuple(
            LanguageChoice(code, name_of(code), code == language) for code in self.offered
        )
        return LanguageSwitch(current=language, choices=list(choices), conversation_id=conversation_id)

    def finish(self, replies: list[Reply], actor: Actor) -> list[Reply]:
        """The replies in the turn's language, with the switch at the end when there is a choice."""
        language = actor.language or ENGLISH
        if language != ENGLISH:
            replies = [self.localise(reply, language) for reply in replies]
        if not self.several:
            return replies
        return [*replies, self.switch(language, _conversation_of(replies))]

    def localise(self, reply: Reply, language: str) -> Reply:
        _ = interface(language)
        if isinstance(reply, Notice):
            return replace(reply, text=_(reply.text))
        if isinstance(reply, FlowChoice):
            prompt = _(reply.prompt)
            if reply.kind is ChoiceKind.NOT_THIS and reply.subject:
                prompt = _("Understood: {title}.").format(title=self.title(reply.subject, language))
            return replace(reply, prompt=prompt, candidates=[self._candidate(c, language) for c in reply.candidates])
        return reply

    def title(self, flow_id: str, language: str) -> str:
        if flow_id not in self.library:
            return interface(language)(flow_id)
        flow = self.library.get(flow_id)
        return flow.text_in("title", flow.title, language)

    def _candidate(self, candidate: FlowCandidate, language: str) -> FlowCandidate:
        if candidate.flow_id in self.library:
            return replace(candidate, title=self.title(candidate.flow_id, language))
        return replace(candidate, title=interface(language)(candidate.title))


def _conversation_of(replies: list[Reply]) -> str | None:
    """The conversation the replies are about, for the switch to redraw in the new language."""
    for reply in reversed(replies):
        found = getattr(reply, "conversation_id", None)
        if isinstance(found, str) and found:
            return found
    return None
