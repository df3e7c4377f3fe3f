"""The staff directory: who a chat user is, who manages them, and where each escalation goes.

The directory is a YAML or CSV file (``directory:`` in policybot.yaml; see
flows/directory.example.yaml). Each person has an ``id``, a ``name`` and whatever of ``email``,
``slack_id``, ``teams_id``, ``manager`` (another person's id) and ``roles`` the council knows.

Finding a person from a chat actor (``Directory.find``), in this order:

1. the platform's own id, which the platform signs for: ``slack:T1:U2`` matches ``slack_id``
   ``U2`` (or ``T1:U2``), ``teams:<id>`` matches ``teams_id``, and ``console:<login>`` (the
   terminal, a trusted local user) matches the person's ``id``;
2. otherwise the email the platform reports, case-insensitively.

Two rules stop one person passing for another: if the platform id and the email point at two
different people, nobody is found; and an email match is refused when that person's entry holds a
different id for the same platform (the directory says their Slack account is someone else).

Targets resolve here too: ``line_manager`` through the employee's entry, the teams (``comms``,
``legal``, ``hr``, ``safeguarding`` and any other target in the settings) through the org
settings. A missing, unknown or circular line manager falls back to the comms team, with a note
that says why, so an escalation is never silently dropped.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.cases.notify import Recipient
from bot.conversation.escalation import NoDirectory
from bot.conversation.events import Actor
from bot.errors import FileProblems, Problem
from bot.language.i18n.catalog import N_
from bot.language.i18n.wording import Wording
from bot.language.schema_check import did_you_mean, schema_problems
from bot.language.settings import Settings
from bot.language.yamlload import LARGE_FILE_LIMITS, LineDict, LineList, load_yaml_file

log = logging.getLogger(__name__)

LINE_MANAGER = "line_manager"
COMMS = "comms"
# The directory role whose members act for a team target when the settings name no other.
DEFAULT_TARGET_ROLES = {"comms": "comms", "legal": "legal", "hr": "hr", "safeguarding": "safeguarding_lead"}
FIELDS = ("id", "name", "email", "slack_id", "teams_id", "manager", "roles", "language")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
_ROLE_SEPARATORS = re.compile(r"[;|]")

_ID_SCHEMA = {"type": ["string", "integer"], "description": "letters, digits, '.', '_', '-' or '@'"}
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name"],
    "properties": {
        "id": _ID_SCHEMA,
        "name": {"type": "string", "minLength": 1},
        "email": {
            "type": "string",
            "pattern": r"^[^@\s]+@[^@\s]+$",
            "description": "an address like name@council.gov.uk",
        },
        "slack_id": {"type": "string", "minLength": 1},
        "teams_id": {"type": "string", "minLength": 1},
        "manager": _ID_SCHEMA,
        "roles": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "language": {
            "type": "string",
            "pattern": "^[a-z]{2,3}$",
            "description": "the language their cases reach them in: en or cy",
        },
    },
}
DIRECTORY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["people"],
    "properties": {"people": {"type": "array", "items": PERSON_SCHEMA}},
}


def normalise_role(text: str) -> str:
    """'Safeguarding lead' and 'safeguarding-lead' are the role ``safeguarding_lead``."""
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def target_role(settings: Settings, target: str) -> str:
    """The directory role whose members may act on a case sent to a team target."""
    configured = settings.targets.get(target, {}).get("role")
    return normalise_role(str(configured)) if configured else DEFAULT_TARGET_ROLES.get(target, target)


@dataclass(frozen=True)
class Person:
    """One entry of the directory. ``line`` is where it is in the file, for messages."""

    id: str
    name: str
    email: str | None = None
    slack_id: str | None = None
    teams_id: str | None = None
    manager: str | None = None
    roles: tuple[str, ...] = ()
    language: str | None = None  # the language cases reach them in (docs/languages.md)
    line: int = field(default=0, compare=False)

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else self.name

    def recipient(self) -> Recipient:
        return Recipient(
            kind="person",
            key=self.id,
            name=self.name,
            email=self.email,
            slack_id=self.slack_id,
            teams_id=self.teams_id,
            language=self.language,
        )


@dataclass(frozen=True)
class Resolution:
    """Where one escalation target goes.

    ``role`` (for a team's channel) is the directory role whose members may act on the case;
    ``note`` says why this recipient was chosen when it is not the one the flow asked for.
    """

    recipient: Recipient
    target: str
    role: str | None = None
    note: str | None = None


class Directory:
    """People by id, with the lookups the bot needs. Implements bot.conversation.escalation.PeopleDirectory."""

    def __init__(self, people: Iterable[Person] = (), *, source: str | None = None) -> None:
        self.source = source
        self._people: dict[str, Person] = {}
        self._by_email: dict[str, Person] = {}
        self._by_slack: dict[str, Person] = {}
        self._by_teams: dict[str, Person] = {}
        for person in people:
            self._people[person.id] = person
            if person.email:
                self._by_email[person.email.lower()] = person
            if person.slack_id:
                self._by_slack[person.slack_id.upper()] = person
            if person.teams_id:
                self._by_teams[person.teams_id.lower()] = person

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Directory:
        """Read a ``.yaml``/``.yml`` or ``.csv`` directory; every problem is reported as file:line."""
        people = _read_csv(path) if path.suffix.lower() == ".csv" else _read_yaml(path)
        problems = _duplicate_problems(people, str(path))
        if problems:
            raise FileProblems(problems)
        return cls(people, source=str(path))

    def __len__(self) -> int:
        return len(self._people)

    def __iter__(self) -> Any:
        return iter(self._people.values())

    def get(self, person_id: str | None) -> Person | None:
        return self._people.get(person_id) if person_id else None

    # -- who is this actor -----------------------------------------------------------------
    def find(self, actor: Actor) -> Person | None:
        """The directory entry for a chat actor, or None (see the module docstring for the rules)."""
        platform, _, rest = actor.user_id.partition(":")
        by_platform: Person | None = None
        if platform == "slack" and rest:
            by_platform = self._by_slack.get(rest.upper()) or self._by_slack.get(rest.rsplit(":", 1)[-1].upper())
        elif platform == "teams" and rest:
            by_platform = self._by_teams.get(rest.lower())
        elif platform == "console" and rest:
            by_platform = self._people.get(rest)
        by_email = self._by_email.get(actor.email.strip().lower()) if actor.email else None
        if by_platform is not None:
            if by_email is not None and by_email.id != by_platform.id:
                log.warning("directory: %s and its email name two different people; treating it as unknown", platform)
                return None
            return by_platform
        if by_email is None:
            return None
        own_id = {"slack": by_email.slack_id, "teams": by_email.teams_id}.get(platform)
        if own_id and rest:
            log.warning("directory: an email match was refused because the %s account differs", platform)
            return None
        return by_email

    def describe(self, actor: Actor) -> dict[str, Any]:
        """The ``user`` flow templates see: id, name, first_name, email, manager_name, roles, platform."""
        person = self.find(actor)
        if person is None:
            return NoDirectory().describe(actor)
        manager, _ = self.line_manager(person)
        return {
            "id": person.id,
            "name": person.name,
            "first_name": person.first_name,
            "email": person.email or actor.email,
            "manager_name": manager.name if manager else None,
            "roles": list(person.roles),
            "platform": actor.platform,
        }

    # -- management chain and teams -----------------------------------------------------------
    def line_manager(self, person: Person) -> tuple[Person | None, Wording | None]:
        """(manager, None), or (None, why there is no usable manager). The why is told to the comms
        officer a case goes to instead (in their language) and, in English, by ``validate``."""
        name = person.name
        if not person.manager:
            return None, Wording(N_("{name} has no line manager in the staff directory"), {"name": name})
        if person.manager == person.id:
            return None, Wording(
                N_("{name} is recorded as their own line manager in the staff directory"), {"name": name}
            )
        manager = self._people.get(person.manager)
        if manager is None:
            return None, Wording(
                N_("{name}'s line manager ('{manager}') is not in the staff directory"),
                {"name": name, "manager": person.manager},
            )
        loop = self.loop_above(person)
        if loop:
            chain = " → ".join(self._people[p].name if p in self._people else p for p in loop)
            return None, Wording(
                N_("the management chain above {name} goes round in a circle ({chain})"), {"name": name, "chain": chain}
            )
        return manager, None

    def loop_above(self, person: Person) -> list[str]:
        """The ids of a circle in the management chain above ``person`` (empty when there is none)."""
        seen = [person.id]
        current = person.manager
        while current:
            if current in seen:
                return [*seen[seen.index(current) :], current]
            seen.append(current)
            above = self._people.get(current)
            current = above.manager if above is not None else None
        return []

    def members(self, role: str) -> list[Person]:
        """Everyone holding a role, in directory order."""
        role = normalise_role(role)
        return [p for p in self._people.values() if role in p.roles]

    def reports_of(self, manager_id: str, *, indirect: bool = False) -> list[Person]:
        """The people a manager manages (and, with ``indirect``, everyone below them)."""
        direct = [p for p in self._people.values() if p.manager == manager_id and p.id != manager_id]
        if not indirect:
            return direct
        found: dict[str, Person] = {}
        queue = list(direct)
        while queue:
            person = queue.pop(0)
            if person.id in found or person.id == manager_id:
                continue
            found[person.id] = person
            queue += [p for p in self._people.values() if p.manager == person.id and p.id not in found]
        return list(found.values())

    def warnings(self) -> list[Problem]:
        """Entries that load but will send escalations to the comms team instead of a manager."""
        source = self.source or "directory"
        problems = []
        for person in self._people.values():
            _, why = self.line_manager(person)
            if why:
                problems.append(Problem(source, person.line, str(why)))
        return problems

    # -- escalation targets -------------------------------------------------------------------
    def resolve(self, settings: Settings, target: str, employee: Person | None, employee_name: str) -> list[Resolution]:
        """Where ``target`` goes for this employee; never empty (a last resort is the comms team)."""
        if target != LINE_MANAGER:
            return self.team(settings, target)
        why: Wording | None
        if employee is None:
            why = Wording(
                N_("{name} is not in the staff directory, so their line manager is not known"), {"name": employee_name}
            )
        else:
            manager, why = self.line_manager(employee)
            if manager is not None:
                return [Resolution(manager.recipient(), LINE_MANAGER)]
        assert why is not None
        note = Wording(
            N_("This came to {team} instead of a line manager: {why}."),
            {"team": partial(settings.target_name, COMMS), "why": why.said_in},
        )
        # the note is kept with the recipient, so it is written in the language their case reaches them in
        return [
            Resolution(r.recipient, r.target, r.role, note.said_in(settings.language_for(r.recipient.language)))
            for r in self.team(settings, COMMS)
        ]

    def team(self, settings: Settings, target: str) -> list[Resolution]:
        """A team target: its channel or mailbox from the settings, else its members in the directory.

        With neither, the recipient is the team's name alone, so the delivery fails visibly
        (and is shown to the comms team and in ``policybot cases``) instead of vanishing.
        """
        contact = settings.targets.get(target, {})
        role = target_role(settings, target)
        name = settings.target_name(target)
        if contact.get("slack_channel") or contact.get("teams_channel") or contact.get("email"):
            channel = Recipient(
                kind="channel",
                key=target,
                name=name,
                email=contact.get("email"),
                slack_channel=contact.get("slack_channel"),
                teams_channel=contact.get("teams_channel"),
            )
            return [Resolution(channel, target, role)]
        members = self.members(role)
        if members:
            return [Resolution(p.recipient(), target, role) for p in members]
        return [Resolution(Recipient(kind="channel", key=target, name=name), target, role)]


# -- reading files --------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _person(values: dict[str, Any], line: int) -> Person:
    roles_raw = values.get("roles") or []
    if isinstance(roles_raw, str):
        roles_raw = _ROLE_SEPARATORS.split(roles_raw)
    roles = tuple(dict.fromkeys(normalise_role(r) for r in roles_raw if str(r).strip()))
    email = _text(values.get("email"))
    return Person(
        id=str(values["id"]).strip(),
        name=str(values["name"]).strip(),
        email=email.lower() if email else None,
        slack_id=_text(values.get("slack_id")),
        teams_id=_text(values.get("teams_id")),
        manager=_text(values.get("manager")),
        roles=roles,
        language=(_text(values.get("language")) or "").lower() or None,
        line=line,
    )


def _read_yaml(path: Path) -> list[Person]:
    raw = load_yaml_file(path, limits=LARGE_FILE_LIMITS)  # a big council's staff list is long, never deep
    name = str(path)
    if raw is None:
        raise FileProblems([Problem(name, 1, "the directory file is empty; it should start with 'people:'")])
    if isinstance(raw, list):
        raise FileProblems([Problem(name, 1, "put the list of people under a 'people:' key")])
    problems = schema_problems(raw, DIRECTORY_SCHEMA, name)
    people: list[Person] = []
    entries = raw.get("people") if isinstance(raw, dict) else None
    if isinstance(entries, LineList):
        for index, entry in enumerate(entries):
            if not isinstance(entry, LineDict) or "id" not in entry or "name" not in entry:
                continue
            line = entries.line_of(index)
            if not _ID.match(str(entry["id"])):
                problems.append(
                    Problem(
                        name, entry.line_of("id"), f"the id '{entry['id']}' may only use {_ID_SCHEMA['description']}"
                    )
                )
                continue
            people.append(_person(entry, line))
    if problems:
        raise FileProblems(problems)
    return people


def _read_csv(path: Path) -> list[Person]:
    name = str(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise FileProblems([Problem(name, 1, "file not found")]) from None
    except OSError as err:
        raise FileProblems([Problem(name, 1, f"cannot read the file: {err.strerror}")]) from None
    problems: list[Problem] = []
    people: list[Person] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader, [])]
            if not header:
                raise FileProblems(
                    [Problem(name, 1, f"the file is empty; the first line should be: {','.join(FIELDS)}")]
                )
            unknown = [h for h in header if h not in FIELDS]
            problems += [Problem(name, 1, f"unknown column '{h}'{did_you_mean(h, FIELDS)}") for h in unknown]
            problems += [Problem(name, 1, f"the column '{c}' is missing") for c in ("id", "name") if c not in header]
            if problems:
                raise FileProblems(problems)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    problems.append(
                        Problem(name, line, f"this row has {len(row)} values but the header has {len(header)} columns")
                    )
                    continue
                values = dict(zip(header, row, strict=True))
                row_problems = _csv_row_problems(values, name, line)
                if row_problems:
                    problems += row_problems
                    continue
                people.append(_person(values, line))
        except UnicodeDecodeError:
            raise FileProblems(
                [Problem(name, 1, "the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in Excel)")]
            ) from None
        except csv.Error as err:
            raise FileProblems([Problem(name, reader.line_num or 1, f"this is not valid CSV: {err}")]) from None
    if problems:
        raise FileProblems(problems)
    return people


def _csv_row_problems(values: dict[str, str], name: str, line: int) -> list[Problem]:
    problems = []
    if not values.get("id", "").strip():
        problems.append(Problem(name, line, "the id is empty"))
    elif not _ID.match(values["id"].strip()):
        problems.append(Problem(name, line, f"the id '{values['id']}' may only use {_ID_SCHEMA['description']}"))
    if not values.get("name", "").strip():
        problems.append(Problem(name, line, "the name is empty"))
    email = values.get("email", "").strip()
    if email and not re.match(PERSON_SCHEMA["properties"]["email"]["pattern"], email):
        problems.append(Problem(name, line, f"'{email}' is not an email address like name@council.gov.uk"))
    return problems


def _duplicate_problems(people: list[Person], name: str) -> list[Problem]:
    """Two entries with the same id, email, Slack id or Teams id would make identity ambiguous."""
    problems = []
    for label, key in (
        ("id", lambda p: p.id),
        ("email", lambda p: p.email),
        ("slack_id", lambda p: p.slack_id.upper() if p.slack_id else None),
        ("teams_id", lambda p: p.teams_id.lower() if p.teams_id else None),
    ):
        first: dict[str, Person] = {}
        for person in people:
            value = key(person)
            if value is None:
                continue
            if value in first:
                problems.append(
                    Problem(
                        name,
                        person.line,
                        f"the {label} '{value}' is already used by {first[value].name} on line {first[value].line}",
                    )
                )
            else:
                first[value] = person
    return problems


def load_directory(settings: Settings) -> Directory:
    """The directory named by the settings (``directory:``), else an empty one.

    With an empty directory nobody has a known line manager, so ``line_manager`` escalations go
    to the comms team with a note saying so: nothing is lost while a council sets the file up.
    """
    path = settings.directory_path
    return Directory.load(path) if path is not None else Directory()
