"""Route this process's boto3 `redshift-data` clients to an emulator, also while moto's mock_aws() is active.

The hook is botocore's `before-call.redshift-data.*` event: a handler that returns (http response, parsed
response) short-circuits the call before any HTTP is sent, so moto's `before-send` stubber (which would answer
with its own redshift-data mock, or raise NotImplementedError for most operations) never sees the request.
The request is still validated and serialised by the client, and the emulator's JSON answer is parsed by
botocore's own JSON parser: the same bytes an HTTP round trip would carry, minus the socket.

The handler is added to botocore's BUILTIN_HANDLERS (every session created afterwards has it, including the
fresh default session moto installs) and to boto3's current default session; clients created before that
can be routed explicitly with route_client(). With no emulator routed the handler answers nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore import handlers
from botocore.awsrequest import AWSResponse
from botocore.parsers import create_parser

from shiftflow.dataapi.service import DataApiEmulator

_EVENT = "before-call.redshift-data"
# A request-context key: the database user of the caller's IAM identity (IAM:<user>, IAMR:<role>), set by whoever
# knows who calls (the local runtime's IAM enforcement); the emulator runs a call without DbUser or SecretArn as it.
DATABASE_IDENTITY = "shiftflow_dataapi_database_identity"
_lock = threading.Lock()
_routed: list[DataApiEmulator] = []  # a stack: the innermost routing wins


class RawBody:
    """The raw stream AWSResponse wants; botocore reads `.content` from it once."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, *args: Any) -> bytes:
        data, self._data = self._data, b""
        return data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.read()


def _answer(model: Any, params: dict[str, Any], **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    with _lock:
        emulator = _routed[-1] if _routed else None
    if emulator is None:
        return None
    body = params.get("body") or b"{}"
    if isinstance(body, str):
        body = body.encode()
    target = params["headers"].get("X-Amz-Target") or f"RedshiftData.{model.name}"
    status, headers, payload = emulator.handle_json(target, body, kwargs.get("context", {}).get(DATABASE_IDENTITY))
    http = AWSResponse(params.get("url", "http://dataapi.shiftflow.local/"), status, headers, RawBody(payload))
    response = {"headers": http.headers, "status_code": status, "body": payload,
                "context": {"operation_name": model.name}}
    parser = create_parser(model.service_model.resolved_protocol)
    parsed = parser.parse(response, model.output_shape)
    if status >= 300:  # the modeled members of the error (ResourceId, StatementId), as botocore's endpoint adds
        error_shape = model.service_model.shape_for_error_code(parsed.get("Error", {}).get("Code", ""))
        if error_shape is not None:
            parsed.update(parser.parse(response, error_shape))
    parsed.setdefault("ResponseMetadata", {}).update(
        {"HTTPStatusCode": status, "HTTPHeaders": dict(headers), "RetryAttempts": 0})
    return http, parsed


def _install() -> None:
    spec = (_EVENT, _answer, handlers.REGISTER_FIRST)
    if spec not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(spec)
    if boto3.DEFAULT_SESSION is not None:
        route_client_events(boto3.DEFAULT_SESSION._session)


def route_client_events(owner: Any) -> None:
    """Add the routing handler to a botocore session or a client's event system (idempotent)."""
    events = owner.meta.events if hasattr(owner, "meta") else owner.get_component("event_emitter")
    events.unregister(_EVENT, _answer, unique_id="shiftflow-dataapi")
    events.register_first(_EVENT, _answer, unique_id="shiftflow-dataapi")


def route_client(client: Any) -> Any:
    """Route a client created before route_in_process() began; returns the client."""
    route_client_events(client)
    return client


@contextmanager
def route_in_process(emulator: DataApiEmulator) -> Iterator[DataApiEmulator]:
    """While the block runs, boto3 `redshift-data` calls in this process are answered by `emulator`."""
    start_routing(emulator)
    try:
        yield emulator
    finally:
        stop_routing(emulator)


def start_routing(emulator: DataApiEmulator) -> None:
    with _lock:
        _routed.append(emulator)
    _install()


def stop_routing(emulator: DataApiEmulator) -> None:
    with _lock:
        if emulator in _routed:
            _routed.reverse()
            _routed.remove(emulator)  # the innermost occurrence
            _routed.reverse()
