"""The commands' side of the local cloud without a cloud: endpoint files, stale ones, a cloud of another project."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shiftflow.local.cloud import client


def _endpoint(state_dir: Path, pid: int, port: int, project: str = "/p", engine: str = "duckdb") -> client.Endpoint:
    return client.Endpoint(url=f"http://127.0.0.1:{port}", pid=pid, port=port, project=project,
                           state_dir=str(state_dir.resolve()), engine=engine)


@pytest.fixture
def answering(tmp_path):
    """A server on a free port answering the health check as a cloud of tmp_path with pid 1 would."""
    answer = {"pid": 1, "state_dir": str(tmp_path.resolve())}

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(answer).encode() if self.path == client.HEALTH_PATH else b"{}"
            self.send_response(200 if self.path == client.HEALTH_PATH else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], answer
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_live_cloud_is_the_one_that_answers_as_itself(tmp_path, answering):
    port, answer = answering
    client.write_endpoint(tmp_path, _endpoint(tmp_path, pid=1, port=port))  # pid 1 is alive: init
    assert client.running(tmp_path) == _endpoint(tmp_path, pid=1, port=port)
    answer["state_dir"] = "/elsewhere"  # the port is now another folder's cloud
    assert client.running(tmp_path) is None


def test_a_stale_file_of_a_dead_process_is_not_a_cloud_and_stop_removes_it(tmp_path, answering):
    port, _ = answering
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    client.write_endpoint(tmp_path, _endpoint(tmp_path, pid=int(dead.stdout), port=port))
    assert client.running(tmp_path) is None
    assert client.stop(tmp_path) is None and client.read_endpoint(tmp_path) is None


def test_a_cloud_of_another_project_or_engine_is_refused(tmp_path, answering):
    port, _ = answering
    client.write_endpoint(tmp_path, _endpoint(tmp_path, pid=1, port=port, project=str(tmp_path)))
    with pytest.raises(client.LocalCloudError, match="runs the duckdb engine, not postgres"):
        client.ensure_running(tmp_path, tmp_path, engine="postgres")
    assert client.ensure_running(tmp_path, tmp_path, engine=None).port == port
    with pytest.raises(client.LocalCloudError, match="serves the project"):
        client.ensure_running(tmp_path / "other", tmp_path)


def test_an_endpoint_file_that_is_not_ours_reads_as_none(tmp_path):
    (tmp_path / client.ENDPOINT_FILE).write_text("{not json")
    assert client.read_endpoint(tmp_path) is None


def test_an_ended_process_not_reaped_yet_is_not_alive():
    """A cloud outlives the command that started it: its parent is then init, which may reap it seconds after it
    exits, and a stop waited for that. Here a parent that never reaps its child `true`, which is another's child."""
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\n"
                               "child = subprocess.Popen(['true']); print(child.pid, flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert client.wait_until(lambda: Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z",
                                 timeout=10)
        assert not client.process_alive(pid)
        assert client.process_alive(parent.pid)  # a live process stays alive
    finally:
        parent.kill()
        parent.wait()
