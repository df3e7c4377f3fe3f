"""The studio under test: a real aiohttp server on 127.0.0.1, a fake OpenID Connect provider
beside it, and a client that signs in the way a browser does."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web

from adapters.studio.app import STUDIO, create_app
from adapters.studio.config import Issuer, StudioConfig
from adapters.studio.security import COOKIE
from bot.publishing.authoring import Authoring
from bot.runtime import Runtime, build_runtime
from tests.studio.fake_oidc import FakeOidcProvider
from tests.studio.servers import ThreadedServer

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = FIXTURES / "policybot.yaml"
WELSH_SETTINGS = FIXTURES / "policybot-welsh.yaml"  # languages: [en, cy]
SECRET = b"0123456789abcdef0123456789abcdef"

IDENTITIES: dict[str, dict[str, Any]] = {
    "cara": {"sub": "entra-cara", "email": "cara@example.gov.uk", "name": "Cara Comms"},
    "sam": {"sub": "entra-sam", "email": "sam.extra@example.gov.uk", "name": "Sam Extra"},
    "mo": {"sub": "entra-mo", "email": "mo@example.gov.uk", "name": "Mo Manager"},
    "emma": {"sub": "entra-emma", "email": "emma@example.gov.uk", "name": "Emma Employee"},
    "raj": {"sub": "entra-raj", "email": "raj@example.gov.uk", "name": "Raj Reviewer"},
    "ana": {"sub": "entra-ana", "email": "ana@example.gov.uk", "name": "Ana Author"},
    "outsider": {"sub": "x-1", "email": "someone@elsewhere.example", "name": "Olly Outsider"},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOidcProvider]:
    server = ThreadedServer()
    fake = FakeOidcProvider(server.url)
    server.start(fake.app)
    yield fake
    server.stop()


@dataclass
class RunningStudio:
    url: str
    runtime: Runtime
    config: StudioConfig
    app: web.Application

    def scenario_tests_finished(self) -> None:
        """Wait until the scenario tests the studio runs at start-up have finished."""
        assert self.app[STUDIO].scenarios_done.wait(600), "the scenario tests did not finish"


@pytest.fixture
def start_studio(provider: FakeOidcProvider, sqlite_url: str) -> Iterator[Callable[..., RunningStudio]]:
    started: list[ThreadedServer] = []

    def start(
        *,
        local: bool = False,
        authoring: dict[str, list[str]] | None = None,
        issuers: tuple[Issuer, ...] | None = None,
        signin_per_minute: int = 100,
        database_url: str | None = None,
        settings: Path = SETTINGS,
        flows_dir: Path | None = None,
    ) -> RunningStudio:
        runtime = build_runtime(settings, database_url or sqlite_url, flows_dir=flows_dir)
        if authoring is not None:  # as if written in the settings file's authoring: block
            runtime.settings.data["authoring"] = {**runtime.settings.data["authoring"], **authoring}
            assert runtime.publishing is not None
            runtime.publishing.authoring = Authoring(runtime.settings)
        server = ThreadedServer()
        config = StudioConfig(
            host="127.0.0.1",
            port=server.port,
            local=local,
            public_url=server.url,
            secret=SECRET,
            issuers=()
            if local
            else issuers
            or (
                Issuer("oidc", "Sign in with your council account", f"{provider.url}/.well-known/openid-configuration",
                       provider.client_id, provider.client_secret),
            ),
            signin_per_minute=signin_per_minute,
        ).check() if local else StudioConfig(
            host="127.0.0.1", port=server.port, local=False, public_url=server.url, secret=SECRET,
            issuers=issuers or (
                Issuer("oidc", "Sign in with your council account", f"{provider.url}/.well-known/openid-configuration",
                       provider.client_id, provider.client_secret),
            ),
            signin_per_minute=signin_per_minute,
        )  # fmt: skip
        app = create_app(config, runtime, flows_dir=flows_dir)
        server.start(lambda: app)
        started.append(server)
        return RunningStudio(server.url, runtime, config, app)

    yield start
    for server in started:
        server.stop()


class Response:
    """The last response of a request, with the hops before it (like requests' ``history``)."""

    def __init__(self, last: requests.Response, history: list[requests.Response]) -> None:
        self.last = last
        self.history = history
        self.status_code = last.status_code
        self.text = last.text
        self.headers = last.headers
        self.url = last.url
        self.content = last.content


class Client:
    """A browser's share of the job: the session cookie (kept by hand: requests will not send a
    Secure cookie over http, while a browser does to 127.0.0.1), following redirects, and sending
    the page's CSRF token with each form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.cookie: str | None = None
        self.csrf = ""

    def get(self, path: str, *, allow_redirects: bool = True) -> Response:
        return self._send("GET", self.base + path, None, allow_redirects)

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: str | None = None,
             allow_redirects: bool = True) -> Response:  # fmt: skip
        form = dict(data or {})
        form.setdefault("csrf", self.csrf if csrf is None else csrf)
        return self._send("POST", self.base + path, form, allow_redirects)

    def follow(self, url: str) -> Response:
        return self._send("GET", url, None, True)

    def _send(self, method: str, url: str, form: dict[str, str] | None, follow: bool) -> Response:
        history: list[requests.Response] = []
        for _ in range(10):
            headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie and url.startswith(self.base) else {}
            # 180 s: a submit runs the scenario tests, which take a while on a busy machine
            response = self.http.request(method, url, data=form, headers=headers, allow_redirects=False, timeout=180)
            if url.startswith(self.base):
                self._remember(response)
            if not (follow and response.status_code in (301, 302, 303, 307) and "Location" in response.headers):
                return Response(response, history)
            history.append(response)
            location = response.headers["Location"]
            url = location if location.startswith("http") else self.base + location
            method, form = "GET", None
        raise AssertionError("too many redirects")

    def _remember(self, response: requests.Response) -> None:
        raw = response.headers.get("Set-Cookie", "")
        found = re.search(COOKIE + r"=([^;]+)", raw)
        if found:
            self.cookie = found.group(1)
        token = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if token:
            self.csrf = token.group(1)

    def sign_in(self, provider: FakeOidcProvider, who: str) -> Response:
        provider.identity = IDENTITIES[who]
        self.get("/signin")
        return self.get("/auth/start/oidc?next=/")

    def sign_in_local(self, person: str) -> Response:
        self.get("/signin")
        return self.post("/signin/local", {"person": person, "next": "/"})


@pytest.fixture
def client_for() -> Callable[[RunningStudio], Client]:
    return lambda studio: Client(studio.url)
