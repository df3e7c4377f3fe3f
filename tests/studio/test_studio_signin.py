"""Signing in to the studio: OpenID Connect against a fake provider, local mode, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.studio.config import Issuer, StudioConfig, from_environment
from bot.errors import PolicybotError
from bot.store.schema import audit
from tests.studio.conftest import IDENTITIES


def _audit_actions(studio) -> list[tuple[str, str, str | None]]:
    with studio.runtime.store.transaction() as conn:
        rows = conn.execute(select(audit.c.user_id, audit.c.action, audit.c.detail).order_by(audit.c.id)).all()
    return [(r.user_id, r.action, r.detail) for r in rows]


def test_a_comms_officer_signs_in_with_the_council_provider(start_studio, client_for, provider):
    studio = start_studio()
    client = client_for(studio)
    page = client.sign_in(provider, "cara")
    assert page.status_code == 200
    assert "Welcome, Cara Comms" in page.text
    assert "comms" in page.text and "author" in page.text
    cookie = page.history[-1].headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert ("studio:oidc:entra-cara", "studio.sign_in", "oidc; roles: author,comms,reviewer") in _audit_actions(studio)


def test_the_studio_comms_list_in_the_settings_gives_the_comms_role(start_studio, client_for, provider):
    client = client_for(start_studio())
    assert "Welcome, Sam Extra" in client.sign_in(provider, "sam").text
    assert client.get("/cases").status_code == 200


def test_someone_outside_the_council_gets_nothing(start_studio, client_for, provider):
    studio = start_studio()
    client = client_for(studio)
    page = client.sign_in(provider, "outsider")
    assert page.status_code == 403
    assert "no role in the policybot studio" in page.text
    for path in ("/flows", "/flows/negative-comment", "/cases", "/insights", "/insights/verdicts.csv", "/changes"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "negative" not in response.text.lower() or path == "/flows/negative-comment"
        assert "Flows</a>" not in response.text


@pytest.mark.parametrize("tamper", ["wrong_audience", "wrong_key", "expired", "wrong_nonce", "wrong_issuer"])
def test_a_forged_or_replayed_id_token_is_refused(start_studio, client_for, provider, tamper):
    studio = start_studio()
    client = client_for(studio)
    provider.tamper = tamper
    try:
        page = client.sign_in(provider, "cara")
    finally:
        provider.tamper = None
    assert page.status_code == 400
    assert "could not be verified" in page.text
    assert client.get("/flows", allow_redirects=False).status_code == 303  # still signed out
    assert any(a == "studio.sign_in_refused" for _u, a, _d in _audit_actions(studio))


def test_a_callback_with_another_state_or_a_used_code_is_refused(start_studio, client_for, provider):
    studio = start_studio()
    client = client_for(studio)
    provider.identity = IDENTITIES["cara"]
    client.get("/signin")
    to_provider = client.get("/auth/start/oidc", allow_redirects=False)
    back = client.http.get(to_provider.headers["Location"], allow_redirects=False)
    callback = back.headers["Location"]
    forged = callback.replace("state=", "state=x")
    assert client.follow(forged).status_code == 400
    # the pending sign-in is gone once a callback was tried: the real one no longer works either
    assert client.follow(callback).status_code == 400
    assert client.get("/flows", allow_redirects=False).status_code == 303


def test_sign_in_is_rate_limited(start_studio, client_for, provider):
    studio = start_studio(signin_per_minute=3)
    client = client_for(studio)
    codes = [client.get("/auth/start/oidc", allow_redirects=False).status_code for _ in range(5)]
    assert codes[:3] == [303, 303, 303]
    assert codes[3:] == [429, 429]


def test_slack_sign_in_finds_the_person_by_their_slack_account(start_studio, client_for, provider):
    slack = Issuer("slack", "Sign in with Slack", f"{provider.url}/.well-known/openid-configuration",
                   provider.client_id, provider.client_secret, kind="slack", tenant="T0COUNCIL")  # fmt: skip
    studio = start_studio(issuers=(slack,))
    client = client_for(studio)
    client.get("/signin")
    # Emma is in the directory by her Slack id only (no email in the token): found, and she has no role
    provider.identity = {
        "sub": "U0EMMA",
        "https://slack.com/user_id": "U0EMMA",
        "https://slack.com/team_id": "T0COUNCIL",
    }
    page = client.get("/auth/start/slack")
    assert page.status_code == 403 and "Emma Employee" in page.text
    assert any(u == "slack:T0COUNCIL:U0EMMA" and a == "studio.sign_in" for u, a, _d in _audit_actions(studio))
    provider.identity = {"sub": "U9", "https://slack.com/user_id": "U9", "https://slack.com/team_id": "T0OTHER",
                         "email": "cara@example.gov.uk"}  # fmt: skip
    other = client_for(studio)
    other.get("/signin")
    refused = other.get("/auth/start/slack")
    assert refused.status_code == 400 and "not the council" in refused.text


def test_entra_sign_in_accepts_only_the_council_tenant(start_studio, client_for, provider):
    entra = Issuer("entra", "Sign in with Microsoft", f"{provider.url}/.well-known/openid-configuration",
                   provider.client_id, provider.client_secret, kind="entra", tenant="tenant-council")  # fmt: skip
    studio = start_studio(issuers=(entra,))
    client = client_for(studio)
    client.get("/signin")
    provider.identity = {"sub": "s1", "oid": "o1", "tid": "tenant-council", "preferred_username": "Cara@example.gov.uk"}
    assert "Welcome, Cara Comms" in client.get("/auth/start/entra").text
    stranger = client_for(studio)
    stranger.get("/signin")
    provider.identity = {"sub": "s2", "oid": "o2", "tid": "tenant-other", "preferred_username": "cara@example.gov.uk"}
    page = stranger.get("/auth/start/entra")
    assert page.status_code == 400 and "account is not in the council" in page.text


def test_an_unverified_email_finds_nobody(start_studio, client_for, provider):
    client = client_for(start_studio())
    provider.identity = {**IDENTITIES["cara"], "email_verified": False}
    client.get("/signin")
    assert client.get("/auth/start/oidc").status_code == 403


def test_local_mode_signs_in_on_the_loopback_and_says_so_on_every_page(start_studio, client_for):
    studio = start_studio(local=True)
    client = client_for(studio)
    signin = client.get("/signin")
    assert "Local mode" in signin.text
    page = client.sign_in_local("cara")
    assert "Welcome, Cara Comms" in page.text
    for path in ("/", "/flows", "/flows/negative-comment", "/flows/negative-comment/edit", "/cases", "/insights"):
        assert "Local mode:" in client.get(path).text, path
    cookie = page.history[-1].headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" not in cookie  # plain http on 127.0.0.1
    assert client.sign_in_local("nobody-here").status_code == 400


def test_the_local_sign_in_is_refused_outside_local_mode(start_studio, client_for):
    client = client_for(start_studio())
    client.get("/signin")
    assert client.post("/signin/local", {"person": "cara"}).status_code == 403


def test_local_mode_refuses_to_listen_beyond_the_loopback():
    with pytest.raises(PolicybotError, match=r"only listens on 127\.0\.0\.1"):
        StudioConfig(host="0.0.0.0", local=True).check()
    with pytest.raises(PolicybotError, match="POLICYBOT_STUDIO_SECRET"):
        from_environment(
            env={"POLICYBOT_STUDIO_OIDC_ISSUER": "https://id.example", "POLICYBOT_STUDIO_URL": "https://s.example"}
        ).check()
    with pytest.raises(PolicybotError, match="tenant id"):
        from_environment(env={"POLICYBOT_STUDIO_ENTRA_CLIENT_ID": "x", "POLICYBOT_STUDIO_ENTRA_TENANT": "common"})
    config = from_environment(env={"POLICYBOT_STUDIO_SLACK_CLIENT_ID": "c", "POLICYBOT_STUDIO_SECRET": "s" * 40,
                                   "POLICYBOT_STUDIO_URL": "https://studio.example"}).check()  # fmt: skip
    assert config.issuers[0].metadata_url == "https://slack.com/.well-known/openid-configuration"


def test_signing_out_ends_the_session(start_studio, client_for, provider):
    studio = start_studio()
    client = client_for(studio)
    client.sign_in(provider, "cara")
    old_token = client.csrf
    assert client.post("/signout").url.endswith("/signin")
    assert client.get("/flows", allow_redirects=False).status_code == 303
    assert client.post("/signout", csrf=old_token).status_code == 403  # the old token died with the session
    assert ("studio:oidc:entra-cara", "studio.sign_out", None) in _audit_actions(studio)
