"""A command's AWS clients of the local cloud that outlive a crash of the cloud's process.

A command that follows a run (`run`, `watch`, `demo`) talks to the cloud for as long as the run lasts. When the
cloud is killed (kill -9, out of memory), the next command would start a new one over the same state folder, which
records the interrupted runs as aborted; the command that was following would only see a connection error. Here the
command does what the next command would: it starts the new cloud and repeats the call, so it reports how the run
really ended. A cloud stopped on purpose (`shiftflow down`: it removes its endpoint file) is not restarted.

A call is repeated only when it cannot have happened twice: a refused connection (the request never reached a
server), or a read (describe_*, get_*, list_*) whose connection broke mid-answer or whose answer was cut short.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shiftflow.local.cloud import client as cloud_client

READ_PREFIXES = ("describe_", "get_", "list_", "batch_get_", "head_", "receive_")


class LocalCloudStoppedError(cloud_client.LocalCloudError):
    """The local cloud stopped on purpose while the command ran (`shiftflow down`)."""


class RestartingClients:
    """`make_client(service)` for one command: clients of the running cloud, moved to a new cloud when it crashed."""

    def __init__(self, endpoint: cloud_client.Endpoint, region: str, start: Callable[[], cloud_client.Endpoint],
                 state_dir: Path, notice: Callable[[str], None] | None = None) -> None:
        self.endpoint, self.region, self._start, self.state_dir = endpoint, region, start, state_dir
        self._notice = notice or (lambda line: print(line, file=sys.stderr, flush=True))
        self._factory = cloud_client.client_factory(endpoint, region)
        self._lock = threading.Lock()

    def __call__(self, service: str) -> _RestartingClient:
        return _RestartingClient(self, service)

    def current(self, service: str) -> Any:
        return self._factory(service)

    def restart(self, failed: cloud_client.Endpoint) -> None:
        """Move to a new cloud, unless another thread already did or the cloud was stopped on purpose."""
        with self._lock:
            if self.endpoint.pid != failed.pid:
                return  # another call of this command moved already
            announced = cloud_client.read_endpoint(self.state_dir)
            if announced is None:  # removed by the cloud's clean stop, and no cloud announced since
                raise LocalCloudStoppedError(
                    f"the local cloud (pid {failed.pid}) was stopped while this command ran; "
                    "`shiftflow status` shows how its runs ended")
            if announced.pid == failed.pid and cloud_client.process_alive(failed.pid):
                return  # still alive: a passing failure, the caller's error stands
            endpoint = self._start()
            if endpoint.pid != failed.pid:
                self._notice(f"shiftflow: the local cloud (pid {failed.pid}) stopped; continuing on a new one "
                             f"(pid {endpoint.pid}, {endpoint.url}), which records its interrupted runs as aborted")
            self.endpoint, self._factory = endpoint, cloud_client.client_factory(endpoint, self.region)


class _RestartingClient:
    """A boto3 client's methods, each repeated once on the new cloud when the old one was found gone."""

    def __init__(self, clients: RestartingClients, service: str) -> None:
        self._clients, self._service = clients, service

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._clients.current(self._service), name)
        if name == "get_paginator":
            return lambda operation: _RestartingPaginator(self._clients, self._service, operation)
        if not callable(attribute) or name.startswith("_") or name in {"can_paginate", "get_waiter"}:
            return attribute
        return lambda *args, **kwargs: self._call(name, args, kwargs)

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        repeatable = _repeatable(name)
        endpoint = self._clients.endpoint
        try:
            return getattr(self._clients.current(self._service), name)(*args, **kwargs)
        except repeatable:
            self._clients.restart(endpoint)
            if self._clients.endpoint.pid == endpoint.pid:
                raise
        return getattr(self._clients.current(self._service), name)(*args, **kwargs)


def _repeatable(operation: str) -> tuple[type[Exception], ...]:
    """The failures after which `operation` is repeated on a new cloud: a refused connection, and for a read a
    connection broken mid-answer or an answer cut short (shiftflow.aws_clients.check_whole_body)."""
    from botocore.exceptions import (ConnectionClosedError, EndpointConnectionError, IncompleteReadError,
                                     ReadTimeoutError)

    if operation.startswith(READ_PREFIXES):
        return (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, IncompleteReadError)
    return (EndpointConnectionError,)


class _RestartingPaginator:
    """A paginator whose pages go on on the new cloud when the old one was found gone: from the page that failed
    (a StartingToken made of the last page's next token, as botocore makes its resume tokens), not from the first,
    so no page is read twice. Its paginate() is a generator of pages (what the commands iterate)."""

    def __init__(self, clients: RestartingClients, service: str, operation: str) -> None:
        self._clients, self._service, self._operation = clients, service, operation

    def paginate(self, **kwargs: Any) -> Any:
        repeatable = _repeatable(self._operation)
        resume = None
        while True:
            endpoint = self._clients.endpoint
            config = dict(kwargs.get("PaginationConfig") or {})
            if resume is not None:
                config["StartingToken"] = resume
            pages = self._clients.current(self._service).get_paginator(self._operation).paginate(
                **{**kwargs, "PaginationConfig": config})
            try:
                for page in pages:
                    yield page
                    following = pages._get_next_token(page)  # botocore's own reading of the page's next token
                    if not following:
                        return
                    resume = pages._token_encoder.encode(following)
                return
            except repeatable:
                self._clients.restart(endpoint)
                if self._clients.endpoint.pid == endpoint.pid:
                    raise
