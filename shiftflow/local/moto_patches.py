"""Patches that make moto's Step Functions interpreter run Shiftflow's state machines in-process.

Use under ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``::

    with mock_aws(config=...), activate(time_scale=0.001):
        register_lambda_handler("SubmitScript", app.handler)
        ... start executions with a boto3 stepfunctions client ...
        wait_for_execution(execution_arn)

Every patch replaces a private moto internal, so moto is pinned exactly: importing this module raises
``MotoVersionError`` unless ``moto.__version__ == EXPECTED_MOTO_VERSION``. Patches are applied by ``install()`` /
``activate()`` and all originals are restored when the (outermost) activation ends.

Gaps of moto 5.2.5 and the patch that closes each (moto file / function replaced or wrapped):

1. Lambda tasks cannot run Python code (the Docker backend needs Docker; the "simple" backend echoes the input).
   ``_patch_lambda_invoke``: wraps ``moto/awslambda/models.py LambdaBackend.invoke`` and
   ``moto/awslambda_simple/models.py LambdaSimpleBackend.invoke``; a function registered with
   ``register_lambda_handler`` runs in-process with the event and a ``LambdaContext``. An exception becomes an
   ``Unhandled`` function error whose payload is ``{errorMessage, errorType, requestId, stackTrace}``, so Step
   Functions reports Error = the exception's class name, Cause = that JSON (as Lambda's Python runtime does).
   This covers ``arn:aws:states:::lambda:invoke``, plain Lambda ARN resources and boto3 ``lambda.invoke``.
   ``_patch_lambda_integration_output``: wraps
   ``.../state_task/lambda_eval_utils.py execute_lambda_function_integration`` to add ``SdkHttpMetadata`` and
   ``SdkResponseMetadata`` to the ``lambda:invoke`` output, as on AWS.
2. ``aws-sdk:redshiftdata:*`` tasks fail: boto3 names the service ``redshift-data``.
   ``_patch_redshiftdata_service_name``: extends ``StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES``
   (``.../service/state_task_service.py``) and the aws-sdk error prefix table ``_SERVICE_ERROR_NAMES``
   (``.../service/state_task_service_aws_sdk.py``: errors read ``RedshiftData.<Code>``).
3. ``states:startExecution`` (plain, ``.sync``, ``.sync:2``) fails with ``KeyError 'StateMachineArn'``: moto's
   ``StateTaskService._normalise_parameters`` / ``_normalise_response`` are no-ops, so the ASL's PascalCase
   parameters never become boto's camelCase ones. ``_patch_sfn_parameter_mapping`` maps them through the botocore
   model on ``StateTaskServiceSfn`` (``.../service/state_task_service_sfn.py``), both ways. The parent also polled
   the child every 0.5 s: ``_patch_sfn_sync_wait`` wraps ``_build_sync_resolver`` / ``_build_sync2_resolver`` to
   wait on the child's completion event, and sets ``state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK``
   to 0, so the parent resumes as soon as the child ends.
4. Definite JSONPath (``$[0].v``, ``$.list[0].x``) returns a one-element list. ``_patch_definite_jsonpath``
   replaces ``.../asl/utils/json_path.py extract_json`` (and every module that imported it by name): a path made
   only of fields and single indexes is definite and yields the value itself, as Jayway JsonPath (AWS) does;
   indefinite paths keep moto's behaviour. Parsed paths are cached (moto re-parsed them on every use).
5. Unnamed executions are all named ``None`` and collide: ``_patch_unique_execution_names`` wraps
   ``moto/stepfunctions/parser/models.py StepFunctionsParserBackend.start_execution`` to use a UUID.
   Datetimes leak (``$$.Execution.StartTime``, SDK responses) and make ``DescribeExecution`` raise TypeError:
   ``_patch_iso_datetimes`` gives the context an ISO-8601 ``StartTime`` (``backend/execution.py
   Execution.get_start_execution_details``) and ``State.EnteredTime`` in AWS's ``...123Z`` form (the ``StateData``
   name seen by ``.../component/state/state.py``), converts datetimes in every task result to ISO strings
   (``StateTaskService._after_eval_execution``) and in the final output
   (``BaseExecutionWorkerCommunication._reflect_execution_status``).
   A string output (``"done"``) was returned by ``DescribeExecution`` unencoded, not as the JSON text ``"\"done\""``:
   ``_patch_string_output`` wraps ``moto/stepfunctions/responses.py StepFunctionResponse.describe_execution``.
   ``get_execution_history`` ignores maxResults / nextToken / reverseOrder: ``_patch_history_paging`` replaces
   ``moto/stepfunctions/responses.py StepFunctionResponse.get_execution_history``.
6. JSONata is broken (``eval_jsonata_expression`` calls ``None``: the JVM bridge is stubbed out) and string
   variables are not escaped. ``_patch_jsonata`` rebinds ``.../asl/jsonata/jsonata.py eval_jsonata_expression``
   to jsonata-python, and ``encode_jsonata_variable_declarations`` to a JSON-escaping one. An expression that
   throws was an uncatchable ``States.Runtime``; ``StringJSONata._eval_body`` (``.../string/string_expression.py``)
   now raises the catchable ``States.QueryEvaluationError`` as AWS does. Not available: AWS's extra JSONata
   functions that jsonata-python lacks (``$uuid``, ``$hash``, ``$random``, ``$parse`` answer "not supported").
7. Wait states and Retry backoff really sleep. ``_patch_time_scale`` replaces
   ``.../wait/wait_function/wait_function.py WaitFunction._wait_interval`` and the ``time`` module seen by
   ``.../common/retry/retrier_decl.py`` so that they wait ``seconds * time_scale``. Task timeouts and heartbeats
   are not scaled: they bound real work (a handler running SQL).
8. No way to wait for an execution without polling: ``_patch_completion_events`` wraps ``Execution.start`` and
   ``ExecutionWorker._execution_logic`` to set a ``threading.Event`` when the execution ends;
   ``wait_for_execution`` blocks on it.

9. A Parallel branch or Map iteration that fails with a ``States.*`` error (``States.TaskFailed`` from a child
   execution, ``States.Timeout`` ...) crashed the whole execution with "Custom Error Names MUST NOT begin with the
   prefix 'States.'", so no Catch could run: ``.../state_parallel/branches_decl.py`` and
   ``.../state_map/iteration/iteration_worker.py`` wrap every branch error in ``CustomErrorName``; so does
   ``.../state/fail/state_fail.py`` for a Fail state whose ErrorPath re-raises a caught ``States.*`` error.
   ``_patch_states_errors_in_branches`` gives those modules a ``CustomErrorName`` that builds a ``StatesErrorName``
   for the reserved names, as AWS reports them.

10. Every execution start re-parses its definition with ANTLR (0.03 s for run_sql_job, 0.75 s for the sales
   pipeline), and create_state_machine parses it once more to validate it. ``_patch_parse_cache`` memoizes
   ``.../asl/parse/asl_parser.py AmazonStateLanguageParser.parse`` by definition text: the evaluation components
   are declarations (every per-run value lives in the execution's Environment; the mutable workers of Map and
   Parallel are created per evaluation), so one parsed program serves every execution of a definition.

11. Importing the interpreter costs 0.8 s of EC2 models (its region and instance-type tables): the Batch
   integration imports ``moto.batch.utils`` for an enum, and ``moto/batch/__init__.py`` imports ``moto.batch.models``,
   which imports ``moto.ec2``. ``_defer_batch_models`` registers ``moto.batch`` without running its ``__init__``;
   its one export, ``batch_backends``, is loaded from ``moto.batch.models`` when first asked for (a mocked Batch
   still works).

12. The context object has no ``Execution.RedriveCount`` (AWS sets it, 0 until a redrive), which the pipelines
   put in their client token seeds. ``_patch_redrive_count`` adds it, 0 (moto cannot redrive).

13. DynamoDB conditional writes are not atomic: ``DynamoDBBackend.update_item`` reads the item, evaluates the
   condition and writes in separate steps, so two threads (two executions acquiring the job guard) can both pass
   the condition; the response handler also copies the old item before the write. ``_patch_atomic_dynamodb_writes``
   runs each write request (``DynamoHandler`` put_item, update_item, delete_item, batch_write_item,
   transact_write_items) under one lock: as on DynamoDB, each item write (and each transaction) is atomic.

Known limits (not patched): a Lambda function's Timeout is reported by ``get_remaining_time_in_millis`` but not
enforced, and its Environment variables are not applied (the caller owns ``os.environ``); aws-sdk responses keep
boto3's member names below the top level (e.g. ``Records[0][0].longValue`` of GetStatementResult), which AWS may
PascalCase; optimized-integration timestamps are ISO-8601 strings everywhere; the first parse of each definition still
costs its ANTLR time once per process.

Verified to work unpatched (and tested): ``dynamodb:updateItem`` with a ConditionExpression raising a catchable
``DynamoDB.ConditionalCheckFailedException``, ``dynamodb:putItem``, ``sns:publish``, Fail with ErrorPath/CausePath,
Parallel and Map with ResultSelector, the States.* intrinsics, ``$$.Execution.Id`` / ``Name``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import importlib
import importlib.util
import json
import sys
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import moto

EXPECTED_MOTO_VERSION = "5.2.5"


class MotoVersionError(RuntimeError):
    """The installed moto is not the exact version these patches were written against."""


def check_moto_version(version: str | None = None) -> None:
    """Fail loudly when moto is not the pinned version: the patches below touch its private internals."""
    found = moto.__version__ if version is None else version
    if found != EXPECTED_MOTO_VERSION:
        raise MotoVersionError(
            f"shiftflow.local.moto_patches supports moto=={EXPECTED_MOTO_VERSION} only, found moto=={found}. "
            "Re-check every patch in shiftflow/local/moto_patches.py against the new moto, then update "
            "EXPECTED_MOTO_VERSION and the pin in requirements-dev."
        )


check_moto_version()


def _defer_batch_models() -> None:
    """Gap 11: the package moto.batch, registered without importing its models (and EC2's) until they are used."""
    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    package = importlib.util.module_from_spec(spec)  # __path__ set, __init__ not run

    def __getattr__(name: str) -> Any:  # PEP 562: what moto/batch/__init__.py would have imported
        return getattr(importlib.import_module("moto.batch.models"), name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["moto.batch"] = package
    moto.batch = package  # type: ignore[attr-defined]  # `import moto.batch; moto.batch.x` works as before


_defer_batch_models()

# moto internals: imported only after the version check.
import botocore.session  # noqa: E402
import jsonata  # noqa: E402
from botocore.model import OperationModel  # noqa: E402
from jsonpath_ng.ext import parse as jsonpath_parse  # noqa: E402
from jsonpath_ng.jsonpath import Child, Fields, Index, JSONPath, Root, This  # noqa: E402
from moto.awslambda.models import LambdaBackend  # noqa: E402
from moto.awslambda_simple.models import LambdaSimpleBackend  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.stepfunctions.exceptions import InvalidToken  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E402
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.string import string_expression  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: E402
    state_task_service_aws_sdk,
    state_task_service_callback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E402
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: E402
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (  # noqa: E402
    WaitFunction,
)
from moto.stepfunctions.parser.asl.component.state import state as asl_state  # noqa: E402
from moto.stepfunctions.parser.asl.eval import states as asl_states  # noqa: E402
from moto.stepfunctions.parser.asl.eval import variable_store  # noqa: E402
from moto.stepfunctions.parser.asl.jsonata import jsonata as asl_jsonata  # noqa: E402
from moto.stepfunctions.parser.asl.jsonata import validations as asl_jsonata_validations  # noqa: E402
from moto.stepfunctions.parser.asl.utils import json_path  # noqa: E402
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str  # noqa: E402
from moto.stepfunctions.parser.backend.execution import (  # noqa: E402
    BaseExecutionWorkerCommunication,
    Execution,
)
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: E402
from moto.stepfunctions.parser.models import (  # noqa: E402
    StepFunctionsParserBackend,
    stepfunctions_parser_backends,
)
from moto.stepfunctions.responses import StepFunctionResponse  # noqa: E402

__all__ = [
    "EXPECTED_MOTO_VERSION",
    "LambdaContext",
    "MotoVersionError",
    "activate",
    "check_moto_version",
    "clear_lambda_handlers",
    "install",
    "iso_timestamp",
    "register_lambda_handler",
    "time_scale",
    "unregister_lambda_handler",
    "wait_for_execution",
]

LambdaHandler = Callable[[Any, "LambdaContext"], Any]


# --------------------------------------------------------------------------------------------------------------------
# Patch bookkeeping: every replaced attribute is recorded so that uninstall restores it exactly.

_MISSING = object()


class _Patcher:
    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        # For classes look only at the class's own __dict__, so an inherited attribute is restored by deletion.
        if isinstance(owner, type):
            previous = owner.__dict__.get(name, _MISSING)
        else:
            previous = getattr(owner, name, _MISSING)
        self._saved.append((owner, name, previous))
        setattr(owner, name, value)

    def rebind(self, modules: list[types.ModuleType], name: str, original: Any, value: Any) -> None:
        """Replace a function in every module that imported it by name (``from x import f``)."""
        for module in modules:
            if getattr(module, name, None) is original:
                self.set(module, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, previous = self._saved.pop()
            if previous is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.patcher: _Patcher | None = None
        self.scales: list[float] = []
        self.handlers_snapshot: dict[str, LambdaHandler] = {}


_state = _State()


def time_scale() -> float:
    """The factor applied to Wait states and Retry backoff (1.0 when not activated)."""
    scales = _state.scales
    return scales[-1] if scales else 1.0


class Installation:
    """One activation of the patches; ``uninstall()`` undoes it (the last one restores moto's originals)."""

    def __init__(self, scale: float) -> None:
        self._scale = scale
        self._active = True

    def uninstall(self) -> None:
        with _state.lock:
            if not self._active:
                return
            self._active = False
            # Remove this activation's own entry (the last equal one), so the enclosing scale is current again.
            index = len(_state.scales) - 1 - _state.scales[::-1].index(self._scale)
            del _state.scales[index]
            if not _state.scales and _state.patcher is not None:
                _state.patcher.restore()
                _state.patcher = None
                with _handlers_lock:
                    _handlers.clear()
                    _handlers.update(_state.handlers_snapshot)


def install(time_scale: float = 1.0) -> Installation:
    """Apply all patches (idempotent; nested installs share them and stack their time scale)."""
    if time_scale < 0:
        raise ValueError("time_scale must be >= 0")
    check_moto_version()
    with _state.lock:
        if _state.patcher is None:
            patcher = _Patcher()
            try:
                for apply in _ALL_PATCHES:
                    apply(patcher)
            except BaseException:
                patcher.restore()
                raise
            _state.patcher = patcher
            with _handlers_lock:
                _state.handlers_snapshot = dict(_handlers)
        _state.scales.append(float(time_scale))
        return Installation(float(time_scale))


@contextlib.contextmanager
def activate(time_scale: float = 1.0) -> Iterator[Installation]:
    """Context manager around ``install``: patches moto on entry, restores it on exit.

    ``time_scale`` multiplies Wait state durations and Retry backoff intervals (0.001 turns a 60 s Wait into 60 ms).
    Lambda handlers registered inside the block are forgotten when the outermost activation ends.
    """
    installation = install(time_scale=time_scale)
    try:
        yield installation
    finally:
        installation.uninstall()


# --------------------------------------------------------------------------------------------------------------------
# Shared helpers


def iso_timestamp(value: datetime.datetime | datetime.date) -> str:
    """AWS's timestamp format in Step Functions data: ``2026-01-02T03:04:05.678Z`` (UTC, milliseconds)."""
    if not isinstance(value, datetime.datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _iso_datetimes(value: Any) -> Any:
    """A copy-free conversion: datetimes inside dicts and lists are replaced in place, the value is returned."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return iso_timestamp(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list, datetime.date)):
                value[key] = _iso_datetimes(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list, datetime.date)):
                value[index] = _iso_datetimes(item)
    return value


_botocore_session_lock = threading.Lock()
_botocore_session: botocore.session.Session | None = None


@lru_cache(maxsize=256)
def _operation_model(service: str, snake_action: str) -> OperationModel | None:
    global _botocore_session
    with _botocore_session_lock:
        if _botocore_session is None:
            _botocore_session = botocore.session.get_session()
        service_model = _botocore_session.get_service_model(service)
    for name in service_model.operation_names:
        if botocore.xform_name(name) == snake_action:
            return service_model.operation_model(name)
    return None


# --------------------------------------------------------------------------------------------------------------------
# Gap 1: Lambda handlers in-process


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


_handlers: dict[str, LambdaHandler] = {}
_handlers_lock = threading.Lock()
_NOT_REGISTERED = object()
_invocation = threading.local()  # the request id of the last in-process invocation on this thread


def _function_name(name_or_arn: str) -> str:
    """``name``, ``name:qualifier``, ``123456789012:function:name`` or a full ARN -> ``name``."""
    parts = name_or_arn.split(":")
    if "function" in parts[:-1]:
        return parts[parts.index("function") + 1]
    return parts[0]


def register_lambda_handler(function_name: str, handler: LambdaHandler) -> None:
    """Run ``handler(event, context)`` in-process whenever the function (given by name or ARN) is invoked.

    The handler runs on the invoking thread (an execution's worker thread), so concurrent executions call it
    concurrently. If the function also exists in moto, its MemorySize, Timeout and ARN fill the context.
    """
    with _handlers_lock:
        _handlers[_function_name(function_name)] = handler


def unregister_lambda_handler(function_name: str) -> None:
    with _handlers_lock:
        _handlers.pop(_function_name(function_name), None)


def clear_lambda_handlers() -> None:
    with _handlers_lock:
        _handlers.clear()


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
    if handler is None:
        return _NOT_REGISTERED

    arn = f"arn:{backend.partition}:lambda:{backend.region_name}:{backend.account_id}:function:{name}"
    memory_mb, timeout_s, version = 128, 3.0, "$LATEST"
    try:  # a function created in moto (from template.yaml) gives its real configuration
        fn = backend.get_function(function_name, qualifier)
        arn, memory_mb, timeout_s, version = fn.function_arn, int(fn.memory_size), float(fn.timeout), fn.version
    except Exception:  # noqa: BLE001 - a registered handler does not need a moto function
        pass
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event = json.loads(body) if body else {}
    request_id = str(uuid.uuid4())
    _invocation.request_id = request_id
    context = LambdaContext(
        function_name=name,
        invoked_function_arn=f"{arn}:{qualifier}" if qualifier and not arn.endswith(f":{qualifier}") else arn,
        memory_limit_in_mb=memory_mb,
        aws_request_id=request_id,
        timeout_seconds=timeout_s,
        function_version=version,
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name=f"{datetime.date.today():%Y/%m/%d}/[{version}]{uuid.uuid4().hex}",
    )
    response_headers["x-amz-executed-version"] = version
    response_headers["x-amzn-requestid"] = request_id
    invocation_type = _header(headers, "X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        threading.Thread(target=_run_handler, args=(handler, event, context), daemon=True).start()
        return b""
    payload, errored = _run_handler(handler, event, context)
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = base64.b64encode(b"").decode("ascii")
    return payload


def _patch_lambda_invoke(patcher: _Patcher) -> None:
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


def _patch_lambda_integration_output(patcher: _Patcher) -> None:
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


# --------------------------------------------------------------------------------------------------------------------
# Gap 2: aws-sdk:redshiftdata


def _patch_redshiftdata_service_name(patcher: _Patcher) -> None:
    overrides = dict(StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES)
    overrides["redshiftdata"] = "redshift-data"
    patcher.set(StateTaskService, "_SERVICE_NAME_SFN_TO_BOTO_OVERRIDES", overrides)
    error_names = dict(state_task_service_aws_sdk._SERVICE_ERROR_NAMES)
    error_names["redshiftdata"] = "RedshiftData"
    patcher.set(state_task_service_aws_sdk, "_SERVICE_ERROR_NAMES", error_names)


# --------------------------------------------------------------------------------------------------------------------
# Gap 3: states:startExecution parameter mapping and prompt .sync completion


def _patch_sfn_parameter_mapping(patcher: _Patcher) -> None:
    original_parameters = StateTaskServiceSfn._normalise_parameters

    def _normalise_parameters(
        self: StateTaskServiceSfn,
        parameters: dict,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original_parameters(self, parameters, boto_service_name, service_action_name)
        operation = _operation_model("stepfunctions", self._get_boto_service_action(service_action_name))
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)  # StateMachineArn -> stateMachineArn

    def _normalise_response(
        self: StateTaskServiceSfn,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        operation = _operation_model("stepfunctions", self._get_boto_service_action(service_action_name))
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)  # executionArn -> ExecutionArn
        _iso_datetimes(response)  # before moto serialises a failed child's DescribeExecution into the Cause

    patcher.set(StateTaskServiceSfn, "_normalise_parameters", _normalise_parameters)
    patcher.set(StateTaskServiceSfn, "_normalise_response", _normalise_response)


_SYNC_WAIT_SLICE_SECONDS = 0.25  # how often a waiting parent re-checks that it was not itself stopped


def _patch_sfn_sync_wait(patcher: _Patcher) -> None:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def build(
            self: StateTaskServiceSfn,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict,
            state_credentials: Any,
        ) -> Callable[[], Any]:
            submission = env.stack[-1] if env.stack else None
            child_arn = submission.get("ExecutionArn") if isinstance(submission, dict) else None
            resolver = original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

            def resolve() -> Any:
                # Block until the child ends (or a slice passes), then let moto's resolver read its status.
                if child_arn is None:
                    time.sleep(_SYNC_WAIT_SLICE_SECONDS)
                else:
                    _wait_done(child_arn, _SYNC_WAIT_SLICE_SECONDS)
                return resolver()

            return resolve

        return build

    patcher.set(StateTaskServiceSfn, "_build_sync_resolver", wrap(StateTaskServiceSfn._build_sync_resolver))
    patcher.set(StateTaskServiceSfn, "_build_sync2_resolver", wrap(StateTaskServiceSfn._build_sync2_resolver))
    patcher.set(state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0.0)


# --------------------------------------------------------------------------------------------------------------------
# Gap 4: definite JSONPath


def _is_definite(expression: JSONPath) -> bool:
    """Jayway's rule: a path of plain fields and single indexes names one node; anything else is indefinite."""
    if isinstance(expression, (Root, This)):
        return True
    if isinstance(expression, Child):
        return _is_definite(expression.left) and _is_definite(expression.right)
    if type(expression) is Fields:
        return len(expression.fields) == 1 and expression.fields[0] != "*"
    if type(expression) is Index:
        return len(expression.indices) == 1
    return False


@lru_cache(maxsize=4096)
def _compiled_path(path: str) -> tuple[JSONPath, bool]:
    expression = jsonpath_parse(path)
    return expression, _is_definite(expression)


def extract_json(path: str, data: Any) -> Any:
    """moto's ``json_path.extract_json`` with AWS's definite-path rule and a parse cache."""
    expression, definite = _compiled_path(path)
    matches = expression.find(data)
    if definite:
        if not matches:
            raise json_path.NoSuchJsonPathError(json_path=path, data=data)
        return matches[0].value
    # Indefinite paths: moto's original logic, unchanged.
    if not matches:
        if json_path._contains_slice_or_wildcard_array(path):
            return []
        raise json_path.NoSuchJsonPathError(json_path=path, data=data)
    if (
        len(matches) > 1
        or isinstance(matches[0].path, Index)
        or (matches[0].context and isinstance(matches[0].context.path, Index))
    ):
        value = [match.value for match in matches]
        if json_path._is_singleton_array_access(path=path) and len(value) == 1:
            value = value[0]
        return value
    return matches[0].value


def _parser_modules() -> list[types.ModuleType]:
    import sys

    return [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser") and module is not None
    ]


def _patch_definite_jsonpath(patcher: _Patcher) -> None:
    _import_jsonpath_users()
    patcher.rebind(_parser_modules(), "extract_json", json_path.extract_json, extract_json)


def _import_jsonpath_users() -> None:
    # Modules that do ``from ...json_path import extract_json``: import them now so that rebind finds them all.
    import importlib

    base = "moto.stepfunctions.parser.asl.component."
    for name in (
        "common.string.string_expression",
        "common.timeouts.timeout",
        "common.timeouts.heartbeat",
        "common.path.input_path",
        "common.path.output_path",
        "intrinsic.argument.argument",
        "state.wait.wait_function.seconds_path",
        "state.state",
        "state.choice.comparison.operator.implementations.timestamp_operators",
        "state.choice.comparison.operator.implementations.boolean_equals",
        "state.choice.comparison.operator.implementations.numeric",
        "state.choice.comparison.operator.implementations.string_operators",
    ):
        importlib.import_module(base + name)


# --------------------------------------------------------------------------------------------------------------------
# Gap 5: unique execution names, no datetime objects in data, paged history


def _patch_unique_execution_names(patcher: _Patcher) -> None:
    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Execution:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    patcher.set(StepFunctionsParserBackend, "start_execution", start_execution)


def _patch_iso_datetimes(patcher: _Patcher) -> None:
    original_details = Execution.get_start_execution_details

    def get_start_execution_details(self: Execution) -> Any:
        details = original_details(self)
        details.start_time = iso_timestamp(self.start_date)  # $$.Execution.StartTime is a string on AWS
        return details

    original_after = StateTaskService._after_eval_execution

    def _after_eval_execution(
        self: StateTaskService,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> None:
        if env.stack:
            env.stack[-1] = _iso_datetimes(env.stack[-1])  # SDK responses carry datetime objects
        original_after(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    original_reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def _reflect_execution_status(self: BaseExecutionWorkerCommunication) -> None:
        original_reflect(self)
        self.execution.output = _iso_datetimes(self.execution.output)

    def state_data(EnteredTime: str, Name: str, **rest: Any) -> dict:  # noqa: N803 - moto's keyword names
        # moto writes isoformat() ("...123456+00:00"); AWS writes "...123Z".
        entered = iso_timestamp(datetime.datetime.fromisoformat(EnteredTime))
        return asl_states.StateData(EnteredTime=entered, Name=Name, **rest)

    patcher.set(Execution, "get_start_execution_details", get_start_execution_details)
    patcher.set(asl_state, "StateData", state_data)
    patcher.set(StateTaskService, "_after_eval_execution", _after_eval_execution)
    patcher.set(BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status)


def _patch_string_output(patcher: _Patcher) -> None:
    original = StepFunctionResponse.describe_execution

    def describe_execution(self: StepFunctionResponse) -> ActionResult:
        result = original(self)
        response = result.result
        if isinstance(response, dict) and "output" in response:
            execution = self.stepfunction_backend.describe_execution(response["executionArn"])
            if isinstance(execution, Execution) and isinstance(execution.output, str):
                response["output"] = to_json_str(execution.output)  # moto returned the bare string, not JSON
        return result

    patcher.set(StepFunctionResponse, "describe_execution", describe_execution)


_HISTORY_DEFAULT_PAGE = 100  # GetExecutionHistory's default maxResults
_HISTORY_MAX_PAGE = 1000


def _encode_token(offset: int, reverse: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "r": reverse}).encode()).decode()


def _decode_token(token: str, reverse: bool) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(decoded["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("Invalid token") from exc
    if bool(decoded.get("r")) != reverse or offset < 0:
        raise InvalidToken("Invalid token")
    return offset


def _patch_history_paging(patcher: _Patcher) -> None:
    def get_execution_history(self: StepFunctionResponse) -> ActionResult:
        execution_arn = self._get_param("executionArn")
        max_results = self._get_int_param("maxResults") or _HISTORY_DEFAULT_PAGE
        max_results = min(max_results, _HISTORY_MAX_PAGE)
        reverse = bool(self._get_param("reverseOrder", False))
        history = self.stepfunction_backend.get_execution_history(execution_arn)
        events = list(history["events"] if isinstance(history, dict) else history)
        if reverse:
            events.reverse()
        token = self._get_param("nextToken")
        start = _decode_token(token, reverse) if token else 0
        response: dict[str, Any] = {"events": events[start : start + max_results]}
        if start + max_results < len(events):
            response["nextToken"] = _encode_token(start + max_results, reverse)
        return ActionResult(response)

    patcher.set(StepFunctionResponse, "get_execution_history", get_execution_history)


# --------------------------------------------------------------------------------------------------------------------
# Gap 6: JSONata through jsonata-python


def _eval_jsonata_expression(expression: str) -> Any:
    try:
        return jsonata.Jsonata(expression).evaluate(None)
    except Exception as exc:  # noqa: BLE001 - moto expects its own exception type for any evaluation error
        raise asl_jsonata.JSONataException("UNKNOWN", str(exc)) from exc


def _encode_jsonata_variable_declarations(bindings: dict[str, Any]) -> str:
    # moto wrote strings as f'"{value}"': a quote or newline in a value broke the expression.
    return "".join(f"{name}:={to_json_str(value, separators=(',', ':'))};" for name, value in bindings.items())


def _query_evaluation_failure(env: Any, expression: str, message: str) -> Exception:
    """The catchable States.QueryEvaluationError AWS raises when a JSONata expression throws."""
    from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(
        error=error_name.error_name,
        cause=f"The JSONata expression '{expression}' threw an error during evaluation. {message}",
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),
    )
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(evaluationFailedEventDetails=details),
        )
    )


def _patch_jsonata(patcher: _Patcher) -> None:
    original_eval_body = string_expression.StringJSONata._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        try:
            original_eval_body(self, env)
        except asl_jsonata.JSONataException as exc:  # moto let it escape as an uncatchable States.Runtime
            raise _query_evaluation_failure(env, self.expression, str(exc.details)) from exc

    patcher.set(string_expression.StringJSONata, "_eval_body", _eval_body)
    patcher.rebind(
        [asl_jsonata, string_expression, asl_jsonata_validations],
        "eval_jsonata_expression",
        asl_jsonata.eval_jsonata_expression,
        _eval_jsonata_expression,
    )
    patcher.rebind(
        [asl_jsonata, asl_states, variable_store],
        "encode_jsonata_variable_declarations",
        asl_jsonata.encode_jsonata_variable_declarations,
        _encode_jsonata_variable_declarations,
    )


# --------------------------------------------------------------------------------------------------------------------
# Gap 7: time scale for Wait and Retry


class _ScaledTime:
    """Stands in for the ``time`` module inside retrier_decl: ``sleep`` is scaled, the rest is the real module."""

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) * time_scale())

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _patch_time_scale(patcher: _Patcher) -> None:
    def _wait_interval(self: WaitFunction, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, float(wait_seconds)) * time_scale()
        while env.is_running():  # a stop of the execution ends the wait early, as in moto
            left = deadline - time.monotonic()
            if left <= 0:
                return
            env.program_state_event.wait(left)

    patcher.set(WaitFunction, "_wait_interval", _wait_interval)
    patcher.set(retrier_decl, "time", _ScaledTime())


# --------------------------------------------------------------------------------------------------------------------
# Gap 8: completion events, so that callers and .sync parents wait without polling

_DONE_ATTRIBUTE = "_shiftflow_done"


def _patch_completion_events(patcher: _Patcher) -> None:
    original_start = Execution.start

    def start(self: Execution) -> None:
        setattr(self, _DONE_ATTRIBUTE, threading.Event())
        original_start(self)

    original_logic = ExecutionWorker._execution_logic

    def _execution_logic(self: ExecutionWorker) -> None:
        try:
            original_logic(self)
        finally:
            execution = getattr(self._execution_communication, "execution", None)
            done = getattr(execution, _DONE_ATTRIBUTE, None)
            if done is not None:
                done.set()

    patcher.set(Execution, "start", start)
    patcher.set(ExecutionWorker, "_execution_logic", _execution_logic)


def _find_execution(execution_arn: str) -> Execution | None:
    # arn:aws:states:<region>:<account>:execution:<state machine>:<name>
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        return None
    region, account = parts[3], parts[4]
    if account not in stepfunctions_parser_backends or region not in stepfunctions_parser_backends[account]:
        return None
    backend = stepfunctions_parser_backends[account][region]
    for state_machine in list(backend.state_machines):
        for execution in list(getattr(state_machine, "executions", [])):
            if execution.execution_arn == execution_arn:
                return execution
    return None


def _wait_done(execution_arn: str, timeout: float) -> bool:
    execution = _find_execution(execution_arn)
    done = getattr(execution, _DONE_ATTRIBUTE, None)
    if done is None:
        time.sleep(timeout)  # not started through the patched path: pace the caller's polling instead
        return False
    return done.wait(timeout)


def wait_for_execution(execution_arn: str, timeout: float = 30.0) -> str:
    """Block until the execution ends; return its status. Raises TimeoutError after ``timeout`` seconds."""
    execution = _find_execution(execution_arn)
    if execution is None:
        raise LookupError(f"no execution {execution_arn} in moto's Step Functions (is execute_state_machine on?)")
    done = getattr(execution, _DONE_ATTRIBUTE, None)
    if done is None:
        raise RuntimeError(f"execution {execution_arn} was started before shiftflow's patches were activated")
    if not done.wait(timeout):
        raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")
    return execution.status


# --------------------------------------------------------------------------------------------------------------------
# Gap 9: States.* errors out of Parallel branches and Map iterations


def _branch_error_name(error_name: str) -> ErrorName:  # also called positionally by state_fail.py
    """The error name a failed branch reports: reserved `States.*` names stay Step Functions' own."""
    if isinstance(error_name, str) and error_name.startswith("States."):
        return StatesErrorName(typ=StatesErrorNameType.from_name(error_name))
    return CustomErrorName(error_name=error_name)


def _patch_states_errors_in_branches(patcher: _Patcher) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    for module in (branches_decl, iteration_worker, state_fail):
        patcher.set(module, "CustomErrorName", _branch_error_name)


# --------------------------------------------------------------------------------------------------------------------
# Gap 10: one parse per definition


_PARSE_CACHE_SIZE = 256


def _patch_parse_cache(patcher: _Patcher) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original = AmazonStateLanguageParser.__dict__["parse"].__func__
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def parse(definition: str) -> Any:
        with lock:
            if definition in parsed:
                return parsed[definition]
        result = original(definition)  # a syntax error raises and is never cached
        with lock:
            if len(parsed) >= _PARSE_CACHE_SIZE:
                parsed.pop(next(iter(parsed)))
            parsed[definition] = result
        return result

    patcher.set(AmazonStateLanguageParser, "parse", staticmethod(parse))


def _patch_redrive_count(patcher: _Patcher) -> None:
    original = ExecutionWorker._get_evaluation_environment

    def _get_evaluation_environment(self: ExecutionWorker) -> Any:
        environment = original(self)
        # Every frame (Map iterations, Parallel branches) shares this Execution dict.
        environment.states.context_object.context_object_data["Execution"].setdefault("RedriveCount", 0)
        return environment

    patcher.set(ExecutionWorker, "_get_evaluation_environment", _get_evaluation_environment)


def _patch_atomic_dynamodb_writes(patcher: _Patcher) -> None:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()

    def atomic(method: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: DynamoHandler) -> Any:
            with lock:
                return method(self)

        return write

    for name in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items"):
        patcher.set(DynamoHandler, name, atomic(getattr(DynamoHandler, name)))


_ALL_PATCHES: tuple[Callable[[_Patcher], None], ...] = (
    _patch_lambda_invoke,
    _patch_lambda_integration_output,
    _patch_redshiftdata_service_name,
    _patch_sfn_parameter_mapping,
    _patch_sfn_sync_wait,
    _patch_definite_jsonpath,
    _patch_unique_execution_names,
    _patch_iso_datetimes,
    _patch_string_output,
    _patch_history_paging,
    _patch_jsonata,
    _patch_time_scale,
    _patch_completion_events,
    _patch_states_errors_in_branches,
    _patch_parse_cache,
    _patch_redrive_count,
    _patch_atomic_dynamodb_writes,
)
