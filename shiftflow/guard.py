"""The DynamoDB job guard seen from outside the state machines: read it, and re-arm it after a failure.

The state machines take and release the guard themselves with conditional writes (statemachine/*.asl.json); this
module is the operator's side: `shiftflow status` (with each Running guard's owner status) and `shiftflow reset`.
shiftflow.heal fails the guard of a run that ended without doing it itself.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer

READY, RUNNING, FAILED = "Ready", "Running", "Failed"


@functools.cache
def _deserializer() -> TypeDeserializer:
    # boto3 only for binary values: importing boto3 imports s3transfer, a third of `shiftflow status`
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


class GuardError(RuntimeError):
    """The guard is not in a state the operation accepts; the message says what to do."""


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python values, as boto3's TypeDeserializer gives them."""
    return {key: plain_value(value) for key, value in item.items()}


def plain_value(value: dict[str, Any]) -> Any:
    """One DynamoDB attribute value as boto3's TypeDeserializer gives it (numbers as Decimal, string and number
    sets as sets); binary values, which no shiftflow table holds, through boto3's own deserializer (its Binary)."""
    ((kind, content),) = value.items()
    if kind == "S" or kind == "BOOL":
        return content
    if kind == "N":
        return Decimal(content)  # DynamoDB's numbers have at most 38 digits: exact, as boto3's 38-digit context
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: plain_value(item) for key, item in content.items()}
    if kind == "L":
        return [plain_value(item) for item in content]
    if kind == "SS":
        return set(content)
    if kind == "NS":
        return {Decimal(number) for number in content}
    return _deserializer().deserialize(value)


def read_guards(dynamodb: Any, table: str, job: str | None = None) -> list[dict[str, Any]]:
    """The guard of `job`, or of every job; a job never run has no item (it counts as Ready)."""
    if job:
        item = dynamodb.get_item(TableName=table, Key={"JobID": {"S": job}}, ConsistentRead=True).get("Item")
        return [plain(item)] if item else []
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sorted((plain(item) for page in pages for item in page["Items"]), key=lambda item: item["JobID"])


# The owner status of a Running guard whose execution Step Functions does not know (deleted with its stack, kept
# past the 90 days of closed executions, or of a local runtime session that has ended): it is not running either.
OWNER_NOT_FOUND = "NOT_FOUND"


def running_owner(guard: dict[str, Any]) -> str:
    """The execution a Running guard names as its owner; "" for a guard that is not Running or names none."""
    owner = guard.get("OwnerExecution")
    return owner if guard.get("JobState") == RUNNING and owner else ""


def with_owner_status(stepfunctions: Any, guards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each guard plus `stale` and `owner_status`: a Running guard whose owner execution has ended (DescribeExecution)
    is stale until the heal of that run marks it Failed, or an operator resets it."""
    annotated = []
    for guard in guards:
        owner = running_owner(guard)
        status = _execution_status(stepfunctions, owner) if owner else ""
        annotated.append({**guard, "stale": status not in ("", "RUNNING"), "owner_status": status})
    return annotated


def _execution_status(stepfunctions: Any, execution_arn: str) -> str:
    try:
        return stepfunctions.describe_execution(executionArn=execution_arn)["status"]
    except stepfunctions.exceptions.ExecutionDoesNotExist:
        return OWNER_NOT_FOUND


def reset_guard(dynamodb: Any, table: str, job: str, force: bool = False) -> str:
    """Re-arm a Failed guard (Running too with `force`, for a run that died without releasing it).

    One conditional write, so a run that starts meanwhile is never overwritten. Returns what was done.
    """
    allowed = [FAILED, RUNNING] if force else [FAILED]
    guard = read_guards(dynamodb, table, job)
    if not guard:
        return f"job {job} has no guard yet: it is ready to run, nothing to reset"
    state = guard[0].get("JobState")
    if state == READY:
        return f"job {job} is already Ready: nothing to reset"
    if state not in allowed:
        raise GuardError(
            f"job {job} is {state} (execution {guard[0].get('OwnerExecution', '?')}): a live run holds the guard. "
            "Stop that execution first, or pass --force if it is known to be dead"
        )
    names = {":ready": {"S": READY}}
    conditions = []
    for index, value in enumerate(allowed):
        names[f":state{index}"] = {"S": value}
        conditions.append(f"JobState = :state{index}")
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"JobID": {"S": job}},
            UpdateExpression="SET JobState = :ready, ResetFrom = JobState",
            ConditionExpression=" OR ".join(conditions),
            ExpressionAttributeValues=names,
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise GuardError(f"job {job} changed while resetting it: run `shiftflow status {job}` and try again") from None
    detail = f" (failed step {guard[0]['FailedStep']})" if guard[0].get("FailedStep") else ""
    return f"job {job}: guard reset from {state} to Ready{detail}; the next run will start"


def read_history(dynamodb: Any, table: str, job: str, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs of `job`, newest first."""
    response = dynamodb.query(
        TableName=table,
        KeyConditionExpression="JobID = :job",
        ExpressionAttributeValues={":job": {"S": job}},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [plain(item) for item in response["Items"]]
