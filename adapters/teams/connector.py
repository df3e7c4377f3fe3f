"""Talking to the Bot Connector: per-call limits, and what a failed call means.

The SDK's ConnectorClient (msrest over requests) waits up to 100 s per call and quietly retries
some 5xx answers itself. Neither suits us: a turn must answer well within Teams' 15 s, and
proactive deliveries are retried by the outbox, which needs to see each failure (and the
service's Retry-After) to schedule the next attempt. ``ConnectorLimits`` is a middleware that
sets a short timeout and no hidden retries on every turn's connector client, reactive or
proactive. ``failure_of`` reads an exception from a connector call into a ``DeliveryFailed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import Middleware, TurnContext
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.notify import DeliveryFailed

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
