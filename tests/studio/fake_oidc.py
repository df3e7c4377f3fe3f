"""A small OpenID Connect provider on 127.0.0.1 for the studio's sign-in tests.

It does what Entra ID and Slack do for an authorization-code sign-in with PKCE: a discovery
document, a JWKS, an authorize endpoint that sends the browser back with a code, and a token
endpoint that checks the client's secret, the redirect address and the PKCE verifier and returns
a real RS256-signed id_token (with nonce and at_hash). Who signs in is set by the test
(``identity``), as if they had typed their password; ``tamper`` makes it misbehave the ways a
forged or replayed sign-in would.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import RSAKey


class FakeOidcProvider:
    def __init__(self, url: str, client_id: str = "studio-client", client_secret: str = "studio-secret") -> None:
        self.url = url
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})  # same kid, wrong key
        self.identity: dict[str, Any] = {"sub": "nobody"}
        self.tamper: str | None = None  # wrong_audience | wrong_key | expired | wrong_nonce | wrong_issuer
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/jwks", self.jwks)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.Response(status=400, text="unknown client or response type")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="PKCE is required")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": q["redirect_uri"],
            "challenge": q["code_challenge"],
            "nonce": q.get("nonce"),
            "identity": dict(self.identity),
        }
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.codes.pop(str(form.get("code")), None)  # a code works once
        if grant is None or form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return web.json_response({"error": "invalid_grant", "error_description": "redirect_uri"}, status=400)
        verifier = str(form.get("code_verifier") or "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        access = secrets.token_urlsafe(24)
        now = int(time.time())
        claims = {
            "iss": self.url if self.tamper != "wrong_issuer" else "https://evil.example",
            "aud": self.client_id if self.tamper != "wrong_audience" else "someone-else",
            "iat": now,
            "exp": now + 300 if self.tamper != "expired" else now - 3600,
            "nonce": grant["nonce"] if self.tamper != "wrong_nonce" else "replayed",
            "at_hash": create_half_hash(access, "RS256").decode(),
            **grant["identity"],
        }
        key = self.other_key if self.tamper == "wrong_key" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "fake-1"}, claims, key)
        return web.json_response(
            {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        )
