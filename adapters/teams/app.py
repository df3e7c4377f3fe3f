"""The aiohttp application: ``POST /api/messages`` for Teams, ``GET /healthz`` for the load balancer.

``CloudAdapter`` with ``ConfigurationBotFrameworkAuthentication`` (botbuilder 4.17) checks each
request's Bot Framework JWT in production mode (``process_activity``); in local mode the SDK sees no app id and accepts
unauthenticated requests, which is why local mode is loopback-only (config.py). Replies go to the
``serviceUrl`` of the incoming activity, or back in the HTTP body when the activity asks for
``deliveryMode: expectReplies``.

Bad requests (not JSON, no activity type, unreadable activity) get a 4xx with one line of
explanation; anything unexpected gets a 500 with a reference that matches the log line.
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

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity

from adapters.teams.bot import CaseDesk, TeamsBot
from adapters.teams.config import TeamsConfig
from adapters.teams.connector import ConnectorLimits, ReusingAuthentication
from adapters.teams.storage import TeamsStorage
from bot.conversation.engine import Engine
from bot.ops.health import HEALTH_PATHS, OpsEndpoints
from bot.telemetry import metrics
from bot.telemetry.logging_setup import CORRELATION_HEADER, correlation

log = logging.getLogger("policybot.teams")

MESSAGES_PATH = "/api/messages"
PLATFORM = "teams"
APP_KEY: web.AppKey[TeamsService] = web.AppKey("policybot.teams", object)  # type: ignore[arg-type]


@dataclass
class TeamsService:
    """Everything one running Teams adapter is made of (the notifier needs the same pieces)."""

    config: TeamsConfig
    adapter: CloudAdapter
    bot: TeamsBot
    storage: TeamsStorage
    executor: ThreadPoolExecutor


def build_service(
    engine: Engine,
    storage: TeamsStorage,
    config: TeamsConfig,
    *,
    cases: CaseDesk | None = None,
    workers: int | None = None,
) -> TeamsService:
    """Wire the SDK adapter, the bot and its thread pool.

    ``workers`` is how many engine/database calls run at once. SQLite lets one writer in at a time
    and makes the others sleep in its busy handler, so a large pool mostly adds waiting (and, under
    load, "database is locked" after the busy timeout); two threads keep one turn's Python work
    overlapping another's commit. PostgreSQL takes real concurrency. See docs/benchmarks.md (Teams).
    """
    config.check()
    auth = ReusingAuthentication(ConfigurationBotFrameworkAuthentication(config.sdk_configuration()))
    adapter = CloudAdapter(auth)
    adapter.use(ConnectorLimits(config.connector_timeout_seconds))

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        # The bot handles its own errors; this catches failures in the SDK's pipeline around it.
        correlation = uuid.uuid4().hex[:10]
        log.error("teams pipeline error [%s]: %s: %s", correlation, type(error).__name__, str(error)[:300])

    adapter.on_turn_error = on_turn_error
    if workers is None:
        workers = 2 if engine.store.dialect == "sqlite" else 8
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="policybot-teams")
    bot = TeamsBot(engine, storage, executor=executor, turn_seconds=config.turn_seconds, cases=cases)
    return TeamsService(config=config, adapter=adapter, bot=bot, storage=storage, executor=executor)


def create_app(service: TeamsService, ops: OpsEndpoints | None = None) -> web.Application:
    """The web app. ``ops`` (bot.ops.health) answers /healthz, /readyz and /metrics; without it only a
    plain /healthz is served (tests, the benchmark)."""
    app = web.Application(middlewares=[_errors], client_max_size=1024 * 1024)
    app[APP_KEY] = service

    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "Send the activity as application/json.")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _problem(400, "The body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return _problem(400, "The body is not a Bot Framework activity (no type).")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return _problem(400, "The activity could not be read.")
        if not activity.type:
            return _problem(400, "The body is not a Bot Framework activity (no type).")
        missing = _missing_parts(body)
        if missing:
            return _problem(400, f"The activity has no {missing}, so it cannot be answered.")
        auth_header = request.headers.get("Authorization", "")
        with metrics.ack_timer(PLATFORM), correlation(request.headers.get(CORRELATION_HEADER)):
            try:
                invoke_response = await service.adapter.process_activity(auth_header, activity, service.bot.on_turn)
            except PermissionError:
                return _problem(401, "The request is not signed by the Bot Framework for this bot.")
        if invoke_response is None:
            return web.Response(status=201)
        return web.json_response(data=_plain(invoke_response.body), status=invoke_response.status)

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
    except web.HTTPUnauthorized:
        return _problem(401, "The request is not signed by the Bot Framework for this bot.")
    except web.HTTPException:
        raise
    except PermissionError:
        return _problem(401, "The request is not signed by the Bot Framework for this bot.")
    except Exception as err:
        correlation = uuid.uuid4().hex[:10]
        log.error("teams request failed [%s]: %s: %s", correlation, type(err).__name__, str(err)[:300], exc_info=True)
        return _problem(500, f"Internal error; reference {correlation}.")


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


def _plain(body: Any) -> Any:
    """The invoke or expectReplies body as JSON data.

    CloudAdapter.process in botbuilder 4.17 serialises this body once more even when the SDK has
    already turned it into a dict (expectReplies, and the SDK's own adaptive card invoke path), and
    fails; so the route calls ``process_activity`` and serialises here, exactly once.
    """
    if body is None or isinstance(body, dict | list | str | int | float | bool):
        return body
    return serializer_helper(body)


def _problem(status: int, message: str) -> web.Response:
    body: dict[str, Any] = {"error": message}
    return web.json_response(body, status=status)
