"""The aiohttp application: ``POST /api/messages`` for Teams, ``GET /healthz`` for the load balancer.

The Microsoft 365 Agents SDK's ``CloudAdapter`` (aiohttp hosting) runs each turn; the route in
front of it does, in this order:

1. **the token** (adapters/teams/tokens.py), from the Authorization header alone: anything wrong
   with it is 401, and no body is read before it passes (local mode allows anonymous requests,
   which is why it is loopback-only, config.py);
2. **the activity**: JSON, a type, somewhere to answer (serviceUrl, conversation, from,
   recipient), readable as the SDK's ``Activity``; otherwise 400 with one line of explanation;
3. **who may send it**: the token's key endorsed for the activity's channel and its serviceurl
   claim matching the activity (401), the activity from our own tenant (403);
4. the turn (``CloudAdapter.process_activity``). An invoke's or ``expectReplies`` answer is the
   body the SDK serialised; anything else is 201.

Anything unexpected is a 500 with a reference that matches the log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from microsoft_agents.activity import Activity, DeliveryModes
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, TurnContext
from pydantic import ValidationError

from adapters.teams.bot import CaseDesk, ReviewDesk, TeamsBot
from adapters.teams.clients import ReusingClientFactory
from adapters.teams.config import TeamsConfig, TokenProviderFactory
from adapters.teams.inbound import tenant_id
from adapters.teams.storage import TeamsStorage
from adapters.teams.tokens import SigningKeys, TokenGate, Unauthorized
from bot.conversation.engine import Engine
from bot.ops.health import HEALTH_PATHS, OpsEndpoints
from bot.telemetry import metrics
from bot.telemetry.logging_setup import CORRELATION_HEADER, correlation

log = logging.getLogger("policybot.teams")

MESSAGES_PATH = "/api/messages"
PLATFORM = "teams"
MAX_BODY_BYTES = 1024 * 1024
APP_KEY: web.AppKey[TeamsService] = web.AppKey("policybot.teams", object)  # type: ignore[arg-type]


@dataclass
class TeamsService:
    """Everything one running Teams adapter is made of (the notifier needs the same pieces)."""

    config: TeamsConfig
    adapter: TeamsAdapter
    bot: TeamsBot
    storage: TeamsStorage
    executor: ThreadPoolExecutor
    gate: TokenGate


def build_service(
    engine: Engine,
    storage: TeamsStorage,
    config: TeamsConfig,
    *,
    cases: CaseDesk | None = None,
    reviews: ReviewDesk | None = None,
    workers: int | None = None,
    signing_keys_url: str | None = None,
    token_provider: TokenProviderFactory | None = None,
) -> TeamsService:
    """Wire the SDK adapter, the token gate, the bot and its thread pool.

    ``signing_keys_url`` replaces the Bot Framework's key address and ``token_provider`` MSAL
    (tests and benchmarks stand in for both on 127.0.0.1); neither is read from the environment,
    so production always uses Microsoft's.

    ``workers`` is how many engine/database calls run at once. SQLite lets one writer in at a time
    and makes the others sleep in its busy handler, so a large pool mostly adds
    waiting; two threads keep one turn's Python work overlapping another's commit. PostgreSQL takes
    real concurrency. See docs/benchmarks.md (Teams).
    """
    config.check()
    # The SDK logs every send at INFO (conversation ids, activity types): warnings and errors only.
    logging.getLogger("microsoft_agents").setLevel(logging.WARNING)
    auth = config.auth_configuration()
    clients = ReusingClientFactory(
        config.connections(auth, token_provider), timeout_seconds=config.connector_timeout_seconds
    )
    adapter = TeamsAdapter(clients, local=config.local)

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        # The bot handles its own errors; this catches failures in the SDK's pipeline around it.
        reference = uuid.uuid4().hex[:10]
        log.error("teams pipeline error [%s]: %s: %s", reference, type(error).__name__, str(error)[:300])

    adapter.on_turn_error = on_turn_error
    if workers is None:
        workers = 2 if engine.store.dialect == "sqlite" else 8
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="policybot-teams")
    bot = TeamsBot(
        engine,
        storage,
        executor=executor,
        turn_seconds=config.turn_seconds,
        connector_seconds=config.connector_timeout_seconds,
        cases=cases,
        reviews=reviews,
        app_id="" if config.local else config.app_id,
    )
    gate = TokenGate(auth, SigningKeys(signing_keys_url))
    return TeamsService(config=config, adapter=adapter, bot=bot, storage=storage, executor=executor, gate=gate)


class _LocalIdentity(ClaimsIdentity):
    """Local mode's identity for proactive sends: no app id, so no token (the SDK's anonymous path).

    The SDK adds a serviceurl claim before asking whether a proactive identity is anonymous, so
    plain empty claims would not stay anonymous through ``create_conversation``.
    """

    @property
    def allow_anonymous(self) -> bool:
        return True


class TeamsAdapter(CloudAdapter):
    """The SDK's aiohttp CloudAdapter; in local mode its proactive sends go unauthenticated
    (the M365 Agents Playground and the test connector take them), as the issue's probe found."""

    def __init__(self, clients: ReusingClientFactory, *, local: bool) -> None:
        super().__init__(channel_service_client_factory=clients)
        self.clients = clients
        self.local = local

    def create_claims_identity(self, agent_app_id: str = "") -> ClaimsIdentity:
        if self.local:
            return _LocalIdentity({})
        return super().create_claims_identity(agent_app_id)


def create_app(service: TeamsService, ops: OpsEndpoints | None = None) -> web.Application:
    """The web app. ``ops`` (bot.ops.health) answers /healthz, /readyz and /metrics; without it only a
    plain /healthz is served (tests, the benchmark).

    Server read and idle timeouts and the connection cap (adapters/http_limits.py) are applied where
    this app is served: ``adapters/teams/command.py``, ``serve``, through ``serve_forever``.
    """
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY_BYTES)
    app[APP_KEY] = service

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            claims = await service.gate.authenticate(request.headers.get("Authorization"))
        except Unauthorized as err:
            return _problem(401, str(err))
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "Send the activity as application/json.")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _problem(400, "The body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return _problem(400, "The body is not a Bot Framework activity (no type).")
        missing = _missing_parts(body)
        if missing:
            return _problem(400, f"The activity has no {missing}, so it cannot be answered.")
        try:
            activity = Activity.model_validate(body)
        except (ValidationError, ValueError, TypeError):
            return _problem(400, "The activity could not be read.")
        try:
            service.gate.endorse(claims, activity.channel_id)
            _check_service_url(claims, activity)
        except Unauthorized as err:
            return _problem(401, str(err))
        if not service.config.accepts_tenant(tenant_id(activity)):
            log.warning("teams: refused an activity from another tenant")
            return _problem(403, "This bot only serves its own organisation's tenant.")
        activity.request_id = uuid.uuid4().hex
        with metrics.ack_timer(PLATFORM), correlation(request.headers.get(CORRELATION_HEADER)):
            try:
                invoke_response = await service.adapter.process_activity(claims, activity, service.bot.on_turn)
            except PermissionError:
                return _problem(401, "The request is not signed by the Bot Framework for this bot.")
        if activity.type == "invoke" or activity.delivery_mode == DeliveryModes.expect_replies:
            if invoke_response is None:
                return _problem(501, "This kind of invoke is not handled by Policybot.")
            return web.json_response(data=invoke_response.body, status=invoke_response.status or 200)
        return web.Response(status=201)

    async def operations(request: web.Request) -> web.Response:
        if ops is None:
            if request.path == "/healthz":
                return web.json_response({"status": "ok", "mode": service.config.mode})
            return _problem(404, "Not served by this process.")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(service.executor, ops.respond, request.path)  # may query the db
        if answer is None:
            return _problem(404, "Unknown path.")
        return web.Response(status=answer.status, body=answer.body, headers={"Content-Type": answer.content_type})

    async def draining(_app: web.Application) -> None:
        if ops is not None:
            ops.draining = True  # /readyz turns 503 so the load balancer stops sending here

    async def shutdown(_app: web.Application) -> None:
        await service.adapter.clients.close()
        service.executor.shutdown(wait=False, cancel_futures=True)

    app.router.add_post(MESSAGES_PATH, messages)
    for path in HEALTH_PATHS:
        app.router.add_get(path, operations)
    app.on_shutdown.append(draining)
    app.on_cleanup.append(shutdown)
    return app


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as err:
        reference = uuid.uuid4().hex[:10]
        log.error("teams request failed [%s]: %s: %s", reference, type(err).__name__, str(err)[:300], exc_info=True)
        return _problem(500, f"Internal error; reference {reference}.")


def _missing_parts(body: dict[str, Any]) -> str | None:
    """What an activity lacks that every reply needs: where to send it, in which chat, to whom."""
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.lower().startswith(("https://", "http://")):
        return "serviceUrl"
    for part in ("conversation", "from", "recipient"):
        value = body.get(part)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
            return f"{part} id"
    return None


def _check_service_url(claims: ClaimsIdentity, activity: Activity) -> None:
    """A Bot Framework token names the service URL it was issued for; the activity must match it,
    or a stolen token could point the bot's replies (and its outgoing token) elsewhere."""
    claimed = claims.claims.get("serviceurl") if claims.claims else None
    if not claimed:
        return
    if urlsplit(str(claimed)).netloc.lower() != urlsplit(str(activity.service_url)).netloc.lower():
        raise Unauthorized("The token was issued for another service URL.")


def _problem(status: int, message: str) -> web.Response:
    body: dict[str, Any] = {"error": message}
    return web.json_response(body, status=status)
