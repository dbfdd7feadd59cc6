"""The local cloud's HTTP side: one WSGI application in front of moto's.

- `X-Amz-Target: RedshiftData.<Operation>` requests go to the Data API emulator (moto's own redshift-data mock
  would answer them otherwise);
- GET /_shiftflow/health answers who serves (pid, state folder, engine): how a command tells a live cloud from a
  stale endpoint file;
- everything else is moto's server app, which dispatches on the request's service like AWS's endpoints; a service
  the cloud brings up on its first request (`prepare`, given the service named by the request's signature) is
  brought up before moto sees the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from shiftflow.local.cloud.client import HEALTH_PATH

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_DATA_API_PREFIX = "RedshiftData."


class CloudApplication:
    def __init__(self, moto_app: WSGIApp, emulator: Any, health: Callable[[], dict[str, Any]],
                 prepare: Callable[[str], None] | None = None) -> None:
        self.moto_app = moto_app
        self.emulator = emulator
        self.health = health
        self.prepare = prepare

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(_DATA_API_PREFIX):
            return self._data_api(target, environ, start_response)
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            return _respond(start_response, 200, {"Content-Type": "application/json"},
                            json.dumps(self.health()).encode())
        if self.prepare is not None:
            self.prepare(signed_service(environ))
        return self.moto_app(environ, start_response)

    def _data_api(self, target: str, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, payload = self.emulator.handle_json(target, body)
        return _respond(start_response, status, headers, payload)


def signed_service(environ: dict[str, Any]) -> str:
    """The service a SigV4 request is signed for (`Credential=<key>/<date>/<region>/<service>/aws4_request`), or ""."""
    credential = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split(",", 1)[0]
    scope = credential.split("/")
    return scope[3] if len(scope) == 5 else ""


def _respond(start_response: Callable[..., Any], status: int, headers: dict[str, str], payload: bytes) -> list[bytes]:
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [*headers.items(), ("Content-Length", str(len(payload)))])
    return [payload]
