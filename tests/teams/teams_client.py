"""Plays the Teams client and channel service in tests: real HTTP to the running bot.

``BotServer`` runs the adapter's aiohttp app on 127.0.0.1 in a background thread (its own event
loop, as in production). ``TeamsUser`` builds Bot Framework Activity JSON the way Teams sends it
(shapes as in the botbuilder samples and tests: personal chat, channel @mention, Action.Submit
message with ``value`` and no text, ``adaptiveCard/action`` invoke, installationUpdate,
conversationUpdate) with ``serviceUrl`` pointing at the fake Bot Connector, POSTs it to
``/api/messages`` and reads what the bot sent back there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.http_limits import HTTPLimits, start_site

from .fake_connector import FakeConnector, StoredActivity, adaptive_cards

TENANT = "9f2c1b6e-0000-4000-8000-00000000c0de"
BOT_ID = "28:3f2b1c4d-5e6f-4a8b-9c0d-112233445566"
BOT_NAME = "Policybot"
_ids = itertools.count(1_700_000_000_000)


class BotServer:
    """The aiohttp app on a real socket, in a thread with its own event loop."""

    def __init__(self, app: web.Application, limits: HTTPLimits | None = None) -> None:
        self.app = app
        self.limits = limits
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="teams-bot-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        if self.limits is not None:  # as `policybot serve teams` serves it (adapters/http_limits.py)
            self._runner, self.port = await start_site(self.app, "127.0.0.1", 0, self.limits)
            return
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def start(self) -> BotServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the bot server did not start")
        return self

    def stop(self) -> None:
        async def cleanup() -> None:
            assert self._runner is not None
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"


@dataclass
class HttpResult:
    status: int
    body: Any


def post_json(url: str, body: Any, *, headers: dict[str, str] | None = None, raw: bytes | None = None) -> HttpResult:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return HttpResult(response.status, json.loads(text) if text.strip() else None)
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        try:
            parsed: Any = json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            parsed = text
        return HttpResult(err.code, parsed)


@dataclass
class TeamsUser:
    """One person in Teams, in a personal chat with the bot (or posting in a channel)."""

    bot_url: str
    connector: FakeConnector
    name: str = "Alex Example"
    teams_id: str = "29:1alex"
    aad_id: str = "00000000-0000-4000-8000-0000000000a1"
    email: str | None = "alex@council.example"
    conversation_id: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    token: str | None = None  # a Bot Framework token to send (production-mode tests), else none
    locale: str = "en-GB"  # the language of the person's Teams client, as every activity carries it

    def __post_init__(self) -> None:
        if not self.conversation_id:
            self.conversation_id = f"a:1personal-{self.teams_id.split(':')[-1]}"
        if self.email:
            self.connector.people[self.teams_id] = {
                "id": self.teams_id,
                "name": self.name,
                "aadObjectId": self.aad_id,
                "email": self.email,
                "userPrincipalName": self.email,
                "tenantId": TENANT,
                "userRole": "user",
            }

    # ---- activity shapes ----------------------------------------------------------------------

    def base(self, kind: str, *, channel: str | None = None, team: str | None = None) -> dict[str, Any]:
        activity_id = str(next(_ids))
        body: dict[str, Any] = {
            "type": kind,
            "id": activity_id,
            "timestamp": "2026-11-21T10:00:00.000Z",
            "localTimestamp": "2026-11-21T10:00:00.000+00:00",
            "serviceUrl": self.connector.service_url,
            "channelId": "msteams",
            "from": {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad_id},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "locale": self.locale,
            "entities": [{"type": "clientInfo", "locale": self.locale, "country": "GB", "platform": "Web"}],
            "channelData": {"tenant": {"id": TENANT}},
        }
        if channel:
            body["conversation"] = {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": TENANT,
                "id": f"{channel};messageid={activity_id}",
            }
            body["channelData"].update(
                {"teamsChannelId": channel, "teamsTeamId": team, "channel": {"id": channel}, "team": {"id": team}}
            )
        else:
            body["conversation"] = {"conversationType": "personal", "tenantId": TENANT, "id": self.conversation_id}
        return body

    def message(self, text: str) -> dict[str, Any]:
        body = self.base("message")
        body.update({"text": text, "textFormat": "plain"})
        return body

    def channel_mention(self, text: str, channel: str, team: str) -> dict[str, Any]:
        body = self.base("message", channel=channel, team=team)
        mention = f"<at>{BOT_NAME}</at>"
        body.update({"text": f"{mention} {text}\n", "textFormat": "plain"})
        body["entities"].append({"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}})
        return body

    def submit(self, data: dict[str, Any], reply_to_id: str, **inputs: str) -> dict[str, Any]:
        body = self.base("message")
        body.update({"replyToId": reply_to_id, "value": {**data, **inputs}})
        return body

    def invoke(self, action: dict[str, Any], reply_to_id: str, **inputs: str) -> dict[str, Any]:
        body = self.base("invoke")
        body.update(
            {
                "name": "adaptiveCard/action",
                "replyToId": reply_to_id,
                "value": {
                    "action": {
                        "type": "Action.Execute",
                        "id": action.get("id", ""),
                        "verb": action["verb"],
                        "data": {**action["data"], **inputs},
                    },
                    "trigger": "manual",
                },
            }
        )
        return body

    def installation(self, action: str = "add") -> dict[str, Any]:
        body = self.base("installationUpdate")
        body["action"] = action
        body["channelData"]["source"] = {"name": "message"}
        return body

    def team_installation(self, channel: str, team: str) -> dict[str, Any]:
        body = self.base("installationUpdate", channel=channel, team=team)
        body["conversation"]["id"] = channel
        body["action"] = "add"
        return body

    # ---- talking ------------------------------------------------------------------------------

    def post(self, activity: dict[str, Any], **extra: Any) -> HttpResult:
        activity.update(extra)
        self.sent.append(activity)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        return post_json(self.bot_url, activity, headers=headers)

    def say(self, text: str, **extra: Any) -> HttpResult:
        return self.post(self.message(text), **extra)

    def inbox(self) -> list[StoredActivity]:
        """What the bot has posted in this person's chat, oldest first."""
        return self.connector.sent_to(self.conversation_id)

    def cards(self) -> list[tuple[StoredActivity, dict[str, Any]]]:
        return [(a, c) for a in self.inbox() for c in adaptive_cards(a.latest)]

    def last_card(self) -> tuple[StoredActivity, dict[str, Any]]:
        found = self.cards()
        assert found, "the bot sent no card"
        return found[-1]

    def texts(self) -> list[str]:
        return [a.latest.get("text") or "" for a in self.inbox() if a.latest.get("text")]

    def click(
        self,
        title: str,
        *,
        via: str = "invoke",
        card: tuple[StoredActivity, dict[str, Any]] | None = None,
        **inputs: str,
    ) -> HttpResult:
        """Click the button called ``title`` on a card (the last one in this person's chat by
        default; pass ``card`` for one elsewhere, such as a channel post: the click then comes
        from that card's conversation, as Teams would send it)."""
        stored, content = card or self.last_card()
        picked = choice_for(content, title)
        if picked is not None and not _has_button(content, title):  # an option in a choice set
            input_id, value, button = picked
            action, inputs = find_action(content, button), {**inputs, input_id: value}
        else:
            action = find_action(content, title)
        if via == "invoke":
            body = self.invoke(action, stored.activity_id, **inputs)
        else:
            body = self.submit(action["data"], stored.activity_id, **inputs)
        if stored.conversation_id != self.conversation_id:
            channel = stored.conversation_id.split(";messageid=")[0]
            is_channel = channel.startswith("19:")
            body["conversation"] = {
                "conversationType": "channel" if is_channel else "personal",
                "tenantId": TENANT,
                "id": stored.conversation_id,
                **({"isGroup": True} if is_channel else {}),
            }
            if is_channel:
                body["channelData"].update({"channel": {"id": channel}, "teamsChannelId": channel})
        return self.post(body)


def all_actions(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for key, value in node.items():
            if key != "fallback":
                found.extend(all_actions(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(all_actions(value))
    return found


def choice_sets(node: Any) -> list[dict[str, Any]]:
    """Every Input.ChoiceSet on a card (questions with many or long options, the topic menu)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "Input.ChoiceSet":
            found.append(node)
        for value in node.values():
            found.extend(choice_sets(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(choice_sets(value))
    return found


def offered(content: dict[str, Any]) -> list[str]:
    """What a person can pick on a card: button titles, or a choice set's option titles."""
    sets = choice_sets(content)
    if sets:
        return [c["title"] for s in sets for c in s["choices"]]
    return [a["title"] for a in all_actions(content) if a.get("type") == "Action.Execute"]


def choice_for(content: dict[str, Any], title: str) -> tuple[str, str, str] | None:
    """(input id, value, the button that sends it) for an option shown in a choice set."""
    for choice_set in choice_sets(content):
        for choice in choice_set["choices"]:
            if choice["title"] == title:
                buttons = [a for a in all_actions(content) if a.get("type") == "Action.Execute"]
                # the button that sends the choice ("Answer", "Start", or the same in Welsh)
                sender = next(b for b in buttons if b.get("verb") in ("choose", "start") and "o" not in b["data"])
                return choice_set["id"], choice["value"], sender["title"]
    return None


def _has_button(content: dict[str, Any], title: str) -> bool:
    return any(a.get("title") == title and a.get("type") == "Action.Execute" for a in all_actions(content))


def find_action(content: dict[str, Any], title: str) -> dict[str, Any]:
    matches = [a for a in all_actions(content) if a.get("title") == title and a.get("type") == "Action.Execute"]
    if not matches:
        titles = [a.get("title") for a in all_actions(content)]
        raise AssertionError(f"no button {title!r} on the card; it has {titles}")
    return matches[0]


def texts_of(content: dict[str, Any]) -> list[str]:
    """Every TextBlock text on a card, in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(str(node.get("text", "")))
            for key, value in node.items():
                if key != "fallback":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(content)
    return out
