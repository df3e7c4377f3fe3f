"""Review notifications: "a change to the flow library waits for your review", and its outcome.

They are rows in ``library_outbox``, written in the same transaction as the change they report,
and delivered by the same ``Outbox`` code as case notifications, through the adapter's
``Notifier`` (bot.cases.notify): Slack and Teams render a ``change_submitted`` notification with
the readable diff and two buttons, ``approve_change`` and ``request_changes``, whose press the
adapter hands to ``Publishing.review_by_actor``. ``Notification.case_id`` holds the change id.

Kinds: ``change_submitted`` (to each reviewer but the author, with the buttons) and
``change_decided`` (to the author: published, or changes requested, and why).
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Connection

from bot.cases.directory import Directory
from bot.cases.notify import Notification, Recipient
from bot.cases.outbox import Outbox, RetryPolicy
from bot.clock import Clock
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.languages import ENGLISH
from bot.language.i18n.wording import Wording
from bot.language.settings import Settings
from bot.publishing.diff import FileDiff, as_text
from bot.publishing.model import Change
from bot.publishing.tables import library_outbox
from bot.store import Store

log = logging.getLogger(__name__)

# The notices' fixed words. They are stored in English (the outbox row is the record of what was
# sent); each adapter shows them in the recipient's language with ``title_of`` and ``facts_of``.
SUBMITTED_TITLE = N_("A change to the flow library waits for your review ({change})")
DECIDED_TITLE = N_("Your change to the flow library ({change})")
SUBMITTED_BY = N_("Submitted by")
NOTE = N_("Note")
FLOWS = N_("Flows")
APPROVALS_NEEDED = N_("Approvals needed")
CHANGE = N_("Change")
NO_FLOWS = N_("(settings or citations)")
FACT_WORDS = (SUBMITTED_BY, NOTE, FLOWS, APPROVALS_NEEDED, CHANGE, NO_FLOWS)

CHANGE_SUBMITTED = "change_submitted"
CHANGE_DECIDED = "change_decided"
APPROVE_ACTION = "approve_change"
REQUEST_CHANGES_ACTION = "request_changes"
DIFF_LIMIT = 2500  # characters of the diff in a chat message; the rest is one command away


def title_of(n: Notification) -> str:
    """A review notice's title in its recipient's language (their directory entry's)."""
    if n.recipient.language in (None, ENGLISH):
        return n.title
    pattern = DECIDED_TITLE if n.kind == CHANGE_DECIDED else SUBMITTED_TITLE
    return interface(n.recipient.language)(pattern).format(change=n.case_id[:8])


def facts_of(n: Notification) -> list[tuple[str, str]]:
    """A review notice's facts, their labels (and the fixed values) in the recipient's language."""
    _ = interface(n.recipient.language)
    return [
        (_(label) if label in FACT_WORDS else label, _(value) if value in FACT_WORDS else value)
        for label, value in n.facts
    ]


class ReviewNotices:
    def __init__(self, store: Store, clock: Clock, settings: Settings, directory: Directory | None) -> None:
        self.directory = directory
        self.outbox = Outbox(
            store, clock, RetryPolicy.from_settings(settings), on_give_up=_gave_up, table=library_outbox
        )

    def recipient(self, person_id: str) -> Recipient:
        person = self.directory.get(person_id) if self.directory is not None else None
        if person is None:
            return Recipient(kind="person", key=person_id, name=person_id)
        return person.recipient()

    def submitted(self, conn: Connection, change: Change, diff: list[FileDiff], reviewers: list[str]) -> None:
        text = as_text(diff)
        if len(text) > DIFF_LIMIT:
            text = text[: DIFF_LIMIT - 1] + f"…\n(the whole diff: policybot library diff {change.id[:8]})"
        facts = [
            (SUBMITTED_BY, self.recipient(change.author).name),
            (FLOWS, ", ".join(change.flows) or NO_FLOWS),
            (APPROVALS_NEEDED, str(change.approvals_needed)),
            (CHANGE, change.id[:8]),
        ]
        if change.note:
            facts.insert(1, (NOTE, change.note))
        for reviewer in reviewers:
            if reviewer == change.author:
                continue
            self.outbox.enqueue(
                conn,
                Notification(
                    id=uuid.uuid4().hex,
                    case_id=change.id,
                    kind=CHANGE_SUBMITTED,
                    recipient=self.recipient(reviewer),
                    title=SUBMITTED_TITLE.format(change=change.id[:8]),
                    text=text,
                    actions=[APPROVE_ACTION, REQUEST_CHANGES_ACTION],
                    facts=facts,
                ),
            )

    def decided(self, conn: Connection, change: Change, what: Wording) -> None:
        """Tell the author, in the language of their directory entry (the reviewer's words as written)."""
        author = self.recipient(change.author)
        self.outbox.enqueue(
            conn,
            Notification(
                id=uuid.uuid4().hex,
                case_id=change.id,
                kind=CHANGE_DECIDED,
                recipient=author,
                title=DECIDED_TITLE.format(change=change.id[:8]),
                text=what.said_in(author.language),
                facts=[(FLOWS, ", ".join(change.flows) or NO_FLOWS)],
            ),
        )


def _gave_up(conn: Connection, failed: Notification, reason: str, attempts: int) -> None:
    """Nothing to chase: the change waits in `policybot library history` whatever happens to the message."""
    log.warning("review notification %s could not be delivered after %d attempt(s)", failed.id, attempts)
