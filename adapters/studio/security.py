"""Sessions, CSRF tokens, security headers and the sign-in rate limit.

The session is one cookie, encrypted and authenticated with Fernet (``cryptography``), so a
replica needs no session table and a person cannot read or change what it holds: who signed in,
with which provider, when it expires, the CSRF token, and the OpenID Connect state of a sign-in
under way. Roles are not kept in it: they are worked out on every request from the settings and
the staff directory, so taking someone out of the comms team takes effect at once.

The cookie is HttpOnly, SameSite=Lax (the identity provider's redirect back must carry it; Strict
would drop it) and Secure except in local mode, which is plain http on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken

COOKIE = "policybot_studio"
CSRF_FIELD = "csrf"
# No inline script or style anywhere: every page's script and CSS are files served from the package.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class Session:
    """What the cookie holds. ``user`` is None until someone signs in."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user: dict[str, Any] | None = None
    expires: float = 0.0
    pending: dict[str, Any] | None = None  # an OpenID Connect sign-in under way: state, nonce, verifier
    changed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"csrf": self.csrf, "user": self.user, "expires": self.expires, "pending": self.pending}


class SessionCodec:
    """Seal and open the session cookie."""

    def __init__(self, key: bytes, *, hours: float, secure: bool) -> None:
        self.fernet = Fernet(base64.urlsafe_b64encode(key[:32].ljust(32, b"\0")))
        self.max_age = int(hours * 3600)
        self.secure = secure

    def load(self, request: web.Request) -> Session:
        raw = request.cookies.get(COOKIE, "").strip('"')
        if raw:
            try:
                padded = raw + "=" * (-len(raw) % 4)
                data = json.loads(self.fernet.decrypt(padded.encode(), ttl=self.max_age))
            except (InvalidToken, ValueError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                session = Session(data["csrf"], data.get("user"), float(data.get("expires") or 0), data.get("pending"))
                if session.user is not None and session.expires < time.time():
                    session.user = None  # signed in too long ago: sign in again
                    session.changed = True
                return session
        return Session(changed=True)

    def save(self, response: web.StreamResponse, session: Session) -> None:
        # without its base64 padding: an '=' in a cookie value makes it quoted, which not every client undoes
        token = self.fernet.encrypt(json.dumps(session.to_json(), separators=(",", ":")).encode()).decode().rstrip("=")
        response.set_cookie(
            COOKIE,
            token,
            max_age=self.max_age,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    def sign_in(self, session: Session, user: dict[str, Any]) -> None:
        """A new CSRF token with every sign-in, so a token seen before it is worth nothing after."""
        session.user = user
        session.expires = time.time() + self.max_age
        session.csrf = secrets.token_urlsafe(32)
        session.pending = None
        session.changed = True

    def sign_out(self, session: Session) -> None:
        session.user = None
        session.pending = None
        session.csrf = secrets.token_urlsafe(32)
        session.changed = True


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf, str(sent))


class RateLimit:
    """At most ``limit`` sign-in attempts per client address in any ``window`` seconds.

    Kept in memory per replica: a guard against password-spraying the local sign-in and against
    hammering the identity provider through us, not an account lockout (the provider has its own).
    """

    def __init__(self, limit: int, window: float = 60.0, *, clock: Any = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle addresses so memory stays bounded
            for k in [k for k, v in self._seen.items() if not v or now - v[-1] >= self.window]:
                del self._seen[k]
        return True
