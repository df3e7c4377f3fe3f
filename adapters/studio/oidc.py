"""OpenID Connect sign-in with Authlib: Microsoft Entra ID, Sign in with Slack, or any provider.

Authlib does the protocol: discovery, the authorization URL with state, nonce and PKCE (S256),
the code exchange, and the id_token's signature (JWKS) and claims (issuer, audience, expiry,
nonce, at_hash). Its requests-based client blocks, so each call runs in a worker thread.

What is ours is turning verified claims into the person (an ``Actor``) the directory can find:

- Slack: ``https://slack.com/user_id`` and ``team_id`` give ``slack:<team>:<user>``, the same
  account id the Slack bot files conversations and cases under; with POLICYBOT_STUDIO_SLACK_TEAM
  set, any other workspace is refused;
- Entra ID: the token's tenant (``tid``) must be the council's; the email is ``email`` or else
  ``preferred_username`` (the UPN);
- any other provider: ``sub`` and the email, unless the provider says it is not verified.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session

from adapters.studio.config import Issuer
from bot.conversation.events import Actor
from bot.errors import PolicybotError

log = logging.getLogger("policybot.studio")


class SignInFailed(PolicybotError):
    """The provider's answer could not be trusted; the person is asked to sign in again."""


class _NoTokenStore(FrameworkIntegration):
    """The studio keeps no provider tokens: the id_token is read once at sign-in and dropped."""

    def update_token(self, token: Any, refresh_token: Any = None, access_token: Any = None) -> None:
        return None


class _Client(OpenIDMixin, OAuth2Mixin, BaseApp):
    client_cls = OAuth2Session


class OidcSignIn:
    """One configured provider."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.client = _Client(
            _NoTokenStore(issuer.key),
            name=issuer.key,
            client_id=issuer.client_id,
            client_secret=issuer.client_secret,
            server_metadata_url=issuer.metadata_url,
            client_kwargs={"scope": issuer.scope, "code_challenge_method": "S256", "default_timeout": 10},
        )

    async def begin(self, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        """The provider's authorization URL, and what to keep in the session until it answers."""
        try:
            made = await asyncio.to_thread(self.client.create_authorization_url, redirect_uri)
        except Exception as err:  # the provider's discovery document could not be read
            log.warning("sign-in with %s could not start: %s", self.issuer.key, type(err).__name__)
            raise SignInFailed(f"{self.issuer.label} is not answering just now; try again in a minute") from None
        pending = {
            "issuer": self.issuer.key,
            "state": made["state"],
            "nonce": made.get("nonce"),
            "code_verifier": made.get("code_verifier"),
            "redirect_uri": redirect_uri,
        }
        return str(made["url"]), pending

    async def finish(self, pending: dict[str, Any], query: dict[str, str]) -> Actor:
        """Exchange the code, verify the id_token, and say who signed in."""
        if query.get("error"):
            raise SignInFailed("the sign-in was cancelled or refused by the identity provider")
        if not pending or pending.get("issuer") != self.issuer.key or query.get("state") != pending.get("state"):
            raise SignInFailed("that sign-in link is old or was not started here; sign in again")
        code = query.get("code")
        if not code:
            raise SignInFailed("the identity provider sent no sign-in code; sign in again")

        def exchange() -> dict[str, Any]:
            token = self.client.fetch_access_token(
                pending["redirect_uri"], code=code, code_verifier=pending.get("code_verifier")
            )
            claims = self.client.parse_id_token(token, nonce=pending.get("nonce"))
            if claims is None:
                raise SignInFailed("the identity provider sent no id_token; is the 'openid' scope allowed?")
            return dict(claims)

        try:
            claims = await asyncio.to_thread(exchange)
        except SignInFailed:
            raise
        except Exception as err:  # a bad signature, audience, nonce, expiry, or the provider failing
            log.warning("sign-in with %s refused: %s %s", self.issuer.key, type(err).__name__, err)
            raise SignInFailed("the sign-in could not be verified; sign in again") from None
        return actor_from_claims(self.issuer, claims)


def actor_from_claims(issuer: Issuer, claims: dict[str, Any]) -> Actor:
    """The person a verified id_token names, as the directory looks them up."""
    name = str(claims.get("name") or claims.get("given_name") or "")
    if issuer.kind == "slack":
        team = str(claims.get("https://slack.com/team_id") or "")
        user = str(claims.get("https://slack.com/user_id") or "")
        if not team or not user:
            raise SignInFailed("Slack did not say which workspace and account signed in")
        if issuer.tenant and team != issuer.tenant:
            raise SignInFailed("that Slack workspace is not the council's; sign in with your council workspace")
        return Actor(f"slack:{team}:{user}", name, _email(claims), "slack")
    if issuer.kind == "entra":
        if issuer.tenant and str(claims.get("tid") or "") != issuer.tenant:
            raise SignInFailed("that Microsoft account is not in the council's organisation")
        email = claims.get("email") or claims.get("preferred_username")
        oid = str(claims.get("oid") or claims.get("sub"))
        return Actor(f"studio:entra:{oid}", name, str(email).lower() if email else None, "studio")
    return Actor(f"studio:{issuer.key}:{claims['sub']}", name, _email(claims), "studio")


def _email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if not email or claims.get("email_verified") is False:
        return None  # an unverified address could be anyone's: it finds nobody in the directory
    return str(email).lower()
