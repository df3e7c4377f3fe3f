"""How the Teams adapter is configured: the bot's identity from the environment, and the mode.

Production mode needs the Azure Bot registration's app id and client secret and, because new
registrations are single-tenant, the tenant id: every incoming request's JWT is then checked
(adapters/teams/tokens.py, with the Microsoft 365 Agents SDK's validator), activities from any
other tenant are refused, and outgoing calls carry a token from MSAL. Without them the adapter
would accept anyone's requests, so it refuses to start unless local mode is asked for explicitly;
local mode is for the M365 Agents Playground and tests, listens on loopback only, and says so in
the log.

Secrets come from the environment only, are never logged, and ``repr`` hides them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AuthTypes,
    ConnectionManager,
    Connections,
)

from adapters.hosts import is_loopback_host
from bot.errors import PolicybotError

LOCAL = "local"
PRODUCTION = "production"
TokenProviderFactory = Callable[[AgentAuthConfiguration], AccessTokenProviderBase]
APP_TYPES = {"singletenant": "SingleTenant", "multitenant": "MultiTenant"}


class TeamsConfigError(PolicybotError):
    """The Teams adapter cannot start with this configuration."""


@dataclass(frozen=True)
class TeamsConfig:
    mode: str = PRODUCTION
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    tenant_id: str = ""
    app_type: str = "SingleTenant"
    host: str = "127.0.0.1"
    port: int = 3978
    # Used to reach people and channels that never wrote to the bot (where no conversation
    # reference is stored yet): the Teams service URL for the tenant's region.
    default_service_url: str = "https://smba.trafficmanager.net/teams/"
    turn_seconds: float = 10.0  # whole-turn budget, well inside Teams' 15 s
    connector_timeout_seconds: float = 4.0  # one Bot Connector call
    graph_enabled: bool = False

    @property
    def local(self) -> bool:
        return self.mode == LOCAL

    def check(self) -> TeamsConfig:
        """Refuse configurations that would run an open or broken bot. Returns self."""
        if self.mode not in (LOCAL, PRODUCTION):
            raise TeamsConfigError(f"Unknown Teams mode {self.mode!r}: use 'production' or 'local'.")
        if self.local:
            if not is_loopback_host(self.host):
                raise TeamsConfigError(
                    f"Local mode accepts unauthenticated requests, so it only listens on this machine; "
                    f"{self.host!r} is not a loopback address. Use --host 127.0.0.1, or set "
                    "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD and run in production mode."
                )
            return self
        missing = [
            name
            for name, value in (("MICROSOFT_APP_ID", self.app_id), ("MICROSOFT_APP_PASSWORD", self.app_password))
            if not value
        ]
        if not self.tenant_id:  # new Azure Bot registrations are single-tenant
            missing.append("MICROSOFT_APP_TENANT_ID")
        if missing:
            raise TeamsConfigError(
                "The Teams bot cannot start in production mode without its Azure Bot credentials: set "
                + ", ".join(missing)
                + " (see docs/teams.md, step 1). To try the bot locally without Azure, run "
                "`policybot serve teams --local` (loopback only, no authentication)."
            )
        return self

    def auth_configuration(self) -> AgentAuthConfiguration:
        """The Agents SDK's view of the bot's identity (token checks and outgoing tokens).

        Local mode allows anonymous requests and carries no app id; production checks the issuer
        too (the SDK leaves that off by default): only the Bot Framework and our own tenant.
        """
        if self.local:
            return AgentAuthConfiguration(anonymous_allowed=True)
        return AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret,
            client_id=self.app_id,
            tenant_id=self.tenant_id or None,
            client_secret=self.app_password,
            validate_issuer=True,
        )

    def connections(
        self, auth: AgentAuthConfiguration, token_provider: TokenProviderFactory | None = None
    ) -> Connections:
        """MSAL token providers for outgoing calls, under the SDK's one connection name.

        The token check must be given this same ``auth`` object: the SDK's audience check reads the
        connections the manager registers on it. ``token_provider`` replaces MSAL (tests and the
        benchmark stand in for Entra on 127.0.0.1; never set from the environment).
        """
        configurations = {"SERVICE_CONNECTION": auth}
        if token_provider is not None:
            return ConnectionManager(provider_factory=token_provider, connections_configurations=configurations)
        return MsalConnectionManager(connections_configurations=configurations)

    def accepts_tenant(self, tenant: str | None) -> bool:
        """An activity's tenant is ours (or no tenant is configured: local mode without one)."""
        if not self.tenant_id:
            return True
        return (tenant or "").lower() == self.tenant_id.lower()


def from_environment(
    env: Mapping[str, str] | None = None, *, local: bool | None = None, host: str | None = None, port: int | None = None
) -> TeamsConfig:
    """Read MICROSOFT_APP_* and POLICYBOT_TEAMS_* variables; command-line values win."""
    env = os.environ if env is None else env
    mode = LOCAL if local else (env.get("POLICYBOT_TEAMS_MODE") or PRODUCTION).strip().lower()
    raw_type = (env.get("MICROSOFT_APP_TYPE") or "SingleTenant").strip().lower()
    if raw_type not in APP_TYPES:
        raise TeamsConfigError(
            f"MICROSOFT_APP_TYPE={env.get('MICROSOFT_APP_TYPE')!r} is not supported: use SingleTenant (recommended) "
            "or MultiTenant."
        )
    try:
        env_port = int(env.get("POLICYBOT_TEAMS_PORT") or 3978)
    except ValueError as err:
        raise TeamsConfigError(
            f"POLICYBOT_TEAMS_PORT={env.get('POLICYBOT_TEAMS_PORT')!r} is not a port number."
        ) from err
    return TeamsConfig(
        mode=mode,
        app_id=(env.get("MICROSOFT_APP_ID") or "").strip(),
        app_password=env.get("MICROSOFT_APP_PASSWORD") or "",
        tenant_id=(env.get("MICROSOFT_APP_TENANT_ID") or "").strip(),
        app_type=APP_TYPES[raw_type],
        host=host or env.get("POLICYBOT_TEAMS_HOST") or ("127.0.0.1" if mode == LOCAL else "0.0.0.0"),
        port=port if port is not None else env_port,
        default_service_url=env.get("POLICYBOT_TEAMS_SERVICE_URL") or TeamsConfig.default_service_url,
        graph_enabled=(env.get("POLICYBOT_GRAPH_MANAGER") or "").strip().lower() in ("1", "true", "yes"),
    )
