"""The AWS JSON 1.1 protocol the Data API speaks, apart from any transport (HTTP, in-process, the local cloud).

A request is an operation named by `X-Amz-Target: RedshiftData.<Operation>` and a body that is one JSON object of the
operation's members; an answer is a status, headers and a JSON body, errors as `{"__type", "message"}` with the
x-amzn-ErrorType header, which is how botocore names `client.exceptions.<Name>`.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shiftflow.dataapi.errors import (
    DataApiError,
    InternalServerException,
    RequestEntityTooLargeException,
    SerializationException,
    UnknownOperationException,
)

log = logging.getLogger(__name__)

TARGET_PREFIX = "RedshiftData."
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # an AWS API request body is at most 10 MB
Answer = tuple[int, dict[str, str], bytes]
Call = Callable[[str, dict[str, Any]], dict[str, Any]]


def too_large(size: int) -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(f"Request must be smaller than {MAX_REQUEST_BYTES} bytes; it has {size}.")


def exchange(call: Call, target: str, body: bytes) -> Answer:
    """One exchange: `call(operation, request)` answers the operation the target names, on the body's members."""
    try:
        if not target.startswith(TARGET_PREFIX):
            raise UnknownOperationException(f"Unknown operation {target}")
        if len(body) > MAX_REQUEST_BYTES:
            raise too_large(len(body))
        response = call(target[len(TARGET_PREFIX):], request_members(body))
        return 200, _headers(), json.dumps(response, default=_json_default).encode()
    except DataApiError as error:
        return error_answer(error)
    except Exception as error:  # a bug here must reach the caller as the service's 500, not hang it
        log.exception("Data API emulator failed on %s", target)
        return error_answer(InternalServerException(f"{type(error).__name__}: {error}"))


def request_members(body: bytes) -> dict[str, Any]:
    """The body's JSON object (an empty body is an empty object); anything else is a SerializationException."""
    if not body.strip():
        return {}
    try:
        request = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError; nesting can recurse
        raise SerializationException(f"Request body is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise SerializationException(f"Request body must be a JSON object, not a JSON {_json_kind(request)}.")
    return request


def error_answer(error: DataApiError) -> Answer:
    return error.status, {**_headers(), "x-amzn-ErrorType": error.code}, error.body()


def _headers() -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        # Epoch seconds to the millisecond, as the service sends them (the AWS CLI prints 1598306924.632).
        return math.floor(value.timestamp() * 1000) / 1000
    raise TypeError(f"cannot serialise {type(value).__name__}")
