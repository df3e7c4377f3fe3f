"""Build and send the HTTP requests Slack itself sends to an app: signed, in Slack's real shapes.

Slash commands arrive as a form body, interactive payloads (button clicks, shortcuts, modal
submissions) as a form body with one ``payload=<json>`` field, Events API callbacks as JSON.
Every request carries ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``:
``v0=hex(hmac_sha256(secret, "v0:{timestamp}:{raw body}"))``. Tests and the bench send these
over real HTTP so the app's signature check, body parsing and routing all run.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlparse

from fake_slack_api import TEAM_ID

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"

_counter = itertools.count(1)


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    """Sends signed requests to the app's endpoint (one keep-alive connection per sender)."""

    def __init__(self, url: str, *, secret: str = SIGNING_SECRET) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.path = parsed.path or "/slack/events"
        self.secret = secret
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post_raw(self, body: str, content_type: str, headers: dict[str, str]) -> Response:
        all_headers = {"Content-Type": content_type, **headers}
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self._conn.connect()
                # http.client sends headers and body in two writes; without this, Nagle and a
                # delayed ACK can add 40 ms to a request on a reused connection.
                self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._conn.request("POST", self.path, body=body.encode("utf-8"), headers=all_headers)
                resp = self._conn.getresponse()
                data = resp.read().decode("utf-8")
                return Response(resp.status, data, {k.lower(): v for k, v in resp.getheaders()})
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection; one fresh try
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        headers = sign(body, secret=secret or self.secret, timestamp=timestamp)
        headers.update(extra_headers or {})
        return self.post_raw(body, content_type, headers)

    def form(self, fields: dict[str, str], **kwargs: Any) -> Response:
        return self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        return self.form({"payload": json.dumps(payload)}, **kwargs)

    def event(self, envelope: dict[str, Any], **kwargs: Any) -> Response:
        return self.post(json.dumps(envelope), "application/json", **kwargs)


# --------------------------------------------------------------------- payload builders


def slash_command(user_id: str, text: str = "", *, channel_id: str = "C0GENERAL", command: str = "/policy") -> dict:
    n = next(_counter)
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test-council",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0POLICYBOT",
        "is_enterprise_install": "false",
        "response_url": f"https://hooks.slack.com/commands/{TEAM_ID}/{n}/x",
        "trigger_id": f"{n}.{n}.trigger{n}",
    }


def block_actions(
    user_id: str,
    action: dict[str, Any],
    *,
    channel_id: str,
    message: dict[str, Any] | None = None,
    container_type: str = "message",
) -> dict:
    """A button click on a message (``message`` is the clicked message as Slack sends it back)."""
    n = next(_counter)
    message = message or {"ts": "0.0", "blocks": [], "text": ""}
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0POLICYBOT",
        "token": "legacy-verification-token",
        "container": {
            "type": container_type,
            "message_ts": message.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"{n}.{n}.trigger{n}",
        "team": {"id": TEAM_ID, "domain": "test-council"},
        "enterprise": None,  # what Slack sends for a workspace outside Enterprise Grid
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "directmessage"},
        "message": {"type": "message", "user": "UBOTPOLICY", **message},
        "response_url": f"https://hooks.slack.com/actions/{TEAM_ID}/{n}/x",
        "actions": [{"type": "button", "action_ts": f"{int(time.time())}.{n:06d}", **action}],
    }


def home_block_actions(user_id: str, action: dict[str, Any]) -> dict:
    """A button click on the App Home tab (no message, a view container)."""
    n = next(_counter)
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0POLICYBOT",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": "VHOME1"},
        "trigger_id": f"{n}.{n}.trigger{n}",
        "team": {"id": TEAM_ID, "domain": "test-council"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": "VHOME1", "type": "home", "blocks": []},
        "actions": [{"type": "button", "action_ts": f"{int(time.time())}.{n:06d}", **action}],
    }


def global_shortcut(user_id: str, callback_id: str = "policy_check") -> dict:
    n = next(_counter)
    return {
        "type": "shortcut",
        "token": "legacy-verification-token",
        "action_ts": f"{int(time.time())}.{n:06d}",
        "team": {"id": TEAM_ID, "domain": "test-council"},
        "enterprise": None,
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": f"{n}.{n}.trigger{n}",
    }


def view_submission(user_id: str, callback_id: str, values: dict, private_metadata: str = "") -> dict:
    n = next(_counter)
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "test-council"},
        "enterprise": None,
        "is_enterprise_install": False,
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0POLICYBOT",
        "token": "legacy-verification-token",
        "trigger_id": f"{n}.{n}.trigger{n}",
        "view": {
            "id": f"VMODAL{n}",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": f"{n}.hash",
        },
        "response_urls": [],
    }


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict:
    n = next(_counter)
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0POLICYBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{n:08d}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": "UBOTPOLICY", "is_bot": True}],
    }


def dm_message(user_id: str, text: str, *, channel: str | None = None) -> dict:
    n = next(_counter)
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel or "D" + user_id,
        "user": user_id,
        "text": text,
        "ts": f"{int(time.time())}.{n:06d}",
        "event_ts": f"{int(time.time())}.{n:06d}",
    }


def app_mention(user_id: str, text: str, *, channel: str = "C0GENERAL") -> dict:
    n = next(_counter)
    ts = f"{int(time.time())}.{n:06d}"
    return {
        "type": "app_mention",
        "user": user_id,
        "text": f"<@UBOTPOLICY> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }


def app_home_opened(user_id: str, tab: str = "home") -> dict:
    n = next(_counter)
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id,
        "tab": tab,
        "event_ts": f"{int(time.time())}.{n:06d}",
    }
