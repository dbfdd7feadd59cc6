"""Request checks as the service makes them, driven by botocore's `redshift-data` model.

Clients may skip their own checks (parameter_validation=False, as Step Functions' aws-sdk tasks in moto do), so the
emulator checks every request itself: types, required members, ranges, enums and patterns from the model, the
documented limit the model does not carry (SQL text size), and where the SQL runs (the target members).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any

import botocore.session

from shiftflow.dataapi.errors import ValidationException
# The Data API's documented limit the model does not carry: 100 KB of SQL text, a batch's SQL texts together (as the
# jobs check before they submit: offline refuses at least what the service refuses).
from shiftflow.jobs.submit import MAX_SQL_BYTES
from shiftflow.sql import named_parameters

_ID_PATTERN = r"^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$"


@lru_cache(maxsize=1)
def service_model() -> Any:
    return botocore.session.get_session().get_service_model("redshift-data")


def validate_request(operation: str, request: Mapping[str, Any]) -> None:
    """Everything the service checks about a request before it looks at any statement or database."""
    validate(service_model().operation_model(operation).input_shape, request)
    sqls = [request["Sql"]] if "Sql" in request else list(request.get("Sqls") or [])
    if sum(len(sql.encode("utf-8", "surrogatepass")) for sql in sqls) > MAX_SQL_BYTES:
        raise ValidationException("Cannot process query string larger than 100kB")
    if request.get("Parameters"):
        validate_parameters_used(request["Parameters"], sqls)


def validate_parameters_used(parameters: list[Mapping[str, Any]], sqls: list[str]) -> None:
    """Every parameter given is a `:name` placeholder of the SQL (a batch's SQL texts together; strings and comments
    hold none): the service refuses the request otherwise, before anything runs."""
    used = {name for sql in sqls for name in named_parameters(sql)}
    unused = list(dict.fromkeys(p["name"] for p in parameters if p["name"] not in used))
    if unused:
        raise ValidationException(f"Parameters list contains unused parameters. Unused parameters: "
                                  f"[{', '.join(unused)}]")


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _constraint(value: Any, path: str, message: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {message}")


def validate(shape: Any, value: Any, path: str = "") -> None:
    """Types, required members, ranges, enums and patterns of `value` against a botocore shape."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _constraint(value, path or "request", "Member must be a structure")
        for name in shape.required_members:
            if value.get(name) is None:
                raise ValidationException(f"1 validation error detected: Value null at '{_camel(name)}' failed to "
                                          "satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                validate(member, value[name], f"{path}.{_camel(name)}" if path else _camel(name))
        return
    if kind == "list":
        if not isinstance(value, list):
            raise _constraint(value, path, "Member must be a list")
        _check_range(shape, len(value), value, path, "length")
        for index, item in enumerate(value):
            validate(shape.member, item, f"{path}.{index + 1}.member")
        return
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _constraint(value, path, "Member must be a number")
        _check_range(shape, value, value, path, "value")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _constraint(value, path, "Member must be a boolean")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise _constraint(value, path, "Member must be a string")
        _check_range(shape, len(value), value, path, "length")
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise _constraint(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and path == "id" and not re.fullmatch(_ID_PATTERN.strip("^$"), value):
            raise ValidationException(f"id must satisfy regex pattern: {_ID_PATTERN}")
        if pattern and not re.fullmatch(pattern, value):
            raise _constraint(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        return
    raise _constraint(value, path, f"Member of type {kind} is not checked locally")


def _check_range(shape: Any, size: int, value: Any, path: str, what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise _constraint(value, path, f"Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        raise _constraint(value, path, f"Member must have {what} less than or equal to {high}")


def validate_target(request: Mapping[str, Any], warehouses: Mapping[str, Collection[str]] | None = None) -> None:
    """Where the SQL runs, as the service accepts it: a SessionId alone; or a Database with a ClusterIdentifier
    (IAM, DbUser or SecretArn), a WorkgroupName (IAM or SecretArn), or a SecretArn alone (its secret names the
    cluster). `warehouses`: the clusters and workgroups that exist ({"ClusterIdentifier": names, "WorkgroupName":
    names}); None: any."""
    cluster, workgroup, secret = request.get("ClusterIdentifier"), request.get("WorkgroupName"), request.get("SecretArn")
    if request.get("SessionId"):
        if cluster or workgroup or secret or request.get("Database") or request.get("DbUser"):
            raise ValidationException("SessionId cannot be specified together with ClusterIdentifier, "
                                      "WorkgroupName, Database, SecretArn or DbUser.")
        return
    validate_one_warehouse(request)
    if not (cluster or workgroup or secret):
        raise ValidationException("Either ClusterIdentifier, WorkgroupName or SecretArn must be specified.")
    if request.get("DbUser") and secret:
        raise ValidationException("DbUser and SecretArn cannot both be specified.")
    if request.get("DbUser") and not cluster:
        raise ValidationException("DbUser requires ClusterIdentifier (serverless users come from IAM or the secret).")
    if not request.get("Database"):
        raise ValidationException("Database must be specified.")
    if warehouses is not None:
        validate_warehouse_exists(request, warehouses)


def validate_warehouse_exists(request: Mapping[str, Any], warehouses: Mapping[str, Collection[str]]) -> None:
    """The cluster or workgroup named is one that exists: the service's answer to an unknown cluster is "Redshift
    endpoint doesn't exist in this region." (as reported in aws/aws-cdk issue 30536); the same for a workgroup
    (chosen). A workgroup's ARN names it by its last part (locally its name)."""
    for member in ("ClusterIdentifier", "WorkgroupName"):
        name = str(request.get(member) or "")
        if name and name.rsplit("/", 1)[-1] not in warehouses.get(member, ()):
            raise ValidationException("Redshift endpoint doesn't exist in this region.")


def validate_one_warehouse(request: Mapping[str, Any]) -> None:
    """A cluster or a workgroup, not both (also ListStatements' filters: "When providing ClusterIdentifier, then
    WorkgroupName can't be specified")."""
    if request.get("ClusterIdentifier") and request.get("WorkgroupName"):
        raise ValidationException("ClusterIdentifier and WorkgroupName cannot both be specified.")


# Where a request's secret puts the user it names (secret_user): kept with the request, never shown (not a member).
SECRET_USER = "shiftflow:SecretUser"
# Where the database user of the caller's IAM identity goes (IAM:<user>, IAMR:<role>: what Redshift derives for a
# call without DbUser or SecretArn), given by whoever knows who calls (DataApiEmulator.call's caller): kept with the
# request, never shown. Without it the caller is the local administrator (engines.base.LOCAL_IAM_USER).
IAM_USER = "shiftflow:IamUser"
NO_SECRET = "Secrets Manager can't find the specified secret."  # Secrets Manager's own words (chosen: see below)
EMPTY_SECRET = "username and password in secret cannot be empty"  # the service's (boto/boto3 issue 2899)


def secret_user(request: Mapping[str, Any], secrets: Callable[[str], Mapping[str, Any] | None] | None) -> str:
    """The database user of a request's SecretArn ("" without one): its secret's username. The secret must exist
    and hold a username and a password (data-api.md: "a secret ... which has username and password"), else the
    request is refused as ExecuteStatement refuses it. AWS's text for a secret that does not exist is not
    documented: Secrets Manager's ResourceNotFoundException message is used. `secrets`: the secret's JSON by name or
    ARN, None when none exists; None (the emulator alone): any secret runs, as the IAM identity's user."""
    arn = request.get("SecretArn")
    if not arn or secrets is None:
        return ""
    value = secrets(str(arn))
    if value is None:
        raise ValidationException(NO_SECRET)
    if not value.get("username") or not value.get("password"):
        raise ValidationException(EMPTY_SECRET)
    return str(value["username"])


TARGET_MEMBERS = ("ClusterIdentifier", "DbUser", "Database", "SecretArn", "WorkgroupName")


def target_members(request: Mapping[str, Any]) -> dict[str, Any]:
    """The members of a request that say where its SQL runs, those it has."""
    return {k: request[k] for k in TARGET_MEMBERS if request.get(k)}
