"""A bounded fuzzing run in production mode: 8,000 mutated activities, none gives an HTTP 500.

Real activity shapes (a message, an Action.Execute invoke, a Submit click, an install, a channel
@mention) are changed at random (parts deleted, replaced by random JSON, given siblings; bodies
cut short; random bytes) and sent with a good token, with a mutated token, or with none, to the
bot in production mode behind the local key server. Each answer must be below 500 (an invoke
the bot does not implement may get the protocol's 501). The run is seeded, so a failure repeats;
the count is asserted, so the run cannot quietly shrink.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from adapters.teams.app import build_service, create_app
from adapters.teams.config import PRODUCTION, TeamsConfig
from adapters.teams.storage import TeamsStorage
from bot.runtime import Runtime
from tests.production.kit import mutate

from .fake_connector import FakeConnector
from .key_server import KeyServer, new_key, token
from .teams_client import TENANT, BotServer, TeamsUser
from .test_tokens import APP_ID, FixedEntra

CASES = 8000
THREADS = 4
SEED = 16


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(9 if depth < 2 else 6)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.choice([0, -1, 2**63, 3.5, 1e308])
    if pick == 3:
        return rng.choice(["", "x", "msteams", "Action.Execute", "adaptiveCard/action", "personal", "\u0000", "é" * 50])
    if pick == 4:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(12)))
    if pick == 5:
        return rng.choice([{}, []])
    if pick == 6:
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["id", "type", "verb", "data", "action", "value", "k"]): _json_value(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


def _mutated_token(rng: random.Random, good: str) -> str | None:
    how = rng.randrange(5)
    if how == 0:
        return None
    if how == 1:
        cut = rng.randrange(len(good))
        return good[:cut]
    if how == 2:
        i = rng.randrange(len(good))
        return good[:i] + rng.choice("AZaz09-_.") + good[i + 1 :]
    if how == 3:
        return ".".join(rng.sample(good.split("."), 3))
    return good + "." + good


class Sender:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path

    def run(self, items: list[tuple[bytes, str | None, Any]], statuses: list[tuple[int, Any]]) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        for raw, tok, activity in items:
            headers = {"Content-Type": "application/json"}
            if tok is not None:
                headers["Authorization"] = f"Bearer {tok}"
            try:
                conn.request("POST", self.path, body=raw, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses.append((response.status, activity))
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                statuses.append((-1, activity))
        conn.close()


@pytest.fixture
def signed_bot(runtime: Runtime, connector: FakeConnector) -> Iterator[tuple[BotServer, KeyServer, Any]]:
    key = new_key("fuzz-key")
    with KeyServer([key]) as keys:
        config = TeamsConfig(mode=PRODUCTION, app_id=APP_ID, app_password="not-a-real-secret", tenant_id=TENANT)
        service = build_service(
            runtime.engine,
            TeamsStorage(runtime.store.engine),
            config,
            signing_keys_url=keys.url,
            token_provider=lambda _config: FixedEntra(),
        )
        server = BotServer(create_app(service)).start()
        try:
            yield server, keys, key
        finally:
            server.stop()


def test_8000_mutated_activities_in_production_mode_give_no_500(
    signed_bot: tuple[BotServer, KeyServer, Any], connector: FakeConnector
) -> None:
    server, _keys, key = signed_bot
    rng = random.Random(SEED)
    good = token(key, audience=APP_ID, service_url=connector.service_url, expires_in=7200)
    user = TeamsUser(server.url, connector)
    click = {"verb": "choose", "data": {"c": "x", "s": "q1", "o": 0, "t": 1}}
    shapes = [
        user.message("someone is threatening to sue me"),
        user.invoke(click, "1"),
        user.submit({"verb": "choose", "c": "x", "s": "q1", "o": 0, "t": 1}, "1"),
        user.installation(),
        user.channel_mention("check a post", "19:general@thread.tacv2", "19:team@thread.tacv2"),
    ]
    items: list[tuple[bytes, str | None, Any]] = []
    for _ in range(CASES):
        activity: Any = json.loads(json.dumps(rng.choice(shapes)))
        for _change in range(rng.randrange(1, 4)):
            path = [rng.randrange(21) for _ in range(rng.randrange(1, 5))]
            activity = mutate(activity, path, rng.choice(["delete", "replace", "add"]), _json_value(rng))
        raw = json.dumps(activity).encode()
        style = rng.randrange(10)
        if style == 0:
            raw = raw[: rng.randrange(len(raw) + 1)]
        elif style == 1:
            raw = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        tok = good if rng.randrange(4) else _mutated_token(rng, good)
        items.append((raw, tok, activity))
    statuses: list[tuple[int, Any]] = []
    lock = threading.Lock()
    buckets = [items[i::THREADS] for i in range(THREADS)]
    results: list[list[tuple[int, Any]]] = [[] for _ in buckets]
    threads = [
        threading.Thread(target=Sender(server.url).run, args=(bucket, out))
        for bucket, out in zip(buckets, results, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with lock:
        for out in results:
            statuses.extend(out)
    assert len(statuses) == CASES
    failures = [
        (status, json.dumps(activity, default=str)[:300])
        for status, activity in statuses
        if (status >= 500 and not _unimplemented_invoke(status, activity)) or status < 0
    ]
    assert failures == [], f"{len(failures)} of {CASES} gave a server error, e.g. {failures[:3]}"
    counts: dict[int, int] = {}
    for status, _a in statuses:
        counts[status] = counts.get(status, 0) + 1
    print("fuzz status counts:", dict(sorted(counts.items())))
    assert counts.get(401, 0) > 0 and sum(v for k, v in counts.items() if k < 300) > 0  # both paths were exercised


def _unimplemented_invoke(status: int, activity: Any) -> bool:
    """The protocol's answer to an invoke the bot does not implement (not a card action)."""
    return (
        status == 501
        and isinstance(activity, dict)
        and activity.get("type") == "invoke"
        and activity.get("name") != "adaptiveCard/action"
    )
