"""Proactive case cards in Teams: the outbox's notifier for this platform.

``TeamsNotifier.deliver(notification)`` sends one case notification as an Adaptive Card:

- to a person (a line manager, a team member, the employee hearing of progress): into their 1:1
  chat with the bot, through the conversation reference stored when they installed the app or
  last wrote to it; if there is none, a new 1:1 conversation is created with their Teams or
  Entra id (the app must be installed for them, which an admin can do for everyone);
- to a channel (``teams_channel`` of Comms, Legal, HR, Safeguarding in the settings): as a new
  post in that channel.

It is called by the outbox (bot/cases/outbox.py), at least once per notification: a notification
already delivered (recorded in ``teams_sent_cards``) is not sent again. A throttled (429), failing
(5xx) or silent Bot Connector raises DeliveryFailed with the service's Retry-After, and the outbox
tries again later; nothing is dropped. A refusal that retrying cannot fix (bot removed, unknown
channel, no way to reach the person) is reported as permanent, and the case service tells Comms.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from functools import partial
from typing import Any

from microsoft_agents.activity import ChannelAccount, ConversationParameters, ConversationReference
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import AuthenticationConstants

from adapters.teams import cards
from adapters.teams.app import TeamsService
from adapters.teams.bot import card_activity
from adapters.teams.connector import failure_of, limited
from adapters.teams.storage import SentCard, StoredReference, channel_key, person_keys
from bot.cases.notify import DeliveryFailed, Notification, Recipient
from bot.store.transient import retry_transient

log = logging.getLogger("policybot.teams")

TEAMS_CHANNEL_ID = "msteams"


class TeamsNotifier:
    """Delivers case notifications as proactive Adaptive Cards (implements bot.cases.notify.Notifier)."""

    def __init__(
        self,
        service: TeamsService,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_seconds: float = 15.0,
    ) -> None:
        self.service = service
        self.loop = loop  # the web server's loop when running inside `serve teams`, else None
        self.timeout_seconds = timeout_seconds

    # ---- the port -----------------------------------------------------------------------------

    def deliver(self, notification: Notification) -> None:
        if self.service.storage.sent_card(notification.id) is not None:
            log.info("teams: notification %s was already delivered; not sending it again", notification.id)
            return
        self._run(self.deliver_async(notification))

    def _run(self, coroutine: Any) -> None:
        """Run on the server's event loop when there is one (shared connector, one loop), else
        on a private loop (``policybot worker`` runs without a web server)."""
        loop = self.loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
            try:
                future.result(self.timeout_seconds)
            except concurrent.futures.TimeoutError as err:
                # Not cancelled: if the card does get through late, the send finishes and records its
                # activity id, and the outbox's retry then finds it in teams_sent_cards instead of
                # sending the card again (at most once wherever the activity id is known).
                raise DeliveryFailed(f"Teams did not answer within {self.timeout_seconds:g} seconds") from err
            return
        asyncio.run(self._on_private_loop(coroutine))

    async def _on_private_loop(self, coroutine: Any) -> None:
        try:
            await asyncio.wait_for(coroutine, self.timeout_seconds)
        finally:  # this loop ends here: its kept connector sessions go with it
            await self.service.adapter.clients.close(this_loop_only=True)

    async def deliver_async(self, n: Notification) -> None:
        content = cards.notification_card(n)
        try:
            if n.recipient.kind == "channel":
                conversation_id, activity_id = await self._to_channel(n.recipient, content)
            else:
                conversation_id, activity_id = await self._to_person(n.recipient, content)
        except DeliveryFailed:
            raise
        except TimeoutError as err:
            raise DeliveryFailed(f"Teams did not answer while sending to {n.recipient.name}") from err
        except Exception as err:
            failure = failure_of(err, f"sending to {n.recipient.name}")
            log.warning("teams: delivery of %s failed: %s", n.id, failure.reason)
            raise failure from err
        sent = SentCard(n.id, n.case_id, conversation_id, activity_id, content)
        # Teams has the card now: recording that must outlast a database blip, or the retry would
        # send it again (Teams offers a bot no way to look for a card it sent without its id).
        await asyncio.get_running_loop().run_in_executor(
            self.service.executor,
            retry_transient,
            partial(self.service.storage.record_sent_card, sent),
            "recording a Teams card sent",
        )
        log.info("teams: delivered %s (%s) to %s", n.id, n.kind, n.recipient.name)

    # ---- people ---------------------------------------------------------------------------------

    async def _to_person(self, recipient: Recipient, content: cards.Card) -> tuple[str, str]:
        stored = await self._find(recipient_keys(recipient))
        if stored is not None:
            return await self._continue(stored, content)
        if not recipient.teams_id:
            raise DeliveryFailed(
                f"{recipient.name} has never used the bot in Teams and the staff directory has no teams_id "
                "for them, so Teams cannot be asked to open a chat. Add their Entra object id as teams_id "
                "in the directory, or install the app for them (docs/teams.md).",
                permanent=True,
            )
        base = await self._any_reference()
        return await self._create(
            base,
            content,
            is_group=False,
            members=[ChannelAccount.model_validate({"id": recipient.teams_id})],
            channel_data=None,
        )

    async def _continue(self, stored: StoredReference, content: cards.Card) -> tuple[str, str]:
        reference = ConversationReference.model_validate(stored.reference)
        sent: dict[str, str] = {}
        errors: list[BaseException] = []
        limit = self.service.config.connector_timeout_seconds

        async def send(ctx: TurnContext) -> None:
            try:
                response = await limited(ctx.send_activity(card_activity(content)), limit)
                sent["id"] = response.id if response and response.id else ""
            except BaseException as err:  # the adapter's pipeline would swallow it: keep it for below
                errors.append(err)

        continuation = reference.get_continuation_activity()
        await self.service.adapter.continue_conversation(self._bot_app_id(), continuation, send)
        if errors:
            raise errors[0]
        if "id" not in sent:
            raise DeliveryFailed("the card was not sent (the proactive turn did not run)")
        return reference.conversation.id, sent["id"]

    # ---- channels ---------------------------------------------------------------------------------

    async def _to_channel(self, recipient: Recipient, content: cards.Card) -> tuple[str, str]:
        channel = recipient.teams_channel
        if not channel:
            raise DeliveryFailed(
                f"No Teams channel is set for {recipient.name}: add teams_channel under escalation in "
                "policybot.yaml (the channel id, 19:...@thread.tacv2; see docs/teams.md).",
                permanent=True,
            )
        base = await self._find([channel_key(channel)]) or await self._any_reference()
        tenant = (base.tenant_id if base else None) or self.service.config.tenant_id or None
        channel_data: dict[str, Any] = {"channel": {"id": channel}}
        if tenant:
            channel_data["tenant"] = {"id": tenant}
        return await self._create(base, content, is_group=True, members=None, channel_data=channel_data)

    async def _create(
        self,
        base: StoredReference | None,
        content: cards.Card,
        *,
        is_group: bool,
        members: list[ChannelAccount] | None,
        channel_data: dict[str, Any] | None,
    ) -> tuple[str, str]:
        """POST /v3/conversations with the card as its first activity."""
        service_url = (base.reference.get("serviceUrl") if base else None) or self.service.config.default_service_url
        tenant = (base.tenant_id if base else None) or self.service.config.tenant_id or None
        bot = (base.reference.get("bot") if base else None) or {"id": f"28:{self.service.config.app_id}"}
        if channel_data is None and tenant:
            channel_data = {"tenant": {"id": tenant}}
        fields: dict[str, Any] = {
            "isGroup": is_group,
            "bot": {k: v for k, v in (("id", bot.get("id")), ("name", bot.get("name"))) if v},
            "members": members,
            "tenantId": tenant,
            "channelData": channel_data,
            "activity": card_activity(content),
        }
        parameters = ConversationParameters.model_validate({k: v for k, v in fields.items() if v is not None})
        created: dict[str, str] = {}

        async def remember(ctx: TurnContext) -> None:
            created["conversation"] = ctx.activity.conversation.id
            created["activity"] = ctx.activity.id or ""

        await limited(
            self.service.adapter.create_conversation(
                self._bot_app_id(),
                TEAMS_CHANNEL_ID,
                service_url,
                AuthenticationConstants.AGENTS_SDK_SCOPE,
                parameters,
                remember,
            ),
            self.service.config.connector_timeout_seconds,
        )
        return created["conversation"], created["activity"]

    # ---- helpers ------------------------------------------------------------------------------

    def _bot_app_id(self) -> str:
        config = self.service.config
        return "" if config.local else config.app_id

    async def _find(self, keys: list[str]) -> StoredReference | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.service.executor, self.service.storage.find, keys)

    async def _any_reference(self) -> StoredReference | None:
        loop = asyncio.get_running_loop()
        tenant = self.service.config.tenant_id or None
        return await loop.run_in_executor(self.service.executor, self.service.storage.any_reference_in_tenant, tenant)


def recipient_keys(recipient: Recipient) -> list[str]:
    """Every stored-reference key the recipient may be filed under (their Teams or Entra id, their
    email, or the policybot user id an employee unknown to the directory was recorded with)."""
    teams_id = recipient.teams_id
    user_id = recipient.key if recipient.key.startswith("teams:") else None
    if teams_id is None and user_id is not None:
        teams_id = user_id.partition(":")[2]
    keys = person_keys(
        teams_id=teams_id if teams_id and ":" in teams_id else None,
        aad_id=teams_id if teams_id and ":" not in teams_id else None,
        email=recipient.email,
        user_id=user_id,
    )
    return keys


def for_runtime(runtime: Any) -> TeamsNotifier:
    """``policybot worker --notifier teams``: a notifier of its own, configured from the environment
    like ``serve teams`` (entry point group ``policybot.notifiers``)."""
    from adapters.teams.app import build_service
    from adapters.teams.casedesk import TeamsCaseDesk
    from adapters.teams.config import from_environment
    from adapters.teams.storage import TeamsStorage

    config = from_environment().check()
    cases = TeamsCaseDesk(runtime.cases) if getattr(runtime, "cases", None) is not None else None
    service = build_service(runtime.engine, TeamsStorage(runtime.store.engine), config, cases=cases)
    return TeamsNotifier(service)
