"""Who may use the bot: the council's own people, in the workspaces (or Grid org) it is installed in.

A signed request proves it came from Slack, not from whom. In a Slack Connect channel shared with
another organisation, that organisation's people can mention the bot or click a case button
someone forwarded; they must get a polite "this is not for you" and nothing else: no check
started, no case raised into the council's channels, nothing of a case shown.

The rule, for every request, after Bolt's authorize step (so ``context.authorize_result`` says
which install the request was accepted for):

- the request's own workspace (``context.team_id``) and Grid org (``context.enterprise_id``)
  must be the install's (one workspace on ``SLACK_BOT_TOKEN``) or an installed one (OAuth);
- the person's home workspace must be one of those too: ``user.team_id`` on clicks and
  submissions, Bolt's ``actor_team_id`` on events (``event.user_team`` in a shared channel).
  Inside an Enterprise Grid org, any workspace of the org that installed the app counts.

Events without a person (``app_uninstalled``, ``tokens_revoked``) pass: they are about the
install itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient

from adapters.slack.installs import SlackInstalls
from bot.language.i18n.catalog import N_
from bot.telemetry.logging_setup import carry

log = logging.getLogger(__name__)

REFUSAL = N_(
    "Sorry, Policy Bot is only for the council's own staff, so I can't help with this. If you work for "
    "the council, use Policy Bot from your council Slack account."
)
_NO_PERSON_EVENTS = {"app_uninstalled", "tokens_revoked"}


def person_team(body: dict[str, Any], context: BoltContext) -> str | None:
    """The workspace the person who sent the request belongs to (their home, in a shared channel)."""
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str):
        return str(user["team_id"])  # clicks and submissions
    event = body.get("event")
    if isinstance(event, dict):
        for name in ("user_team", "team"):
            value = event.get(name)
            if isinstance(value, str) and value.startswith("T"):
                return value
        return context.actor_team_id or context.team_id
    return context.team_id  # slash commands: the workspace it was typed in


class AccessCheck:
    """The Bolt middleware that refuses anyone outside the council's installs."""

    def __init__(
        self, web: WebClient, io: ThreadPoolExecutor, installs: SlackInstalls | None = None, refusal: str = REFUSAL
    ) -> None:
        """``refusal``: REFUSAL in every language the settings offer (nothing is known of an
        outsider's language, and nothing of theirs is looked up)."""
        self.web = web
        self.io = io
        self.installs = installs
        self.refusal = refusal

    def _installed(self, team: str | None, enterprise: str | None, context: BoltContext) -> bool:
        result = context.authorize_result
        if result is None:
            return True  # no authorize step ran (a replay from the journal was checked when it arrived)
        if team is not None and team == result.team_id:
            return True
        if enterprise is not None and enterprise == result.enterprise_id:
            return True  # a workspace of the Grid org the app is installed in
        if team is not None and self.installs is not None:
            return self.installs.bot_token(team, enterprise) is not None
        return team is None and enterprise is None

    def allowed(self, body: dict[str, Any], context: BoltContext) -> bool:
        event = body.get("event")
        if isinstance(event, dict) and event.get("type") in _NO_PERSON_EVENTS:
            return True
        if not self._installed(context.team_id, context.enterprise_id, context):
            return False
        home = person_team(body, context)
        if home is None or home == context.team_id:
            return True
        return self._installed(home, context.actor_enterprise_id, context)

    def middleware(self, body: dict[str, Any], context: BoltContext, next: Callable[[], Any]) -> Any:
        if not isinstance(body, dict) or self.allowed(body, context):
            return next()
        log.warning(
            "refused a Slack request from outside the council's installs (workspace %s, person's workspace %s)",
            context.team_id,
            person_team(body, context),
        )
        if body.get("command"):  # the answer to a slash command is shown to the person only
            answer = json.dumps({"response_type": "ephemeral", "text": self.refusal})
            return BoltResponse(status=200, body=answer, headers={"Content-Type": "application/json"})
        user, channel = context.user_id, context.channel_id
        if user and channel:
            self.io.submit(carry(self._tell), channel, user)
        return BoltResponse(status=200, body="")

    def _tell(self, channel: str, user: str) -> None:
        try:
            self.web.chat_postEphemeral(channel=channel, user=user, text=self.refusal)
        except Exception as err:  # nobody to tell if Slack refuses: the refusal itself stands
            log.info("could not tell an outside user they may not use the bot (%s)", type(err).__name__)
