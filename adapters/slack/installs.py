"""Slack multi-workspace installs: OAuth v2, with slack_sdk's SQLAlchemy stores in the bot's own database.

A single workspace needs only ``SLACK_BOT_TOKEN``. An app installed in several workspaces (a
shared service, or an Enterprise Grid organisation with a workspace per department) instead
sets ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET``: each workspace installs the bot through
``/slack/install``, Slack sends the browser back to ``/slack/oauth_redirect``, and the
workspace's bot token is kept in ``slack_installations`` / ``slack_bots`` (slack_sdk's
``SQLAlchemyInstallationStore``) in the same database as everything else, so every replica sees
every install. The OAuth ``state`` that protects the redirect is kept there too
(``SQLAlchemyOAuthStateStore``), so the redirect may land on another replica than the start.
The tables are created by the store's migrations (bot/store/migrations, revision 0002).

Which token a call uses: Bolt looks the installation up for each request (its ``authorize``
step); a middleware here puts that workspace's bot token in a context variable, and
``WorkspaceClient`` (the Web API client the adapter uses everywhere) sends whichever token is
current. The context variable travels with the request's background job (adapters/slack/worker.py
carries the context), and ``WorkspaceNotifier`` sets it for escalation deliveries from the
outbox, from the workspace of the employee whose case it is.

Authorisations are cached: the installation store is slack_sdk's ``CacheableInstallationStore``
(the database is read once per workspace and process) and Bolt's authorize step keeps the
``auth.test`` answer per token, so a request costs no Slack call and no query before its ack. In
HTTP mode the authorize step runs off the event loop (adapters/slack/http_server.py), so a slow
first look-up never holds up ``/healthz`` or other people's acknowledgements.

When a workspace uninstalls the app (``app_uninstalled``) its installs are deleted; when tokens
are revoked (``tokens_revoked``) the revoked bot or user tokens are: Bolt's own token revocation
listeners (``enable_token_revocation_listeners``, wired in adapters/slack/home.py), which delete
through the cacheable store and so empty its cache too.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.cacheable_installation_store import CacheableInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, select

from bot.cases.notify import Notification, Notifier
from bot.errors import SettingsError

log = logging.getLogger(__name__)

ENV_CLIENT_ID = "SLACK_CLIENT_ID"
ENV_CLIENT_SECRET = "SLACK_CLIENT_SECRET"
ENV_REDIRECT_URI = "SLACK_REDIRECT_URI"  # only if Slack must be told the full redirect address
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of manifest/slack/manifest.yaml (a test keeps the two the same).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "chat:write",
    "commands",
    "groups:history",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
)
STATE_SECONDS = 600  # how long an install link stays valid
TOKEN_CACHE_SECONDS = 60.0

_workspace_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("policybot_slack_token", default=None)


@dataclass(frozen=True)
class OAuthConfig:
    """The OAuth app credentials; ``repr`` never shows the secret."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None

    @property
    def secrets(self) -> list[str]:
        return [self.client_secret]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OAuthConfig | None:
        """The credentials, or None when the app runs in one workspace on ``SLACK_BOT_TOKEN``."""
        env = os.environ if environ is None else environ
        client_id = env.get(ENV_CLIENT_ID, "").strip()
        client_secret = env.get(ENV_CLIENT_SECRET, "").strip()
        if not client_id and not client_secret:
            return None
        if not client_id or not client_secret:
            missing = ENV_CLIENT_ID if not client_id else ENV_CLIENT_SECRET
            raise SettingsError(
                f"{missing} is not set. Installing in several workspaces needs both {ENV_CLIENT_ID} and "
                f"{ENV_CLIENT_SECRET} (your Slack app's settings: Basic Information -> App Credentials); "
                "for one workspace, unset both and set SLACK_BOT_TOKEN instead (docs/deploy.md)."
            )
        return cls(client_id, client_secret, env.get(ENV_REDIRECT_URI, "").strip() or None)


class WorkspaceClient(WebClient):
    """A Web API client that sends the token of the workspace being served.

    The token is read at each call: the current request's (or delivery's) workspace token if
    one is set, else the fixed token given at construction (single-workspace installs, tests).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._fixed_token: str | None = None
        super().__init__(*args, **kwargs)

    @property
    def token(self) -> str | None:
        return _workspace_token.get() or self._fixed_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._fixed_token = value


@contextmanager
def acting_for(token: str | None) -> Iterator[None]:
    """Calls made inside use ``token`` (no change when None)."""
    if token is None:
        yield
        return
    reset = _workspace_token.set(token)
    try:
        yield
    finally:
        _workspace_token.reset(reset)


class SlackInstalls:
    """The installation and OAuth state stores on the bot's database, and what Bolt needs from them."""

    def __init__(self, engine: Engine, oauth: OAuthConfig) -> None:
        self.engine = engine
        self.oauth = oauth
        self.installation_store = SQLAlchemyInstallationStore(client_id=oauth.client_id, engine=engine, logger=log)
        # What Bolt reads and deletes through: in memory after the first look-up, emptied on delete.
        self.cached_store = CacheableInstallationStore(self.installation_store)
        self.state_store = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=log)
        self._cache: dict[tuple[str | None, str | None], tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    # -- Bolt wiring ------------------------------------------------------------------------
    def oauth_settings(self) -> OAuthSettings:
        settings = OAuthSettings(
            client_id=self.oauth.client_id,
            client_secret=self.oauth.client_secret,
            scopes=list(BOT_SCOPES),
            redirect_uri=self.oauth.redirect_uri,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=self.cached_store,
            installation_store_bot_only=True,
            state_store=self.state_store,
        )
        # The same authorize step, keeping each token's auth.test answer instead of asking per request.
        settings.authorize = InstallationStoreAuthorize(
            logger=log,
            client_id=self.oauth.client_id,
            client_secret=self.oauth.client_secret,
            installation_store=self.cached_store,
            bot_only=True,
            cache_enabled=True,
        )
        return settings

    def attach(self, app: App) -> None:
        """Add the middleware that picks the token of the request's workspace."""
        app.use(self._middleware)

    def _middleware(self, req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        context = req.context
        _workspace_token.set(context.bot_token)  # this request's context only (a copy per request/job)
        return next()

    # -- tokens outside a request (escalation deliveries) ---------------------------------------
    def bot_token(self, team_id: str | None, enterprise_id: str | None = None) -> str | None:
        """The workspace's current bot token, or None if it is not installed (cached for a minute)."""
        key = (enterprise_id, team_id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
                return cached[1]
        bot = self.installation_store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        token = bot.bot_token if bot is not None else None
        with self._lock:
            self._cache[key] = (now, token)
        return token

    def forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        with self._lock:
            self._cache.pop((enterprise_id, team_id), None)

    def installed_teams(self) -> list[str]:
        """Team ids with a bot installed (for `policybot` reports and tests)."""
        table = self.installation_store.bots
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.team_id).where(table.c.client_id == self.oauth.client_id).distinct()
            ).scalars()
            return sorted(str(team) for team in rows if team)


def team_of_user_id(user_id: str) -> str | None:
    """The workspace in a policybot Slack user id (``slack:T123:U456``)."""
    parts = user_id.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "slack" else None


class WorkspaceNotifier:
    """Delivers a case notification with the token of the workspace the case came from.

    The employee's user id says which workspace (``slack:T123:U456``); the managers and team
    channels told about the case are in that workspace too.
    """

    def __init__(self, inner: Notifier, installs: SlackInstalls) -> None:
        self.inner = inner
        self.installs = installs

    def deliver(self, notification: Notification) -> None:
        from bot.cases.tables import cases

        with self.installs.engine.connect() as conn:
            employee = conn.execute(
                select(cases.c.employee_user_id).where(cases.c.id == notification.case_id)
            ).scalar_one_or_none()
        team = team_of_user_id(str(employee)) if employee else None
        token = self.installs.bot_token(team) if team else None
        if token is None:
            from bot.cases.notify import DeliveryFailed

            raise DeliveryFailed(
                f"the Slack workspace {team or '(unknown)'} of this case has no policybot installed "
                "(uninstalled, or its token revoked): reinstall it from /slack/install",
                permanent=True,
            )
        with acting_for(token):
            self.inner.deliver(notification)
