"""The seam where publishing plugs in: the studio's one way to the flow library's change requests.

Publishing (bot.publishing.changes.Publishing: the library in versions; change requests
submitted, diffed, approved, rejected, rolled back) decides every rule, the same ones
``policybot library ...`` and the Slack and Teams review buttons obey. The studio holds no policy
logic: ``PublishingDesk`` turns the signed-in person into their staff-directory id (the id
Publishing knows people by) and passes each request on; a refusal comes back as Publishing's own
sentence, which the page shows. With no publishing in the runtime, ``NoPublishing`` answers: the
Changes page says so, "Submit" is not offered, and the flows list shows no open changes.

The Changes page itself is in adapters.studio.change_pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from adapters.studio.roles import StudioUser
from bot.errors import NotAllowed
from bot.publishing.changes import Decision, Publishing
from bot.publishing.diff import FileDiff
from bot.publishing.model import PENDING, Change
from bot.publishing.versions import Version
from bot.runtime import Runtime


@dataclass(frozen=True)
class ChangeSummary:
    id: str
    flow_id: str
    title: str
    author: str
    state: str  # pending, published, rejected


def summary(change: Change) -> ChangeSummary:
    title = change.note or f"{change.kind} of {', '.join(change.flows) or 'the library'}"
    return ChangeSummary(change.id, ", ".join(change.flows), title, change.author, change.status)


class ChangeDesk(Protocol):
    """What the studio asks of publishing. Every action takes the signed-in person, whom the
    publishing service checks (an author submits, a reviewer who is not the author approves)."""

    enabled: bool

    def open_changes(self, flow_id: str | None = None) -> list[ChangeSummary]: ...

    def submit(self, user: StudioUser, flow_id: str, source: str, note: str) -> ChangeSummary: ...

    def changes(self) -> list[Change]: ...

    def change(self, reference: str) -> tuple[Change, list[FileDiff]]: ...

    def approve(self, user: StudioUser, reference: str) -> Decision: ...

    def request_changes(self, user: StudioUser, reference: str, why: str) -> Change: ...

    def history(self, flow_id: str | None = None) -> list[Change]: ...

    def versions(self) -> list[Version]: ...

    def rollback(self, user: StudioUser, flow_id: str, version: int, note: str) -> Change: ...

    def submit_files(self, user: StudioUser, files: dict[str, str | None], note: str) -> ChangeSummary: ...


def person_id(user: StudioUser) -> str:
    """The directory id Publishing knows this person by; someone not in the directory has none."""
    if user.person is None:
        raise NotAllowed(
            "the studio can't tell which member of staff you are: your sign-in is not in the staff directory, "
            "so publishing can't check that you may change the flow library. Ask the comms team to add you."
        )
    return user.person.id


class PublishingDesk:
    """The studio's requests, passed on to ``Publishing`` with the signed-in person's directory id."""

    enabled = True

    def __init__(self, runtime: Runtime, publishing: Publishing) -> None:
        self.runtime = runtime
        self.publishing = publishing

    def open_changes(self, flow_id: str | None = None) -> list[ChangeSummary]:
        return [summary(c) for c in self.publishing.history(flow_id) if c.status == PENDING]

    def submit(self, user: StudioUser, flow_id: str, source: str, note: str) -> ChangeSummary:
        return self.submit_files(user, {f"{flow_id}.yaml": source}, note)

    def submit_files(self, user: StudioUser, files: dict[str, str | None], note: str) -> ChangeSummary:
        names = {name: name for name in files}
        change = self.publishing.submit_files(files, person_id(user), note.strip() or None, names=names)
        return summary(change)

    def changes(self) -> list[Change]:
        return list(reversed(self.publishing.history()))  # newest first

    def change(self, reference: str) -> tuple[Change, list[FileDiff]]:
        found = self.publishing.get(reference)
        return found, self.publishing.diff(found.id)

    def approve(self, user: StudioUser, reference: str) -> Decision:
        decision = self.publishing.approve(reference, person_id(user))
        self._serve_new_version()
        return decision

    def request_changes(self, user: StudioUser, reference: str, why: str) -> Change:
        return self.publishing.reject(reference, person_id(user), why)

    def history(self, flow_id: str | None = None) -> list[Change]:
        return list(reversed(self.publishing.history(flow_id)))

    def versions(self) -> list[Version]:
        return list(reversed(self.publishing.all_versions()))

    def rollback(self, user: StudioUser, flow_id: str, version: int, note: str) -> Change:
        change = self.publishing.rollback(flow_id, version, person_id(user), note.strip() or None)
        self._serve_new_version()
        return change

    def _serve_new_version(self) -> None:
        """This process serves a new version at once; other replicas poll for it (bot.publishing.live)."""
        if self.runtime.live is not None:
            self.runtime.live.check()


class NoPublishing:
    """No publishing in this runtime: nothing is open and nothing can be submitted."""

    enabled = False

    def open_changes(self, flow_id: str | None = None) -> list[ChangeSummary]:
        return []

    def changes(self) -> list[Change]:
        return []

    def history(self, flow_id: str | None = None) -> list[Change]:
        return []

    def versions(self) -> list[Version]:
        return []

    def submit(self, user: StudioUser, flow_id: str, source: str, note: str) -> ChangeSummary:
        raise _off()

    def submit_files(self, user: StudioUser, files: dict[str, str | None], note: str) -> ChangeSummary:
        raise _off()

    def change(self, reference: str) -> tuple[Change, list[FileDiff]]:
        raise web.HTTPNotFound()

    def approve(self, user: StudioUser, reference: str) -> Decision:
        raise _off()

    def request_changes(self, user: StudioUser, reference: str, why: str) -> Change:
        raise _off()

    def rollback(self, user: StudioUser, flow_id: str, version: int, note: str) -> Change:
        raise _off()


def _off() -> web.HTTPConflict:
    return web.HTTPConflict(text="Publishing is not switched on, so the flow library cannot be changed here.")


def desk_for(runtime: Runtime) -> ChangeDesk:
    if runtime.publishing is None:
        return NoPublishing()
    return PublishingDesk(runtime, runtime.publishing)
