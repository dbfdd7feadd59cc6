"""The DynamoDB job guard seen from outside the state machines: read it, and re-arm it after a failure.

The state machines take and release the guard themselves with conditional writes (statemachine/*.asl.json); this
module is the operator's side: `shiftflow status` and `shiftflow reset`.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

READY, RUNNING, FAILED = "Ready", "Running", "Failed"
_deserializer = TypeDeserializer()


class GuardError(RuntimeError):
    """The guard is not in a state the operation accepts; the message says what to do."""


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python values."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def read_guards(dynamodb: Any, table: str, job: str | None = None) -> list[dict[str, Any]]:
    """The guard of `job`, or of every job; a job never run has no item (it counts as Ready)."""
    if job:
        item = dynamodb.get_item(TableName=table, Key={"JobID": {"S": job}}, ConsistentRead=True).get("Item")
        return [plain(item)] if item else []
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sorted((plain(item) for page in pages for item in page["Items"]), key=lambda item: item["JobID"])


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
