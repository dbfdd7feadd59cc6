"""Every AWS call a Lambda handler or a state machine makes in the local runtime, allowed or denied by its role.

Who calls: a handler runs on a thread of its own (moto_gaps.lambda_in_process), bound here to its function's role
for the invocation (Lambda's role session is named after the function); the ASL interpreter creates a client per
service call (``boto_client_for(..., state_credentials)``, ``state_credentials.role_arn`` being the execution's
role), tagged here with that role. Any other call (the CLI, the AWS CLI, SDKs and tests, in-process or over the
local cloud's HTTP endpoint, which never passes through these hooks) acts as the account's administrator. A thread
a handler starts, and a task it submits to a thread pool (its own, or boto3's S3 transfer manager's), act as the
handler's role, as every thread of a Lambda function's code does; threads of the local AWS side (the Data API
emulator, moto, the local runtime) act as AWS, whoever's call they serve.

How: three botocore event handlers on every client (added to botocore's BUILTIN_HANDLERS, ahead of the Data API
emulator's routing, so they also see the `redshift-data` calls the emulator answers):
- ``before-parameter-build``: the call's actions and resources (``actions.required``), evaluated against the
  role's policies (``policy.evaluate``); a denial is kept in the request context;
- ``before-call.<service>``: a denied call is answered with AWS's 403 error (AccessDenied / AccessDeniedException /
  AuthorizationError, "User: <assumed-role ARN> is not authorized to perform: <action> on resource: <ARN> because no
  identity-based policy allows the <action> action"), before moto or the emulator sees it;
- ``after-call``: S3 answers a missing key with 404 NoSuchKey only to a caller allowed s3:ListBucket on the bucket,
  else 403 AccessDenied (S3 user guide, GetObject "Permissions"), which moto does not do; the Data API's statements
  remember their owner (kept by the emulator's store with the statement, on disk when it is: a restarted local cloud
  knows them), whose id is the ``redshift-data:statement-owner-iam-userid`` condition key of DescribeStatement,
  GetStatementResult and CancelStatement.
A startExecution.sync of a state machine is also checked for the managed EventBridge rule Step Functions creates with
its role (``sync_rule_authorizations``), a check no API call of the interpreter's shows.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

import boto3
from botocore import handlers
from botocore.awsrequest import AWSResponse

from shiftflow.dataapi.inprocess import DATABASE_IDENTITY, RawBody
from shiftflow.local.iam import actions
from shiftflow.local.iam.actions import Authorization, Scope
from shiftflow.local.iam.policy import Decision, evaluate
from shiftflow.local.iam.roles import Role, RoleRegistry
from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.thread_bindings import bound

_PRINCIPAL = "shiftflow_iam_principal"  # request-context keys
_DENIAL = "shiftflow_iam_denial"
_ROLE_LEVEL = "shiftflow_iam_role_level"  # ListStatements' RoleLevel (default true)
_ADMINISTRATOR_USERID = "AIDALOCALADMINISTRATOR"  # who owns what non-role callers submit
_ERROR_CODES = {"s3": "AccessDenied", "sns": "AuthorizationError", "sqs": "AccessDenied"}
_OWNED_STATEMENT_OPERATIONS = {"DescribeStatement", "GetStatementResult", "GetStatementResultV2", "CancelStatement"}


@dataclass(frozen=True)
class Principal:
    """A role session, as STS names it: arn:aws:sts::<account>:assumed-role/<role>/<session>."""

    role: Role
    session: str
    account_id: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role.name}/{self.session}"

    @property
    def userid(self) -> str:
        return f"{self.role.role_id}:{self.session}"

    @property
    def database_user(self) -> str:
        """The Redshift user of the role's Data API calls without DbUser or SecretArn (GetClusterCredentialsWithIAM,
        redshift-serverless GetCredentials: "mapped 1:1 to the source IAM identity", a role's as IAMR:<role>)."""
        return f"IAMR:{self.role.name}"


@dataclass(frozen=True)
class Denial:
    principal: Principal
    authorization: Authorization
    decision: Decision

    @property
    def message(self) -> str:
        action, resource = self.authorization.action, self.authorization.resource
        because = (f"because no identity-based policy allows the {action} action"
                   if self.decision is Decision.IMPLICIT_DENY else "with an explicit deny in an identity-based policy")
        return f"User: {self.principal.arn} is not authorized to perform: {action} on resource: {resource} {because}"


class StatementOwners(Protocol):
    """Where the Data API keeps who submitted each statement (the emulator's store: kept with the statement, on disk
    when the statements are)."""

    def set_owner(self, statement_id: str, owner: str) -> None: ...

    def owner(self, statement_id: str) -> str | None: ...


class Enforcement:
    """The roles enforced (None until the template's roles are known: nothing is enforced before), and the Data
    API's statement owners (None until the emulator is known: no statement has an owner before)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.roles: RoleRegistry | None = None
        self.statement_owners: StatementOwners | None = None

    def principal_for_role(self, role_arn: str, session: str) -> Principal:
        assert self.roles is not None
        # A role the template does not declare has no policies: everything it tries is denied.
        role = self.roles.role(role_arn) or Role(role_arn.rsplit("/", 1)[-1], role_arn, "AROAUNDECLARED")
        return Principal(role, session, self.scope.account_id)

    def check(self, service: str, operation: str, params: Mapping[str, Any], principal: Principal) -> Denial | None:
        context = self._condition_keys(principal, service, operation, params)
        for authorization in actions.required(service, operation, params, self.scope):
            decision = evaluate(principal.role.statements, authorization.action, authorization.resource, context)
            if decision is not Decision.ALLOWED:
                return Denial(principal, authorization, decision)
        return None

    def _condition_keys(self, principal: Principal, service: str, operation: str,
                        params: Mapping[str, Any]) -> dict[str, str]:
        keys = {"aws:PrincipalArn": principal.role.arn, "aws:PrincipalAccount": self.scope.account_id,
                "aws:userid": principal.userid, "aws:RequestedRegion": self.scope.region}
        if service == "redshift-data" and operation in _OWNED_STATEMENT_OPERATIONS:
            owner = self.statement_owner(str(params.get("Id", "")))
            if owner is not None:
                keys["redshift-data:statement-owner-iam-userid"] = owner
        return keys

    def record_statement_owner(self, statement_id: str, principal: Principal | None) -> None:
        if self.statement_owners is not None:
            self.statement_owners.set_owner(statement_id, principal.userid if principal else _ADMINISTRATOR_USERID)

    def listed_for(self, statement_id: str, principal: Principal, role_level: bool) -> bool:
        """Whether ListStatements shows the statement to `principal`: one its role ran (role_level), or its session."""
        owner = self.statement_owner(statement_id) or ""
        return owner.split(":", 1)[0] == principal.role.role_id if role_level else owner == principal.userid

    def statement_owner(self, statement_id: str) -> str | None:
        if self.statement_owners is None:
            return None
        return self.statement_owners.owner(statement_id.split(":", 1)[0])  # a sub-statement: its batch's owner


_active: list[Enforcement] = []  # the innermost enforcement decides
_bound = threading.local()  # .principal: the role session of the handler running on this thread


def _enforcement() -> Enforcement | None:
    return _active[-1] if _active and _active[-1].roles is not None else None


@contextlib.contextmanager
def acting_as(principal: Principal | None) -> Iterator[None]:
    """Calls made on this thread inside the block are the principal's (None: the administrator's)."""
    with bound(_bound, "principal", principal):
        yield


def function_principal(function_name: str) -> Principal | None:
    enforcement = _enforcement()
    if enforcement is None:
        return None
    assert enforcement.roles is not None
    role_arn = enforcement.roles.function_roles.get(function_name)
    if role_arn is None:
        return None  # a handler registered outside template.yaml (a test's): not a function of the stack
    return enforcement.principal_for_role(role_arn, function_name)


# --- botocore handlers ----------------------------------------------------------------------------------------------------

def _service(model: Any) -> str:
    return model.service_model.service_id.hyphenize()


def _authorize(params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    enforcement = _enforcement()
    if enforcement is None:
        return
    principal = context.get(_PRINCIPAL) or getattr(_bound, "principal", None)
    if principal is None:
        return  # the administrator
    context[_PRINCIPAL] = principal
    if _service(model) == "redshift-data":
        context[DATABASE_IDENTITY] = principal.database_user
    if model.name == "ListStatements":
        context[_ROLE_LEVEL] = params.get("RoleLevel") is not False
    denial = enforcement.check(_service(model), model.name, params, principal)
    if denial is not None:
        context[_DENIAL] = denial


def _answer_denial(model: Any, params: Mapping[str, Any], context: Mapping[str, Any],
                   **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    denial: Denial | None = context.get(_DENIAL)
    if denial is None:
        return None
    return _error_response(params.get("url", "http://localhost/"), 403,
                           _ERROR_CODES.get(_service(model), "AccessDeniedException"), denial.message)


def _after_call(http_response: AWSResponse, parsed: dict[str, Any], model: Any, context: Mapping[str, Any],
                **_: Any) -> None:
    enforcement = _enforcement()
    if enforcement is None:
        return
    service, principal = _service(model), context.get(_PRINCIPAL)
    if service == "redshift-data" and model.name in ("ExecuteStatement", "BatchExecuteStatement") and "Id" in parsed:
        enforcement.record_statement_owner(parsed["Id"], principal)
    elif service == "redshift-data" and model.name == "ListStatements" and principal is not None:
        # "If true, all statements run by the caller's IAM role are returned. If false, only statements run by the
        # caller's IAM role in the current IAM session are returned." (ListStatements, RoleLevel)
        parsed["Statements"] = [statement for statement in parsed.get("Statements", [])
                                if enforcement.listed_for(statement["Id"], principal, context.get(_ROLE_LEVEL, True))]
    elif (service == "s3" and principal is not None and model.name in ("GetObject", "HeadObject")
          and http_response.status_code == 404):
        _deny_missing_key_without_list(enforcement, principal, http_response, parsed, model.name)


def _deny_missing_key_without_list(enforcement: Enforcement, principal: Principal, http_response: AWSResponse,
                                   parsed: dict[str, Any], operation: str) -> None:
    bucket = parsed.get("Error", {}).get("BucketName") or _bucket_of(http_response.url)
    denial = enforcement.check("s3", "ListObjectsV2", {"Bucket": bucket}, principal)
    if denial is None:
        return
    http_response.status_code = 403
    code, message = ("403", "Forbidden") if operation == "HeadObject" else ("AccessDenied", denial.message)
    parsed["Error"] = {"Code": code, "Message": message}
    parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = 403


def _bucket_of(url: str) -> str:
    parsed = urlparse(url)
    host_bucket = parsed.hostname.split(".s3", 1)[0] if parsed.hostname and ".s3" in parsed.hostname else ""
    return host_bucket or parsed.path.lstrip("/").split("/", 1)[0]


def _error_response(url: str, status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id}
    http = AWSResponse(url, status, headers, RawBody(b""))
    parsed = {"Error": {"Code": code, "Message": message}, "Message": message,
              "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers,
                                   "RetryAttempts": 0}}
    return http, parsed


def _handler_specs() -> list[tuple[Any, ...]]:
    specs: list[tuple[Any, ...]] = [("before-parameter-build", _authorize), ("after-call", _after_call)]
    # On each service's node, registered first: ahead of the Data API emulator's answer on `before-call.redshift-data`.
    specs += [(f"before-call.{service}", _answer_denial, handlers.REGISTER_FIRST)
              for service in sorted(actions.ENFORCED_SERVICES)]
    return specs


def _register_on(events: Any) -> None:
    for event, handler, *section in _handler_specs():
        events.unregister(event, handler, unique_id=f"shiftflow-iam-{event}")
        register = events.register_first if section else events.register
        register(event, handler, unique_id=f"shiftflow-iam-{event}")


def _install_handlers() -> None:
    for position, spec in enumerate(_handler_specs()):
        if spec not in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.insert(position, spec)
    if boto3.DEFAULT_SESSION is not None:
        _register_on(boto3.DEFAULT_SESSION._session.get_component("event_emitter"))


# --- who calls: handler threads and the interpreter's clients ---------------------------------------------------------------

def _patch_handler_runs(patcher: Patcher) -> None:
    from shiftflow.local.moto_gaps import lambda_in_process

    original = lambda_in_process._run_handler

    def run_handler(handler: Any, event: Any, context: Any) -> tuple[bytes, bool]:
        with acting_as(function_principal(context.function_name)):
            return original(handler, event, context)

    patcher.set(lambda_in_process, "_run_handler", run_handler)


def _interpreter_modules() -> list[Any]:
    import importlib

    base = "moto.stepfunctions.parser.asl.component.state.exec"
    names = ["state_task.lambda_eval_utils", "state_map.result_writer.resource_eval.resource_eval_s3",
             "state_map.item_reader.eval.resource_eval_s3"]
    names += [f"state_task.service.state_task_service_{service}" for service in
              ("unsupported", "glue", "events", "ecs", "sqs", "sfn", "dynamodb", "batch", "sns", "aws_sdk")]
    return [importlib.import_module(f"{base}.{name}") for name in names]


def _patch_interpreter_clients(patcher: Patcher) -> None:
    """The interpreter's clients call as the state machine's role. moto makes a new client for every task it runs
    (tens of ms each, the costliest part of a short task): one client per region, service and role is kept instead
    (boto3 clients are thread-safe), and the role's principal is looked up at each call, as the roles are now."""
    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.utils import boto_client

    original: Callable[..., Any] = boto_client.boto_client_for
    clients: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = getattr(state_credentials, "role_arn", None)
        key = (region, service, role_arn, botocore_stubber.enabled)  # the stubber's state decides moto's endpoint
        with lock:
            if key in clients:
                return clients[key]
        client = original(region=region, service=service, state_credentials=state_credentials)
        if role_arn:
            def tag(context: dict[str, Any], **_: Any) -> None:
                enforcement = _enforcement()
                if enforcement is not None:
                    context[_PRINCIPAL] = enforcement.principal_for_role(role_arn, "StepFunctions")

            client.meta.events.register_first("before-parameter-build", tag)
        with lock:
            return clients.setdefault(key, client)

    patcher.rebind([boto_client, *_interpreter_modules()], "boto_client_for", original, boto_client_for)


# startExecution.sync learns of the child's end through a managed EventBridge rule that Step Functions creates and
# reads with the state machine's role (Step Functions developer guide, "IAM policies for starting Step Functions
# workflows from Step Functions"): without these the .sync start fails as the call itself would.
SYNC_EXECUTION_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
_SYNC_RULE_ACTIONS = ("events:PutRule", "events:PutTargets", "events:DescribeRule")  # creating it, then reading


def sync_rule_authorizations(scope: Scope) -> list[Authorization]:
    rule = scope.arn("events", f"rule/{SYNC_EXECUTION_RULE}")
    return [Authorization(action, rule) for action in _SYNC_RULE_ACTIONS]


def _patch_sync_starts(patcher: Patcher) -> None:
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    original = StateTaskServiceSfn._eval_service_task

    def eval_service_task(self: StateTaskServiceSfn, **kwargs: Any) -> None:
        enforcement = _enforcement()
        role_arn = getattr(kwargs.get("state_credentials"), "role_arn", None)
        if enforcement is not None and role_arn and self.resource.condition in (ResourceCondition.Sync,
                                                                                ResourceCondition.Sync2):
            principal = enforcement.principal_for_role(role_arn, "StepFunctions")
            for authorization in sync_rule_authorizations(enforcement.scope):
                decision = evaluate(principal.role.statements, authorization.action, authorization.resource)
                if decision is not Decision.ALLOWED:
                    # Answered as a denied StartExecution is: the same error, naming the rule's action.
                    _, parsed = _error_response("http://localhost/", 403, "AccessDeniedException",
                                                Denial(principal, authorization, decision).message)
                    raise ClientError(parsed, "StartExecution")  # type: ignore[arg-type]
        original(self, **kwargs)

    patcher.set(StateTaskServiceSfn, "_eval_service_task", eval_service_task)


# Threads and thread-pool tasks act as whoever started or submitted them (on Lambda every thread of the function's
# code signs with its role's credentials), unless the local AWS side did: the Data API emulator, moto and the local
# runtime's own machinery start threads while serving a handler's call, and those act as AWS, not as the caller.
_AWS_SIDE = ("shiftflow.dataapi", "shiftflow.local", "moto")
_THREAD_MACHINERY = ("threading", "concurrent.futures")


def _started_by_aws_side() -> bool:
    """Whether the first caller outside the thread machinery (and this module) is the local AWS side."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != __name__ and not module.startswith(_THREAD_MACHINERY):
            return module.startswith(_AWS_SIDE)
        frame = frame.f_back
    return True


def _patch_thread_identity(patcher: Patcher) -> None:
    start, submit = threading.Thread.start, concurrent.futures.ThreadPoolExecutor.submit

    def start_as_caller(thread: threading.Thread) -> None:
        principal = getattr(_bound, "principal", None)
        if principal is not None and not _started_by_aws_side():
            run = thread.run

            def run_as_caller() -> None:
                with acting_as(principal):
                    run()

            thread.run = run_as_caller  # type: ignore[method-assign]
        start(thread)

    def submit_as_caller(executor: concurrent.futures.ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any,
                         **kwargs: Any) -> concurrent.futures.Future[Any]:
        if _started_by_aws_side():
            return submit(executor, fn, *args, **kwargs)
        principal = getattr(_bound, "principal", None)  # None too: a pool's thread may have been started by a role

        def call_as_caller() -> Any:
            with acting_as(principal):
                return fn(*args, **kwargs)

        return submit(executor, call_as_caller)

    patcher.set(threading.Thread, "start", start_as_caller)
    patcher.set(concurrent.futures.ThreadPoolExecutor, "submit", submit_as_caller)


@contextlib.contextmanager
def enforce(scope: Scope) -> Iterator[Enforcement]:
    """While the block runs, role principals' calls are checked; set ``.roles`` to start enforcing."""
    enforcement = Enforcement(scope)
    patcher = Patcher()
    _install_handlers()
    _patch_handler_runs(patcher)
    _patch_interpreter_clients(patcher)
    _patch_thread_identity(patcher)
    _patch_sync_starts(patcher)
    _active.append(enforcement)
    try:
        yield enforcement
    finally:
        _active.remove(enforcement)
        patcher.restore()
