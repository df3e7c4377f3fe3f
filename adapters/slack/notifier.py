"""Case notifications delivered in Slack: the ``bot.cases.notify.Notifier`` the outbox calls.

The flow library's review notifications come through here too (the worker delivers both
outboxes), rendered by adapters/slack/render_review.py.

A person is reached by DM (their Slack id from the directory, else their work email through
``users.lookupByEmail``); a team by a post in its channel from the org settings. Every failure
comes out as ``DeliveryFailed`` so the outbox can decide: a 429 carries Slack's Retry-After, a
5xx or a timeout is retried with backoff, and what retrying cannot fix (the bot is not in the
channel, nobody in Slack has that email) is marked permanent with a sentence that says what to do.

This client has no retry handlers of its own: the outbox owns retrying, so a rate limit is not
waited out twice, and the worker is never blocked inside a sleep.

At most once, as far as Slack lets us check: every post carries the notification's id in its
message metadata, and when the outbox says an earlier try may have reached Slack (a timeout, or a
worker that died before recording the answer), the channel's history is read for that id first
and a notification already there is not posted again (docs/escalations.md).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.config import SlackConfig
from adapters.slack.people import SlackPeople
from adapters.slack.render import render_notification
from adapters.slack.render_review import is_review, render_review_notification
from adapters.slack.web_client import PooledWebClient, RateLimitWindows
from bot.cases.notify import DeliveryFailed, Notification, Recipient

log = logging.getLogger(__name__)

# Slack errors that retrying cannot fix, with what an admin should do about each.
PERMANENT = {
    "not_in_channel": "the bot is not a member of that channel: invite it with /invite @policybot",
    "channel_not_found": "the channel does not exist or the bot cannot see it: check the channel id in the settings",
    "is_archived": "the channel is archived: set another channel in the settings",
    "users_not_found": "nobody in Slack has that email: fix the email in the staff directory",
    "user_not_found": "that Slack user does not exist: fix the slack_id in the staff directory",
    "user_disabled": "that Slack account is deactivated: update the staff directory",
    "account_inactive": "the bot's token is no longer valid: reinstall the app (docs/slack.md, step 3)",
    "invalid_auth": "the bot's token is not valid: check SLACK_BOT_TOKEN (docs/slack.md, step 3)",
    "not_authed": "no bot token was sent: check SLACK_BOT_TOKEN (docs/slack.md, step 3)",
    "token_revoked": "the bot's token was revoked: reinstall the app (docs/slack.md, step 3)",
    "missing_scope": "the app lacks a permission: recreate it from manifest/slack/manifest.yaml",
    "restricted_action": "a workspace setting stops the bot posting there",
    "cannot_dm_bot": "that Slack user is a bot",
    "msg_too_long": "the message was too long for Slack",
    "invalid_blocks": "Slack refused the message layout",
}
# Why conversations.history may refuse, when the notifier looks for an earlier post.
CANNOT_LOOK = {
    "missing_scope": "add the channels:history and groups:history scopes (manifest/slack/manifest.yaml) and reinstall",
    "not_in_channel": "the bot is not a member of that channel",
    "channel_not_found": "the bot cannot see that channel",
    "not_allowed_token_type": "the token is not a bot token",
}
HISTORY_PAGES = 5  # of 200 messages: what a team channel sees in a busy hour, many times over
HISTORY_MARGIN_SECONDS = 300  # look from a little before the first try: our clock and Slack's differ
METADATA_EVENT = "policybot_notification"
REMEMBERED = 5000  # notification ids remembered as delivered by this process


def make_notifier_client(
    config: SlackConfig, *, timeout: int = 10, windows: RateLimitWindows | None = None
) -> WebClient:
    """``windows``: the rate-limit windows to share (default: the process's, web_client.py)."""
    kwargs: dict[str, Any] = {"token": config.bot_token, "timeout": timeout, "windows": windows}
    if config.api_url:
        kwargs["base_url"] = config.api_url
    # Kept-alive connections, and the process's rate-limit windows (web_client.py); several
    # workspaces: WorkspaceNotifier picks the token.
    client = PooledWebClient(**kwargs)
    client.retry_handlers = []
    return client


def notifier_from_env(runtime: object = None) -> SlackNotifier:
    """For ``policybot worker --notifier slack`` (the ``policybot.notifiers`` entry point)."""
    return SlackNotifier(make_notifier_client(SlackConfig.from_env()))


class SlackNotifier:
    """Posts one notification, or raises DeliveryFailed (implements bot.cases.notify.Notifier)."""

    def __init__(self, client: WebClient, people: SlackPeople | None = None) -> None:
        self.client = client
        self.people = people or SlackPeople(client)
        self._lock = threading.Lock()
        self._delivered: OrderedDict[str, None] = OrderedDict()

    def deliver(self, notification: Notification) -> None:
        # The outbox may call again after a success it could not record; this process then
        # knows, and posts nothing twice. (After a timeout nobody knows: Slack may have posted.)
        with self._lock:
            if notification.id in self._delivered:
                return
        review = is_review(notification)
        message = render_review_notification(notification) if review else render_notification(notification)
        try:
            channel = self._channel_for(notification.recipient)
            if notification.maybe_delivered_since is not None and self._already_posted(channel, notification):
                log.info("notification %s is already in Slack (by its metadata): not posted again", notification.id)
                self._remember(notification.id)
                return
            self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"notification_id": notification.id, "case_id": notification.case_id},
                },
            )
        except SlackApiError as err:
            raise self._failure(err, notification.recipient) from err
        except (TimeoutError, OSError) as err:  # socket timeouts, refused or reset connections
            raise DeliveryFailed(f"Slack did not answer: {type(err).__name__}: {err}") from err
        self._remember(notification.id)

    def _remember(self, notification_id: str) -> None:
        with self._lock:
            self._delivered[notification_id] = None
            while len(self._delivered) > REMEMBERED:
                self._delivered.popitem(last=False)

    def _already_posted(self, channel: str, notification: Notification) -> bool:
        """Is a message carrying this notification's id in the channel already?

        Asked only when an earlier try may have reached Slack (it timed out, or its worker died),
        so at most a few history pages, from a little before the notification was first queued
        (clocks differ). If the bot may not read the history (an app installed before the
        *:history scopes were added), it cannot know: it says so and posts, at least once rather
        than never. A 429 or 5xx here is raised, and the outbox tries again later, rather than
        posting blind.
        """
        since = notification.maybe_delivered_since
        assert since is not None
        oldest = f"{since.timestamp() - HISTORY_MARGIN_SECONDS:.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                page = self.client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                )
            except SlackApiError as err:
                error = str(err.response.get("error") or "") if err.response else ""
                if error in CANNOT_LOOK:
                    log.warning(
                        "cannot look for notification %s in Slack (%s: %s); posting it, so it may show twice",
                        notification.id,
                        error,
                        CANNOT_LOOK[error],
                    )
                    return False
                raise
            for found in page.get("messages") or []:
                metadata = found.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT and payload.get("notification_id") == notification.id:
                    return True
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                return False
        log.warning("notification %s: not found in %d pages of history; posting it", notification.id, HISTORY_PAGES)
        return False

    def _channel_for(self, recipient: Recipient) -> str:
        if recipient.kind == "channel":
            if recipient.slack_channel:
                return recipient.slack_channel
            raise DeliveryFailed(
                f"no Slack channel is set for {recipient.name}: add slack_channel under "
                f"escalation.{recipient.key} in the settings",
                permanent=True,
            )
        user_id = recipient.slack_id
        if not user_id and recipient.email:
            user_id = self.people.user_by_email(recipient.email)
        if not user_id:
            raise DeliveryFailed(
                f"no Slack account is known for {recipient.name}: add their email or slack_id to the staff directory",
                permanent=True,
            )
        return self.people.dm_channel(user_id)

    @staticmethod
    def _failure(err: SlackApiError, recipient: Recipient) -> DeliveryFailed:
        response = err.response
        status = getattr(response, "status_code", 0) or 0
        try:
            error = str(response.get("error") or "")
        except Exception:  # a body that is not JSON (a proxy's HTML error page)
            error = ""
        if status == 429 or error == "ratelimited":
            raw = (getattr(response, "headers", None) or {}).get("Retry-After") or (
                getattr(response, "headers", None) or {}
            ).get("retry-after")
            try:
                retry_after = float(raw) if raw is not None else None
            except (TypeError, ValueError):
                retry_after = None
            return DeliveryFailed("Slack rate limit (429)", retry_after=retry_after)
        if status >= 500:
            return DeliveryFailed(f"Slack server error ({status})")
        if error in PERMANENT:
            return DeliveryFailed(f"{error} for {recipient.name}: {PERMANENT[error]}", permanent=True)
        return DeliveryFailed(f"Slack refused the message for {recipient.name}: {error or status}")
