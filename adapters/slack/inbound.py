"""Slack's side of the inbound journal (bot/store/inbound.py): written before the ack, run from it.

Every listener acknowledges and then hands its work to ``SlackBot.later``. That hand-off is the
one place the journal is hooked in: with ``process_before_response`` the listener runs before
Bolt's response goes back to Slack, so writing the request there means that everything Slack
was told "OK" about is in the database first. A Bolt middleware only notes which request is
being handled (the body, and whether it is a replay), so ``later`` can write it without every
listener passing its body along.

A replica that died after the ack leaves its events with leases that run out; the replayer of
any replica then dispatches each stored body through the same Bolt app again (as a Socket Mode
request: the body is already parsed and was verified when it first arrived, its signature would
have expired by now), so the same listener runs the same way; ``later`` recognises the replay
and runs the job without writing it again. A click that had already been applied is answered by
the engine as a repeat (where the person is now), so a replay never applies anything twice.

What is retried rather than apologised for: Slack answering 429 or 5xx, or not answering, and the
database still failing after the engine's own retries. The person then hears nothing until it
works (their next question arrives late, not never); after the journal's last attempt, or when
the journal itself cannot be written (the database is down as the request arrives), the old
behaviour remains: an apology in the DM saying what to do.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.store import Store
from bot.store.inbound import InboundEvent, InboundJournal
from bot.store.replay import InboundReplayer
from bot.store.transient import transient_kind
from bot.telemetry import metrics

log = logging.getLogger(__name__)

REPLAY = "policybot_replay"  # the Bolt context key a replayed request carries its journal event in
# After the journal could not be written, requests are handled in memory for this long before the
# database is tried again, so an outage does not hold every acknowledgement up by a retry.
JOURNAL_PAUSE_SECONDS = 2.0


@dataclass
class _Request:
    """The Slack request a listener is handling right now (set by the middleware)."""

    body: dict[str, Any]
    replay: InboundEvent | None
    handed_off: bool = False


_CURRENT: ContextVar[_Request | None] = ContextVar("policybot_slack_request", default=None)


def request_key(body: dict[str, Any]) -> str:
    """The id of one delivery from Slack: the event id (Slack's retries of an event share it),
    else the trigger id (every click, command and submission has its own), else the body's hash."""
    for name in ("event_id", "trigger_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "body:" + hashlib.sha256(canonical.encode()).hexdigest()


def slack_transient(err: BaseException) -> str | None:
    """Why a failed job is worth running again later, or None: Slack rate-limited (429), failing
    (5xx) or unreachable, or the database still away after the engine's retries."""
    if isinstance(err, SlackApiError):
        status = getattr(err.response, "status_code", 0) or 0
        if status == 429:
            return "Slack rate limit"
        if status >= 500:
            return f"Slack server error {status}"
        return None
    if isinstance(err, (http.client.HTTPException, OSError)):  # refused, reset, timed out (URLError too)
        return "Slack unreachable"
    return transient_kind(err)


def retry_after(err: BaseException | None) -> float | None:
    """Slack's Retry-After on a 429, in seconds, if it gave one."""
    if not isinstance(err, SlackApiError) or getattr(err.response, "status_code", 0) != 429:
        return None
    headers = getattr(err.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def replaying() -> bool:
    """Is the request being handled (or the job running for it) a replay from the journal?

    Jobs run with the context of the listener that handed them off (Worker.submit carries it),
    so this holds on the worker thread too. The adapter then leaves out the engine's "that was
    already done" notice: the person did nothing twice, they only get their answer late.
    """
    current = _CURRENT.get()
    return current is not None and current.replay is not None


class SlackInbound:
    """The journal, its replayer, and the Bolt middleware that tells ``later`` what to write."""

    def __init__(
        self,
        app: App,
        store: Store,
        clock: Clock,
        apologise: Callable[[str], None],
        *,
        journal: InboundJournal | None = None,
    ) -> None:
        self.app = app
        self.journal = journal or InboundJournal(store, clock, platform="slack")
        self.replayer = InboundReplayer(self.journal, self.replay)
        self._apologise = apologise
        self._paused_until = 0.0

    # -- the live path ---------------------------------------------------------------------
    def middleware(self, req: BoltRequest, next: Callable[[], Any]) -> Any:
        """Note the request being handled; Bolt runs the listener right after, on this thread."""
        replay = req.context.get(REPLAY)
        _CURRENT.set(_Request(req.body, replay if isinstance(replay, InboundEvent) else None))
        return next()

    def entry_for(self, person: str) -> tuple[bool, InboundEvent | None]:
        """For ``later``: (run the job?, its journal event). Writes a live request to the journal.

        (False, None) for a request already in the journal (Slack retried it: the first copy is
        being handled, or will be replayed); (True, None) when there is nothing to write (called
        outside a request) or the journal is unavailable, and the job runs from memory.
        """
        current = _CURRENT.get()
        if current is None or current.handed_off:
            return True, None  # a second hand-off from one listener: the first one carries the event
        current.handed_off = True
        if current.replay is not None:
            return True, current.replay
        if time.monotonic() < self._paused_until:
            return True, None
        try:
            event = self.journal.record(request_key(current.body), person, current.body)
        except Exception as err:
            self._paused_until = time.monotonic() + JOURNAL_PAUSE_SECONDS
            log.warning(
                "could not write a Slack request to the inbound journal (%s); handling it in memory",
                transient_kind(err) or type(err).__name__,
            )
            return True, None
        if event is None:
            log.info("Slack delivered a request again that is already in the journal; not handling it twice")
            metrics.duplicate_dropped("slack")
            return False, None
        return True, event

    def settle(self, event: InboundEvent | None, error: BaseException | None) -> bool:
        """After the job: finish its event, or release it for a retry when ``error`` passes.
        True when it will be retried (the caller then tells the person nothing yet)."""
        if event is None:
            return False
        reason = slack_transient(error) if error is not None else None
        try:
            if reason is not None and self.journal.retry_later(event, not_before=retry_after(error)):
                log.warning("a Slack request failed (%s); it will be tried again (attempt %d)", reason, event.attempts)
                return True
            self.journal.finish(event)
        except Exception as err:  # its lease runs out and it is replayed: a repeat, shown as such
            log.warning("could not record how inbound event %s ended (%s)", event.id, transient_kind(err) or err)
        return False

    # -- replaying ------------------------------------------------------------------------------
    def replay(self, event: InboundEvent) -> None:
        """Run a journaled request again through the same listeners (the replayer's handler)."""
        if event.final:
            log.error("inbound event %s failed %d times; telling the person", event.id, event.attempts - 1)
            self._apologise(event.person)
            return
        request = BoltRequest(body=event.payload, mode="socket_mode", context={REPLAY: event})
        token = _CURRENT.set(None)
        try:
            self.app.dispatch(request)
            current = _CURRENT.get()
        finally:
            _CURRENT.reset(token)
        if current is None or not current.handed_off:
            self.journal.finish(event)  # the listener had nothing to do in the background

    def start(self) -> SlackInbound:
        self.replayer.start()
        return self

    def stop(self) -> None:
        self.replayer.stop()
