"""Who may do what to the flow library, from the settings' ``authoring`` block (directory ids).

- submit: an author, or a reviewer; with no authors listed, anyone;
- approve, reject (request changes), roll back: a reviewer, never on their own change;
- preview a change: its author and the reviewers;
- a change to a flow that escalates to a target in ``two_approvals_for`` needs two reviewers.

Every refusal is a ``NotAllowed`` whose words say what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.errors import NotAllowed
from bot.language.flow_model import Flow
from bot.language.i18n.catalog import N_
from bot.language.settings import Settings


class Authoring:
    def __init__(self, settings: Settings) -> None:
        block = settings.authoring
        self.authors = [str(a) for a in block.get("authors") or []]
        self.reviewers = [str(r) for r in block.get("reviewers") or []]
        self.two_approvals_for = {str(t) for t in block.get("two_approvals_for") or []}

    def is_reviewer(self, person: str) -> bool:
        return person in self.reviewers

    def check_submit(self, person: str) -> None:
        if self.authors and person not in self.authors and not self.is_reviewer(person):
            raise NotAllowed(
                f"{person} is not named as an author of the flow library; ask whoever runs policybot to add "
                "them to authoring.authors in the settings file"
            )

    def check_review(self, person: str, author: str) -> None:
        if person == author:
            others = ", ".join(r for r in self.reviewers if r != author)
            if not others:
                raise NotAllowed(
                    N_(
                        "you submitted this change, so someone else has to review it: "
                        "name another reviewer in the settings"
                    )
                )
            raise NotAllowed(N_("you submitted this change, so someone else has to review it: {others}"), others=others)
        if not self.is_reviewer(person):
            if not self.reviewers:
                raise NotAllowed(
                    N_("nobody is named as a reviewer yet: add directory ids to authoring.reviewers in the settings")
                )
            raise NotAllowed(
                N_("{person} is not a reviewer of the flow library (reviewers: {reviewers})"),
                person=person,
                reviewers=", ".join(self.reviewers),
            )

    def check_rollback(self, person: str) -> None:
        if not self.is_reviewer(person):
            raise NotAllowed(f"only a reviewer may roll the flow library back; {person} is not one")

    def check_preview(self, person: str, author: str) -> None:
        if person != author and not self.is_reviewer(person):
            raise NotAllowed(N_("only the change's author and the reviewers may preview it"))

    def approvals_needed(self, flows: Iterable[Flow]) -> int:
        """Two when any of these flows can escalate to a two-approval target, else one."""
        if not self.two_approvals_for:
            return 1
        for flow in flows:
            for state in flow.outcomes:
                if state.escalate is not None and self.two_approvals_for & set(state.escalate.all_targets):
                    return 2
        return 1
