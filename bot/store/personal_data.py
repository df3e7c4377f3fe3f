"""What each table holds about people, declared next to the table by whoever owns it.

``policybot purge`` (retention) and ``policybot export-person`` (a subject-access request) work
from these declarations rather than from a list of their own, so a new table joins both with one
``declare(...)`` beside its definition. tests/production/test_personal_data.py fails when a table
in the database, or in any MetaData in the code, has a column that looks personal (a user id, an
email, a name, a note, free text, answers…) and is not declared here, or when a declaration names
a column that does not exist. Declare a table like this:

```python
declare(PersonalData(
    "routing_feedback",                 # the table
    person=("user_id",),                # who a row is about: export-person finds rows by these
    details=("text",),                  # anything else personal in the row
    at="created_at",                    # rows older than the retention age are purged
))
```

Retention is one of: ``at`` (rows older than the retention age go), ``parent`` (a row goes with its
parent row: a case's recipients go with the case), ``rules`` (purged by rules of their own in
bot.ops.reports.purge: conversations, audit, cases, whose open cases are kept whatever their age),
or ``kept_because`` (kept on purpose, and the reason is written down for docs/deploy.md).

The tables the migrations create from definitions outside the core (slack_sdk's install tables
and the Teams adapter's tables; see bot.store.migrate.OUTSIDE_TABLES) are declared at the end of
this module, because the core never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Parent:
    """A row of this table belongs to a row of ``table`` (``column`` here holds its ``key``)."""

    table: str
    column: str
    key: str = "id"


@dataclass(frozen=True)
class PersonalData:
    table: str
    person: tuple[str, ...] = ()  # columns naming who a row is about (chat user ids, directory ids, emails)
    details: tuple[str, ...] = ()  # other personal columns: names, answers, notes, message text
    person_json: tuple[str, ...] = ()  # JSON text columns holding a person's ids inside them
    # columns holding a pseudonym of the chat user id, and how to make it: (connection, user id) -> pseudonym
    pseudonymous: tuple[str, ...] = ()
    pseudonym: Callable[[Any, str], str] | None = None
    secrets: tuple[str, ...] = ()  # credentials in the row: never exported
    not_personal: tuple[str, ...] = ()  # columns whose names look personal but are not (say why beside them)
    at: str | None = None
    parent: Parent | None = None
    rules: str | None = None
    kept_because: str | None = None
    rows: str | None = None  # an SQL condition picking the personal rows, when only some are

    def __post_init__(self) -> None:
        ways = [self.parent is not None, bool(self.rules), bool(self.kept_because)]
        if sum(ways) + (self.at is not None and not any(ways)) != 1:
            raise ValueError(f"personal data in {self.table}: give exactly one of at, parent, rules or kept_because")
        if bool(self.pseudonymous) != (self.pseudonym is not None):
            raise ValueError(f"personal data in {self.table}: pseudonymous columns need the pseudonym function")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column this declaration names."""
        named = (*self.person, *self.details, *self.person_json, *self.pseudonymous, *self.secrets, *self.not_personal)
        extra = (self.at,) if self.at else ()
        return (*named, *extra, *((self.parent.column,) if self.parent else ()))

    @property
    def retention(self) -> str:
        """How purge treats the table, in words."""
        if self.rules:
            return self.rules
        if self.kept_because:
            return f"kept: {self.kept_because}"
        if self.parent is not None:
            return f"deleted with its row in {self.parent.table}"
        return f"deleted when {self.at} is older than the retention age"


_DECLARED: dict[str, PersonalData] = {}


def declare(entry: PersonalData) -> PersonalData:
    """Add a table's declaration (once per table; declaring it again replaces it)."""
    _DECLARED[entry.table] = entry
    return entry


def declared() -> dict[str, PersonalData]:
    """Every declaration made so far, parents before their children.

    Declarations are made when a table's module is imported: bot.ops.data_protection imports every
    module in bot.store.migrate.TABLE_MODULES first.
    """
    ordered: dict[str, PersonalData] = {}

    def add(entry: PersonalData) -> None:
        if entry.table in ordered:
            return
        if entry.parent is not None and entry.parent.table in _DECLARED:
            add(_DECLARED[entry.parent.table])
        ordered[entry.table] = entry

    for entry in _DECLARED.values():
        add(entry)
    return ordered


# -- tables the migrations create from outside definitions -------------------------------------------

declare(
    PersonalData(
        "slack_installations",
        person=("user_id",),  # the Slack user who installed the app in the workspace
        secrets=("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
        # the bot's own user id, what the user token may do and when it expires; workspace names
        not_personal=("bot_user_id", "user_scopes", "user_token_expires_at", "enterprise_name", "team_name"),
        kept_because="slack_sdk's record of an installed workspace; deleted when the workspace uninstalls the app",
    )
)
declare(
    PersonalData(
        "slack_bots",
        secrets=("bot_token", "bot_refresh_token"),
        not_personal=("bot_user_id", "enterprise_name", "team_name"),
        kept_because="the workspace's bot token, no personal data; deleted when the workspace uninstalls the app",
    )
)
declare(
    PersonalData(
        "teams_references",
        person=("key", "email"),  # "user:<Teams id>", "aad:<Entra id>", "email:<address>"; channels are not people
        details=("name", "reference"),  # the reference JSON holds the person's Teams and Entra ids
        at="updated_at",  # refreshed whenever the person writes to the bot
        rows="key NOT LIKE 'channel:%'",
    )
)
declare(
    PersonalData(
        "teams_sent_cards",
        details=("card",),  # the whole case card: names, answers, notes
        parent=Parent("cases", "case_id"),
    )
)
