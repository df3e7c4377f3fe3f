"""Who may see and act on a case, decided from the staff directory alone.

A chat platform tells us who clicked (the adapter builds the Actor from the platform's signed
identity), but a button payload can say anything: which case, which action, even which user.
So every action looks the actor up in the directory and checks them against the case's recorded
recipients. The rules:

- the employee who raised the case sees it, may withdraw it and message its recipients, but may
  not acknowledge or resolve it themselves;
- a person the case was sent to, a member of a team whose channel it was sent to (by the team's
  directory role), and anyone in the comms team may see it, acknowledge, resolve and message the
  employee;
- anyone else gets NotAllowed, with the same words whether or not the case exists.
"""

from __future__ import annotations

from bot.cases.directory import COMMS, Directory, Person, target_role
from bot.cases.model import Case
from bot.conversation.events import Actor
from bot.errors import NotAllowed
from bot.language.i18n.catalog import N_
from bot.language.settings import Settings

# Message ids: the reader gets them in their own language (bot.language.i18n.wording.said_in).
NOT_YOURS = N_("This case was not sent to you, so you can't see or act on it.")
UNKNOWN_PERSON = N_(
    "policybot can't tell who you are: your chat account is not in the staff directory, so it can't "
    "check that this case was sent to you. Ask the comms team to add you to the directory."
)


class CaseAccess:
    def __init__(self, directory: Directory, settings: Settings) -> None:
        self.directory = directory
        self.settings = settings

    def person(self, actor: Actor) -> Person | None:
        return self.directory.find(actor)

    def is_employee(self, case: Case, actor: Actor, person: Person | None) -> bool:
        if case.employee_user_id == actor.user_id:
            return True
        return person is not None and case.employee_key is not None and case.employee_key == person.id

    def is_comms(self, person: Person | None) -> bool:
        return person is not None and target_role(self.settings, COMMS) in person.roles

    def is_recipient(self, case: Case, person: Person | None) -> bool:
        if person is None:
            return False
        for r in case.recipients:
            if r.kind == "person" and r.key == person.id:
                return True
            if r.kind == "channel" and r.role and r.role in person.roles:
                return True
        return False

    def may_act(self, case: Case, actor: Actor) -> bool:
        person = self.person(actor)
        if self.is_employee(case, actor, person):
            return False
        return self.is_recipient(case, person) or self.is_comms(person)

    def may_view(self, case: Case, actor: Actor) -> bool:
        person = self.person(actor)
        return self.is_employee(case, actor, person) or self.is_recipient(case, person) or self.is_comms(person)

    def check_view(self, case: Case, actor: Actor) -> None:
        if not self.may_view(case, actor):
            raise NotAllowed(NOT_YOURS if self.person(actor) is not None else UNKNOWN_PERSON)

    def check_act(self, case: Case, actor: Actor) -> Person:
        """The acting person, if they may acknowledge, resolve or message the employee; else NotAllowed."""
        person = self.person(actor)
        if self.is_employee(case, actor, person):
            names = ", ".join(case.recipient_names())
            if not names:
                raise NotAllowed(
                    N_(
                        "You raised this case, so you can't acknowledge or resolve it yourself; "
                        "the people it was sent to will."
                    )
                )
            raise NotAllowed(
                N_("You raised this case, so you can't acknowledge or resolve it yourself; {names} will."), names=names
            )
        if person is None:
            raise NotAllowed(UNKNOWN_PERSON)
        if not (self.is_recipient(case, person) or self.is_comms(person)):
            raise NotAllowed(NOT_YOURS)
        return person

    def check_employee(self, case: Case, actor: Actor) -> None:
        person = self.person(actor)
        if not self.is_employee(case, actor, person):
            if self.may_view(case, actor):
                raise NotAllowed(N_("Only {name}, who raised this case, can do that."), name=case.employee_name)
            raise NotAllowed(NOT_YOURS if person is not None else UNKNOWN_PERSON)
