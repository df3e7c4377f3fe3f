"""The Web API clients: kept-alive connections, and Slack's rate limits honoured per method and workspace.

Why not slack_sdk's transport as it is: ``WebClient`` sends every call through ``urllib``, which
opens a new connection each time. Against real Slack (HTTPS, tens of milliseconds away) that is
a TCP and a TLS handshake, two more round trips, before every call (docs/benchmarks.md). Here the
request slack_sdk has built goes out through urllib3's connection pool instead, and everything
else (building the request, parsing the answer, the retry handlers) stays slack_sdk's.

Rate limits: Slack's 429 carries ``Retry-After`` for one method in one workspace. The first 429
is remembered (``RateLimitWindows``), and until the window ends every further call of that method
for that workspace is answered here with the same 429, without reaching Slack, by every client in
the process (conversations and case notifications alike). Slack counts calls made during a window
against the app, so firing them anyway only lengthens it.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import math
import threading
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from adapters.slack.config import SlackConfig
from adapters.slack.installs import WorkspaceClient

POOL_CONNECTIONS = 64  # kept-alive connections per host: the I/O threads plus the notifier's


class RateLimitWindows:
    """Until when each (method, workspace) is rate-limited, shared by every client of the process."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[tuple[str, str], float] = {}

    def note(self, method: str, workspace: str, retry_after: float) -> None:
        until = self._clock() + max(retry_after, 0.0)
        with self._lock:
            self._until[(method, workspace)] = max(until, self._until.get((method, workspace), 0.0))

    def clear(self) -> None:
        """Forget every window (tests that move time on by hand)."""
        with self._lock:
            self._until.clear()

    def remaining(self, method: str, workspace: str) -> float:
        """Seconds left in the window (0: call away)."""
        key = (method, workspace)
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return 0.0
            left = until - self._clock()
            if left <= 0:
                del self._until[key]
                return 0.0
            return left


WINDOWS = RateLimitWindows()


def _headers(pairs: dict[str, str]) -> http.client.HTTPMessage:
    """Response headers in the type urllib gives slack_sdk (it reads the charset from it)."""
    message = http.client.HTTPMessage()
    for name, value in pairs.items():
        message[name] = value
    return message


def _retry_after(headers: Any) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class PooledWebClient(WorkspaceClient):
    """A ``WorkspaceClient`` whose calls go over kept-alive connections and respect rate-limit windows."""

    _pool = urllib3.PoolManager(num_pools=8, maxsize=POOL_CONNECTIONS, block=False, retries=False)

    def __init__(self, *args: Any, windows: RateLimitWindows | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.windows = windows or WINDOWS

    def _workspace(self) -> str:
        """Which workspace (of which Slack: the API address) a call is for, as a key that is not
        the token itself."""
        return hashlib.sha256(f"{self.base_url}|{self.token or ''}".encode()).hexdigest()[:16]

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith("http"):
            return super()._perform_urllib_http_request_internal(url, req)
        method = url.rstrip("/").rsplit("/", 1)[-1]
        workspace = self._workspace()
        left = self.windows.remaining(method, workspace)
        if left > 0:  # Slack said wait: answer as it would, without asking it
            body = b'{"ok": false, "error": "ratelimited"}'
            headers = _headers({"Content-Type": "application/json", "Retry-After": str(math.ceil(left))})
            raise HTTPError(url, 429, "Too Many Requests", headers, io.BytesIO(body))
        data = req.data if isinstance(req.data, bytes) else None
        try:
            resp = self._pool.request(
                "POST",
                url,
                body=data,
                headers=dict(req.header_items()),
                timeout=urllib3.Timeout(total=self.timeout),
                preload_content=True,
                redirect=False,
            )
        except urllib3.exceptions.TimeoutError as err:
            raise TimeoutError(f"Slack did not answer {method} within {self.timeout} s") from err
        except urllib3.exceptions.HTTPError as err:  # refused, reset, DNS: what urlopen calls a URLError
            raise URLError(err) from err
        headers = _headers(dict(resp.headers.items()))
        if resp.status == 429:
            wait = _retry_after(resp.headers)
            self.windows.note(method, workspace, wait if wait is not None else 1.0)
        if resp.status >= 400:
            raise HTTPError(url, resp.status, resp.reason or "", headers, io.BytesIO(resp.data))
        if headers.get_content_type() == "application/gzip":
            return {"status": resp.status, "headers": headers, "body": resp.data}
        charset = headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": headers, "body": resp.data.decode(charset)}


class ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """Waits out a 429 only when Slack asks for a short pause: a worker thread asleep for a long
    Retry-After would hold up everyone else's answers, so a long one fails the job instead (the
    inbound journal runs it again after the window)."""

    MAX_WAIT_SECONDS = 5

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                try:
                    return int(values[0]) <= self.MAX_WAIT_SECONDS
                except (ValueError, IndexError, TypeError):
                    return False
        return True


def make_client(config: SlackConfig, *, timeout: int = 10) -> WebClient:
    """The Web API client for conversations: a brief 429 or 5xx is retried before giving up,
    because the person is waiting for their next question."""
    kwargs: dict[str, Any] = {"token": config.bot_token, "timeout": timeout}
    if config.api_url:
        kwargs["base_url"] = config.api_url
    client = PooledWebClient(**kwargs)  # sends the token of the workspace being served (installs.py)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=1),
        ShortRateLimitRetry(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=1),
    ]
    return client
