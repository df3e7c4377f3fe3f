"""HTTP mode: the Bolt app behind aiohttp, for running behind a load balancer.

Bolt's own ``App.start`` is a development server (``http.server``, one blocking call); aiohttp is
a production server that the Teams adapter already uses. Bolt's ``dispatch`` is synchronous but
short here: it verifies the signature, parses, and calls a listener that acknowledges and queues
the real work (adapters/slack/worker.py), well under a millisecond. So it runs on the event loop
thread itself (``inline``): a hop to a thread pool would cost more than the work, and under load
every hop waits for the GIL behind the background workers, which is what makes acks slow.
``inline=False`` moves it to a thread pool, for listeners that might block; that is the default
with several workspaces, whose authorize step may read the database or call ``auth.test``, and
what ``policybot serve slack`` uses with the inbound journal (a database write before the ack).

The signature is checked here first, on the raw bytes exactly as received (slack_sdk's
``SignatureVerifier``, with Slack's five-minute timestamp window), before anything is decoded or
parsed: an unsigned body, however deeply nested or oddly encoded, costs one HMAC and gets 401.
Slack never compresses what it sends, so a body with a ``Content-Encoding`` is refused (400)
without being inflated. Only then is it parsed (400 for anything Slack would never send), and
Bolt verifies it again as usual.

Every connection is bounded by ``adapters/http_limits.py``: a read timeout, an idle timeout and
a connection cap past which ``/healthz`` and ``/readyz`` still answer.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from slack_bolt import App
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.http_limits import HTTPLimits
from adapters.slack.actions import ENDPOINT_PATH
from adapters.slack.people import PLATFORM
from bot.ops.health import HEALTH_PATHS, OpsEndpoints
from bot.telemetry import metrics
from bot.telemetry.logging_setup import CORRELATION_HEADER, carry, correlation

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is not from Slack


_TEXT_FIELDS = ("type", "callback_id", "command", "action_id", "trigger_id", "user_id", "team_id", "text")
_OBJECT_FIELDS = ("event", "view", "user", "team", "container", "channel", "message", "enterprise")
_NULLABLE_OBJECTS = ("enterprise",)
_EVENT_TEXT_FIELDS = ("type", "subtype", "channel_type", "tab", "text", "user", "channel", "ts", "thread_ts", "bot_id")
_ACTION_TEXT_FIELDS = ("type", "action_id", "block_id", "value", "action_ts")


def slack_shaped(body: object) -> bool:
    """Does a parsed body have the types Slack always sends, where Bolt and the listeners read them?

    Slack signs what it sends, so only a caller holding the signing secret (or a broken proxy)
    could send anything else; the check turns what would be a TypeError deep in Bolt's
    matching, a 500, into a 400. It is about types only: unknown fields and kinds pass.
    """
    if not isinstance(body, dict):
        return False

    def texts(node: dict[str, object], names: tuple[str, ...]) -> bool:
        return all(node.get(name) is None or isinstance(node.get(name), str) for name in names)

    if not texts(body, _TEXT_FIELDS):
        return False
    # Objects where Bolt reads inside them; "enterprise" may also be null: Slack sends
    # "enterprise": null in interactive payloads from a workspace outside Enterprise Grid.
    if not all(
        name not in body or isinstance(body[name], dict) or (name in _NULLABLE_OBJECTS and body[name] is None)
        for name in _OBJECT_FIELDS
    ):
        return False
    event = body.get("event")
    if isinstance(event, dict) and not texts(event, _EVENT_TEXT_FIELDS):
        return False
    view = body.get("view")
    if isinstance(view, dict) and not texts(view, ("id", "type", "callback_id", "private_metadata")):
        return False
    if body.get("type") in ("view_submission", "view_closed") and not (
        isinstance(view, dict) and isinstance(view.get("type"), str)
    ):
        return False  # Bolt reads view.type while building a listener's arguments
    actions = body.get("actions", [])
    if body.get("type") == "block_actions" and not actions:
        return False  # a click always names the action clicked
    return isinstance(actions, list) and all(isinstance(a, dict) and texts(a, _ACTION_TEXT_FIELDS) for a in actions)


class SlackHTTPServer:
    """Serves ``POST /slack/events`` (commands, interactivity, events) and ``GET /healthz``."""

    def __init__(
        self,
        app: App,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        path: str = ENDPOINT_PATH,
        threads: int = 8,
        inline: bool | None = None,
        ops: OpsEndpoints | None = None,
        reuse_port: bool = False,
        limits: HTTPLimits | None = None,
        signing_secret: str | None = None,
    ) -> None:
        self.app = app
        self.limits = limits or HTTPLimits()
        # The secret Bolt verifies with; callers that have it pass it (command.py), others get the app's.
        secret = signing_secret or getattr(app, "_signing_secret", None)
        self.verifier = SignatureVerifier(secret) if secret else None
        # Several workspaces: Bolt's authorize step may read the database or call auth.test
        # before the ack, so it runs off the event loop unless told otherwise.
        self.inline = app.oauth_flow is None if inline is None else inline
        self.ops = ops
        self.reuse_port = reuse_port  # several processes on one port, the kernel spreads connections
        self.host = host
        self.port = port
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-http")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.bound_port: int | None = None

    def web_app(self) -> web.Application:
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(self.path, self._handle)
        for path in HEALTH_PATHS:
            web_app.router.add_get(path, self._ops)
        flow = self.app.oauth_flow
        if flow is not None:  # several workspaces: the "Add to Slack" page and Slack's redirect back
            web_app.router.add_get(flow.install_path, self._oauth)
            web_app.router.add_get(flow.redirect_uri_path, self._oauth)
        return web_app

    async def _oauth(self, request: web.Request) -> web.Response:
        """Run Bolt's OAuth flow (installs.py) off the event loop: it calls Slack and the database."""
        flow = self.app.oauth_flow
        assert flow is not None
        bolt_request = BoltRequest(body="", query=request.query_string, headers=dict(request.headers))
        handle = flow.handle_installation if request.path == flow.install_path else flow.handle_callback
        loop = asyncio.get_running_loop()
        bolt_response = await loop.run_in_executor(self._executor, handle, bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _ops(self, request: web.Request) -> web.Response:
        """/healthz, /readyz and /metrics for the load balancer and Prometheus (bot/ops/health.py)."""
        if self.ops is None:
            if request.path == "/healthz":
                return web.json_response({"status": "ok"})
            return web.json_response({"error": "not configured in this process"}, status=404)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._executor, self.ops.respond, request.path)  # may query the db
        if answer is None:
            raise web.HTTPNotFound()
        return web.Response(status=answer.status, body=answer.body, headers={"Content-Type": answer.content_type})

    async def _handle(self, request: web.Request) -> web.Response:
        with metrics.ack_timer(PLATFORM):
            return await self._answer(request)

    async def _answer(self, request: web.Request) -> web.Response:
        if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            return web.json_response({"error": "Slack does not compress its requests"}, status=400)
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not timestamp.isdigit():
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            valid = self.verifier is None or self.verifier.is_valid(
                raw, timestamp, request.headers.get("X-Slack-Signature", "")
            )
            body = raw.decode("utf-8")
        except UnicodeDecodeError:  # Slack sends UTF-8, always; SignatureVerifier decodes first
            return web.json_response({"error": "the body is not UTF-8"}, status=400)
        if not valid:
            log.warning("refused a request to the Slack endpoint: invalid Slack signature or timestamp")
            return web.json_response({"error": "invalid request"}, status=401)
        headers: dict[str, str | Sequence[str]] = {}
        for name, value in request.headers.items():
            previous = headers.get(name.lower())
            headers[name.lower()] = [*previous, value] if isinstance(previous, list) else [value]
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError):
            # A signed body Slack would never send (cut short, "JSON" that is not, nested deeper
            # than the parser goes, fields of the wrong type) ends here, not in a 500.
            return web.json_response({"error": "the body is not a Slack request"}, status=400)
        if not slack_shaped(bolt_request.body):  # Bolt's matchers and our listeners assume Slack's shapes
            return web.json_response({"error": "the body is not a Slack request"}, status=400)
        with correlation(request.headers.get(CORRELATION_HEADER)):
            if self.inline:
                bolt_response = self.app.dispatch(bolt_request)
            else:
                loop = asyncio.get_running_loop()
                bolt_response = await loop.run_in_executor(self._executor, carry(self.app.dispatch), bolt_request)
        return await to_aiohttp_response(bolt_response)

    # ---------------------------------------------------------------- running

    async def _start(self) -> None:
        self._runner = self.limits.runner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=512, reuse_port=self.reuse_port or None)
        await site.start()
        addresses = self._runner.addresses
        self.bound_port = int(addresses[0][1]) if addresses else self.port

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.bound_port or self.port}{self.path}"

    def start_in_thread(self) -> str:
        """Start on a background thread (tests, the bench); returns the endpoint URL. Port 0 picks a free one."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start())
            except BaseException as err:  # reported to the caller below
                errors.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="slack-http-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
        self._executor.shutdown(wait=False)

    def run_forever(self) -> None:
        """Serve until interrupted (``policybot serve slack`` in HTTP mode)."""

        async def main() -> None:
            await self._start()
            log.info("Slack endpoint listening on http://%s:%s%s", self.host, self.bound_port, self.path)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):  # SIGTERM: how orchestrators ask to stop
                loop.add_signal_handler(signum, stop.set)
            try:
                await stop.wait()
                log.info("Stopping: no new requests; finishing the ones in progress")
            finally:
                if self.ops is not None:
                    self.ops.draining = True  # /readyz turns 503 so the balancer stops sending
                await self._stop()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass
        finally:
            self._executor.shutdown(wait=True)
