"""Fuzzing run: thousands of mutated requests, signed and unsigned, at the real Slack endpoint.

The real ``SlackBot`` behind ``SlackHTTPServer`` (aiohttp, HTTP mode, inbound journal on), on a
SQLite store, posting into the fake Web API (tests/slack/fake_slack_api.py). Each request starts
from one of Slack's own request shapes (slash command, click, modal submission, event, shortcut)
and is mutated at random, reproducibly from ``--seed``:

- in the payload: a field removed, its value swapped for one of another type (null, number,
  list, object, a long or odd string), the whole thing nested deeper than any parser goes, cut
  short, or replaced by bytes that are not JSON or not UTF-8;
- in the request: the signature wrong, missing or made with another secret, the timestamp stale
  or not a number, ``Content-Encoding: gzip`` on a body that is not, a wrong content type.

About half are correctly signed after mutating, so they get past the signature check and reach
the parsing, Bolt and the listeners. The run fails (exit status 1) if any answer is a 500, or if
the server logged a traceback from aiohttp's own error handler.

Usage: ``.venv/bin/python bench/fuzz_slack.py [--requests 8000] [--seed 15]``
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "slack"))

USER = "U0FUZZER"
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1e308,
    True,
    "",
    "x" * 5000,
    "<!channel> <https://evil.example|x>",
    "\u0000\ud7ff\uffff",
    [],
    [None],
    {},
    {"id": None},
    {"type": "button"},
    [[[[[]]]]],
]


def seeds() -> list[tuple[str, dict[str, Any]]]:
    """Slack's request shapes, as the test builders make them: (kind, payload)."""
    from slack_requests import (
        app_home_opened,
        app_mention,
        block_actions,
        dm_message,
        event_callback,
        global_shortcut,
        home_block_actions,
        slash_command,
        view_submission,
    )

    click = {"action_id": "choose:0", "value": json.dumps({"c": "x", "s": "s", "t": 1, "o": 0}), "text": {"text": "A"}}
    return [
        ("form", slash_command(USER, "someone threatened to sue me", channel_id="D" + USER)),
        ("payload", block_actions(USER, click, channel_id="D" + USER, message={"ts": "1.0", "blocks": [], "text": ""})),
        ("payload", home_block_actions(USER, {"action_id": "start_flow:home", "value": "onboarding"})),
        ("payload", home_block_actions(USER, {"action_id": "case_acknowledge", "value": "case1"})),
        ("payload", global_shortcut(USER)),
        ("payload", view_submission(USER, "start_check_modal", {"situation_text": {"situation": {"value": "hi"}}})),
        ("payload", view_submission(USER, "case_message_modal", {}, private_metadata="case1")),
        ("json", event_callback(dm_message(USER, "1"))),
        ("json", event_callback(app_mention(USER, "hello"))),
        ("json", event_callback(app_home_opened(USER))),
        ("json", event_callback({"type": "app_uninstalled"})),
    ]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def mutate(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    """One to three changes at random places in a copy of ``payload``."""
    data = copy.deepcopy(payload)
    for _ in range(rng.randint(1, 3)):
        candidates = paths(data)
        if not candidates:
            break
        path = rng.choice(candidates)
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if isinstance(parent, dict) and rng.random() < 0.3:
            parent.pop(last, None)
        else:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return data


def encode(rng: random.Random, kind: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """The body as sent, and its content type; sometimes broken on purpose."""
    roll = rng.random()
    if roll < 0.04:
        return b"[" * 3000 + b"]" * 3000, "application/json"
    if roll < 0.06:
        return b"payload=" + b"[" * 3000, "application/x-www-form-urlencoded"
    if roll < 0.08:
        return b"\xff\xfe\x00garbage", "application/json"
    text = json.dumps(payload)
    if kind == "form":
        body = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()})
        content_type = "application/x-www-form-urlencoded"
    elif kind == "payload":
        body, content_type = urlencode({"payload": text}), "application/x-www-form-urlencoded"
    else:
        body, content_type = text, "application/json"
    if roll < 0.12:
        body = body[: rng.randint(0, max(len(body) - 1, 0))]  # cut short
    if roll > 0.97:
        content_type = rng.choice(["text/plain", "application/json", "application/x-www-form-urlencoded", ""])
    return body.encode("utf-8"), content_type


def headers_for(rng: random.Random, body: bytes, signed: bool, secret: str) -> dict[str, str]:
    import hashlib
    import hmac

    ts = str(int(time.time()))
    headers: dict[str, str] = {}
    roll = rng.random()
    if roll < 0.05:
        ts = rng.choice(["", "soon", "-1", "1" * 40, str(int(time.time()) - 3600)])
    key = secret if signed else rng.choice(["another-secret", secret + "x"])
    digest = hmac.new(key.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers["X-Slack-Request-Timestamp"] = ts
    if roll > 0.97:
        headers["X-Slack-Signature"] = rng.choice(["", "v0=", "v1=" + digest, "v0=" + "0" * 64])
    else:
        headers["X-Slack-Signature"] = f"v0={digest}"
    if 0.05 <= roll < 0.07:
        headers["Content-Encoding"] = rng.choice(["gzip", "deflate", "br", "identity, gzip"])
    if 0.07 <= roll < 0.08:
        headers["X-Slack-Retry-Num"] = rng.choice(["1", "x", "-5"])
    return headers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import http.client
    import shutil

    from fake_slack_api import BOT_TOKEN, FakeSlackAPI
    from slack_requests import SIGNING_SECRET

    from adapters.slack.app import SlackBot
    from adapters.slack.config import SlackConfig
    from adapters.slack.http_server import SlackHTTPServer
    from bot.runtime import build_runtime

    tracebacks: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name.startswith("aiohttp") and record.levelno >= logging.ERROR:
                tracebacks.append(record.getMessage())

    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger("aiohttp").addHandler(Catch())
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-slack-"))
    flows = workdir / "flows"
    flows.mkdir()
    shutil.copy(REPO / "flows" / "legal-threat.yaml", flows / "legal-threat.yaml")
    shutil.copy(REPO / "flows" / "citations.yaml", flows / "citations.yaml")
    settings = workdir / "policybot.yaml"
    settings.write_text("# defaults\n", encoding="utf-8")
    runtime = build_runtime(settings, f"sqlite:///{workdir / 'fuzz.db'}", flows_dir=flows)
    fake = FakeSlackAPI().start()
    fake.add_user(USER, "fuzz", "fuzz@council.example", "Fuzz Tester")
    config = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.base_url)
    bot = SlackBot(runtime, config)
    server = SlackHTTPServer(bot.app, port=0, inline=False)
    server.start_in_thread()
    rng = random.Random(args.seed)
    shapes = seeds()
    statuses: Counter[int] = Counter()
    signed_count = 0
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=30)
    try:
        for _ in range(args.requests):
            kind, seed = rng.choice(shapes)
            payload = mutate(rng, seed) if rng.random() < 0.9 else seed
            body, content_type = encode(rng, kind, payload)
            signed = rng.random() < 0.5
            signed_count += signed
            headers = headers_for(rng, body, signed, SIGNING_SECRET)
            if content_type:
                headers["Content-Type"] = content_type
            for attempt in range(2):
                try:
                    conn.request("POST", "/slack/events", body=body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    statuses[resp.status] += 1
                    if resp.getheader("Connection", "").lower() == "close":
                        conn.close()
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=30)
                    if attempt:
                        statuses[-1] += 1  # the server closed on us twice: counted, not a 500
        bot.drain(60)
    finally:
        conn.close()
        server.stop()
        bot.shutdown(10)
        fake.stop()
        runtime.store.close()
        shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - started
    result = {
        "requests": args.requests,
        "signed": signed_count,
        "seed": args.seed,
        "seconds": round(seconds, 1),
        "statuses": dict(sorted(statuses.items())),
        "http_500": statuses[500],
        "server_tracebacks": len(tracebacks),
        "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['requests']} requests ({signed_count} signed), seed {args.seed}, {seconds:.1f} s, "
            f"load avg {result['load']}\nstatuses: {result['statuses']}\nHTTP 500: {statuses[500]}, "
            f"server tracebacks: {len(tracebacks)}"
        )
    return 1 if statuses[500] or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
