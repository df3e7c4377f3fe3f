"""Checking the Bot Framework token on every request, before anything else is read.

The Agents SDK's ``JwtTokenValidator`` does the checking itself: signature (RS256), expiry (with
its five-minute leeway), audience (our app id), issuer (``VALIDATE_ISSUER`` on: only the Bot
Framework and our own tenant's Entra issuers) and the tid-to-issuer binding. Two things around it
are ours, and this module is where they live:

- **Signing keys.** The SDK fetches keys with PyJWT's ``PyJWKClient`` (urllib in a worker thread,
  a 30-second timeout, one process-wide cache, no way to say where the keys are). ``SigningKeys``
  is handed to the validator instead: it fetches with aiohttp on the event loop (never blocking
  it), with a short timeout, keeps the keys for a day, asks again at most once a minute for a key
  id it has not seen, and lets only one fetch per key set run at a time. Tests point it at a key
  server on 127.0.0.1 (``url``).
- **Endorsements.** Bot Framework keys list the channels each key may sign for; the SDK does not
  look. ``TokenGate.endorse`` refuses a token whose key is not endorsed for the activity's
  ``channelId`` (``msteams``), once the activity has been read.

Whatever goes wrong with a token (missing, not "Bearer", not a JWT, unknown key, bad signature,
expired, wrong audience or issuer, keys unreachable) is ``Unauthorized``, which the app answers
with 401; a token can never cause a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

from bot.errors import PolicybotError

log = logging.getLogger("policybot.teams")

KEYS_TTL_SECONDS = 24 * 3600.0  # Bot Framework rotates keys with weeks of overlap; daily is its advice
UNKNOWN_KEY_RETRY_SECONDS = 60.0  # a token with an unseen key id may ask for fresh keys this often
FETCH_TIMEOUT_SECONDS = 5.0
FAILED_FETCH_PAUSE_SECONDS = 5.0
MAX_KEYS_BYTES = 256 * 1024
ENDORSEMENTS = "policybot.endorsements"  # claims key: the channels the token's key is endorsed for


class Unauthorized(PolicybotError):
    """The request does not carry a valid Bot Framework token for this bot (answered with 401)."""


@dataclass
class _KeySet:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float = float("-inf")
    failed_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def due(self, kid: str, now: float) -> bool:
        """Time to fetch: the keys are a day old, or this key id is unseen and a minute has passed;
        never within a few seconds of a failed fetch (an unreachable key server is not hammered)."""
        if now - self.failed_at < FAILED_FETCH_PAUSE_SECONDS:
            return False
        age = now - self.fetched_at
        return age > KEYS_TTL_SECONDS or (kid not in self.keys and age > UNKNOWN_KEY_RETRY_SECONDS)


class SigningKeys:
    """Signing keys by key id, fetched without blocking the loop, with a timeout, and cached.

    Implements what ``JwtTokenValidator`` asks of its key manager: ``get_signing_key(uri, header)``.
    ``url``, when given, replaces every key-set address the SDK works out (a local key server in
    tests and benchmarks); in production it is None and the SDK's addresses are used.
    """

    def __init__(self, url: str | None = None, *, timeout_seconds: float = FETCH_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds
        self._sets: dict[str, _KeySet] = {}
        self._endorsements: dict[str, tuple[str, ...] | None] = {}  # key id -> channels, as published
        self.fetches = 0  # how many times keys were fetched (tests check the cache)

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid") if isinstance(header, dict) else None
        if not isinstance(kid, str) or not kid:
            raise jwt.InvalidTokenError("the token names no signing key")
        key_set = self._sets.setdefault(self.url or jwks_uri, _KeySet())
        if key_set.due(kid, time.monotonic()):
            async with key_set.lock:  # one fetch at a time per key set; the others use its result
                if key_set.due(kid, time.monotonic()):
                    await self._refresh(self.url or jwks_uri, key_set)
        key = key_set.keys.get(kid)
        if key is None:
            raise jwt.InvalidTokenError("the token's signing key is not one of the published keys")
        return key

    def endorsements_of(self, kid: str) -> tuple[str, ...] | None:
        """The channels a key is endorsed for, or None when its key set lists none (Entra keys)."""
        return self._endorsements.get(kid)

    async def _refresh(self, uri: str, key_set: _KeySet) -> None:
        try:
            fetched = await self._fetch(uri)
        except jwt.PyJWKClientConnectionError:
            key_set.failed_at = time.monotonic()
            if not key_set.keys:
                raise
            return  # keep using the keys we have until the server answers again
        for kid, (_key, endorsements) in fetched.items():
            self._endorsements[kid] = endorsements
        key_set.keys = {kid: key for kid, (key, _e) in fetched.items()}
        key_set.fetched_at = time.monotonic()

    async def _fetch(self, uri: str) -> dict[str, tuple[jwt.PyJWK, tuple[str, ...] | None]]:
        self.fetches += 1
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(uri) as response:
                if response.status != 200:
                    raise jwt.PyJWKClientConnectionError(f"the signing keys answered {response.status}")
                raw = await response.content.read(MAX_KEYS_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            log.warning("teams: could not fetch the token signing keys (%s)", type(err).__name__)
            raise jwt.PyJWKClientConnectionError("the signing keys could not be fetched") from err
        if len(raw) > MAX_KEYS_BYTES:
            raise jwt.PyJWKClientConnectionError("the signing keys document is too large")
        try:
            keys = jwt.PyJWKSet.from_json(raw.decode()).keys
        except (jwt.PyJWTError, ValueError, UnicodeDecodeError) as err:
            raise jwt.PyJWKClientConnectionError("the signing keys document could not be read") from err
        out: dict[str, tuple[jwt.PyJWK, tuple[str, ...] | None]] = {}
        for key in keys:
            if not key.key_id:
                continue
            raw_endorsements = key._jwk_data.get("endorsements")  # PyJWK keeps the JWK as published
            endorsements = (
                tuple(str(e).lower() for e in raw_endorsements) if isinstance(raw_endorsements, list) else None
            )
            out[key.key_id] = (key, endorsements)
        return out


class _Validator(JwtTokenValidator):
    """The SDK's validator with our key manager (the SDK's is one class-wide PyJWKClient cache)."""

    def __init__(self, configuration: AgentAuthConfiguration, keys: SigningKeys) -> None:
        super().__init__(configuration)
        self._jwk_client_manager = keys  # type: ignore[assignment]


class TokenGate:
    """Authenticates a request from its Authorization header alone (no body is read before this)."""

    def __init__(self, configuration: AgentAuthConfiguration, keys: SigningKeys) -> None:
        self.configuration = configuration
        self.keys = keys
        self.validator = _Validator(configuration, keys)

    async def authenticate(self, header: str | None) -> ClaimsIdentity:
        if self.configuration.ANONYMOUS_ALLOWED:
            return self.validator.get_anonymous_claims()
        token = _bearer(header)
        try:
            claims = await self.validator.validate_token(token)
            kid = str(jwt.get_unverified_header(token).get("kid"))  # verified by now: the signature matched
        except Unauthorized:
            raise
        except Exception as err:  # any failure of a token is a refusal, never a 500
            log.info("teams: token refused (%s)", type(err).__name__)
            raise Unauthorized("The request's token is not valid for this bot.") from err
        claims.claims = {**claims.claims, ENDORSEMENTS: self.keys.endorsements_of(kid)}
        return claims

    @staticmethod
    def endorse(claims: ClaimsIdentity, channel_id: str | None) -> None:
        """Refuse a token whose key is not endorsed for the activity's channel (Bot Framework keys)."""
        if not claims.claims:  # anonymous (local mode)
            return
        endorsements = claims.claims.get(ENDORSEMENTS)
        channel = (channel_id or "").lower().split(":")[0]
        if endorsements is None:
            issuer = str(claims.claims.get("iss") or "")
            if issuer.startswith("https://api.botframework."):
                raise Unauthorized("The token's key is not endorsed for any channel.")
            return
        if not channel or channel not in endorsements:
            raise Unauthorized("The token's key is not endorsed for this channel.")


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthorized("The request has no Authorization header.")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthorized("The Authorization header is not a Bearer token.")
    return parts[1]
