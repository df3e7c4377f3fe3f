"""A local stand-in for the Bot Framework's signing-key service and token issuer, on 127.0.0.1.

``KeyServer`` publishes RSA public keys as a JWKS document (each with the ``endorsements`` the
Bot Framework lists: the channels it may sign for) and mints tokens the way the Bot Connector
does (RS256, ``iss`` https://api.botframework.com, ``aud`` the bot's app id, ``serviceurl``).
Tests make forged, expired, misaddressed and unendorsed tokens with the same helpers.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .loopback import LoopbackServer

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    endorsements: list[str] | None = field(default_factory=lambda: ["msteams"])

    def public_jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        data.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        if self.endorsements is not None:
            data["endorsements"] = self.endorsements
        return data


def new_key(kid: str, endorsements: list[str] | None = None) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid, private, ["msteams"] if endorsements is None else endorsements)


class KeyServer(LoopbackServer):
    """Serves ``GET /keys``; counts the requests so tests can see the cache at work."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = keys
        self.requests = 0
        self.hold_seconds = 0.0  # answer this late (a slow key service)
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._lock:
                    owner.requests += 1
                    hold = owner.hold_seconds
                if hold:
                    time.sleep(hold)
                body = json.dumps({"keys": [k.public_jwk() for k in owner.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler, "key-server")

    @property
    def url(self) -> str:
        return f"{self.origin}/keys"


def token(
    key: SigningKey,
    *,
    audience: str,
    service_url: str,
    issuer: str = BOT_FRAMEWORK_ISSUER,
    expires_in: float = 3600,
    kid: str | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": int(now + expires_in),
        **claims,
    }
    headers = {"kid": kid if kid is not None else key.kid, "typ": "JWT"}
    return jwt.encode(payload, key.private, algorithm="RS256", headers=headers)
