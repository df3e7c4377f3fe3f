"""Bot Connector and token-service clients kept across turns instead of made for each one.

The Agents SDK's ``RestChannelServiceClientFactory`` builds a new connector client, and a new
user-token client, for every turn, each with its own aiohttp session that the SDK closes when the
turn ends: every reply opens a new TCP (and, in production, TLS) connection to the Bot Connector.
``ReusingClientFactory`` hands out one client per (event loop, service URL, token) whose ``close``
does nothing, so keep-alive connections carry from one turn to the next, and each session has the
configured timeout. A new token (MSAL renews it before it expires) gets a new client. Requests the
SDK treats specially (agentic identities, Copilot Studio's connector) still go to the SDK's own
path, unchanged. ``close`` closes everything kept (when the server stops).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from microsoft_agents.activity import RoleTypes
from microsoft_agents.hosting.core import ClaimsIdentity, Connections, RestChannelServiceClientFactory, TurnContext
from microsoft_agents.hosting.core.authorization import AnonymousTokenProvider
from microsoft_agents.hosting.core.connector import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient


class _KeptConnector(TeamsConnectorClient):
    async def close(self) -> None:  # the SDK closes it after each turn; it is kept instead
        return None

    async def really_close(self) -> None:
        await super().close()


class _KeptTokenClient(UserTokenClient):
    async def close(self) -> None:
        return None

    async def really_close(self) -> None:
        await super().close()


class ReusingClientFactory(RestChannelServiceClientFactory):
    def __init__(self, connections: Connections, *, timeout_seconds: float) -> None:
        super().__init__(connections)
        self.connections = connections
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._connectors: dict[tuple[int, str, str], _KeptConnector] = {}
        self._token_clients: dict[tuple[int, str, str], _KeptTokenClient] = {}
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> Any:
        activity = context.activity if context is not None else None
        special = activity is not None and (
            activity.is_agentic_request()
            or (activity.recipient is not None and activity.recipient.role == RoleTypes.connector_user)
        )
        if special or not service_url or not audience:
            return await super().create_connector_client(
                context, claims_identity, service_url, audience, scopes, use_anonymous
            )
        provider = (
            AnonymousTokenProvider()
            if use_anonymous
            else self.connections.get_token_provider(claims_identity, service_url)
        )
        token = await provider.get_access_token(audience, scopes or claims_identity.get_token_scope())
        key = (self._loop_id(), service_url, token or "")
        client = self._connectors.get(key)
        if client is None:
            endpoint = service_url if service_url.endswith("/") else service_url + "/"
            session = aiohttp.ClientSession(base_url=endpoint, timeout=self.timeout)
            client = self._connectors[key] = _KeptConnector(endpoint=service_url, token=token or "", session=session)
        return client

    async def create_user_token_client(
        self, context: TurnContext, claims_identity: ClaimsIdentity, use_anonymous: bool = False
    ) -> Any:
        if not use_anonymous:  # the bot signs nobody in; outside local mode the SDK's own client is used
            return await super().create_user_token_client(context, claims_identity, use_anonymous)
        app_id = claims_identity.get_app_id() or ""
        key = (self._loop_id(), self._token_service_endpoint, app_id)
        client = self._token_clients.get(key)
        if client is None:
            client = self._token_clients[key] = _KeptTokenClient(
                app_id=app_id, endpoint=self._token_service_endpoint, token=""
            )
        return client

    def _loop_id(self) -> int:
        """Sessions belong to one event loop; a worker's short-lived loops get their own (and the
        clients of loops that have closed are dropped)."""
        loop = asyncio.get_running_loop()
        gone = {ident for ident, known in self._loops.items() if known.is_closed()}
        if gone:
            for store in (self._connectors, self._token_clients):
                for key in [k for k in store if k[0] in gone]:
                    del store[key]
            for ident in gone:
                del self._loops[ident]
        self._loops[id(loop)] = loop
        return id(loop)

    async def close(self, *, this_loop_only: bool = False) -> None:
        """Close the kept clients (all of them, or only this event loop's: the worker's private
        loops close theirs before they end)."""
        ident = id(asyncio.get_running_loop())
        clients: list[Any] = []
        for store in (self._connectors, self._token_clients):
            for key in [k for k in store if not this_loop_only or k[0] == ident]:
                clients.append(store.pop(key))
        for client in clients:
            with contextlib.suppress(RuntimeError, aiohttp.ClientError):  # a session of a loop that is gone
                await client.really_close()
