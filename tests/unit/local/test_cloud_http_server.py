"""The local cloud's HTTP server takes a burst of hundreds of connections at once (benchmarks/cloud_stress.py).

With werkzeug's listen backlog of 128, the 129th connection made before the server accepts had its SYN dropped: it
connected a second later (the kernel's retry), or after 3 s more for the next ones. A raw TCP connect shows it
without a busy machine: the server is not accepting yet, so only the backlog holds the connections.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from shiftflow.local.cloud.server import http_server

CONNECTIONS = 600


def _answer(connection: socket.socket, deadline: float) -> bytes:
    """What the server sent until it closed the connection, or what came before the deadline."""
    answer = b""
    while (left := deadline - time.monotonic()) > 0:
        connection.settimeout(left)
        try:
            chunk = connection.recv(4096)
        except (TimeoutError, ConnectionError):
            break
        if not chunk:
            break
        answer += chunk
    return answer


def _hello(environ: dict, start_response) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "5")])
    return [b"hello"]


@pytest.mark.skipif(int(Path("/proc/sys/net/core/somaxconn").read_text()) < CONNECTIONS,
                    reason="the kernel caps every listen backlog below the burst")
def test_a_burst_of_600_connections_is_queued_and_each_is_answered() -> None:
    server = http_server(_hello)
    sockets: list[socket.socket] = []
    serving = None
    try:
        port = server.server_address[1]
        for _ in range(CONNECTIONS):  # no accept() yet: each must complete in the backlog, none wait for a retry
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        for connection in sockets:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        deadline = time.monotonic() + 20
        answers = [_answer(connection, deadline) for connection in sockets]
    finally:
        for connection in sockets:
            connection.close()
        if serving is not None:
            server.shutdown()  # waits for serve_forever: only once it runs
        server.server_close()
    answered = [answer for answer in answers if answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")]
    assert len(answered) == CONNECTIONS
