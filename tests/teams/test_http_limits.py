"""The Teams server under the HTTP limits it is served with (adapters/http_limits.py, as
`policybot serve teams` applies them): a slow client is cut off, and past the connection cap
activities are refused while health checks still answer."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest

from adapters.http_limits import HTTPLimits
from bot.runtime import Runtime
from tests.http_probes import dripped_head_is_cut_off

from .conftest import RunningBot, start_bot
from .fake_connector import FakeConnector

LIMITS = HTTPLimits(read_timeout=0.5, idle_timeout=30, max_connections=3)


@pytest.fixture
def limited(runtime: Runtime, connector: FakeConnector) -> Iterator[RunningBot]:
    running = start_bot(runtime, connector, limits=LIMITS)
    yield running
    running.server.stop()


def _connect(bot: RunningBot) -> socket.socket:
    return socket.create_connection(("127.0.0.1", bot.server.port), timeout=10)


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closes(limited: RunningBot) -> None:
    sock = _connect(limited)
    sock.sendall(
        b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"type":'
    )
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_head_sent_a_byte_at_a_time_is_cut_off(limited: RunningBot) -> None:
    assert dripped_head_is_cut_off(limited.server.port, "/api/messages"), "the slow client was never cut off"


def test_past_the_cap_activities_get_503_and_healthz_answers(limited: RunningBot) -> None:
    idle = [_connect(limited) for _ in range(LIMITS.max_connections)]
    try:
        conn = http.client.HTTPConnection("127.0.0.1", limited.server.port, timeout=10)
        conn.request("POST", "/api/messages", body=b"{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 503 and resp.getheader("Retry-After") == "1"
        conn.close()
        health = http.client.HTTPConnection("127.0.0.1", limited.server.port, timeout=10)
        health.request("GET", "/healthz")
        assert health.getresponse().status == 200
        health.close()
    finally:
        for sock in idle:
            sock.close()
