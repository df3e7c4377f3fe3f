"""Run an aiohttp application on 127.0.0.1 in a thread of its own, for tests that drive it with a
blocking client (requests, Playwright's sync API)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable

from aiohttp import web


class ThreadedServer:
    """Binds first (so the address is known before the app is built), then serves in a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None
        self.thread: threading.Thread | None = None

    def start(self, make_app: Callable[[], web.Application]) -> ThreadedServer:
        ready = threading.Event()
        problem: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.runner = web.AppRunner(make_app(), access_log=None)
                self.loop.run_until_complete(self.runner.setup())
                self.loop.run_until_complete(web.SockSite(self.runner, self.sock).start())
            except BaseException as err:  # reported to the test thread
                problem.append(err)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(30)
        if problem:
            raise problem[0]
        return self

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(30)
        self.sock.close()
