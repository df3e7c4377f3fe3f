"""Clients that misbehave on purpose, for the HTTP server limits' tests (adapters/http_limits.py)."""

from __future__ import annotations

import socket


def dripped_head_is_cut_off(port: int, path: str, *, seconds: float = 15.0) -> bool:
    """Send a request head one byte every 0.1 s for up to ``seconds``; True once the server closes
    the connection (a slowloris client that a read timeout must cut off)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Drip: ".encode())
    sock.settimeout(0.1)
    try:
        for _ in range(int(seconds * 10)):
            try:
                sock.sendall(b"y")
                if sock.recv(4096) == b"":
                    return True
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
        return False
    finally:
        sock.close()
