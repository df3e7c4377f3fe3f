"""The studio's configuration, read from the environment (secrets never live in policybot.yaml).

``POLICYBOT_STUDIO_URL`` is the address people type (behind the reverse proxy); sign-in redirects
come back to ``<url>/auth/callback/<issuer>``. Issuers are switched on by giving their client id:
Entra ID (``POLICYBOT_STUDIO_ENTRA_*``), Sign in with Slack (``POLICYBOT_STUDIO_SLACK_*``) and
any other OpenID Connect provider (``POLICYBOT_STUDIO_OIDC_*``). docs/deploy.md has the list.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.hosts import is_loopback_host
from bot.errors import PolicybotError

ENTRA_METADATA = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
SLACK_METADATA = "https://slack.com/.well-known/openid-configuration"


@dataclass(frozen=True)
class Issuer:
    """One OpenID Connect provider people may sign in with."""

    key: str  # in the callback URL: entra, slack, oidc
    label: str  # on the button: "Sign in with Microsoft"
    metadata_url: str
    client_id: str
    client_secret: str
    kind: str = "oidc"  # entra | slack | oidc: how the claims name the person
    tenant: str | None = None  # Entra: only this tenant; Slack: only this workspace (team id)
    scope: str = "openid email profile"


@dataclass(frozen=True)
class StudioConfig:
    host: str = "127.0.0.1"
    port: int = 8300
    local: bool = False  # the loopback-only sign-in, no identity provider
    public_url: str = "http://127.0.0.1:8300"
    secret: bytes = field(default=b"", repr=False)  # the session cookie key material
    issuers: tuple[Issuer, ...] = ()
    session_hours: float = 8.0
    signin_per_minute: int = 10  # sign-in attempts per client address

    @property
    def secure_cookies(self) -> bool:
        return not self.local

    def issuer(self, key: str) -> Issuer | None:
        return next((i for i in self.issuers if i.key == key), None)

    def check(self) -> StudioConfig:
        """Refuse a configuration that would be unsafe, with what to change."""
        if self.local and not is_loopback_host(self.host):
            raise PolicybotError(
                f"local mode signs anyone in without a password, so it only listens on 127.0.0.1, not {self.host}"
            )
        if not self.local:
            if not self.issuers:
                raise PolicybotError(
                    "no identity provider is configured: set POLICYBOT_STUDIO_ENTRA_CLIENT_ID (Microsoft Entra ID), "
                    "POLICYBOT_STUDIO_SLACK_CLIENT_ID (Sign in with Slack) or POLICYBOT_STUDIO_OIDC_ISSUER, "
                    "or run with --local on this computer (docs/deploy.md)"
                )
            if len(self.secret) < 32:
                raise PolicybotError(
                    "POLICYBOT_STUDIO_SECRET must be set to at least 32 random characters (it keeps sign-ins "
                    "valid across restarts and replicas); make one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
            if not self.public_url.startswith("https://"):
                raise PolicybotError("POLICYBOT_STUDIO_URL must be the https:// address people open the studio at")
        return self


def issuers_from(env: Mapping[str, str]) -> tuple[Issuer, ...]:
    found: list[Issuer] = []
    if env.get("POLICYBOT_STUDIO_ENTRA_CLIENT_ID"):
        tenant = env.get("POLICYBOT_STUDIO_ENTRA_TENANT", "")
        if not tenant or tenant in ("common", "organizations", "consumers"):
            raise PolicybotError(
                "POLICYBOT_STUDIO_ENTRA_TENANT must be the council's tenant id (a GUID), so that only the "
                "council's own accounts can sign in"
            )
        found.append(
            Issuer(
                "entra",
                "Sign in with Microsoft",
                env.get("POLICYBOT_STUDIO_ENTRA_METADATA_URL") or ENTRA_METADATA.format(tenant=tenant),
                env["POLICYBOT_STUDIO_ENTRA_CLIENT_ID"],
                env.get("POLICYBOT_STUDIO_ENTRA_CLIENT_SECRET", ""),
                kind="entra",
                tenant=tenant,
            )
        )
    if env.get("POLICYBOT_STUDIO_SLACK_CLIENT_ID"):
        found.append(
            Issuer(
                "slack",
                "Sign in with Slack",
                env.get("POLICYBOT_STUDIO_SLACK_METADATA_URL") or SLACK_METADATA,
                env["POLICYBOT_STUDIO_SLACK_CLIENT_ID"],
                env.get("POLICYBOT_STUDIO_SLACK_CLIENT_SECRET", ""),
                kind="slack",
                tenant=env.get("POLICYBOT_STUDIO_SLACK_TEAM") or None,
            )
        )
    if env.get("POLICYBOT_STUDIO_OIDC_ISSUER"):
        base = env["POLICYBOT_STUDIO_OIDC_ISSUER"].rstrip("/")
        found.append(
            Issuer(
                "oidc",
                env.get("POLICYBOT_STUDIO_OIDC_LABEL", "Sign in with your council account"),
                base + "/.well-known/openid-configuration",
                env.get("POLICYBOT_STUDIO_OIDC_CLIENT_ID", ""),
                env.get("POLICYBOT_STUDIO_OIDC_CLIENT_SECRET", ""),
            )
        )
    return tuple(found)


def from_environment(
    *, local: bool = False, host: str | None = None, port: int | None = None, env: Mapping[str, str] | None = None
) -> StudioConfig:
    env = os.environ if env is None else env
    local = local or env.get("POLICYBOT_STUDIO_LOCAL") == "1"
    host = host or env.get("POLICYBOT_STUDIO_HOST") or ("127.0.0.1" if local else "0.0.0.0")
    port = port if port is not None else int(env.get("POLICYBOT_STUDIO_PORT", "8300"))
    raw_secret = env.get("POLICYBOT_STUDIO_SECRET", "")
    # too short to be a key: refused by check(); in local mode a new one each start (sign in again after a restart)
    secret = raw_secret.encode() if len(raw_secret) >= 32 else (secrets.token_bytes(32) if local else b"")
    url = env.get("POLICYBOT_STUDIO_URL") or f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    return StudioConfig(
        host=host,
        port=port,
        local=local,
        public_url=url.rstrip("/"),
        secret=hashlib.sha256(secret).digest() if secret else b"",
        issuers=() if local else issuers_from(env),
    )
