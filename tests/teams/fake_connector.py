"""A local fake of the Bot Connector service, for adapter tests over real HTTP.

Teams never receives our replies directly: the bot POSTs them to the ``serviceUrl`` named in each
incoming activity (``https://smba.trafficmanager.net/...`` in production). Tests put this server's
``http://127.0.0.1:<port>/`` in that field, so the real botbuilder ConnectorClient sends its real
REST calls here, and the test reads what was sent, updated or created.

It records every call, keeps the latest version of each activity (so "the card was updated in
place" is a question about state, not about call order), and can fail the next N calls with a 429
and a Retry-After header or a 5xx, the way the real service throttles and stumbles.

Shapes follow the Bot Connector REST API v3: ``POST /v3/conversations`` answers a
ConversationResourceResponse ``{"id", "activityId", "serviceUrl"}``, activity POST/PUT answer a
ResourceResponse ``{"id"}``, errors answer ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.teams.loopback import LoopbackServer


@dataclass
class ConnectorCall:
    """One request the bot made to the connector."""

    method: str
    path: str
    operation: str  # create_conversation | send | reply | update | delete | get_member(s) | unknown
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any] | None
    authorization: str | None
    status: int = 0  # what the fake answered


@dataclass
class Failure:
    status: int
    retry_after: float | None = None
    operations: frozenset[str] | None = None  # None: any operation


@dataclass
class StoredActivity:
    """The latest version of an activity the bot sent, and every version before it."""

    conversation_id: str
    activity_id: str
    versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]


class FakeConnector(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1 that behaves like the Bot Connector for our calls."""

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self.latency_seconds = latency_seconds  # added to every Bot Connector call (bench: a real service's RTT)
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self.calls: list[ConnectorCall] = []
        self.activities: dict[tuple[str, str], StoredActivity] = {}
        self._by_conversation: dict[str, list[StoredActivity]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}  # id -> the create_conversation body
        self._failures: list[Failure] = []
        self._delay_seconds = 0.0
        self._delay_count = 0
        self.members: dict[str, list[dict[str, Any]]] = {}  # conversation id -> members to report
        self.people: dict[str, dict[str, Any]] = {}  # Teams user id -> TeamsChannelAccount JSON
        super().__init__(self._handler_class(), "fake-connector")

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return f"{self.origin}/"

    # ---- failure injection -----------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int = 429,
        *,
        retry_after: float | None = None,
        operations: set[str] | None = None,
    ) -> None:
        """Answer the next ``count`` matching calls with ``status`` (and Retry-After, if given)."""
        with self._lock:
            ops = frozenset(operations) if operations else None
            self._failures.extend(Failure(status, retry_after, ops) for _ in range(count))

    def delay_next(self, count: int, seconds: float) -> None:
        """Hold the next ``count`` calls for ``seconds`` before answering (to provoke timeouts)."""
        with self._lock:
            self._delay_count = count
            self._delay_seconds = seconds

    def _take_failure(self, operation: str) -> Failure | None:
        for i, failure in enumerate(self._failures):
            if failure.operations is None or operation in failure.operations:
                return self._failures.pop(i)
        return None

    # ---- what tests read -------------------------------------------------------------------

    def successful(self, operation: str | None = None) -> list[ConnectorCall]:
        with self._lock:
            return [c for c in self.calls if 200 <= c.status < 300 and (operation is None or c.operation == operation)]

    def sent_to(self, conversation_id: str) -> list[StoredActivity]:
        """Activities posted to a conversation, in the order they were first sent."""
        with self._lock:
            return list(self._by_conversation.get(conversation_id, []))

    def activity(self, conversation_id: str, activity_id: str) -> StoredActivity:
        with self._lock:
            return self.activities[(conversation_id, activity_id)]

    def wait_for(self, predicate: Callable[[FakeConnector], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(self)`` holds (background deliveries), or give up after timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.activities.clear()
            self._by_conversation.clear()
            self.conversations.clear()
            self._failures.clear()

    # ---- request handling ------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, body: dict[str, Any] | None, auth: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        path = urlsplit(raw_path).path
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] == ["_fake"] and method == "GET" and len(parts) == 3 and parts[1] == "conversations":
            # Not part of the Bot Connector API: lets a load generator in another process read what
            # the bot posted in a conversation (latest version of each activity, oldest first).
            with self._lock:
                found = [{"id": a.activity_id, **a.latest} for a in self._by_conversation.get(parts[2], [])]
            return 200, {}, {"activities": found}
        operation, conversation_id, activity_id = _classify(method, parts)
        with self._lock:
            call = ConnectorCall(method, path, operation, conversation_id, activity_id, body, auth)
            self.calls.append(call)
            delay = self.latency_seconds
            if self._delay_count > 0:
                self._delay_count -= 1
                delay = self._delay_seconds
            failure = self._take_failure(operation)
        if delay:
            time.sleep(delay)
        with self._lock:
            try:
                if failure is not None:
                    headers = {}
                    if failure.retry_after is not None:
                        headers["Retry-After"] = _format_seconds(failure.retry_after)
                    call.status = failure.status
                    code = "TooManyRequests" if failure.status == 429 else "ServiceError"
                    return failure.status, headers, {"error": {"code": code, "message": "injected failure"}}
                status, payload = self._apply(operation, conversation_id, activity_id, body or {})
                call.status = status
                return status, {}, payload
            finally:
                self._lock.notify_all()

    def _apply(
        self, operation: str, conversation_id: str | None, activity_id: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if operation == "create_conversation":
            channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
            n = next(self._ids)
            new_id = f"{channel};messageid={n}" if channel else f"a:fake-conversation-{n}"
            self.conversations[new_id] = body
            first_activity_id = ""
            if body.get("activity"):
                first_activity_id = self._store(new_id, None, body["activity"])
            answer = {"id": new_id, "serviceUrl": self.service_url}
            if first_activity_id:  # the real service leaves activityId out when no activity was sent
                answer["activityId"] = first_activity_id
            return 201, answer
        if operation in ("send", "reply"):
            assert conversation_id is not None
            new_id = self._store(conversation_id, None, body)
            return 201, {"id": new_id}
        if operation == "update":
            assert conversation_id is not None and activity_id is not None
            if (conversation_id, activity_id) not in self.activities:
                return 404, {"error": {"code": "ActivityNotFoundInConversation", "message": "no such activity"}}
            self._store(conversation_id, activity_id, body)
            return 200, {"id": activity_id}
        if operation == "delete":
            gone = self.activities.pop((conversation_id or "", activity_id or ""), None)
            if gone is not None:
                self._by_conversation[gone.conversation_id].remove(gone)
            return 200, {}
        if operation == "get_member":
            person = self.people.get(activity_id or "")
            if person is None:
                return 404, {"error": {"code": "MemberNotFoundInConversation", "message": "not a member"}}
            return 200, person
        if operation == "get_members":
            return 200, {"members": self.members.get(conversation_id or "", [])}
        return 404, {"error": {"code": "NotFound", "message": "the fake connector does not know this call"}}

    def _store(self, conversation_id: str, activity_id: str | None, body: dict[str, Any]) -> str:
        if activity_id is None:
            activity_id = f"activity-{next(self._ids)}"
        key = (conversation_id, activity_id)
        stored = self.activities.get(key)
        if stored is None:
            stored = self.activities[key] = StoredActivity(conversation_id, activity_id)
            self._by_conversation.setdefault(conversation_id, []).append(stored)
        stored.versions.append(body)
        return activity_id

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY the second waits for the
            # client's delayed ACK (about 40 ms per call), as no real Bot Connector makes us wait.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.strip() else None
                status, headers, payload = fake._handle(
                    self.command, self.path, body, self.headers.get("Authorization")
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_DELETE = do_GET = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

        return Handler


def _classify(method: str, parts: list[str]) -> tuple[str, str | None, str | None]:
    """Name the REST operation from the method and the path segments after the host."""
    if parts[:2] != ["v3", "conversations"]:
        return "unknown", None, None
    rest = parts[2:]
    if not rest:
        return ("create_conversation" if method == "POST" else "unknown"), None, None
    conversation_id = rest[0]
    if len(rest) == 2 and rest[1] == "members" and method == "GET":
        return "get_members", conversation_id, None
    if len(rest) == 3 and rest[1] == "members" and method == "GET":
        return "get_member", conversation_id, rest[2]  # the member id travels in activity_id
    if len(rest) == 2 and rest[1] == "activities" and method == "POST":
        return "send", conversation_id, None
    if len(rest) == 3 and rest[1] == "activities":
        operation = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(method, "unknown")
        return operation, conversation_id, rest[2]
    return "unknown", conversation_id, None


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def adaptive_cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Card contents attached to an activity body."""
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


@contextmanager
def running_connector() -> Iterator[FakeConnector]:
    with FakeConnector() as fake:
        yield fake
