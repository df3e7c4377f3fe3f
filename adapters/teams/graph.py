"""Optional: line managers from Microsoft Graph (``GET /users/{id}/manager``) instead of only the file.

Councils on Microsoft 365 already keep "who manages whom" in Entra ID. With
``POLICYBOT_GRAPH_MANAGER=1`` (and the bot's app registration granted the *application* permission
``User.Read.All``, admin-consented), a person the staff directory file does not give a manager is
looked up in Graph: the bot asks for an app-only token (client credentials, the same app id and
secret as the bot) and reads their manager. The file always wins where it says something; Graph
fills the gaps. Answers are cached for a while, and Graph being down or throttling only means the
escalation goes to the comms team with a note (as for any unknown manager), never that it is lost.

``GraphClient`` is plain HTTPS with the standard library (token endpoint + one Graph call), so
tests point it at a local fake (tests/teams/fake_graph.py).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.cases.directory import Directory, Person
from bot.conversation.events import Actor
from bot.errors import PolicybotError
from bot.language.i18n.catalog import N_
from bot.language.i18n.wording import Wording

log = logging.getLogger("policybot.teams.graph")

LOGIN_URL = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com"
SCOPE = "https://graph.microsoft.com/.default"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class GraphError(PolicybotError):
    """Graph refused the request (bad credentials, missing permission); retrying will not help."""


class GraphUnavailable(PolicybotError):
    """Graph is throttling or down; ``retry_after`` is its hint in seconds, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class GraphUser:
    id: str  # the Entra object id
    name: str
    email: str | None


class GraphClient:
    """App-only Microsoft Graph access for one question: who is this person's manager?"""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        login_url: str = LOGIN_URL,
        graph_url: str = GRAPH_URL,
        timeout_seconds: float = 5.0,
    ) -> None:
        if not (tenant_id and client_id and client_secret):
            raise GraphError(
                "The Graph manager lookup needs MICROSOFT_APP_TENANT_ID, MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD."
            )
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._secret = client_secret
        self.login_url = login_url.rstrip("/")
        self.graph_url = graph_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the secret
        return f"GraphClient(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"

    # ---- token -------------------------------------------------------------------------------

    def token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if not fresh and self._token and time.monotonic() < self._token_expires:
                return self._token
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._secret,
                    "scope": SCOPE,
                }
            ).encode()
            url = f"{self.login_url}/{urllib.parse.quote(self.tenant_id)}/oauth2/v2.0/token"
            request = urllib.request.Request(url, data=form, method="POST")
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            status, _headers, body = self._send(request)
            if status != 200 or "access_token" not in body:
                code = body.get("error", status)
                raise GraphError(
                    f"Microsoft Entra refused the bot's credentials for Graph ({code}); check MICROSOFT_APP_ID, "
                    "MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID."
                )
            self._token = str(body["access_token"])
            self._token_expires = time.monotonic() + max(60.0, float(body.get("expires_in", 3600)) - 120.0)
            return self._token

    # ---- the lookup ----------------------------------------------------------------------------

    def manager_of(self, user: str) -> GraphUser | None:
        """The manager of ``user`` (an Entra object id or a user principal name), or None if Graph
        says they have none (or does not know them)."""
        path = f"/v1.0/users/{urllib.parse.quote(user, safe='@')}/manager"
        query = "?$select=id,displayName,mail,userPrincipalName"
        for attempt in (1, 2):
            request = urllib.request.Request(f"{self.graph_url}{path}{query}", method="GET")
            request.add_header("Authorization", f"Bearer {self.token(fresh=attempt == 2)}")
            request.add_header("Accept", "application/json")
            status, headers, body = self._send(request)
            if status == 200:
                return GraphUser(
                    id=str(body["id"]),
                    name=str(body.get("displayName") or body.get("userPrincipalName") or body["id"]),
                    email=(body.get("mail") or body.get("userPrincipalName") or None),
                )
            if status == 404:
                return None
            if status == 401 and attempt == 1:
                continue  # the token expired early or was revoked: get a new one, once
            if status in (429, 500, 502, 503, 504):
                retry_after = _seconds(headers.get("Retry-After"))
                raise GraphUnavailable(f"Microsoft Graph answered {status}", retry_after)
            if status == 403:
                raise GraphError(
                    "Microsoft Graph refused to read managers (403): grant the bot's app registration the "
                    "application permission User.Read.All and give admin consent (docs/teams.md)."
                )
            raise GraphError(f"Microsoft Graph answered {status} for a manager lookup")
        raise GraphError("Microsoft Graph kept refusing the bot's token")

    def _send(self, request: urllib.request.Request) -> tuple[int, dict[str, str], dict[str, Any]]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return response.status, dict(response.headers), _json(response.read())
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers or {}), _json(err.read())
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise GraphUnavailable(f"Microsoft Graph did not answer ({type(err).__name__})") from err


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _seconds(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


class GraphDirectory(Directory):
    """The staff directory file, with line managers it does not give filled in from Graph.

    People Graph brings in (a manager missing from the file, or a Teams user the file does not
    list) get the id ``aad-<object id>``, so the case service can match them when they act: the
    Teams adapter keys a person by the same Entra object id, which Teams vouches for.
    """

    def __init__(self, base: Directory, graph: GraphClient, *, cache_seconds: float = 900.0) -> None:
        super().__init__(list(base), source=base.source)
        self.graph = graph
        self.cache_seconds = cache_seconds
        self._managers: dict[str, tuple[Person | None, Wording | None, float]] = {}
        self._graph_people: dict[str, Person] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        """Present even with an empty file: ``people or NoDirectory()`` must keep it (len() is 0)."""
        return True

    def find(self, actor: Actor) -> Person | None:
        person = super().find(actor)
        if person is not None:
            return person
        platform, _, rest = actor.user_id.partition(":")
        if platform != "teams" or not _GUID.match(rest):
            return None
        known_email = actor.email and any((p.email or "") == actor.email.strip().lower() for p in self)
        if known_email:  # the file lists this email under another Teams account: refuse, as the file does
            return None
        return self._remember(
            Person(id=f"aad-{rest.lower()}", name=actor.display_name or rest, email=actor.email, teams_id=rest.lower())
        )

    def get(self, person_id: str | None) -> Person | None:
        found = super().get(person_id)
        if found is not None or not person_id:
            return found
        with self._lock:
            return self._graph_people.get(person_id)

    def line_manager(self, person: Person) -> tuple[Person | None, Wording | None]:
        manager, why = super().line_manager(person)
        if manager is not None or person.manager:  # the file said something: it wins
            return manager, why
        key = person.teams_id or person.email
        if not key:
            return None, why
        now = time.monotonic()
        with self._lock:
            cached = self._managers.get(key)
        if cached is not None and now - cached[2] < self.cache_seconds:
            return cached[0], cached[1]
        try:
            found = self.graph.manager_of(key)
        except (GraphError, GraphUnavailable) as err:
            log.warning("graph: manager lookup failed: %s", err)
            return None, Wording(
                N_("{name}'s line manager could not be looked up in Microsoft Graph ({error})"),
                {"name": person.name, "error": str(err)},
            )
        if found is None:
            result: tuple[Person | None, Wording | None] = (
                None,
                Wording(N_("{name} has no manager in Microsoft Graph"), {"name": person.name}),
            )
        else:
            in_file = next(
                (
                    p
                    for p in self
                    if (p.teams_id or "").lower() == found.id.lower()
                    or (found.email and p.email == found.email.lower())
                ),
                None,
            )
            manager = in_file or self._remember(
                Person(
                    id=f"aad-{found.id.lower()}",
                    name=found.name,
                    email=(found.email or "").lower() or None,
                    teams_id=found.id.lower(),
                )
            )
            result = (manager, None)
        with self._lock:
            self._managers[key] = (result[0], result[1], now)
        return result

    def _remember(self, person: Person) -> Person:
        with self._lock:
            self._graph_people[person.id] = person
        return person
