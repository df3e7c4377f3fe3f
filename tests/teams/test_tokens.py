"""Production mode: every request's token is checked first, against a key server on 127.0.0.1.

Each way a token can be wrong gets 401 (never 500) and nothing reaches the bot or the Bot
Connector; a good token is let through, and the bot's reply carries the outgoing token. Keys are
fetched once and cached, without blocking the event loop, and a key server that does not answer
costs a request its timeout, not the server its loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from microsoft_agents.hosting.core import AgentAuthConfiguration, AnonymousTokenProvider

from adapters.teams.app import build_service, create_app
from adapters.teams.config import PRODUCTION, TeamsConfig
from adapters.teams.storage import TeamsStorage
from adapters.teams.tokens import SigningKeys
from bot.runtime import Runtime

from .fake_connector import FakeConnector
from .key_server import KeyServer, SigningKey, new_key, token
from .teams_client import TENANT, BotServer, TeamsUser

APP_ID = "3f2b1c4d-5e6f-4a8b-9c0d-112233445566"
OUTGOING = "outgoing-token-from-entra"


class FixedEntra(AnonymousTokenProvider):
    """Stands in for Entra ID (MSAL) on this machine: every outgoing call gets the same token."""

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        return OUTGOING


@dataclass
class Signed:
    server: BotServer
    keys: KeyServer
    key: SigningKey
    connector: FakeConnector
    signing: SigningKeys

    def user(self, tok: str | None) -> TeamsUser:
        return TeamsUser(self.server.url, self.connector, token=tok)

    def good(self, **overrides: object) -> str:
        claims: dict[str, object] = {"audience": APP_ID, "service_url": self.connector.service_url}
        claims.update(overrides)
        return token(self.key, **claims)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return new_key("key-1")


@pytest.fixture
def signed(runtime: Runtime, connector: FakeConnector, signing_key: SigningKey) -> Iterator[Signed]:
    with KeyServer([signing_key, new_key("key-teams-only-not", endorsements=["webchat"])]) as keys:
        config = TeamsConfig(mode=PRODUCTION, app_id=APP_ID, app_password="not-a-real-secret", tenant_id=TENANT)
        service = build_service(
            runtime.engine,
            TeamsStorage(runtime.store.engine),
            config,
            signing_keys_url=keys.url,
            token_provider=lambda _config: FixedEntra(),
        )
        server = BotServer(create_app(service)).start()
        try:
            yield Signed(server, keys, signing_key, connector, service.gate.keys)
        finally:
            server.stop()


def test_a_good_token_is_let_through_and_the_reply_carries_the_outgoing_token(signed: Signed) -> None:
    alex = signed.user(signed.good())
    assert alex.say("help").status == 201
    [reply] = [c for c in signed.connector.successful() if c.operation in ("send", "reply")]
    assert reply.authorization == f"Bearer {OUTGOING}"


def _forged(signed: Signed) -> str:
    other = new_key("key-1")  # same key id, another private key: the signature cannot match
    return token(other, audience=APP_ID, service_url=signed.connector.service_url)


def _tampered(signed: Signed) -> str:
    head, body, sig = signed.good().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["aud"] = "someone-else"
    claims["aud"] = APP_ID  # re-encoded: the bytes differ from what was signed
    claims["extra"] = "changed after signing"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{head}.{forged}.{sig}"


BAD_TOKENS = {
    "missing": lambda s: None,
    "not a bearer token": lambda s: "Basic dXNlcjpwYXNz",
    "malformed": lambda s: "not.a.jwt",
    "garbage": lambda s: "eyJhbGciOi" + "x" * 40,
    "forged": _forged,
    "tampered": _tampered,
    "unsigned (alg none)": lambda s: _unsigned(s),
    "expired": lambda s: s.good(expires_in=-3600),
    "wrong audience": lambda s: s.good(audience="00000000-0000-0000-0000-000000000000"),
    "wrong issuer": lambda s: s.good(issuer="https://evil.example"),
    "unknown key id": lambda s: s.good(kid="key-nobody-published"),
    "no key id": lambda s: _without_kid(s),
    "not endorsed for msteams": lambda s: token(_webchat_key(s), audience=APP_ID, service_url=s.connector.service_url),
    "issued for another service url": lambda s: s.good(service_url="https://smba.evil.example/"),
}


def _unsigned(signed: Signed) -> str:
    import jwt

    return jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID}, key=None, algorithm="none")


def _without_kid(signed: Signed) -> str:
    import jwt

    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": now + 600, "nbf": now - 60}
    return jwt.encode(claims, signed.key.private, algorithm="RS256")


def _webchat_key(signed: Signed) -> SigningKey:
    return next(k for k in signed.keys.keys if k.endorsements == ["webchat"])


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_every_bad_token_gets_401_and_nothing_is_processed(signed: Signed, case: str) -> None:
    alex = signed.user(BAD_TOKENS[case](signed))
    if case == "missing":
        alex.token = None
    result = alex.say("someone is threatening to sue me")
    assert result.status == 401, (case, result.status, result.body)
    assert isinstance(result.body, dict) and result.body["error"]
    assert signed.connector.calls == []


def test_a_token_is_checked_before_the_body_is_read(signed: Signed) -> None:
    from .teams_client import post_json

    result = post_json(signed.server.url, None, raw=b"{not json at all")  # no token, unreadable body
    assert result.status == 401  # not 400: the body was never looked at
    good = post_json(signed.server.url, None, raw=b"{not json", headers={"Authorization": f"Bearer {signed.good()}"})
    assert good.status == 400


def test_an_activity_from_another_tenant_is_refused(signed: Signed) -> None:
    alex = signed.user(signed.good())
    activity = alex.message("help")
    activity["conversation"]["tenantId"] = "11111111-2222-4333-8444-555555555555"
    activity["channelData"]["tenant"]["id"] = "11111111-2222-4333-8444-555555555555"
    result = alex.post(activity)
    assert result.status == 403
    assert signed.connector.calls == []


def test_signing_keys_are_fetched_once_and_cached(signed: Signed) -> None:
    for _ in range(5):
        assert signed.user(signed.good()).say("help").status == 201
    assert signed.keys.requests == 1
    # an unknown key id asks again at most once a minute: two in a row make no second fetch
    for _ in range(2):
        assert signed.user(signed.good(kid="rotated-key")).say("help").status == 401
    assert signed.keys.requests == 1


def test_an_unanswering_key_server_times_out_without_blocking_the_loop(signing_key: SigningKey) -> None:
    """The fetch waits on the event loop (aiohttp), so other work runs meanwhile; it gives up at its timeout."""

    async def scenario(url: str) -> tuple[int, bool]:
        keys = SigningKeys(url, timeout_seconds=0.5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        running = asyncio.create_task(ticker())
        try:
            await keys.get_signing_key("ignored", {"kid": signing_key.kid})
            failed = False
        except Exception:  # PyJWKClientConnectionError: the gate turns it into a 401
            failed = True
        running.cancel()
        return ticks, failed

    with KeyServer([signing_key]) as slow:
        slow.hold_seconds = 3.0
        ticks, failed = asyncio.run(scenario(slow.url))
    assert failed
    assert ticks >= 5  # the loop kept turning while the keys were awaited


def test_the_sdk_configuration_checks_issuers_in_production() -> None:
    config = TeamsConfig(mode=PRODUCTION, app_id=APP_ID, app_password="x", tenant_id=TENANT)
    auth: AgentAuthConfiguration = config.auth_configuration()
    assert auth.VALIDATE_ISSUER is True and auth.ANONYMOUS_ALLOWED is False
    assert auth.CLIENT_ID == APP_ID and auth.TENANT_ID == TENANT
