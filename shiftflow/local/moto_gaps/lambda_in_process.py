"""Gap 1: Lambda tasks cannot run Python code in-process.

moto behaviour (checked against moto 5.2.5): the Docker Lambda backend needs Docker, and the "simple" backend only
echoes the input, so neither runs a handler; the ``lambda:invoke`` integration's output also lacks the
``SdkHttpMetadata`` and ``SdkResponseMetadata`` members AWS adds.

Fix: ``_patch_lambda_invoke`` wraps ``moto/awslambda/models.py LambdaBackend.invoke`` and
``moto/awslambda_simple/models.py LambdaSimpleBackend.invoke``; a function registered with
``register_lambda_handler`` runs in-process with the event and a ``LambdaContext``. An exception becomes an
``Unhandled`` function error whose payload is ``{errorMessage, errorType, requestId, stackTrace}``, so Step Functions
reports Error = the exception's class name, Cause = that JSON (as Lambda's Python runtime does). This covers
``arn:aws:states:::lambda:invoke``, plain Lambda ARN resources and boto3 ``lambda.invoke``; a function without a
registered handler keeps moto's own path. ``_patch_lambda_integration_output`` wraps
``.../state_task/lambda_eval_utils.py execute_lambda_function_integration`` to add ``SdkHttpMetadata`` and
``SdkResponseMetadata`` to the ``lambda:invoke`` output, as on AWS.

A function's Timeout (seconds, from ``register_lambda_handler(..., timeout_seconds=)``, else the moto function's,
else Lambda's default of 3) is enforced, as Lambda does (AWS Lambda developer guide, "Configure Lambda function
timeout"): the handler runs on its own thread and, past the timeout, the invocation fails with errorType
``Sandbox.Timedout`` and errorMessage "RequestId: <id> Error: Task timed out after <t> seconds", which Step
Functions reports as Error ``Sandbox.Timedout``. MemorySize (``memory_mb=``, default 128) fills the context.

Each invocation runs in an execution environment of its function, as on Lambda: a free one (the last freed first),
else a new one, busy until the handler's thread ends (a timed-out handler's included), with its log stream
``YYYY/MM/DD/[$LATEST]<32 hex>`` (UTC day of its start) in the context. With a log sink (``add_log_sink``: the local
runtime's shiftflow.local.function_logs), the invocation's thread writes its lines there between the lines Lambda's
runtime adds (Lambda developer guide, "Log and monitor Python Lambda functions"): ``START RequestId: <id> Version:
<version>``, then ``END RequestId: <id>`` and ``REPORT RequestId: <id>\tDuration: <ms> ms\tBilled Duration: <ms>
ms\tMemory Size: <MB> MB\tMax Memory Used: <MB> MB\t``; an unhandled error adds the Python runtime's ``[ERROR]
<type>: <message>`` event with its traceback (awslambdaric's ``log_error``), a timeout ``<time> <id> Task timed out
after <t> seconds`` and ``Status: timeout`` in the REPORT, and closes the invocation's log.

Known limits: a timed-out handler's thread cannot be killed, so it runs on and its result is dropped (Lambda
freezes the sandbox); memory is not limited; Environment variables are not applied (the caller owns
``os.environ``).

To drop: running Python handlers in-process is not a moto feature, so the invoke half stays while the local runtime
calls handlers in-process. The metadata half can go when moto's ``lambda:invoke`` output carries ``SdkHttpMetadata``:
remove ``_patch_lambda_integration_output`` and check that
tests/unit/local/moto_gaps/test_lambda_in_process.py still passes.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import json
import math
import resource
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from shiftflow.local.moto_gaps._patcher import Patcher


@dataclass
class LambdaContext:
    """The attributes of the Lambda Python runtime's context object that handlers use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    timeout_seconds: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


LambdaHandler = Callable[[Any, LambdaContext], Any]


@dataclass(frozen=True)
class FunctionLimits:
    """A function's configured Timeout and MemorySize (template.yaml); None: the moto function's, or Lambda's default.
    `log_group`: its LoggingConfig's LogGroup (None: `/aws/lambda/<function name>`)."""

    timeout_seconds: float | None = None
    memory_mb: int | None = None
    log_group: str | None = None


class InvocationLog(Protocol):
    """One invocation's log in a log sink (shiftflow.local.function_logs.InvocationLog)."""

    def capturing(self) -> contextlib.AbstractContextManager[None]: ...

    def line(self, message: str) -> None: ...

    def close(self, *messages: str) -> bool: ...


class LogSink(Protocol):
    def invocation(self, function_name: str, group: str, stream: str, request_id: str) -> InvocationLog: ...


@dataclass
class _Environment:
    """An execution environment: one invocation at a time, its log stream for its whole life."""

    log_stream_name: str
    pool: list[_Environment]  # where it goes back when free (its function's, as registered when it started)

    def release(self) -> None:
        with _handlers_lock:
            self.pool.append(self)


LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3.0
LAMBDA_DEFAULT_MEMORY_MB = 128

_handlers: dict[str, LambdaHandler] = {}
_limits: dict[str, FunctionLimits] = {}
_handlers_lock = threading.Lock()
_NOT_REGISTERED = object()
_invocation = threading.local()  # the request id of the last in-process invocation on this thread
_free_environments: dict[str, list[_Environment]] = {}  # function name -> its free execution environments
_log_sinks: list[LogSink] = []  # the innermost receives the invocations' logs


def add_log_sink(sink: LogSink) -> None:
    _log_sinks.append(sink)


def remove_log_sink(sink: LogSink) -> None:
    with contextlib.suppress(ValueError):
        _log_sinks.remove(sink)


def _take_environment(name: str, version: str) -> _Environment:
    """A free execution environment of the function (the last freed: the warmest), else a new one."""
    with _handlers_lock:
        pool = _free_environments.setdefault(name, [])
        if pool:
            return pool.pop()
    started = datetime.datetime.now(datetime.timezone.utc)
    return _Environment(f"{started:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}", pool)


def _function_name(name_or_arn: str) -> str:
    """``name``, ``name:qualifier``, ``123456789012:function:name`` or a full ARN -> ``name``."""
    parts = name_or_arn.split(":")
    if "function" in parts[:-1]:
        return parts[parts.index("function") + 1]
    return parts[0]


def register_lambda_handler(
    function_name: str,
    handler: LambdaHandler,
    timeout_seconds: float | None = None,
    memory_mb: int | None = None,
    log_group: str | None = None,
) -> None:
    """Run ``handler(event, context)`` in-process whenever the function (given by name or ARN) is invoked.

    Each invocation runs on a thread of its own, so concurrent executions call the handler concurrently, and one
    running past ``timeout_seconds`` fails with ``Sandbox.Timedout``. Limits not given keep those registered
    before for the function (a test swapping the handler keeps the template's Timeout), else the moto
    function's (its ARN also fills the context), else Lambda's defaults (3 s, 128 MB). A handler registered anew is a
    new deployment: its invocations start in new execution environments (new log streams).
    """
    name = _function_name(function_name)
    with _handlers_lock:
        _handlers[name] = handler
        _free_environments[name] = []
        known = _limits.get(name, FunctionLimits())
        _limits[name] = FunctionLimits(
            timeout_seconds=known.timeout_seconds if timeout_seconds is None else float(timeout_seconds),
            memory_mb=known.memory_mb if memory_mb is None else int(memory_mb),
            log_group=known.log_group if log_group is None else log_group,
        )


def unregister_lambda_handler(function_name: str) -> None:
    with _handlers_lock:
        _handlers.pop(_function_name(function_name), None)
        _limits.pop(_function_name(function_name), None)


def clear_lambda_handlers() -> None:
    with _handlers_lock:
        _handlers.clear()
        _limits.clear()


HandlersSnapshot = tuple[dict[str, LambdaHandler], dict[str, FunctionLimits]]


def snapshot_lambda_handlers() -> HandlersSnapshot:
    """The handlers (and their limits) registered now, for ``restore_lambda_handlers`` when the outermost
    activation ends."""
    with _handlers_lock:
        return dict(_handlers), dict(_limits)


def restore_lambda_handlers(snapshot: HandlersSnapshot) -> None:
    handlers, limits = snapshot
    with _handlers_lock:
        _handlers.clear()
        _handlers.update(handlers)
        _limits.clear()
        _limits.update(limits)


def _header(headers: Any, name: str, default: str) -> str:
    if not headers:
        return default
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return value
    return default


def _json_default(value: Any) -> Any:
    # The Lambda Python runtime (awslambdaric) serialises Decimal as float, and nothing else beyond json's types.
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error_payload(exc: BaseException, request_id: str) -> bytes:
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
        }
    ).encode("utf-8")


def _timed_out_payload(context: LambdaContext) -> bytes:
    return json.dumps(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": (
                f"RequestId: {context.aws_request_id} Error: Task timed out after {context.timeout_seconds:.2f} seconds"
            ),
        }
    ).encode("utf-8")


def peak_memory_mb() -> int:
    """Max Memory Used, locally: this process's peak resident memory (ru_maxrss is in KiB on Linux)."""
    return math.ceil(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def report_line(context: LambdaContext, duration_ms: float, timed_out: bool = False) -> str:
    """Lambda's REPORT line (Billed Duration: the duration rounded up to the millisecond)."""
    fields = [f"REPORT RequestId: {context.aws_request_id}", f"Duration: {duration_ms:.2f} ms",
              f"Billed Duration: {math.ceil(duration_ms)} ms", f"Memory Size: {context.memory_limit_in_mb} MB",
              f"Max Memory Used: {peak_memory_mb()} MB"]
    return "\t".join([*fields, *(["Status: timeout"] if timed_out else [])]) + "\t"


def error_line(payload: bytes) -> str:
    """What the Python runtime logs for a function error (awslambdaric's log_error): `[ERROR] <type>: <message>`,
    then the traceback, one event."""
    error = json.loads(payload)
    lines = [f"[ERROR] {error.get('errorType')}: {error.get('errorMessage')}"]
    if error.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines += [line for element in error["stackTrace"] for line in (element.splitlines() or [""])]
    return "\n".join(lines)


def _open_log(context: LambdaContext) -> InvocationLog | None:
    sink = _log_sinks[-1] if _log_sinks else None
    if sink is None:
        return None
    return sink.invocation(context.function_name, context.log_group_name, context.log_stream_name,
                           context.aws_request_id)


def _run_with_timeout(handler: LambdaHandler, event: Any, context: LambdaContext,
                      environment: _Environment) -> tuple[bytes, bool]:
    """``_run_handler`` on a thread of its own, abandoned (its result dropped) past the function's timeout; the
    environment is free again when the thread ends."""
    outcome: list[tuple[bytes, bool]] = []
    finished = threading.Event()
    invocation_log = _open_log(context)

    def run() -> None:
        try:
            if invocation_log is None:
                outcome.append(_run_handler(handler, event, context))
                return
            started = time.monotonic()
            with invocation_log.capturing():
                invocation_log.line(f"START RequestId: {context.aws_request_id} Version: {context.function_version}")
                outcome.append(_run_handler(handler, event, context))
            duration_ms = (time.monotonic() - started) * 1000
            payload, errored = outcome[0]
            invocation_log.close(*([error_line(payload)] if errored else []),
                                 f"END RequestId: {context.aws_request_id}", report_line(context, duration_ms))
        finally:
            environment.release()
            finished.set()

    threading.Thread(target=run, name=f"lambda-{context.function_name}", daemon=True).start()
    if not finished.wait(context.timeout_seconds):
        if invocation_log is not None:
            now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            invocation_log.close(
                f"{now} {context.aws_request_id} Task timed out after {context.timeout_seconds:.2f} seconds",
                f"END RequestId: {context.aws_request_id}",
                report_line(context, context.timeout_seconds * 1000, timed_out=True))
        return _timed_out_payload(context), True
    return outcome[0]


def _run_handler(handler: LambdaHandler, event: Any, context: LambdaContext) -> tuple[bytes, bool]:
    """Returns (payload, errored) as the Lambda runtime would."""
    try:
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - every handler exception is a function error, as on Lambda
        return _error_payload(exc, context.aws_request_id), True
    try:
        return json.dumps(result, default=_json_default).encode("utf-8"), False
    except (TypeError, ValueError) as exc:
        marshal_error = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
        return json.dumps(marshal_error).encode("utf-8"), True


def _invoke_registered(
    backend: LambdaBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> Any:
    name = _function_name(function_name)
    with _handlers_lock:
        handler = _handlers.get(name)
        limits = _limits.get(name, FunctionLimits())
    if handler is None:
        return _NOT_REGISTERED

    arn = f"arn:{backend.partition}:lambda:{backend.region_name}:{backend.account_id}:function:{name}"
    memory_mb, timeout_s, version = LAMBDA_DEFAULT_MEMORY_MB, LAMBDA_DEFAULT_TIMEOUT_SECONDS, "$LATEST"
    try:  # a function created in moto gives its configuration
        fn = backend.get_function(function_name, qualifier)
        arn, memory_mb, timeout_s, version = fn.function_arn, int(fn.memory_size), float(fn.timeout), fn.version
    except Exception:  # noqa: BLE001 - a registered handler does not need a moto function
        pass
    timeout_s = timeout_s if limits.timeout_seconds is None else limits.timeout_seconds
    memory_mb = memory_mb if limits.memory_mb is None else limits.memory_mb
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event = json.loads(body) if body else {}
    request_id = str(uuid.uuid4())
    _invocation.request_id = request_id
    response_headers["x-amz-executed-version"] = version
    response_headers["x-amzn-requestid"] = request_id
    invocation_type = _header(headers, "X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    environment = _take_environment(name, version)
    context = LambdaContext(
        function_name=name,
        invoked_function_arn=f"{arn}:{qualifier}" if qualifier and not arn.endswith(f":{qualifier}") else arn,
        memory_limit_in_mb=memory_mb,
        aws_request_id=request_id,
        timeout_seconds=timeout_s,
        function_version=version,
        log_group_name=limits.log_group or f"/aws/lambda/{name}",
        log_stream_name=environment.log_stream_name,
    )
    if invocation_type == "Event":
        threading.Thread(target=_run_with_timeout, args=(handler, event, context, environment), daemon=True).start()
        return b""
    payload, errored = _run_with_timeout(handler, event, context, environment)
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = base64.b64encode(b"").decode("ascii")
    return payload


def _patch_lambda_invoke(patcher: Patcher) -> None:
    for backend_class in (LambdaBackend, LambdaSimpleBackend):
        original = backend_class.__dict__["invoke"]

        def invoke(
            self: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
            _original: Callable[..., Any] = original,
        ) -> str | bytes | None:
            payload = _invoke_registered(self, function_name, qualifier, body, headers, response_headers)
            if payload is _NOT_REGISTERED:
                return _original(self, function_name, qualifier, body, headers, response_headers)
            response_headers["Content-Length"] = str(len(payload))
            return payload

        patcher.set(backend_class, "invoke", invoke)


def _patch_lambda_integration_output(patcher: Patcher) -> None:
    original = lambda_eval_utils.execute_lambda_function_integration

    def execute_lambda_function_integration(env: Any, parameters: dict, region: str, state_credentials: Any) -> None:
        original(env=env, parameters=parameters, region=region, state_credentials=state_credentials)
        response = env.stack[-1]
        if not isinstance(response, dict) or "SdkHttpMetadata" in response:
            return
        request_id = getattr(_invocation, "request_id", None) or str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "Date": datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "X-Amz-Executed-Version": response.get("ExecutedVersion", "$LATEST"),
            "x-amzn-RequestId": request_id,
        }
        response["SdkHttpMetadata"] = {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": response.get("StatusCode", 200),
        }
        response["SdkResponseMetadata"] = {"RequestId": request_id}

    patcher.set(lambda_eval_utils, "execute_lambda_function_integration", execute_lambda_function_integration)


def apply(patcher: Patcher) -> None:
    _patch_lambda_invoke(patcher)
    _patch_lambda_integration_output(patcher)
