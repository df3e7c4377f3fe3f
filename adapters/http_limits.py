"""Read and idle timeouts and a connection cap for every aiohttp server, health checks exempt.

Without them one client can hold the server: aiohttp waits for a request head for as long as
the keep-alive timer allows (an hour by default) and for a body for ever, so a few hundred
connections that send one byte a second (a "slowloris") use up file descriptors and memory
while real requests wait. What this module adds, for any ``web.Application``:

- **read timeout**: a request must arrive whole (its head, and its body) within this many
  seconds of its first byte. A head still incomplete is cut off by closing the connection; a
  body still incomplete gets ``408`` and the connection is closed;
- **idle timeout**: a kept-alive connection with no request on it is closed after this long
  (aiohttp's ``keepalive_timeout``). Set it longer than the load balancer's own idle timeout
  (60 s on most), so the balancer, not the server, closes idle connections and never sends a
  request down one the server is closing;
- **connection cap**: past this many open connections, a request gets ``503`` with
  ``Retry-After`` and its connection is closed, except the health paths (``/healthz``,
  ``/readyz``), which still answer, so an orchestrator does not restart a replica for being busy.

Usage (the API is these two calls)::

    limits = HTTPLimits.from_env()            # or HTTPLimits(read_timeout=..., ...)
    runner = limits.runner(web_app, access_log=None)   # instead of web.AppRunner(web_app, ...)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()

Settings, from the environment (docs/deploy.md): ``POLICYBOT_HTTP_READ_TIMEOUT`` (seconds,
default 10), ``POLICYBOT_HTTP_IDLE_TIMEOUT`` (seconds, default 75),
``POLICYBOT_HTTP_MAX_CONNECTIONS`` (default 1000).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from bot.errors import SettingsError

log = logging.getLogger(__name__)

ENV_READ_TIMEOUT = "POLICYBOT_HTTP_READ_TIMEOUT"
ENV_IDLE_TIMEOUT = "POLICYBOT_HTTP_IDLE_TIMEOUT"
ENV_MAX_CONNECTIONS = "POLICYBOT_HTTP_MAX_CONNECTIONS"
HEALTH_PATHS = ("/healthz", "/readyz")


@dataclass(frozen=True)
class HTTPLimits:
    """How long a request may take to arrive, how long a connection may idle, how many at once."""

    read_timeout: float = 10.0
    idle_timeout: float = 75.0
    max_connections: int = 1000
    exempt_paths: tuple[str, ...] = HEALTH_PATHS

    def __post_init__(self) -> None:
        if self.read_timeout <= 0 or self.idle_timeout <= 0 or self.max_connections < 1:
            raise SettingsError(
                "The HTTP server limits must be positive: "
                f"{ENV_READ_TIMEOUT}={self.read_timeout}, {ENV_IDLE_TIMEOUT}={self.idle_timeout}, "
                f"{ENV_MAX_CONNECTIONS}={self.max_connections} (docs/deploy.md, 'HTTP server limits')."
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HTTPLimits:
        env = os.environ if environ is None else environ
        defaults = cls()

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return float(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a number of seconds, not {raw!r} (docs/deploy.md).") from None

        cap = number(ENV_MAX_CONNECTIONS, defaults.max_connections)
        if cap != int(cap):
            raise SettingsError(f"{ENV_MAX_CONNECTIONS} must be a whole number, not {cap} (docs/deploy.md).")
        return cls(
            read_timeout=number(ENV_READ_TIMEOUT, defaults.read_timeout),
            idle_timeout=number(ENV_IDLE_TIMEOUT, defaults.idle_timeout),
            max_connections=int(cap),
        )

    def runner(self, app: web.Application, **kwargs: Any) -> web.AppRunner:
        """A ``web.AppRunner`` for ``app`` that enforces these limits (call before ``setup``)."""
        return LimitedRunner(app, self, **kwargs)


class _TimedHandler(RequestHandler):
    """aiohttp's connection handler, which also closes a connection whose request head does not
    arrive whole within the read timeout of its first byte."""

    __slots__ = ("_read_timeout", "_read_timer")

    def __init__(self, manager: Server, *, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._read_timeout = read_timeout
        self._read_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        waiting_for_head = self._current_request is None
        heads = self._request_count
        super().data_received(data)
        if self._request_count > heads:  # a head arrived whole
            self._cancel_read_timer()
        elif waiting_for_head and self._read_timer is None:
            self._read_timer = self._loop.call_later(self._read_timeout, self._head_too_slow, heads)

    def _head_too_slow(self, heads: int) -> None:
        self._read_timer = None
        if self._request_count == heads and self._current_request is None:
            log.info("closed a connection whose request did not arrive within %.0f s", self._read_timeout)
            self.force_close()

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_read_timer()
        super().connection_lost(exc)


class _TimedServer:
    """The runner's ``Server`` (the protocol factory TCPSite listens with), making ``_TimedHandler``s."""

    def __init__(self, server: Server, read_timeout: float) -> None:
        self._server = server
        self._read_timeout = read_timeout

    def __call__(self) -> RequestHandler:
        server = self._server
        return _TimedHandler(server, read_timeout=self._read_timeout, loop=server._loop, **server._kwargs)

    def __getattr__(self, name: str) -> Any:  # connections, shutdown, pre_shutdown, ...
        return getattr(self._server, name)


class LimitedRunner(web.AppRunner):
    """``web.AppRunner`` with the idle timeout, the head read timeout and, through a middleware,
    the body read timeout and the connection cap."""

    def __init__(self, app: web.Application, limits: HTTPLimits, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", limits.idle_timeout)
        # After answering a request whose body was not read whole, aiohttp keeps reading what is
        # left for up to ten seconds ("lingering") before it closes: bounded by the read timeout.
        kwargs.setdefault("lingering_time", min(limits.read_timeout, 10.0))
        super().__init__(app, **kwargs)
        self.limits = limits
        self._timed: _TimedServer | None = None
        app.middlewares.insert(0, self._middleware)  # outermost: before any other work

    async def _make_server(self) -> Server:
        self._timed = _TimedServer(await super()._make_server(), self.limits.read_timeout)
        return cast(Server, self._timed)

    @property
    def open_connections(self) -> int:
        return len(self._timed.connections) if self._timed is not None else 0

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        limits = self.limits
        if request.path not in limits.exempt_paths and self.open_connections > limits.max_connections:
            response = web.json_response(
                {"error": "too many connections; try again in a moment"}, status=503, headers={"Retry-After": "1"}
            )
            response.force_close()
            return response
        if request.body_exists:
            try:
                async with asyncio.timeout(limits.read_timeout):
                    await request.read()  # kept by aiohttp: the handler's own read() gets it at once
            except TimeoutError:
                response = web.json_response({"error": "the request body arrived too slowly"}, status=408)
                response.force_close()
                return response
            except web.HTTPException:
                raise  # aiohttp's own answer (413: larger than client_max_size)
            except Exception as err:  # cut short, or a Content-Encoding that does not decode
                log.info("could not read a request body: %s", type(err).__name__)
                response = web.json_response({"error": "the request body could not be read"}, status=400)
                response.force_close()
                return response
        return cast(web.StreamResponse, await handler(request))


async def start_site(
    app: web.Application, host: str, port: int, limits: HTTPLimits, **runner_kwargs: Any
) -> tuple[LimitedRunner, int]:
    """Set up ``app`` under these limits and listen on host:port; return the runner and the port
    actually bound (``port=0`` picks a free one, as the tests do)."""
    runner = cast(LimitedRunner, limits.runner(app, **runner_kwargs))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            bound = int(address[1])
            break
    return runner, bound


def serve_forever(app: web.Application, host: str, port: int, limits: HTTPLimits | None = None) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, under ``limits`` (from the environment by default).

    What ``web.run_app`` does for a server that needs its own runner: start-up and shut-down hooks
    run as usual (``runner.setup()`` and ``runner.cleanup()``), and a stop signal lets requests in
    flight finish before the process exits.
    """
    import contextlib
    import signal

    limits = limits or HTTPLimits.from_env()

    async def main() -> None:
        runner, _ = await start_site(app, host, port, limits, access_log=None)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread, or not POSIX
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())
