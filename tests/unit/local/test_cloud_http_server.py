"""The local cloud's HTTP server takes a burst of hundreds of connections at once (benchmarks/cloud_stress.py), and
a client of a cloud killed while it answers reads the whole answer or a connection error, never a part taken whole.

With werkzeug's listen backlog of 128, the 129th connection made before the server accepts had its SYN dropped: it
connected a second later (the kernel's retry), or after 3 s more for the next ones. A raw TCP connect shows it
without a busy machine: the server is not accepting yet, so only the backlog holds the connections.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import IncompleteReadError

from shiftflow.local.cloud.server import http_server
from tests.conftest import ROOT, aws_cli

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


# A cloud's HTTP server in a process of its own that is killed (SIGKILL, as kill -9) right after the first send of an
# answer (`whole`), or after sending the first half of it (`half`, a connection cut mid-answer): what a client reads
# from a cloud killed while it answers. The answer is a DescribeExecution's.
KILLED_SERVER = r"""
import json, os, signal, sys
from shiftflow.local.cloud.server import http_server

mode = sys.argv[1]
answer = json.dumps({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:machine:run",
                     "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:machine",
                     "name": "run", "status": "RUNNING", "startDate": 1796000000.0,
                     "input": json.dumps({"padding": "x" * 2000})}).encode()

def application(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))  # all of the request: no reset at the kill
    start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(answer)))])
    return [answer]

class KilledAtItsFirstSend:
    def __init__(self, connection):
        self._connection = connection
    def sendall(self, data):
        self._connection.sendall(bytes(data) if mode == "whole" else bytes(data)[:len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    def __getattr__(self, name):
        return getattr(self._connection, name)

server = http_server(application)
accept = server.get_request
server.get_request = lambda: (lambda connection, address: (KilledAtItsFirstSend(connection), address))(*accept())
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture
def killed_server():
    """Start KILLED_SERVER in `mode`; its URL. Each serves one answer, then it is gone."""
    processes: list[subprocess.Popen] = []

    def start(mode: str) -> str:
        process = subprocess.Popen([sys.executable, "-c", KILLED_SERVER, mode], stdout=subprocess.PIPE, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        processes.append(process)
        return f"http://127.0.0.1:{int(process.stdout.readline())}"

    yield start
    for process in processes:
        process.kill()
        process.wait()


def _plain_client(url: str) -> Any:
    """Any SDK's client of the endpoint: botocore as boto3 makes it, no retries."""
    return botocore.session.get_session().create_client(
        "stepfunctions", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


def test_a_cloud_killed_once_it_sent_an_answer_leaves_the_whole_answer(killed_server):
    """werkzeug wrote the headers and the body in two sends: killed between them, the client had a 200 without its
    body, which botocore (not checking the Content-Length) parsed as a DescribeExecution without `status`: the
    `KeyError: 'status'` of a `shiftflow run` following its run across a kill -9 of the cloud. One send now."""
    described = _plain_client(killed_server("whole")).describe_execution(executionArn="arn:aws:states:us-east-1:"
                                                                        "123456789012:execution:machine:run")
    assert described["status"] == "RUNNING" and described["name"] == "run"
    printed = aws_cli(killed_server("whole"), "stepfunctions", "describe-execution", "--execution-arn",
                      "arn:aws:states:us-east-1:123456789012:execution:machine:run", "--query", "status",
                      "--output", "text")
    assert (printed.returncode, printed.stdout.strip()) == (0, "RUNNING"), printed.stderr


def test_an_answer_cut_short_is_an_incomplete_read_not_an_empty_answer(killed_server):
    """A connection cut mid-body (a kill while a large answer is sent, a network reset): botocore reads what came and
    parses it (an empty or partial document); the commands' clients (shiftflow.aws_clients) raise botocore's
    IncompleteReadError instead, which a command following a run repeats on the new cloud (a read)."""
    from shiftflow import aws_clients

    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    sfn = aws_clients.client_factory("us-east-1", killed_server("half"), credentials)("stepfunctions")
    with pytest.raises(IncompleteReadError, match=r"\d+ read, but total bytes expected is \d+"):
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:machine:run")
