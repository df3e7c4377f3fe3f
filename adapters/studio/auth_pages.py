"""Signing in and out, and the home page.

Sign-in is rate-limited per client address (every start, callback and local attempt counts).
Local mode's sign-in (pick your directory id, no password) answers only a request from
127.0.0.1 on a studio started with --local, and every page says that it is in local mode.
"""

from __future__ import annotations

from aiohttp import web

from adapters.studio.app import SESSION, USER, _safe_next, is_loopback, studio_of
from adapters.studio.oidc import SignInFailed
from adapters.studio.roles import ALL_ROLES, StudioUser
from bot.conversation.events import Actor


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/signin", signin_page)
    app.router.add_get("/auth/start/{issuer}", start)
    app.router.add_get("/auth/callback/{issuer}", callback)
    app.router.add_post("/signin/local", local_signin)
    app.router.add_post("/signout", signout)


async def home(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user: StudioUser | None = request[USER]
    if user is None:
        raise web.HTTPSeeOther("/signin")
    if not user.roles:
        return studio.render(request, "no_role.html", status=403, title="No access")
    return studio.render(request, "home.html", title="Home", roles=[r for r in ALL_ROLES if r in user.roles])


def _next(request: web.Request) -> str:
    target = request.query.get("next", "/")
    return target if _safe_next(target) else "/"


async def signin_page(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    people = sorted(studio.directory, key=lambda p: p.name) if studio.config.local else []
    return studio.render(request, "signin.html", title="Sign in", next=_next(request), people=people, problem=None)


def _limited(request: web.Request) -> None:
    studio = studio_of(request)
    if not studio.limiter.allow(request.remote or "?"):
        raise web.HTTPTooManyRequests(
            text="Too many sign-in attempts from here. Wait a minute and try again.",
            headers={"Retry-After": str(int(studio.limiter.window))},
        )


async def start(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    _limited(request)
    provider = studio.providers.get(request.match_info["issuer"])
    if provider is None:
        raise web.HTTPNotFound()
    redirect_uri = f"{studio.config.public_url}/auth/callback/{provider.issuer.key}"
    try:
        url, pending = await provider.begin(redirect_uri)
    except SignInFailed as err:
        return _failed(request, str(err))
    session = request[SESSION]
    session.pending = {**pending, "next": _next(request)}
    session.changed = True
    raise web.HTTPSeeOther(url)


async def callback(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    _limited(request)
    provider = studio.providers.get(request.match_info["issuer"])
    if provider is None:
        raise web.HTTPNotFound()
    session = request[SESSION]
    pending = session.pending or {}
    try:
        actor = await provider.finish(pending, dict(request.query))
    except SignInFailed as err:
        session.pending = None
        session.changed = True
        studio.audit.record("-", "sign_in_refused", f"{provider.issuer.key}: {err}")
        return _failed(request, str(err))
    return _signed_in(request, actor, provider.issuer.key, str(pending.get("next") or "/"))


def _signed_in(request: web.Request, actor: Actor, how: str, target: str) -> web.StreamResponse:
    studio = studio_of(request)
    session = request[SESSION]
    studio.codec.sign_in(
        session,
        {"user_id": actor.user_id, "name": actor.display_name, "email": actor.email, "platform": actor.platform},
    )
    user = studio.user_of(session)
    roles = ",".join(sorted(user.roles)) if user else ""
    studio.audit.record(actor.user_id, "sign_in", f"{how}; roles: {roles or 'none'}")
    raise web.HTTPSeeOther(target if _safe_next(target) else "/")


def _failed(request: web.Request, message: str) -> web.Response:
    studio = studio_of(request)
    return studio.render(request, "signin.html", status=400, title="Sign in", next="/", people=[], problem=message)


async def local_signin(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    if not studio.config.local or not is_loopback(request):
        raise web.HTTPForbidden(text="The local sign-in only works in local mode, from this computer (127.0.0.1).")
    _limited(request)
    form = await request.post()
    person = studio.directory.get(str(form.get("person") or "").strip())
    if person is None:
        people = sorted(studio.directory, key=lambda p: p.name)
        return studio.render(
            request,
            "signin.html",
            status=400,
            title="Sign in",
            next="/",
            people=people,
            problem="There is nobody with that id in the staff directory.",
        )
    actor = Actor(f"console:{person.id}", person.name, person.email, "console")
    return _signed_in(request, actor, "local", str(form.get("next") or "/"))


async def signout(request: web.Request) -> web.StreamResponse:
    studio = studio_of(request)
    user: StudioUser | None = request[USER]
    if user is not None:
        studio.audit.record(user.actor.user_id, "sign_out")
    studio.codec.sign_out(request[SESSION])
    raise web.HTTPSeeOther("/signin")
