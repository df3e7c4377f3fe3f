"""Talking to the Bot Connector: per-call limits, and what a failed call means.

The Agents SDK's ConnectorClient is aiohttp with no retries of its own and aiohttp's default
five-minute timeout. A turn must answer well within Teams' 15 s, and proactive deliveries are
retried by the outbox, which needs to see each failure (and the service's Retry-After) to
schedule the next attempt; so every call the adapter makes goes through ``limited``, which gives it
the configured timeout, and ``failure_of`` reads a failed call's exception (the SDK raises
``aiohttp.ClientResponseError`` with the status and headers) into a ``DeliveryFailed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from bot.cases.notify import DeliveryFailed

RETRYABLE_STATUSES = {408, 412, 429, 500, 502, 503, 504}
PERMANENT_STATUSES = {400, 401, 403, 404, 405, 413}


async def limited[T](call: Awaitable[T], timeout_seconds: float) -> T:
    """One Bot Connector call, given up after ``timeout_seconds`` (raises TimeoutError)."""
    return await asyncio.wait_for(call, timeout_seconds)


def status_of(err: BaseException) -> int | None:
    if isinstance(err, aiohttp.ClientResponseError):
        return int(err.status or 0) or None
    return None


def retry_after_of(err: BaseException) -> float | None:
    """The service's Retry-After (seconds or an HTTP date), if it sent one."""
    if not isinstance(err, aiohttp.ClientResponseError) or not err.headers:
        return None
    raw = err.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def failure_of(err: BaseException, what: str) -> DeliveryFailed:
    """Classify a failed connector call: retry later (throttled, server error, timeout) or give up."""
    status = status_of(err)
    if status is None:
        if isinstance(err, aiohttp.ClientError | TimeoutError | ConnectionError | OSError):
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
