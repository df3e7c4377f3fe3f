"""The HTTP server's read and idle timeouts and its connection cap (adapters/http_limits.py),
on the Slack server itself: a slow client is cut off, and past the cap health checks answer."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest
from conftest import SlackHarness

from adapters.http_limits import HTTPLimits
from adapters.slack.http_server import SlackHTTPServer
from bot.errors import SettingsError
from tests.http_probes import dripped_head_is_cut_off

LIMITS = HTTPLimits(read_timeout=0.5, idle_timeout=30, max_connections=3)


@pytest.fixture
def server(slack: SlackHarness) -> Iterator[SlackHTTPServer]:
    limited = SlackHTTPServer(slack.bot.app, port=0, limits=LIMITS)
    limited.start_in_thread()
    yield limited
    limited.stop()


def connect(server: SlackHTTPServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.bound_port or 0), timeout=10)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_a_client_sending_its_headers_a_byte_at_a_time_is_cut_off(server: SlackHTTPServer) -> None:
    assert dripped_head_is_cut_off(server.bound_port or 0, "/slack/events"), "the slow client was never cut off"


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closes(server: SlackHTTPServer) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"type":'
    )
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
    assert closed_by_server(sock)
    sock.close()


def test_past_the_cap_requests_are_refused_but_health_checks_answer(server: SlackHTTPServer) -> None:
    idle = [connect(server) for _ in range(LIMITS.max_connections)]
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
        conn.request("POST", "/slack/events", body=b"{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 503 and resp.getheader("Retry-After") == "1"
        resp.read()
        conn.close()
        for path in ("/healthz", "/readyz"):
            health = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
            health.request("GET", path)
            status = health.getresponse().status
            health.close()
            assert status != 503 or path == "/readyz"  # /readyz may say 503 for its own reasons, not the cap
            if path == "/healthz":
                assert status == 200
    finally:
        for sock in idle:
            sock.close()


def test_under_the_cap_requests_are_served(server: SlackHTTPServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
    conn.request("POST", "/slack/events", body=b"{}", headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 401  # reached the endpoint: unsigned, so refused there
    conn.close()


def test_settings_come_from_the_environment_and_bad_ones_say_what_to_fix() -> None:
    limits = HTTPLimits.from_env(
        {
            "POLICYBOT_HTTP_READ_TIMEOUT": "5",
            "POLICYBOT_HTTP_IDLE_TIMEOUT": "90",
            "POLICYBOT_HTTP_MAX_CONNECTIONS": "50",
        }
    )
    assert limits == HTTPLimits(read_timeout=5, idle_timeout=90, max_connections=50)
    assert HTTPLimits.from_env({}) == HTTPLimits()
    for env in ({"POLICYBOT_HTTP_READ_TIMEOUT": "soon"}, {"POLICYBOT_HTTP_MAX_CONNECTIONS": "0"}):
        with pytest.raises(SettingsError, match=r"docs/deploy\.md"):
            HTTPLimits.from_env(env)
