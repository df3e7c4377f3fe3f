"""A local fake of the Slack Web API: a real HTTP server on 127.0.0.1 for adapter tests and the bench.

Why a real server and not a mocked client: the adapter's behaviour under failure (429 with
Retry-After, 5xx, a call that hangs past the client's timeout) lives in slack_sdk's HTTP code and
ours together, and only real HTTP exercises both. The fake keeps just enough state to be checked
the way a person would look at Slack: which messages exist in which conversation and what they
say now (after ``chat.update``), which Home tab each person sees, which modal was opened.

It records every call (failed ones too) and can be told to fail the next N calls of a method.
Only the methods policybot uses are implemented; anything else answers ``unknown_method`` like
Slack does, so a new call in the adapter shows up as a clear test failure.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BOT_TOKEN = "xoxb-test-0000000000-policybot"
APP_TOKEN = "xapp-1-A0POLICYBOT-0000-test"  # app-level token: only for apps.connections.open
TEAM_ID = "T0COUNCIL"
BOT_USER_ID = "UBOTPOLICY"
BOT_ID = "BBOTPOLICY"

# Parameters that slack_sdk sends as JSON strings inside form bodies; decoded so tests can read them.
_JSON_PARAMS = ("blocks", "view", "attachments", "metadata")


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int  # the HTTP status the fake answered with
    error: str | None  # Slack's "error" field when ok was false (or the injected failure)
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class Failure:
    """An injected failure for the next call(s) of one method."""

    status: int = 429
    retry_after: int | None = 1
    delay: float = 0.0  # seconds to wait before answering (a timeout when longer than the client's)
    error: str | None = None  # answer 200 with ok=false and this error instead of an HTTP error
    apply_after_delay: bool = False  # with delay: the call still takes effect (Slack got it, we lost the reply)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    updates: int = 0


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None
    is_bot: bool = False
    deleted: bool = False
    locale: str = "en-GB"  # what users.info says with include_locale=true, as real Slack does

    def as_json(self, *, with_locale: bool = False) -> dict[str, Any]:
        profile: dict[str, Any] = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        found: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "tz": "Europe/London",
            "profile": profile,
        }
        if with_locale:
            found["locale"] = self.locale
        return found


class FakeSlackAPI:
    """The fake Web API. Use as a context manager or call ``start``/``stop``.

    ``base_url`` is what a ``slack_sdk.WebClient(base_url=...)`` needs.
    """

    def __init__(self, *, token: str = BOT_TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency  # seconds added to every call: the network between the bot and Slack (benches)
        self.calls: list[Call] = []
        self.started: list[str] = []  # the method of every call, as it arrives (calls: as answered)
        self.messages: dict[tuple[str, str], Message] = {}
        self._by_channel: dict[str, list[Message]] = {}  # in posting order (ts only grows)
        self.ephemeral: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        self.opened_views: list[dict[str, Any]] = []
        self.users: dict[str, User] = {}
        self.channels: set[str] = set()
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._last_micros = 0
        self._view_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlackAPI:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    # ----------------------------------------------------------------- set-up helpers

    def add_user(
        self, user_id: str, name: str, email: str | None, real_name: str | None = None, *, locale: str = "en-GB"
    ) -> User:
        user = User(id=user_id, name=name, real_name=real_name or name.title(), email=email, locale=locale)
        with self._lock:
            self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str) -> None:
        """A channel the bot is a member of (posting elsewhere answers ``not_in_channel``)."""
        with self._lock:
            self.channels.add(channel_id)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        delay: float = 0.0,
        error: str | None = None,
        apply_after_delay: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        ``status=429`` answers rate-limited with ``Retry-After``; ``status=500..599`` a server error;
        ``error="..."`` a 200 with ``ok: false``; ``delay`` holds the answer back (a client timeout).
        """
        failure = Failure(
            status=status,
            retry_after=retry_after,
            delay=delay,
            error=error,
            apply_after_delay=apply_after_delay,
        )
        with self._lock:
            self._failures.setdefault(method, []).extend([failure] * times)

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    # ----------------------------------------------------------------- inspection helpers

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0, ok_only: bool = True) -> list[Call]:
        """Block until ``count`` calls of ``method`` arrived; listeners run after ack(), in the background.

        Raises AssertionError with what did arrive, so a failing test says what the adapter did.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method and (c.ok or not ok_only)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.status, c.error) for c in self.calls]
                    raise AssertionError(f"expected {count} x {method}, got {len(found)}; calls: {seen}")
                self._changed.wait(remaining)

    def wait_until(self, predicate: Any, *, timeout: float = 10.0, what: str = "condition") -> None:
        """Block until ``predicate()`` is true (checked after every call the fake receives)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.status, c.error) for c in self.calls]
                    raise AssertionError(f"timed out waiting for {what}; calls: {seen}")
                self._changed.wait(remaining)

    def messages_in(self, channel: str) -> list[Message]:
        """Messages currently in a conversation, oldest first (as Slack would show them)."""
        with self._lock:
            return list(self._by_channel.get(channel, []))

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            return self.messages[(channel, ts)]

    def dm_channel(self, user_id: str) -> str:
        """The id the fake gives the bot's DM with a person (what conversations.open returns)."""
        return "D" + user_id

    def iter_calls(self) -> Iterator[Call]:
        with self._lock:
            yield from list(self.calls)

    # ----------------------------------------------------------------- the API

    def _take_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            if queue:
                return queue.pop(0)
        return None

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def handle(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict[str, str], dict]:
        """Answer one call: (HTTP status, extra headers, JSON body)."""
        with self._changed:
            self.started.append(method)  # before any delay: a test can see a call in flight
            self._changed.notify_all()
        if self.latency:
            time.sleep(self.latency)
        failure = self._take_failure(method)
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)
            if failure.apply_after_delay:
                failure = None  # the effect happens; only the (late) answer was the problem
        if failure is not None:
            if failure.error is not None:
                self._record(Call(method, params, token, 200, failure.error))
                return 200, {}, {"ok": False, "error": failure.error}
            headers = {}
            if failure.status == 429 and failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            error = "ratelimited" if failure.status == 429 else "fatal_error"
            self._record(Call(method, params, token, failure.status, error))
            return failure.status, headers, {"ok": False, "error": error}

        # Slack wants the app-level token for apps.connections.open and a bot token for the rest.
        expected = APP_TOKEN if method == "apps.connections.open" else self.token
        if token != expected:
            self._record(Call(method, params, token, 200, "invalid_auth"))
            return 200, {}, {"ok": False, "error": "invalid_auth"}

        impl = getattr(self, "_api_" + method.replace(".", "_"), None)
        if impl is None:
            body: dict[str, Any] = {"ok": False, "error": "unknown_method"}
        else:
            with self._lock:
                body = impl(params)
        self._record(Call(method, params, token, 200, None if body.get("ok") else body.get("error")))
        return 200, {}, body

    def _next_ts(self) -> str:
        """A message id as Slack makes them: the wall-clock time in microseconds, unique and growing
        (conversations.history's ``oldest``/``latest`` are wall-clock times, so they must agree)."""
        micros = max(self._last_micros + 1, time.time_ns() // 1000)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _resolve_channel(self, channel: str | None) -> str | None:
        """Slack accepts a user id as the channel of chat.postMessage: the app's DM with that person."""
        if not channel:
            return None
        if channel.startswith(("U", "W")) and channel in self.users:
            return self.dm_channel(channel)
        if channel.startswith("D") and channel[1:] in self.users:
            return channel
        if channel in self.channels:
            return channel
        return None

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test-council.slack.com/",
            "team": "Test Council",
            "user": "policybot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _api_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_mode_url}

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            known = params.get("channel", "")
            return {"ok": False, "error": "not_in_channel" if known.startswith("C") else "channel_not_found"}
        ts = self._next_ts()
        message = Message(
            channel=channel,
            ts=ts,
            text=params.get("text") or "",
            blocks=params.get("blocks") or [],
            thread_ts=params.get("thread_ts"),
            metadata=params.get("metadata"),
        )
        self.messages[(channel, ts)] = message
        self._by_channel.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text, "ts": ts}}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        key = (channel or "", str(params.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        message = self.messages[key]
        if "text" in params:
            message.text = params["text"] or ""
        if "blocks" in params:
            message.blocks = params["blocks"] or []
        message.updates += 1
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message.text}

    def _api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if self._resolve_channel(channel) is None:
            return {"ok": False, "error": "channel_not_found"}
        if params.get("user") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        self.ephemeral.append(params)
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Like Slack: the conversation's top-level messages (thread replies are not in it), newest
        first, strictly between ``oldest`` and ``latest`` unless ``inclusive``; ``limit`` (default
        100, at most 999) per page with an opaque ``cursor``; message metadata only with
        ``include_all_metadata``. A channel the bot is not in answers ``not_in_channel``."""
        raw = str(params.get("channel") or "")
        channel = self._resolve_channel(raw)
        if channel is None or channel != raw:  # history wants the conversation id itself, not a user id
            return {"ok": False, "error": "not_in_channel" if raw.startswith("C") else "channel_not_found"}
        try:
            limit = int(params.get("limit") or 100)
            oldest = _micros(str(params.get("oldest") or "0"))
            latest = _micros(str(params.get("latest") or "")) if params.get("latest") else None
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not 1 <= limit <= 999:
            return {"ok": False, "error": "invalid_limit"}
        inclusive = _true(params.get("inclusive"))
        with_metadata = _true(params.get("include_all_metadata"))

        def in_range(message: Message) -> bool:
            at = _micros(message.ts)
            after = at >= oldest if inclusive else at > oldest
            before = latest is None or (at <= latest if inclusive else at < latest)
            return after and before

        found = [m for m in reversed(self._by_channel.get(channel, [])) if not m.thread_ts and in_range(m)]
        start = 0
        if params.get("cursor"):
            try:
                start = int(base64.b64decode(str(params["cursor"])).decode().removeprefix("next:"))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = []
        for message in page:
            item: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": message.text,
                "blocks": message.blocks,
                "ts": message.ts,
            }
            if with_metadata and message.metadata:
                item["metadata"] = message.metadata
            messages.append(item)
        cursor = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else ""
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users") or "").split(",")
        if len(users) != 1 or users[0] not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.dm_channel(users[0])}}

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        view = params.get("view")
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        if not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        view_id = f"VHOME{next(self._view_ids)}"
        self.home_views[str(user_id)] = view
        return {"ok": True, "view": {**view, "id": view_id}}

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if not isinstance(view, dict) or view.get("type") != "modal":
            return {"ok": False, "error": "invalid_arguments"}
        self.opened_views.append(params)
        return {"ok": True, "view": {**view, "id": f"VMODAL{next(self._view_ids)}"}}

    def _api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.as_json(with_locale=_true(params.get("include_locale")))}

    def _api_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": user.as_json()}
        return {"ok": False, "error": "users_not_found"}


def _micros(ts: str) -> int:
    """A Slack timestamp ("1712345678.000200") as whole microseconds, for exact comparisons."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _true(value: object) -> bool:
    """A boolean argument as slack_sdk sends it (GET: "1"/"0"; JSON: true/false) or as typed ("true")."""
    return value is True or str(value).lower() in ("1", "true")


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the bench opens many connections at once; the default 5 resets them
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    api: FakeSlackAPI
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle: otherwise a keep-alive client waits for a delayed ACK
    # (40 ms on Linux) between the headers and the body, which the bench would report as ours.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read calls, not access logs
        return

    def _params(self) -> dict[str, Any]:
        parsed = urlparse(self.path)
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        if raw:
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                params.update(json.loads(raw))
            else:
                params.update({k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()})
        for key in _JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                params[key] = json.loads(value)
        return params

    def _inspect(self, parsed: Any) -> None:
        """``GET /_fake/latest?channel=D..&after=TS&timeout=S``: the newest top-level message in a
        conversation posted after ``after``, waiting up to ``timeout`` seconds for one. Lets a
        client in another process (the bench) see what the bot said, as a person would."""
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        channel, after = query.get("channel", ""), float(query.get("after", "0") or 0)
        found: list[Message] = []

        def newer() -> bool:
            for m in reversed(self.api.messages_in(channel)):
                if float(m.ts) <= after:
                    return False
                if not m.thread_ts:
                    found[:] = [m]
                    return True
            return False

        try:
            self.api.wait_until(newer, timeout=float(query.get("timeout", "10")), what="a new message")
            m = found[-1]
            status, body = 200, {"channel": m.channel, "ts": m.ts, "text": m.text, "blocks": m.blocks}
        except AssertionError:
            status, body = 404, {"error": "no new message"}
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self) -> None:
        parsed_url = urlparse(self.path)
        if parsed_url.path == "/_fake/latest":
            self._inspect(parsed_url)
            return
        path = parsed_url.path
        method = path.rsplit("/", 1)[-1]
        params = self._params()
        auth = self.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() or params.pop("token", None)
        status, headers, body = self.api.handle(method, params, token)
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        # The client may have given up (a timeout test); the call is recorded all the same.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()
