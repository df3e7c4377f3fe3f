"""Who may use the studio, and for what.

Roles come from the organisation settings and the staff directory, never from the sign-in token
alone (a provider says who someone is; the council's own files say what they do):

- **author** and **reviewer**: ``authoring: {authors: [...], reviewers: [...]}`` in the settings
  (publishing's block); until a council names anyone there, the comms team authors and reviews in
  the studio (publishing itself still needs named reviewers before anything can be approved);
- **comms**: ``studio: {comms: [...]}`` in the settings, and everyone whose directory entry holds
  the comms team's role (the role the ``comms`` escalation target uses);
- **manager**: anyone the staff directory names as somebody's line manager.

Entries in those lists are directory ids or email addresses. A signed-in person with none of the
roles gets nothing but a page saying so: someone outside the council (or inside it but not in
these lists) sees no flow, case or figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.cases.directory import COMMS, Directory, Person, target_role
from bot.conversation.events import Actor
from bot.language.settings import Settings

AUTHOR = "author"
REVIEWER = "reviewer"
COMMS_ROLE = "comms"
MANAGER = "manager"
ALL_ROLES = (AUTHOR, REVIEWER, COMMS_ROLE, MANAGER)

# What each part of the studio needs: any one of the roles listed.
PERMISSIONS: dict[str, frozenset[str]] = {
    "home": frozenset(ALL_ROLES),
    "flows": frozenset({AUTHOR, REVIEWER, COMMS_ROLE}),
    "edit": frozenset({AUTHOR}),
    "cases": frozenset({COMMS_ROLE, MANAGER}),
    "insights": frozenset({AUTHOR, REVIEWER, COMMS_ROLE, MANAGER}),
    "changes": frozenset({AUTHOR, REVIEWER}),
    "review": frozenset({REVIEWER}),  # approve, request changes, roll back (Publishing checks the rules)
    "policies": frozenset({AUTHOR, REVIEWER, COMMS_ROLE}),
    "policy_import": frozenset({AUTHOR, REVIEWER}),
}


@dataclass(frozen=True)
class StudioUser:
    """The signed-in person as the pages see them."""

    actor: Actor
    name: str
    person: Person | None
    roles: frozenset[str]

    def may(self, area: str) -> bool:
        return bool(self.roles & PERMISSIONS[area])

    @property
    def areas(self) -> list[str]:
        return [a for a in PERMISSIONS if a not in ("home", "review", "policy_import") and self.may(a)]


def _listed(entries: Iterable[object], person: Person | None, actor: Actor) -> bool:
    wanted = {str(e).strip().lower() for e in entries if str(e).strip()}
    mine = {actor.email.lower()} if actor.email else set()
    if person is not None:
        mine.add(person.id.lower())
        if person.email:
            mine.add(person.email.lower())
    return bool(wanted & mine)


def roles_for(actor: Actor, settings: Settings, directory: Directory) -> tuple[Person | None, frozenset[str]]:
    """The directory entry (if any) and the studio roles of a signed-in person."""
    person = directory.find(actor)
    studio = settings.data.get("studio") or {}
    authoring = settings.data.get("authoring")
    roles: set[str] = set()
    comms_role = target_role(settings, COMMS)
    if _listed(studio.get("comms") or [], person, actor) or (person is not None and comms_role in person.roles):
        roles.add(COMMS_ROLE)
    if isinstance(authoring, dict) and (authoring.get("authors") or authoring.get("reviewers")):
        if _listed(authoring.get("authors") or [], person, actor):
            roles.add(AUTHOR)
        if _listed(authoring.get("reviewers") or [], person, actor):
            roles.add(REVIEWER)
    elif COMMS_ROLE in roles:
        roles |= {AUTHOR, REVIEWER}
    if person is not None and directory.reports_of(person.id):
        roles.add(MANAGER)
    return person, frozenset(roles)


def studio_user(actor: Actor, settings: Settings, directory: Directory) -> StudioUser:
    person, roles = roles_for(actor, settings, directory)
    return StudioUser(actor, person.name if person else (actor.display_name or actor.email or "you"), person, roles)
