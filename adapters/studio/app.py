"""The studio's aiohttp application: middlewares, page rendering and routes.

Every response carries the security headers (a strict CSP: scripts and styles only from
/static, nothing inline). Every POST must carry the session's CSRF token. Every page but the
sign-in ones needs a signed-in person with a role that opens it (adapters.studio.roles); someone
without one gets 403 and no content.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from adapters.studio.audit import StudioAudit
from adapters.studio.config import StudioConfig
from adapters.studio.oidc import OidcSignIn
from adapters.studio.roles import StudioUser, studio_user
from adapters.studio.security import CSRF_FIELD, HEADERS, RateLimit, Session, SessionCodec, csrf_ok
from bot.cases.directory import Directory
from bot.conversation.events import Actor
from bot.runtime import Runtime

log = logging.getLogger("policybot.studio")
HERE = Path(__file__).parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Studio:
    """Everything a page handler needs, built once per process."""

    config: StudioConfig
    runtime: Runtime
    codec: SessionCodec
    limiter: RateLimit
    audit: StudioAudit
    templates: jinja2.Environment
    providers: dict[str, OidcSignIn] = field(default_factory=dict)
    flows_dir: Path | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    scenarios_done: threading.Event = field(default_factory=threading.Event)

    @property
    def directory(self) -> Directory:
        return self.runtime.directory or Directory()

    def user_of(self, session: Session) -> StudioUser | None:
        if session.user is None:
            return None
        u = session.user
        actor = Actor(u["user_id"], u.get("name") or "", u.get("email"), u.get("platform") or "studio")
        return studio_user(actor, self.runtime.settings, self.directory)

    def render(self, request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
        session: Session = request[SESSION]
        user = request.get(USER)
        html = self.templates.get_template(template).render(
            user=user,
            csrf=session.csrf,
            csrf_field=CSRF_FIELD,
            local=self.config.local,
            providers=[p.issuer for p in self.providers.values()],
            path=request.path,
            **context,
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


STUDIO: web.AppKey[Studio] = web.AppKey("studio", Studio)
SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)
USER: web.RequestKey[StudioUser | None] = web.RequestKey("user", object)  # type: ignore[arg-type]


def studio_of(request: web.Request) -> Studio:
    return request.app[STUDIO]


def signed_in(request: web.Request) -> StudioUser:
    """The person on a page guarded by ``require`` (always signed in there)."""
    user = request[USER]
    if user is None:
        raise web.HTTPForbidden(text="Sign in first.")
    return user


def is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    studio = studio_of(request)
    session = studio.codec.load(request)
    request[SESSION] = session
    request[USER] = studio.user_of(session)
    if request.method == "POST" and not request.path.startswith("/static/"):
        sent = request.headers.get("X-CSRF-Token")
        if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sent = (await request.post()).get(CSRF_FIELD)  # type: ignore[assignment]
        if not csrf_ok(session, sent if isinstance(sent, str) else None):
            response: web.StreamResponse = studio.render(
                request,
                "error.html",
                status=403,
                title="Form expired",
                message="This form was open too long or came from another site. "
                "Go back, reload the page and try again.",
            )
            _finish(studio, response, session)
            return response
    try:
        response = await handler(request)
    except web.HTTPException as err:
        if err.status in (403, 404) and err.content_type != "text/html":
            response = studio.render(
                request,
                "error.html",
                status=err.status,
                title="Not found" if err.status == 404 else "Not for you",
                message=err.text
                if err.status == 403 and err.text and not err.text.startswith("403")
                else (
                    "There is no such page."
                    if err.status == 404
                    else "Your role in the studio does not open this page."
                ),
            )
        else:
            response = web.Response(
                status=err.status, headers=err.headers, text=err.text if err.status >= 400 else None
            )
    _finish(studio, response, request[SESSION])
    return response


def _finish(studio: Studio, response: web.StreamResponse, session: Session) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.content_type == "text/html" or "Cache-Control" not in response.headers:
        response.headers.setdefault("Cache-Control", "no-store")
    if session.changed:
        studio.codec.save(response, session)


def require(area: str) -> Callable[[Handler], Handler]:
    """The page needs a signed-in person whose roles open ``area``."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            user: StudioUser | None = request[USER]
            if user is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther(f"/signin?next={request.path_qs if _safe_next(request.path_qs) else '/'}")
                raise web.HTTPForbidden(text="Sign in first.")
            if not user.may(area):
                raise web.HTTPForbidden()
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


def _safe_next(target: str) -> bool:
    """Only a path on this site: never //evil.example or a full URL."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def create_app(config: StudioConfig, runtime: Runtime, *, flows_dir: Path | None = None) -> web.Application:
    from adapters.studio import (
        auth_pages,
        case_pages,
        change_pages,
        edit_pages,
        flow_pages,
        insight_pages,
        policy_pages,
    )

    studio = Studio(
        config=config,
        runtime=runtime,
        codec=SessionCodec(config.secret, hours=config.session_hours, secure=config.secure_cookies),
        limiter=RateLimit(config.signin_per_minute),
        audit=StudioAudit(runtime.store, runtime.clock),
        templates=make_templates(),
        providers={i.key: OidcSignIn(i) for i in config.issuers},
        flows_dir=flows_dir,
    )
    app = web.Application(middlewares=[security_middleware], client_max_size=1024 * 1024)
    app[STUDIO] = studio
    app.router.add_static("/static/", HERE / "static", append_version=False)
    for module in (auth_pages, flow_pages, edit_pages, case_pages, insight_pages, change_pages, policy_pages):
        module.add_routes(app)
    return app
