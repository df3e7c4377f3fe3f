"""The Home tab (what the person has open, their cases, their onboarding) and uninstalling.

Uninstalling: Slack sends ``app_uninstalled`` and ``tokens_revoked`` (both subscribed in the
manifests). With several workspaces Bolt's own token revocation listeners delete the
workspace's installation and its tokens, and the token cache forgets them at once, so case
notifications for that workspace stop (WorkspaceNotifier fails them as permanent, saying why).
In one workspace there is nothing stored to delete: the event is logged for the IT admin.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

from babel.dates import format_date
from slack_bolt import App, BoltContext
from slack_bolt.context.ack import Ack

from adapters.slack import render as R
from adapters.slack.installs import SlackInstalls
from adapters.slack.surface import SlackSurface, user_of
from bot.cases.model import ACKNOWLEDGED, CLOSED, Case
from bot.cases.service import CaseService
from bot.conversation.events import Actor
from bot.language.i18n.catalog import interface
from bot.ops.reports import onboarding_progress

log = logging.getLogger(__name__)

ONBOARDING = "onboarding"


def day_in(moment: date, language: str | None) -> str:
    """ "01 Dec 2026", the month named in the reader's language by Babel's locale data ("01 Rhag 2026")."""
    return format_date(moment, "dd MMM y", locale=language or "en")


def case_status(case: Case, language: str | None = None) -> str:
    """One line on a case notification saying where the case stands now, in ``language`` (the
    reader's: the person who pressed, in their own DM; a team channel reads English)."""
    _ = interface(language)
    if case.state == ACKNOWLEDGED:
        return _("Acknowledged by {name}. The employee has been told.").format(
            name=case.acknowledged_by_name or _("someone")
        )
    if case.state == "resolved":
        return _("Resolved by {name}. The employee has been told.").format(name=case.closed_by_name or _("someone"))
    if case.state == "withdrawn":
        return _("Withdrawn by the employee: nothing more is needed.")
    return _("Waiting for someone to acknowledge it.")


def case_buttons(case: Case) -> list[str]:
    """The case buttons still worth showing."""
    if case.state in CLOSED:
        return []
    if case.state == ACKNOWLEDGED:
        return ["resolve", "message_employee"]
    return ["acknowledge", "resolve", "message_employee"]


def home_case(case: Case, *, mine: bool, language: str | None = None) -> R.HomeCase:
    _ = interface(language)
    if mine:
        names = R.join_names(case.recipient_names(), language) or _("the right people")
        detail = _("Sent to {names}").format(names=names)
        if case.acknowledged_by_name:
            detail += "; " + _("{name} is dealing with it").format(name=case.acknowledged_by_name)
    else:
        detail = _("From {name}, {when} UTC").format(
            name=case.employee_name, when=f"{day_in(case.created_at, language)} {case.created_at.strftime('%H:%M')}"
        )
    return R.HomeCase(case.id, case.flow_title, case.state, detail, tuple(case_buttons(case)))


class HomeTab(SlackSurface):
    """``app_home_opened`` and what the tab shows; ``app_uninstalled`` and ``tokens_revoked``."""

    gated_cases: CaseService | None
    installs: SlackInstalls | None

    def register_home(self, app: App) -> None:
        app.event("app_home_opened")(self.on_home_opened)
        if self.installs is not None:
            # Bolt's own listeners delete the installation; ours then empty the token cache.
            app.enable_token_revocation_listeners()
            app.middleware(self._forget_revoked)
        else:
            app.event("app_uninstalled")(self.on_uninstalled)
            app.event("tokens_revoked")(self.on_uninstalled)

    def _forget_revoked(self, body: dict[str, Any], context: BoltContext, next: Any) -> Any:
        event = body.get("event") if isinstance(body, dict) else None
        kind = event.get("type") if isinstance(event, dict) else None
        response = next()
        if kind in ("app_uninstalled", "tokens_revoked") and self.installs is not None:
            self.installs.forget(context.enterprise_id, context.team_id)
            log.info("Slack workspace %s: %s; its installation and tokens were deleted", context.team_id, kind)
        return response

    def on_uninstalled(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """One workspace on SLACK_BOT_TOKEN: the token is dead; only an admin can set a new one."""
        ack()
        kind = (body.get("event") or {}).get("type")
        log.warning(
            "Slack workspace %s: %s. The bot can no longer post there; reinstall the app and set the new "
            "SLACK_BOT_TOKEN (docs/slack.md)",
            context.team_id,
            kind,
        )

    def on_home_opened(self, ack: Ack, body: dict[str, Any], context: BoltContext, event: dict[str, Any]) -> None:
        ack()
        if event.get("tab") != "home":
            return
        user_id = str(event.get("user") or "") or user_of(body, context)
        if user_id:
            self.later(user_id, lambda: self.publish_home(body, user_id, context))

    def home_data(self, actor: Actor, language: str | None = None) -> R.HomeData:
        """What the tab shows, its sentences in ``language`` (the person's, ``engine.language_of``)."""
        _ = interface(language)
        unfinished = self.engine.unfinished(actor)
        data = R.HomeData(
            unfinished=R.HomeUnfinished(unfinished.conversation_id, unfinished.flow_title, unfinished.question)
            if unfinished is not None
            else None,
        )
        notes = []
        try:
            with self.gate:
                onboarding, done = self.onboarding_status(actor, language)
            data = replace(data, onboarding=onboarding, onboarding_done=done)
        except Exception:
            log.exception("could not read the onboarding status for the Home tab")
            notes.append(_("Your onboarding status could not be loaded just now."))
        if self.gated_cases is not None:
            try:
                own = self.gated_cases.cases_for(actor, include_closed=False)
                waiting = self.gated_cases.waiting_for(actor)
                person = self.gated_cases.access.person(actor)
                manages = bool(person and (person.roles or self._manages_anyone(person.id)))
                data = replace(
                    data,
                    open_cases=[home_case(c, mine=True, language=language) for c in own],
                    waiting_cases=[home_case(c, mine=False, language=language) for c in waiting]
                    if (waiting or manages)
                    else None,
                )
            except Exception:
                log.exception("could not read cases for the Home tab")
                notes.append(_("Your cases could not be loaded just now; open the Home tab again in a moment."))
        return replace(data, note=" ".join(notes) or None)

    def _manages_anyone(self, person_id: str) -> bool:
        directory = self.runtime.directory
        return bool(directory is not None and directory.reports_of(person_id))

    def onboarding_status(self, actor: Actor, language: str | None = None) -> tuple[str | None, bool]:
        """A sentence about the person's onboarding check, and whether it is done (None: no such flow)."""
        _ = interface(language)
        if ONBOARDING not in self.runtime.library:
            return None, False
        progress = onboarding_progress(self.runtime.store, self.runtime.library, actor.user_id, flow_id=ONBOARDING)
        if progress.completed_at is None:
            if progress.in_progress:
                return _("You started the onboarding check but have not finished it."), False
            if progress.attempts:
                return _("You stopped the onboarding check before the end. You can do it again any time."), False
            return _("You have not done the onboarding check yet. It takes about five minutes."), False
        day = day_in(progress.completed_at, language)
        if progress.score:
            right, out_of = progress.score
            return "✅ " + _("Done on {day}, with {right} of {out_of} right.").format(
                day=day, right=right, out_of=out_of
            ), True
        return "✅ " + _("Done on {day}.").format(day=day), True

    def publish_home(self, body: dict[str, Any], user_id: str, context: BoltContext | None = None) -> None:
        actor = self.actor_for(body, user_id, context)
        language = self.engine.language_of(actor)
        self.web.views_publish(user_id=user_id, view=R.render_home(self.home_data(actor, language), language))
