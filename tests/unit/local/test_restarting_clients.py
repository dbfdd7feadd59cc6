"""A command's clients of the local cloud across a crash of the cloud (kill -9), and one cloud per state folder."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, IncompleteReadError

from shiftflow.local.cloud import client
from shiftflow.local.cloud.restarting_clients import LocalCloudStoppedError, RestartingClients
from tests.unit.local.test_cloud_client import _endpoint, answering  # noqa: F401  (the fixture)


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


class FakeClouds:
    """Clients by endpoint: a dead endpoint's calls fail as botocore's do; a live one's answer with its pid."""

    def __init__(self, dead: set[int], failure: type[Exception] = EndpointConnectionError) -> None:
        self.dead, self.failure, self.calls = dead, failure, []

    def factory(self, endpoint: client.Endpoint, region: str) -> Any:
        clouds = self

        class Service:
            def __init__(self, name: str) -> None:
                self.name = name

            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> dict[str, Any]:
                    clouds.calls.append((endpoint.pid, self.name, operation))
                    if endpoint.pid in clouds.dead:
                        if clouds.failure is EndpointConnectionError:
                            raise EndpointConnectionError(endpoint_url=endpoint.url)
                        if clouds.failure is IncompleteReadError:  # shiftflow.aws_clients.check_whole_body
                            raise IncompleteReadError(actual_bytes=0, expected_bytes=120)
                        raise ConnectionClosedError(endpoint_url=endpoint.url)
                    return {"pid": endpoint.pid}
                return call

        return Service


@pytest.fixture
def crashed(tmp_path, monkeypatch):
    """A cloud of tmp_path that died (its endpoint file left behind), and a start that brings up pid 1 (alive)."""
    dead = _dead_pid()
    old = _endpoint(tmp_path, pid=dead, port=1)
    client.write_endpoint(tmp_path, old)
    clouds = FakeClouds({dead})
    monkeypatch.setattr(client, "client_factory", clouds.factory)
    started: list[client.Endpoint] = []

    def start() -> client.Endpoint:
        started.append(_endpoint(tmp_path, pid=1, port=2))
        return started[-1]

    notices: list[str] = []
    clients = RestartingClients(old, "us-east-1", start, tmp_path, notice=notices.append)
    return clients, clouds, started, notices, dead


def test_a_refused_call_on_a_crashed_cloud_is_repeated_once_on_the_new_cloud(crashed):
    clients, clouds, started, notices, dead = crashed
    sfn = clients("stepfunctions")
    assert sfn.start_execution(stateMachineArn="arn") == {"pid": 1}  # never reached the dead one: safe to repeat
    assert clouds.calls == [(dead, "stepfunctions", "start_execution"), (1, "stepfunctions", "start_execution")]
    assert len(started) == 1 and notices == [
        f"shiftflow: the local cloud (pid {dead}) stopped; continuing on a new one (pid 1, http://127.0.0.1:2), "
        "which records its interrupted runs as aborted"]
    assert clients("dynamodb").get_item(Key={}) == {"pid": 1}  # every service moved, no second start
    assert len(started) == 1


@pytest.mark.parametrize("failure", [ConnectionClosedError, IncompleteReadError])
def test_a_read_cut_mid_answer_is_repeated_and_a_write_is_not(crashed, failure):
    """A connection broken mid-answer, or an answer whose body is shorter than its Content-Length (the headers sent,
    the cloud killed before the body)."""
    clients, clouds, started, _, dead = crashed
    clouds.failure = failure
    with pytest.raises(failure):  # it may have happened: a start repeated could run twice
        clients("stepfunctions").start_execution(stateMachineArn="arn")
    assert started == []
    assert clients("stepfunctions").describe_execution(executionArn="arn") == {"pid": 1}
    assert len(started) == 1


def test_a_cloud_stopped_on_purpose_is_not_started_again(crashed, tmp_path):
    clients, _, started, _, dead = crashed
    client.remove_endpoint(tmp_path, dead)  # what `shiftflow down` leaves
    with pytest.raises(LocalCloudStoppedError, match=rf"the local cloud \(pid {dead}\) was stopped while this "):
        clients("stepfunctions").describe_execution(executionArn="arn")
    assert started == []


def test_a_failure_of_a_cloud_still_alive_stands(tmp_path, monkeypatch):
    alive = _endpoint(tmp_path, pid=1, port=1)  # pid 1 is alive: init
    client.write_endpoint(tmp_path, alive)
    monkeypatch.setattr(client, "client_factory", FakeClouds({1}).factory)
    clients = RestartingClients(alive, "us-east-1", lambda: pytest.fail("no start"), tmp_path, notice=print)
    with pytest.raises(EndpointConnectionError):
        clients("stepfunctions").describe_execution(executionArn="arn")


HOLD = "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"


@pytest.fixture
def lock_holder(tmp_path):
    """Another process holding the state folder's serve lock, as a live cloud does."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / client.SERVE_LOCK)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


def test_one_cloud_per_state_folder_until_its_process_dies(tmp_path, lock_holder):
    assert client.serve_lock_held(tmp_path)
    with pytest.raises(client.LocalCloudError, match="another local cloud serves .*: one cloud per state folder"):
        client.hold_serve_lock(tmp_path)
    lock_holder.kill()  # kill -9: the kernel drops the lock
    lock_holder.wait()
    assert not client.serve_lock_held(tmp_path)
    with client.hold_serve_lock(tmp_path):
        assert client.serve_lock_held(tmp_path)


def test_a_command_waits_for_a_cloud_that_started_but_has_not_announced_itself(tmp_path, lock_holder, answering,
                                                                              monkeypatch):
    """Its starter was killed before the cloud answered: the next command waits for it rather than start a second."""
    port, answer = answering
    monkeypatch.setattr(client, "start_detached", lambda *args: pytest.fail("a second cloud was started"))
    announced = _endpoint(tmp_path, pid=1, port=port, project=str(tmp_path.resolve()))
    waiting = client.wait_until

    def announce_while_waiting(condition, timeout, interval=0.05):  # the cloud announces itself once waited for
        assert not condition()
        client.write_endpoint(tmp_path, announced)
        return waiting(condition, timeout, interval)

    monkeypatch.setattr(client, "wait_until", announce_while_waiting)
    assert client.ensure_running(Path(tmp_path), tmp_path, engine=None) == announced


class _HistoryPages(BaseHTTPRequestHandler):
    """GetExecutionHistory in two pages (events 1-2 with nextToken "page-2", then event 3); each request kept."""

    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"server": self.server.server_address[1], **request})
        ids = [3] if request.get("nextToken") == "page-2" else [1, 2]
        answer = {"events": [{"id": n, "type": "PassStateEntered", "timestamp": 1796000000 + n} for n in ids]}
        if ids != [3]:
            answer["nextToken"] = "page-2"
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_pages_read_across_a_crash_go_on_from_the_page_that_failed_on_the_new_cloud(tmp_path):
    """A command's paginator (job_outcomes reads a run's history so) met the dead cloud on its second page: it was
    an EndpointConnectionError, exit 2 (seen killing the cloud during `shiftflow workflow run`). Now the next page
    is asked of the new cloud with the token the old one gave, and no page is read twice."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _HistoryPages) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    old, new = (server.server_address[1] for server in servers)
    dead = _dead_pid()
    crashed = _endpoint(tmp_path, pid=dead, port=old)
    client.write_endpoint(tmp_path, crashed)
    clients = RestartingClients(crashed, "us-east-1", lambda: _endpoint(tmp_path, pid=1, port=new), tmp_path,
                                notice=lambda line: None)
    _HistoryPages.requests = []
    try:
        pages = iter(clients("stepfunctions").get_paginator("get_execution_history").paginate(executionArn="arn:run"))
        events = [event["id"] for event in next(pages)["events"]]
        servers[0].shutdown()  # the old cloud dies between the two pages
        servers[0].server_close()
        events += [event["id"] for page in pages for event in page["events"]]
    finally:
        servers[1].shutdown()
        servers[1].server_close()
    assert events == [1, 2, 3]
    assert [(request["server"], request.get("nextToken")) for request in _HistoryPages.requests] == [
        (old, None), (new, "page-2")]
