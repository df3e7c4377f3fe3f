"""The Bolt app: every Slack surface's listeners put together on one ``App``.

The listeners are grouped by surface, each in its own module: the conversation
(adapters/slack/conversation.py), case buttons (cases.py), modals (modals.py), the Home tab
with uninstalling (home.py), flow library reviews (reviews.py) and previews of a change
(previews.py); what they share is in surface.py. This module only builds the
objects they share and wires them, in order, to the Bolt app:

1. Bolt's own middleware: the signature (HTTP mode checks it again on the raw bytes first,
   http_server.py), then authorize (the workspace's token and ``auth.test``, cached);
2. ours: the workspace's token for this request's calls (installs.py), who may use the bot
   (access.py), the ack timer, and the inbound journal (inbound.py);
3. the listeners, then catch-alls so Slack never sees a 404, even for an event or button added
   to the manifest before the code.

What Bolt provides is used as it is: ``context`` for who and which workspace, its message
subtype filtering, its token revocation listeners, its authorize step (with caching). One thing
is kept by hand on purpose: Bolt's per-request ``client`` is a plain ``WebClient`` built for each
request (urllib: a new connection per call, no rate-limit windows shared with the notifier), so
the listeners use the adapter's one pooled client (web_client.py), which sends the token of the
request's workspace (installs.py). Also hand-written because Bolt lacks them: per-person
ordering, duplicate suppression, log redaction, the short rate-limit retry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from slack_bolt import App
from slack_bolt.context.ack import Ack
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from adapters.slack.access import REFUSAL, AccessCheck
from adapters.slack.config import SlackConfig
from adapters.slack.inbound import REPLAY, SlackInbound
from adapters.slack.installs import SlackInstalls
from adapters.slack.modals import ModalListeners
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.previews import PreviewSessions
from adapters.slack.reviews import ReviewListeners
from adapters.slack.surface import delivery_id
from adapters.slack.web_client import ShortRateLimitRetry, make_client
from adapters.slack.worker import Gated, TurnGate, Worker
from bot.cases.service import CaseService
from bot.conversation.engine import Engine
from bot.publishing.changes import Publishing
from bot.runtime import Runtime
from bot.telemetry import metrics

log = logging.getLogger(__name__)

__all__ = ["ShortRateLimitRetry", "SlackBot", "default_db_turns", "delivery_id", "make_client"]

IO_THREADS = 32  # threads waiting on Slack: cheap, and each one is a click in flight


def default_db_turns(runtime: Runtime) -> int:
    """Database turns at once: SQLite takes one writer at a time (the store begins every
    transaction IMMEDIATE), so a second turn would only wait in its busy handler, which sleeps in
    growing steps, holding a place; PostgreSQL takes many."""
    return 1 if runtime.store.dialect == "sqlite" else 8


class SlackBot(ModalListeners, ReviewListeners):
    """The Bolt ``App`` plus what its listeners share: the engine, the Web API client, the worker."""

    def __init__(
        self,
        runtime: Runtime,
        config: SlackConfig,
        *,
        client: WebClient | None = None,
        worker_threads: int | None = None,
        db_turns: int | None = None,
        logger: logging.Logger | None = None,
        installs: SlackInstalls | None = None,
        journal: bool = True,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.installs = installs
        self.gate = TurnGate(db_turns or default_db_turns(runtime))
        self.engine = cast(Engine, Gated(runtime.engine, self.gate))
        self.gated_cases = cast(CaseService, Gated(runtime.cases, self.gate)) if runtime.cases is not None else None
        publishing = runtime.publishing
        self.gated_publishing = cast(Publishing, Gated(publishing, self.gate)) if publishing is not None else None
        self.previews = PreviewSessions()  # /policy preview: one draft's engine per person
        self.web = client or make_client(config)
        self.people = SlackPeople(self.web)
        threads = worker_threads or IO_THREADS
        self.worker = Worker(threads)
        self.side = Worker(max(4, threads // 4), name="slack-side")
        self.io = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-io")
        # process_before_response: the listener body (ack, then a hand-off to the worker) runs
        # before the HTTP response, so the response goes out the moment the listener returns,
        # without Bolt's 10 ms polling for ack; the same code serves Socket Mode unchanged.
        self.app = App(
            client=self.web,
            signing_secret=config.signing_secret,
            process_before_response=True,
            logger=logger,
            raise_error_for_unhandled_request=False,
            # Several workspaces (OAuth): Bolt finds each request's install in the database.
            oauth_settings=installs.oauth_settings() if installs is not None else None,
        )
        if installs is not None:
            installs.attach(self.app)  # the workspace's token for this request's calls
        self.access = AccessCheck(self.web, self.io, installs, refusal=self.engine.speaking.to_everyone(REFUSAL))
        self.app.middleware(self.access.middleware)
        self.app.use(self._time_ack)
        # Every acknowledged request is written down before the ack goes out (surface.later).
        self.inbound = SlackInbound(self.app, runtime.store, runtime.clock, self._apologise) if journal else None
        if self.inbound is not None:
            self.app.use(self.inbound.middleware)
        self.app.error(self.on_listener_error)
        self._register()

    @staticmethod
    def _time_ack(req: BoltRequest, next: Callable[[], Any]) -> Any:
        """Socket Mode's acknowledgement time for /metrics (HTTP mode times whole requests in
        http_server.py, from arrival to response, so it is not counted twice)."""
        if req.mode != "socket_mode" or REPLAY in req.context:
            return next()
        with metrics.ack_timer(PLATFORM):
            return next()

    def _register(self) -> None:
        app = self.app
        self.register_conversation(app)
        self.register_modals(app)
        self.register_cases(app)
        self.register_reviews(app)
        self.register_home(app)
        # Catch-alls, registered last (Bolt runs the first listener that matches).
        for kind in (app.event, app.action, app.view, app.shortcut, app.command):
            kind(re.compile(".*"))(self.on_anything_else)

    def on_anything_else(self, ack: Ack, body: dict[str, Any]) -> None:
        """Acknowledge what this version does not handle, so Slack neither retries nor shows an error."""
        ack()
        log.info("ignored a Slack request of type %s", body.get("type") or body.get("command") or "unknown")

    def drain(self, timeout: float | None = 30.0) -> bool:
        """Wait until every job handed off so far has finished (tests, the bench)."""
        return self.worker.drain(timeout) and self.side.drain(timeout)

    def shutdown(self, timeout: float | None = 30.0) -> bool:
        """Finish the queued jobs (so no click is dropped on a deploy), then the side calls."""
        queued = self.worker.shutdown(timeout)
        done = self.side.shutdown(timeout) and queued
        self.io.shutdown(wait=done)
        return done
