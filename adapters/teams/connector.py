"""Talking to the Bot Connector: reused clients, per-call limits, and what a failed call means.

The SDK's ConnectorClient (msrest over requests) waits up to 100 s per call and quietly retries
some 5xx answers itself. Neither suits us: a turn must answer well within Teams' 15 s, and
proactive deliveries are retried by the outbox, which needs to see each failure (and the
service's Retry-After) to schedule the next attempt. ``ConnectorLimits`` is a middleware that
sets a short timeout and no hidden retries on every turn's connector client, reactive or
proactive. ``failure_of`` reads an exception from a connector call into a ``DeliveryFailed``.

``ReusingAuthentication`` wraps the SDK's authentication so that connector clients (and the
user-token client the SDK makes on every turn, which this bot never uses) are built once per
service URL instead of once per turn: building one costs about 20 ms of CPU on the event loop in
msrest (its retry policy enumerates status codes), which was most of a turn's time. Reusing the
client also reuses its token and its HTTP connections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.cases.notify import DeliveryFailed

CONNECTOR_CLIENT_KEY = "ConnectorClient"  # BotAdapter.BOT_CONNECTOR_CLIENT_KEY
RETRYABLE_STATUSES = {408, 412, 429, 500, 502, 503, 504}
PERMANENT_STATUSES = {400, 401, 403, 404, 405, 413}


class ConnectorLimits(Middleware):
    """Short timeout, no retries inside the SDK: failures surface at once, to whoever retries."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[Any]]) -> Any:
        tune(context.turn_state.get(CONNECTOR_CLIENT_KEY), self.timeout_seconds)
        return await logic()


class _ReusedConnectors(ConnectorFactory):
    """Hands out one ConnectorClient per (app id, service URL, audience), made by the SDK's factory."""

    def __init__(self, owner: ReusingAuthentication, inner: ConnectorFactory, app_id: str) -> None:
        self.owner = owner
        self.inner = inner
        self.app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self.app_id, service_url, audience or "")
        client = self.owner.clients.get(key)
        if client is None:
            client = await self.inner.create(service_url, audience)
            self.owner.clients[key] = client
        return client


class ReusingAuthentication(BotFrameworkAuthentication):
    """The SDK's BotFrameworkAuthentication, with connector and token clients built once."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self.inner = inner
        self.clients: dict[tuple[str, str, str], ConnectorClient] = {}
        self.token_clients: dict[str, UserTokenClient] = {}

    @staticmethod
    def _app_id(claims: ClaimsIdentity | None) -> str:
        if claims is None:
            return ""
        return str(claims.get_claim_value("aud") or claims.get_claim_value("appid") or "")

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self.inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusedConnectors(
                self, result.connector_factory, self._app_id(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusedConnectors(
            self, self.inner.create_connector_factory(claims_identity), self._app_id(claims_identity)
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = self._app_id(claims_identity)
        client = self.token_clients.get(key)
        if client is None:
            client = self.token_clients[key] = await self.inner.create_user_token_client(claims_identity)
        return client

    def create_bot_framework_client(self) -> Any:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self.inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)


def tune(client: Any, timeout_seconds: float) -> None:
    config = getattr(client, "config", None)
    if config is None:
        return
    config.connection.timeout = timeout_seconds
    config.retry_policy.retries = 0


def status_of(err: BaseException) -> int | None:
    if isinstance(err, HttpOperationError) and err.response is not None:
        return int(getattr(err.response, "status_code", 0) or 0) or None
    return None


def retry_after_of(err: BaseException) -> float | None:
    """The service's Retry-After (seconds or an HTTP date), if it sent one."""
    if not isinstance(err, HttpOperationError) or err.response is None:
        return None
    raw = (getattr(err.response, "headers", None) or {}).get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def failure_of(err: BaseException, what: str) -> DeliveryFailed:
    """Classify a failed connector call: retry later (throttled, server error, timeout) or give up."""
    status = status_of(err)
    if status is None:
        if isinstance(err, ClientRequestError | TimeoutError | ConnectionError | OSError):
            return DeliveryFailed(f"Teams did not answer while {what} ({type(err).__name__})")
        return DeliveryFailed(f"{what} failed: {type(err).__name__}")
    if status in RETRYABLE_STATUSES or status >= 500:
        return DeliveryFailed(f"Teams answered {status} while {what}", retry_after=retry_after_of(err))
    if status in PERMANENT_STATUSES:
        hint = {
            401: "the bot's credentials were refused (check MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD)",
            403: "the bot is not allowed in that chat or channel (is the app installed there?)",
            404: "that chat or channel no longer exists",
        }.get(status, "the request was refused")
        return DeliveryFailed(f"Teams answered {status} while {what}: {hint}", permanent=True)
    return DeliveryFailed(f"Teams answered {status} while {what}")
