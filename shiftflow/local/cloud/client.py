"""The commands' side of the local cloud: find it, start it when none answers, stop it. Import-light on purpose
(no moto, no duckdb): a command against a running cloud pays for Python, boto3 and one HTTP call, no more.

The running cloud announces itself in `<state>/cloud.json` (url, pid, port, project, engine), written atomically once
it listens and removed when it stops. A file left by a killed cloud is told apart by its health answer: the pid must
be alive and the server on the port must say it is that pid serving that state folder; otherwise a new cloud starts.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shiftflow.durable_files import atomic_write

ENDPOINT_FILE = "cloud.json"
# `shiftflow serve-data-api` serving the warehouse alone (no cloud ran): its url and pid, while it serves.
STANDALONE_DATA_API_FILE = "data-api.json"
START_LOCK = "cloud-start.lock"
# Held by a cloud's process for as long as it lives (the kernel drops it when the process dies, kill -9 included):
# one cloud per state folder, and a cloud that has started but not yet announced itself is waited for.
SERVE_LOCK = "cloud.lock"
LOG_FILE = "cloud.log"
HEALTH_PATH = "/_shiftflow/health"
# The credentials a local client signs with: the local cloud checks no signature, and a user's real AWS
# credentials have no business in requests to it.
LOCAL_CREDENTIALS = {"aws_access_key_id": "shiftflow-local", "aws_secret_access_key": "shiftflow-local"}
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0


class LocalCloudError(RuntimeError):
    """The local cloud cannot be started, reached or stopped; the message says why and where its log is."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    pid: int
    port: int
    project: str
    state_dir: str
    engine: str
    # The local stack's description (Outputs, Parameters) as DescribeStacks gives it: a command finds its resources
    # from it without a first CloudFormation call (shiftflow.local.cloud.server registers the stack lazily).
    stack: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Endpoint:
        return cls(url=data["url"], pid=int(data["pid"]), port=int(data["port"]), project=data["project"],
                   state_dir=data["state_dir"], engine=data["engine"], stack=data.get("stack"))


def endpoint_file(state_dir: Path) -> Path:
    return state_dir / ENDPOINT_FILE


def read_endpoint(state_dir: Path) -> Endpoint | None:
    try:
        return Endpoint.from_json(json.loads(endpoint_file(state_dir).read_text()))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None  # none, or not one of ours: a cloud that answers rewrites it


def write_endpoint(state_dir: Path, endpoint: Endpoint) -> None:
    atomic_write(endpoint_file(state_dir), json.dumps(asdict(endpoint), indent=1).encode())


def standalone_data_api(state_dir: Path) -> dict[str, Any] | None:
    """The `shiftflow serve-data-api` holding `state_dir`'s warehouse alone, if its process is alive."""
    try:
        serving = json.loads((state_dir / STANDALONE_DATA_API_FILE).read_text())
        return serving if process_alive(int(serving["pid"])) else None
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def announce_standalone_data_api(state_dir: Path, url: str) -> None:
    atomic_write(state_dir / STANDALONE_DATA_API_FILE, json.dumps({"url": url, "pid": os.getpid()}).encode())


def remove_standalone_data_api(state_dir: Path) -> None:
    (state_dir / STANDALONE_DATA_API_FILE).unlink(missing_ok=True)


def remove_endpoint(state_dir: Path, pid: int) -> None:
    """Remove the endpoint file if it is still `pid`'s (a newer cloud may have replaced it)."""
    current = read_endpoint(state_dir)
    if current is not None and current.pid == pid:
        endpoint_file(state_dir).unlink(missing_ok=True)


def health(endpoint: Endpoint, timeout: float = 2.0) -> dict[str, Any] | None:
    """The cloud's own account of itself, or None when nothing (or something else) answers on its port."""
    parts = urlsplit(endpoint.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or endpoint.port, timeout=timeout)
    try:
        connection.request("GET", HEALTH_PATH)
        response = connection.getresponse()
        answer = json.loads(response.read()) if response.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return answer if isinstance(answer, dict) else None


def process_alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, now reaped
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether `pid` has ended but is not reaped yet. A cloud outlives the command that started it, so its parent is
    init, which reaps it when it gets to it: 1.7 s after the cloud's exit on this project's machines, and every stop
    waited for that (2.2 s in all against 0.5 s)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return Path("/proc/self/stat").exists()  # reaped since; without /proc at all (macOS), the kernel's answer
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # the state follows the command name, which may hold ")"


def running(state_dir: Path) -> Endpoint | None:
    """The cloud serving `state_dir`, if one is alive and answers as itself."""
    endpoint = read_endpoint(state_dir)
    if endpoint is None or not process_alive(endpoint.pid):
        return None
    answer = health(endpoint)
    if answer is None or answer.get("pid") != endpoint.pid or answer.get("state_dir") != str(state_dir.resolve()):
        return None
    return endpoint


def ensure_running(project_root: Path, state_dir: Path, engine: str | None = "duckdb", time_scale: float = 1.0,
                   log_level: str = "INFO", schedules: bool = False, time_compression: float = 1.0) -> Endpoint:
    """The running cloud of `state_dir`, started in the background first when none answers. One starter at a time
    (a lock file): ten commands at once start one cloud, and the nine others use it. `engine`: the warehouse engine
    the caller needs (a cloud running another one is refused); None: any (duckdb when one has to start)."""
    project_root, state_dir = project_root.resolve(), state_dir.resolve()  # the cloud runs in the project folder
    endpoint = running(state_dir)
    if endpoint is None:
        state_dir.mkdir(parents=True, exist_ok=True)
        with open(state_dir / START_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            endpoint = running(state_dir) or _start_or_wait(project_root, state_dir, server_arguments(
                engine or "duckdb", time_scale, log_level, schedules, time_compression))
    if endpoint.project != str(project_root):
        raise LocalCloudError(f"the local cloud of {state_dir} serves the project {endpoint.project}, not {project_root}: "
                              "give each project its own state folder (SHIFTFLOW_STATE_DIR)")
    if engine is not None and endpoint.engine != engine:
        raise LocalCloudError(f"the local cloud of {state_dir} runs the {endpoint.engine} engine, not {engine}: "
                              "run `shiftflow down` first to change engines")
    return endpoint


def _start_or_wait(project_root: Path, state_dir: Path, arguments: list[str]) -> Endpoint:
    """Start a cloud, handing it the serve lock taken here (no moment without it, should this command be killed);
    or, when another process holds the lock (a cloud whose starter was killed before it answered), wait for that
    cloud to answer."""
    serve_lock = try_serve_lock(state_dir)
    if serve_lock is None:
        wait_until(lambda: running(state_dir) is not None or not serve_lock_held(state_dir), START_TIMEOUT_SECONDS)
        endpoint = running(state_dir)
        if endpoint is not None:
            return endpoint
        serve_lock = try_serve_lock(state_dir)
        if serve_lock is None:
            raise LocalCloudError(f"a local cloud holds {state_dir / SERVE_LOCK} but did not answer within "
                                  f"{START_TIMEOUT_SECONDS:.0f} s (log: {state_dir / LOG_FILE})")
    with serve_lock:
        refuse_beside_standalone_data_api(state_dir)
        return start_detached(project_root, state_dir, arguments, serve_lock.fileno())


def try_serve_lock(state_dir: Path) -> Any:
    """The state folder's serve lock, taken (an open file), or None when another process holds it."""
    lock = open(state_dir / SERVE_LOCK, "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def hold_serve_lock(state_dir: Path, inherited_fd: int | None = None) -> Any:
    """The open lock file a cloud keeps for its lifetime: the one its starter took and handed over, else taken
    here; LocalCloudError when another cloud holds it."""
    if inherited_fd is not None:
        os.set_inheritable(inherited_fd, False)  # the cloud's own subprocesses (PostgreSQL) must not keep it
        return os.fdopen(inherited_fd, "w")
    lock = try_serve_lock(state_dir)
    if lock is None:
        announced = read_endpoint(state_dir)
        who = f" (pid {announced.pid}, {announced.url})" if announced else ""
        raise LocalCloudError(f"another local cloud{who} serves {state_dir}: one cloud per state folder")
    return lock


def serve_lock_held(state_dir: Path) -> bool:
    try:
        with open(state_dir / SERVE_LOCK) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False
    except FileNotFoundError:
        return False


def refuse_beside_standalone_data_api(state_dir: Path) -> None:
    """A cloud never opens a warehouse that `shiftflow serve-data-api` holds (the two would fight over its file)."""
    serving = standalone_data_api(state_dir)
    if serving is not None:
        raise LocalCloudError(f"`shiftflow serve-data-api` (pid {serving['pid']}) holds the warehouse of {state_dir} "
                              f"and serves its Data API alone on {serving['url']}: stop it (Ctrl-C) first, then run "
                              "this command again (the local cloud it starts serves the Data API too)")


def server_arguments(engine: str = "duckdb", time_scale: float = 1.0, log_level: str = "INFO", schedules: bool = False,
                     time_compression: float = 1.0) -> list[str]:
    """The options of `python -m shiftflow.local.cloud.server` (see its --help) beside the folders."""
    arguments = ["--engine", engine, "--time-scale", str(time_scale), "--log-level", log_level,
                 "--time-compression", str(time_compression)]
    return [*arguments, "--schedules"] if schedules else arguments


def server_command(project_root: Path, state_dir: Path, arguments: list[str]) -> list[str]:
    return [sys.executable, "-m", "shiftflow.local.cloud.server", "--project", str(project_root),
            "--state-dir", str(state_dir), *arguments]


def start_detached(project_root: Path, state_dir: Path, arguments: list[str], serve_lock_fd: int) -> Endpoint:
    """Start a cloud in its own session (a Ctrl-C in the terminal does not reach it), logging to <state>/cloud.log,
    holding the serve lock its starter took (`serve_lock_fd`), and wait until it answers."""
    log_path = state_dir / LOG_FILE
    with open(log_path, "ab") as log:
        process = subprocess.Popen(server_command(project_root, state_dir, [*arguments, "--serve-lock-fd",
                                                                            str(serve_lock_fd)]),
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=project_root, pass_fds=(serve_lock_fd,))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalCloudError(f"the local cloud stopped while starting (exit {process.returncode}): "
                                  f"{_log_tail(log_path)} (log: {log_path})")
        endpoint = running(state_dir)
        if endpoint is not None and endpoint.pid == process.pid:
            return endpoint
        time.sleep(0.05)
    process.kill()
    raise LocalCloudError(f"the local cloud did not answer within {START_TIMEOUT_SECONDS:.0f} s (log: {log_path})")


def stop(state_dir: Path, timeout: float = STOP_TIMEOUT_SECONDS) -> Endpoint | None:
    """Stop the cloud of `state_dir` (SIGTERM: it records what was running and closes the warehouse) and wait until
    its process is gone. Returns what was stopped, None when nothing ran."""
    endpoint = read_endpoint(state_dir)
    if endpoint is None:
        return None
    if not process_alive(endpoint.pid):
        remove_endpoint(state_dir, endpoint.pid)
        return None
    os.kill(endpoint.pid, signal.SIGTERM)
    if not wait_until(lambda: not process_alive(endpoint.pid), timeout):
        raise LocalCloudError(f"the local cloud (pid {endpoint.pid}) did not stop within {timeout:.0f} s")
    remove_endpoint(state_dir, endpoint.pid)
    return endpoint


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def client_factory(endpoint: Endpoint, region: str) -> Callable[[str], Any]:
    """AWS clients of the local cloud with only the endpoint set, as any SDK configured with AWS_ENDPOINT_URL
    would be: the clients of a deployed stack with its URL and the local credentials."""
    from shiftflow import aws_clients

    return aws_clients.client_factory(region, endpoint.url, LOCAL_CREDENTIALS)


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except FileNotFoundError:
        return "no log"
