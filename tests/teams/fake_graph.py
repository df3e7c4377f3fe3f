"""A local fake of Microsoft Graph and its token endpoint, for the manager-lookup client.

The real client asks ``login.microsoftonline.com/{tenant}/oauth2/v2.0/token`` for an app-only token
(client credentials, scope ``https://graph.microsoft.com/.default``) and then calls
``GET /v1.0/users/{id}/manager``. Tests point both base URLs at this server on 127.0.0.1, so the
client's real HTTP code runs: form encoding, bearer header, 404 for "no manager", 401 on an
expired token, 429/503 with Retry-After.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.teams.loopback import LoopbackServer


@dataclass
class GraphCall:
    method: str
    path: str
    authorization: str | None
    form: dict[str, str]
    status: int = 0


class FakeGraph(LoopbackServer):
    """Token endpoint plus ``/v1.0/users/{id}/manager``, both on one loopback server."""

    def __init__(self, *, tenant_id: str, client_id: str, client_secret: str) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self.valid_tokens: set[str] = set()
        self.managers: dict[str, dict[str, Any]] = {}  # user id, UPN or mail -> manager user object
        self.users: dict[str, dict[str, Any]] = {}  # user id, UPN or mail -> user object
        self.calls: list[GraphCall] = []
        self._failures: list[tuple[int, float | None]] = []
        self.token_lifetime = 3599
        super().__init__(self._handler_class(), "fake-graph")

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def login_url(self) -> str:
        """What the client uses in place of https://login.microsoftonline.com."""
        return self.base_url

    @property
    def graph_url(self) -> str:
        """What the client uses in place of https://graph.microsoft.com."""
        return self.base_url

    def add_user(self, user_id: str, display_name: str, mail: str, manager_id: str | None = None) -> None:
        user = {
            "@odata.type": "#microsoft.graph.user",
            "id": user_id,
            "displayName": display_name,
            "mail": mail,
            "userPrincipalName": mail,
        }
        with self._lock:
            for key in (user_id, mail.lower()):
                self.users[key] = user
            if manager_id is not None:
                for key in (user_id, mail.lower()):
                    self.managers[key] = {"manager_id": manager_id}

    def revoke_tokens(self) -> None:
        """Make every issued token invalid (the client must fetch a new one on 401)."""
        with self._lock:
            self.valid_tokens.clear()

    def fail_next(self, count: int, status: int = 429, *, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.extend([(status, retry_after)] * count)

    def token_requests(self) -> list[GraphCall]:
        with self._lock:
            return [c for c in self.calls if c.path.endswith("/oauth2/v2.0/token")]

    def _handle(
        self, method: str, raw_path: str, form: dict[str, str], auth: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        path = urlsplit(raw_path).path
        parts = [unquote(p) for p in path.strip("/").split("/")]
        with self._lock:
            call = GraphCall(method, path, auth, form)
            self.calls.append(call)
            if self._failures and not path.endswith("/token"):
                status, retry_after = self._failures.pop(0)
                call.status = status
                headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
                return status, headers, _error("TooManyRequests" if status == 429 else "ServiceNotAvailable")
            status, payload = self._route(method, parts, form, auth)
            call.status = status
            return status, {}, payload

    def _route(
        self, method: str, parts: list[str], form: dict[str, str], auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and parts == [self.tenant_id, "oauth2", "v2.0", "token"]:
            return self._token(form)
        if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            return 400, {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."}
        if method == "GET" and len(parts) == 4 and parts[0] == "v1.0" and parts[1] == "users" and parts[3] == "manager":
            token = (auth or "").removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return 401, _error("InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
            user = self.users.get(parts[2]) or self.users.get(parts[2].lower())
            if user is None:
                return 404, _error("Request_ResourceNotFound", f"Resource '{parts[2]}' does not exist.")
            link = self.managers.get(parts[2]) or self.managers.get(parts[2].lower())
            manager = self.users.get(link["manager_id"]) if link else None
            if manager is None:
                return 404, _error(
                    "Request_ResourceNotFound",
                    "Resource 'manager' does not exist or one of its queried reference-property "
                    "objects are not present.",
                )
            return 200, {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects/$entity",
                **manager,
            }
        return 404, _error("BadRequest", "Unsupported request in the fake Graph.")

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
            }
        if form.get("scope") != "https://graph.microsoft.com/.default":
            return 400, {"error": "invalid_scope"}
        token = f"fake-graph-token-{next(self._tokens)}"
        self.valid_tokens.add(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": token,
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY the second waits for the
            # client's delayed ACK (about 40 ms per call), as no real Bot Connector makes us wait.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, headers, payload = fake._handle(
                    self.command, self.path, form, self.headers.get("Authorization")
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _error(code: str, message: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message or code}}
