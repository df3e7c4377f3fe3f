"""Change requests to the flow library: submit, review, publish, reject, roll back, history.

One ``Publishing`` per runtime. The CLI (``policybot library ...``) and the adapters' review
buttons call it with a directory id (the CLI's ``--as``; an adapter's authenticated person via
``review_by_actor``), and every rule is decided here (bot.publishing.authoring). Publishing is one
transaction: the review row, the new library version and the change's status commit together or
not at all, and the version number is the primary key, so two approvals racing on two replicas
cannot both publish.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.cases.directory import Directory
from bot.clock import Clock
from bot.conversation.events import Actor
from bot.conversation.library import FlowLibrary
from bot.errors import FileProblems, NotAllowed, PolicybotError, Problem
from bot.language.i18n.catalog import N_, plural
from bot.language.i18n.wording import Wording
from bot.language.settings import Settings
from bot.publishing import versions
from bot.publishing.authoring import Authoring
from bot.publishing.checks import check_draft
from bot.publishing.diff import FileDiff, describe
from bot.publishing.model import APPROVE, PENDING, PUBLISHED, REJECT, REJECTED, Change, Review, change_json
from bot.publishing.notices import ReviewNotices
from bot.publishing.scope import flows_of, is_flow_name, scope, shared, touched_flows
from bot.publishing.snapshot import Files, apply, library_from_files, name_for, write_out
from bot.publishing.tables import library_changes, library_reviews
from bot.store import Store


@dataclass(frozen=True)
class Decision:
    """What an approval did: published (and as which version), or waits for another approval."""

    change: Change
    published_version: int | None
    words: Wording

    @property
    def message(self) -> str:
        """In English, for the command line and the studio."""
        return str(self.words)


class ChangeRefused(FileProblems):
    """Submit (or publish) refused because validate or the scenario tests found problems."""


class Publishing:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        directory: Directory | None = None,
        *,
        settings_path: Path | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.authoring = Authoring(settings)
        self.clock = clock
        self.directory = directory
        self.settings_path = settings_path
        self.notices = ReviewNotices(store, clock, settings, directory)

    # -- submitting ------------------------------------------------------------------------------
    def submit(self, paths: list[Path], author: str, note: str | None = None) -> Change:
        """A change request from edited files; refused with every problem when validate or a
        scenario test fails on the library the change would make."""
        files: Files = {}
        names: dict[str, str] = {}
        for path in paths:
            if not path.is_file():
                raise PolicybotError(f"{path}: no such file")
            name = name_for(path, self.settings_path)
            files[name] = path.read_text(encoding="utf-8")
            names[name] = str(path)
        return self.submit_files(files, author, note, names=names)

    def submit_files(
        self, files: Files, author: str, note: str | None = None, *, names: dict[str, str] | None = None
    ) -> Change:
        self.authoring.check_submit(author)
        if not files:
            raise PolicybotError("name at least one edited file to submit")
        with self.store.transaction() as conn:
            base = _live_or_fail(conn)
        draft = apply(base.files, files)
        if draft == base.files:
            raise PolicybotError("these files are the same as the live library: there is nothing to submit")
        flows = touched_flows(base.files, files)
        checked = check_draft(draft, names or {}, flows=scope(files, flows))
        if not checked.ok:
            raise ChangeRefused(checked.problems)
        # settings and citations are read by every flow: such a change counts as touching them all
        everything = [n.removesuffix(".yaml") for n in draft if is_flow_name(n)] if shared(files) else flows
        needed = self.authoring.approvals_needed(flows_of(base.files, draft, everything))
        change_id = uuid.uuid4().hex
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                insert(library_changes).values(
                    id=change_id,
                    kind=versions.CHANGE,
                    author=author,
                    note=note,
                    base_version=base.number,
                    files=json.dumps(files, ensure_ascii=False, sort_keys=True),
                    flows=json.dumps(flows),
                    status=PENDING,
                    approvals_needed=needed,
                    created_at=now,
                )
            )
            change = self._load(conn, change_id)
            assert change is not None
            self.notices.submitted(conn, change, self.diff_of(conn, change), self.authoring.reviewers)
        return change

    # -- reading -----------------------------------------------------------------------------------
    def get(self, reference: str) -> Change:
        with self.store.transaction() as conn:
            return self._find(conn, reference)

    def diff(self, reference: str) -> list[FileDiff]:
        with self.store.transaction() as conn:
            return self.diff_of(conn, self._find(conn, reference))

    def diff_of(self, conn: Connection, change: Change) -> list[FileDiff]:
        """Against the version it was made on (what the author changed, whatever was published since)."""
        base = versions.read(conn, change.base_version)
        before = base.files if base is not None else {}
        return describe(before, apply(before, change.files))

    def history(self, flow_id: str | None = None) -> list[Change]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(library_changes.c.id).order_by(library_changes.c.created_at)).scalars().all()
            found = [c for c in (self._load(conn, str(r)) for r in rows) if c is not None]
        return [c for c in found if flow_id is None or flow_id in c.flows]

    def all_versions(self) -> list[versions.Version]:
        with self.store.transaction() as conn:
            number = versions.live_number(conn) or 0
            return [v for v in (versions.read(conn, n) for n in range(1, number + 1)) if v is not None]

    def draft_library(self, reference: str, person: str) -> FlowLibrary:
        """The library the change would make (the live one with its files), for a preview."""
        with self.store.transaction() as conn:
            change = self._find(conn, reference)
            live = _live_or_fail(conn)
        self.authoring.check_preview(person, change.author)
        return library_from_files(apply(live.files, change.files), version=None, settings_home=self.settings_path)

    # -- reviewing -----------------------------------------------------------------------------------
    def approve(self, reference: str, reviewer: str, *, delivery_id: str | None = None) -> Decision:
        """Record an approval; publish when the change has all it needs (one transaction).

        ``delivery_id``: a chat platform's id for this one press; the same id again (a retried or
        replayed request) changes nothing and is answered with where the change stands."""
        with self.store.transaction() as conn:
            if delivery_id is not None and not self.store.claim_delivery(conn, delivery_id, self.clock.now()):
                found = self._find(conn, reference)
                return Decision(found, found.published_version, _already(found))
            change = self._pending(conn, reference)
            self.authoring.check_review(reviewer, change.author)
            if reviewer in change.approvals:
                raise NotAllowed(N_("You have already approved this change; {needs}."), needs=_needs(change))
            self._review(conn, change.id, reviewer, APPROVE, None)
            if len(change.approvals) + 1 < change.approvals_needed:
                change = self._load(conn, change.id) or change
                approved = Wording(
                    N_("Approved by {reviewer}; {needs} before it is published."),
                    {"reviewer": reviewer, "needs": _needs(change)},
                )
                return Decision(change, None, approved)
            number = self._publish(conn, change, reviewer)
            change = self._load(conn, change.id) or change
        published = N_("Published as library version {version}; every replica serves it within seconds.")
        return Decision(change, number, Wording(published, {"version": str(number)}))

    def reject(self, reference: str, reviewer: str, why: str, *, delivery_id: str | None = None) -> Change:
        """Send a change back to its author (Slack and Teams call this "Request changes").
        ``delivery_id`` as for ``approve``: a repeat sends nothing back a second time."""
        if not why.strip():
            raise PolicybotError("say why, so the author knows what to change (--why TEXT)")
        with self.store.transaction() as conn:
            if delivery_id is not None and not self.store.claim_delivery(conn, delivery_id, self.clock.now()):
                return self._find(conn, reference)
            change = self._pending(conn, reference)
            self.authoring.check_review(reviewer, change.author)
            self._review(conn, change.id, reviewer, REJECT, why)
            conn.execute(
                update(library_changes)
                .where(library_changes.c.id == change.id, library_changes.c.status == PENDING)
                .values(status=REJECTED, decided_at=self.clock.now())
            )
            self.notices.decided(
                conn, change, Wording(N_("Changes requested by {reviewer}: {why}"), {"reviewer": reviewer, "why": why})
            )
            found = self._load(conn, change.id)
        assert found is not None
        return found

    def reviewer_language(self, actor: Actor) -> str | None:
        """The language review notices reach this person in (their directory entry's, as
        ReviewNotices writes them), so a press is answered in the language of the card pressed."""
        person = self.directory.find(actor) if self.directory is not None else None
        return person.language if person is not None else None

    def review_by_actor(
        self, actor: Actor, reference: str, action: str, why: str | None = None, *, delivery_id: str | None = None
    ) -> Wording:
        """The adapters' button: ``approve`` or ``request_changes`` by the authenticated clicker.

        The clicker is looked up in the staff directory by their platform identity (as the case
        buttons are), never by anything the button's payload says; the answer is one sentence
        for the clicker. NotAllowed is raised with words for them. ``delivery_id``: the press (or
        the modal submission) as the platform identifies it, so a retry or a replay applies once.
        """
        person = self.directory.find(actor) if self.directory is not None else None
        if person is None:
            raise NotAllowed(
                N_(
                    "policybot can't tell who you are: your chat account is not in the staff directory, so it "
                    "can't check that you review the flow library. Ask the comms team to add you to the directory."
                )
            )
        if action == APPROVE:
            return self.approve(reference, person.id, delivery_id=delivery_id).words
        if action in ("request_changes", REJECT):
            why = why or "changes requested (no reason given)"
            change = self.reject(reference, person.id, why, delivery_id=delivery_id)
            return Wording(N_("Sent back to {author} with your request for changes."), {"author": change.author})
        raise PolicybotError(f"'{action}' is not something a reviewer can do to a change")

    # -- rolling back and exporting -------------------------------------------------------------------
    def rollback(self, flow_id: str, to_version: int, reviewer: str, note: str | None = None) -> Change:
        """Put one flow (and its scenario tests) back as it was in ``to_version``, as a new version.
        Recorded as a change of kind ``rollback`` approved by the reviewer who ran it."""
        self.authoring.check_rollback(reviewer)
        with self.store.transaction() as conn:
            old = versions.read(conn, to_version)
            live = _live_or_fail(conn)
        if old is None:
            raise PolicybotError(f"there is no library version {to_version}; `policybot library history` lists them")
        files: Files = {}
        for name in (f"{flow_id}.yaml", f"{flow_id}.test.yaml"):
            if old.files.get(name) != live.files.get(name):
                files[name] = old.files.get(name)
        if f"{flow_id}.yaml" not in old.files and f"{flow_id}.yaml" not in live.files:
            raise PolicybotError(f"flow '{flow_id}' is in neither version {to_version} nor the live library")
        if not files:
            raise PolicybotError(f"flow '{flow_id}' is already as it was in version {to_version}")
        checked = check_draft(apply(live.files, files), {}, flows={flow_id})
        if not checked.ok:
            raise ChangeRefused(checked.problems)
        now = self.clock.now()
        change_id = uuid.uuid4().hex
        with self.store.transaction() as conn:
            conn.execute(
                insert(library_changes).values(
                    id=change_id,
                    kind=versions.ROLLBACK,
                    author=reviewer,
                    note=note or f"roll {flow_id} back to library version {to_version}",
                    base_version=live.number,
                    files=json.dumps(files, ensure_ascii=False, sort_keys=True),
                    flows=json.dumps([flow_id]),
                    status=PENDING,
                    approvals_needed=1,
                    created_at=now,
                )
            )
            change = self._load(conn, change_id)
            assert change is not None
            self._review(conn, change_id, reviewer, APPROVE, None)
            self._publish(conn, change, reviewer, source=versions.ROLLBACK)
            found = self._load(conn, change_id)
        assert found is not None
        return found

    def export(self, folder: Path, version: int | None = None) -> list[str]:
        """Write a version (default: the live one) out as YAML files; the names written."""
        with self.store.transaction() as conn:
            chosen = versions.read(conn, version) if version is not None else _live_or_fail(conn)
        if chosen is None:
            raise PolicybotError(f"there is no library version {version}")
        write_out(chosen.files, folder)
        return sorted(chosen.files)

    # -- inside -----------------------------------------------------------------------------------
    def _publish(self, conn: Connection, change: Change, by: str, *, source: str = versions.CHANGE) -> int:
        live = _live_or_fail(conn)
        if live.number != change.base_version:
            base = versions.read(conn, change.base_version)
            moved = [n for n in change.files if base is None or base.files.get(n) != live.files.get(n)]
            if moved:
                raise PolicybotError(
                    f"{', '.join(moved)} changed in the live library after this change was submitted; "
                    "the author should export the live library, make the edit again and submit it again"
                )
            checked = check_draft(apply(live.files, change.files), {}, flows=scope(change.files, change.flows))
            if not checked.ok:
                raise ChangeRefused(checked.problems)
        now = self.clock.now()
        try:
            number = versions.publish(
                conn,
                apply(live.files, change.files),
                source=source,
                by=by,
                now=now,
                change_id=change.id,
                expect_live=live.number,
            )
        except versions.Conflict as err:
            raise PolicybotError(
                f"another change was published at the same moment (now version {err.live}); try again"
            ) from None
        except IntegrityError:  # another replica inserted the same version number first
            raise PolicybotError("another change was published at the same moment; try again") from None
        conn.execute(
            update(library_changes)
            .where(library_changes.c.id == change.id)
            .values(status=PUBLISHED, decided_at=now, published_version=number)
        )
        decided = N_("Published as library version {version} (approved by {by}).")
        self.notices.decided(conn, change, Wording(decided, {"version": str(number), "by": by}))
        return number

    def _review(self, conn: Connection, change_id: str, reviewer: str, decision: str, why: str | None) -> None:
        conn.execute(
            insert(library_reviews).values(
                change_id=change_id, reviewer=reviewer, decision=decision, why=why, at=self.clock.now()
            )
        )

    def _pending(self, conn: Connection, reference: str) -> Change:
        """The change, locked until the transaction ends, so two reviewers approving at the same
        moment are counted one after the other (on SQLite the transaction already holds the lock)."""
        found = self._find(conn, reference)
        conn.execute(select(library_changes.c.id).where(library_changes.c.id == found.id).with_for_update())
        change = self._load(conn, found.id) or found  # the reviews as they are now, after the lock
        if change.status != PENDING:
            raise PolicybotError(f"change {change.id[:8]} is already {change.status}")
        return change

    def _find(self, conn: Connection, reference: str) -> Change:
        ref = reference.strip().lower()
        if len(ref) < 4:
            raise PolicybotError("give at least the first 4 characters of the change id")
        rows = conn.execute(select(library_changes.c.id).where(library_changes.c.id.like(f"{ref}%"))).scalars().all()
        if len(rows) != 1:
            raise PolicybotError(
                f"no change starts with '{reference}'; `policybot library history` lists them"
                if not rows
                else f"'{reference}' matches {len(rows)} changes; give more of the id"
            )
        change = self._load(conn, str(rows[0]))
        assert change is not None
        return change

    def _load(self, conn: Connection, change_id: str) -> Change | None:
        row = conn.execute(select(library_changes).where(library_changes.c.id == change_id)).mappings().first()
        if row is None:
            return None
        reviews = conn.execute(
            select(library_reviews).where(library_reviews.c.change_id == change_id).order_by(library_reviews.c.id)
        ).mappings()
        return Change(
            id=row["id"],
            kind=row["kind"],
            author=row["author"],
            note=row["note"],
            base_version=int(row["base_version"]),
            files=dict(json.loads(row["files"])),
            flows=list(json.loads(row["flows"])),
            status=row["status"],
            approvals_needed=int(row["approvals_needed"]),
            published_version=row["published_version"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            reviews=[Review(r["reviewer"], r["decision"], r["why"], r["at"]) for r in reviews],
        )


def _already(change: Change) -> Wording:
    """Where a change stands, for a press that was already applied once."""
    if change.status == PUBLISHED:
        return Wording(
            N_("Already done: published as library version {version}."), {"version": str(change.published_version)}
        )
    if change.status == REJECTED:
        return Wording(N_("Already done: sent back to {author}."), {"author": change.author})
    return Wording(N_("Already done: your approval is recorded; {needs}."), {"needs": _needs(change)})


def _needs(change: Change) -> Callable[[str | None], str]:
    """ "it needs 2 more approvals from another reviewer", in a language (Welsh has six plural forms)."""
    more = change.approvals_needed - len(change.approvals)

    def in_language(language: str | None) -> str:
        ngettext = plural(language)
        return ngettext(
            "it needs {n} more approval from another reviewer",
            "it needs {n} more approvals from another reviewer",
            more,
        ).format(n=more)

    return in_language


def _live_or_fail(conn: Connection) -> versions.Version:
    found = versions.live(conn)
    if found is None:
        raise PolicybotError("the flow library has not been stored yet: start policybot once (any command that serves)")
    return found


__all__ = ["Change", "ChangeRefused", "Decision", "Problem", "Publishing", "Review", "change_json"]
