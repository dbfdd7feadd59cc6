"""Gap 27: moto's Lambda API does not know the functions whose handlers run in-process.

moto behaviour (checked against moto 5.2.5): ListFunctions, GetFunction and GetFunctionConfiguration answer from the
functions CreateFunction made (``moto/awslambda/models.py LambdaStorage``), and CreateFunction needs the role in
moto's IAM (``LambdaStorage.put_function``: "The role defined for the function cannot be assumed by Lambda.") and a
deployment package. The local runtime's functions are handlers called in-process (gap 1), acting as roles that
``shiftflow.local.iam`` holds and enforces, not moto's IAM: `aws lambda list-functions` was empty and
`aws lambda get-function` failed for every function of the template.

Fix: ``record_function(account_id, region, request, code_dir)`` keeps a function as CloudFormation passed it to
CreateFunction after SAM's transform (``request``: FunctionName, Runtime, Role, Handler, Description, Timeout,
MemorySize, Environment, Architectures, TracingConfig, Tags, LoggingConfig; and what CloudFormation adds to it:
``Permissions``, AddPermission's members for each AWS::Lambda::Permission SAM generates, and ``EventInvokeConfig``,
PutFunctionEventInvokeConfig's for its AWS::Lambda::EventInvokeConfig) with its code folder. The first request
to moto's Lambda API in that account and Region other than an invocation (``LambdaResponse.backend``, patched: HTTP
clients and in-process boto3 clients alike) puts the pending functions in moto's ``LambdaStorage`` as
``put_function`` does, without its look-up of the role in moto's IAM (the role is the template's, in
``shiftflow.local.iam``); nothing is built before (about 12 ms for the template's ten functions), so neither a start
nor a run costs more. From then on moto answers every Lambda API call about them (ListFunctions,
GetFunction, GetFunctionConfiguration, ListTags ...) and an unknown function keeps moto's ResourceNotFoundException
"Function not found: <ARN>", as Lambda's; GetPolicy shows the permissions (locally not evaluated: the cloud's own
deliveries invoke), Get/ListFunctionEventInvokeConfig(s) the EventInvokeConfig. Invoke still runs the registered
handler (gap 1). What moto's record lacks
is added by ``_RecordedFunction``: LastModified in Lambda's format (``2026-12-03T05:52:30.123+0000``, the time the
function was recorded, i.e. deployed) and LoggingConfig (Lambda's LogFormat ``Text``, the template's LogGroup, else
``/aws/lambda/<name>``). The code is a zip of the CodeUri folder (sorted, fixed timestamps, no ``__pycache__``):
CodeSha256 and CodeSize change when the code does, as after a new `sam deploy`, but are not those of the package
`sam build` makes (which holds the dependencies too).

Known limits (docs/local-fidelity.md): no Layers (the layer is not built locally: handlers import the repository's
packages), no RevisionId or RuntimeVersionConfig, Code.Location is moto's URL (it serves nothing), CloudFormation's
``aws:cloudformation:*`` tags are not added.

To drop: the local runtime would have to create its roles in moto's IAM and its functions through CreateFunction
(with a package), and moto's records would have to carry LoggingConfig and Lambda's LastModified format; until then
this gap stays while handlers run in-process. tests/unit/local/moto_gaps/test_function_records.py states the
behaviour.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.awslambda.models import EventInvokeConfig, LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.awslambda_simple.responses import LambdaSimpleResponse

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._pending_records import PendingRecords, make_on_first_request

LOG_FORMAT = "Text"  # Lambda's default LoggingConfig.LogFormat
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same code gives the same CodeSha256
# Invoke, InvokeAsync, InvokeWithResponseStream: gap 1 runs the handler without a record, so an invocation (the first
# job of a run) never pays for building them.
_INVOCATIONS = ("/invocations", "/invoke-async", "/response-streaming-invocations")


@dataclass(frozen=True)
class PendingFunction:
    request: dict[str, Any]  # CreateFunction's request members, resolved
    code_dir: Path
    recorded_at: datetime.datetime


_pending: PendingRecords[dict[str, PendingFunction]] = PendingRecords()  # (account, region) -> name -> function

RecordsSnapshot = dict[Any, dict[str, PendingFunction]]


def record_function(account_id: str, region: str, request: dict[str, Any], code_dir: Path) -> None:
    """Describe the function ``request["FunctionName"]`` as CreateFunction would have made it from ``request``, with
    a zip of ``code_dir`` as its code; recorded in moto's Lambda on the first Lambda API request, not before."""
    function = PendingFunction(dict(request), code_dir, datetime.datetime.now(datetime.timezone.utc))
    _pending.update((account_id, region), lambda functions: {**(functions or {}), request["FunctionName"]: function})


def snapshot_records() -> RecordsSnapshot:
    """The functions still pending now, for ``restore_records`` when the outermost activation ends (a later moto
    mock must not receive the functions of an earlier one)."""
    return _pending.snapshot()


def restore_records(snapshot: RecordsSnapshot) -> None:
    _pending.restore(snapshot)


class _RecordedFunction(LambdaFunction):
    """moto's function record, with what GetFunctionConfiguration also says on Lambda."""

    logging_config: dict[str, str]

    def get_configuration(self, on_create: bool = False) -> dict[str, Any]:
        return {**super().get_configuration(on_create), "LoggingConfig": dict(self.logging_config)}


def code_zip(code_dir: Path) -> bytes:
    """The folder's files in a zip whose bytes depend on their names and contents only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(code_dir.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(path.relative_to(code_dir).as_posix(), date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _lambda_timestamp(moment: datetime.datetime) -> str:
    """Lambda's LastModified: ISO 8601 to the millisecond, with the offset as +0000."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _build(backend: LambdaBackend, pending: PendingFunction) -> _RecordedFunction:
    request = dict(pending.request)
    logging_config = request.pop("LoggingConfig", None) or {}
    permissions = request.pop("Permissions", [])
    event_invoke_config = request.pop("EventInvokeConfig", None)
    spec = {**request, "Code": {"ZipFile": base64.b64encode(code_zip(pending.code_dir)).decode("ascii")}}
    function = _RecordedFunction(account_id=backend.account_id, spec=spec, region=backend.region_name,
                                 version="$LATEST")
    function.last_modified = _lambda_timestamp(pending.recorded_at)
    function.logging_config = {"LogFormat": logging_config.get("LogFormat", LOG_FORMAT),
                               "LogGroup": logging_config.get("LogGroup", f"/aws/lambda/{function.function_name}")}
    for permission in permissions:  # AddPermission's members, as CloudFormation's AWS::Lambda::Permission
        function.policy.add_statement(json.dumps(permission))
    if event_invoke_config is not None:  # PutFunctionEventInvokeConfig's, as AWS::Lambda::EventInvokeConfig
        function.event_invoke_config.append(EventInvokeConfig(function.function_arn, function.last_modified,
                                                              dict(event_invoke_config)))
    return function


def _record_pending(backend: LambdaBackend) -> None:
    def build(functions: dict[str, PendingFunction]) -> None:
        built = [_build(backend, pending) for pending in functions.values()]
        storage = backend._lambdas  # noqa: SLF001 - LambdaStorage.put_function without its IAM look-up
        for function in built:
            storage._functions[function.function_name] = {"latest": function, "versions": []}  # noqa: SLF001
            storage._arns[function.function_arn] = function  # noqa: SLF001

    _pending.make((backend.account_id, backend.region_name), build)


def _unless_invocation(response: LambdaResponse, backend: LambdaBackend) -> None:
    if not getattr(response, "path", "").rstrip("/").endswith(_INVOCATIONS):
        _record_pending(backend)


def apply(patcher: Patcher) -> None:
    for response_class in (LambdaResponse, LambdaSimpleResponse):
        make_on_first_request(patcher, response_class, "backend", _unless_invocation)
