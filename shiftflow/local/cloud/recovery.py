"""What a stopped or killed local cloud left running, settled when a cloud stops and when the next one starts.

Nothing runs in a cloud that has just started, so every guard still Running belongs to an execution that died with
the previous cloud: it becomes Failed, naming the interrupted execution (so `shiftflow reset` re-arms it and no run
is skipped for ever), its run gets a history item ABORTED, and workflow and job audit items still RUNNING say
ABORTED. Every write is conditional on the item still being as read: a run that ended meanwhile keeps its own end.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from shiftflow.guard import RUNNING as GUARD_RUNNING
from shiftflow.guard import plain
from shiftflow.workflows.audit import RUNNING as AUDIT_RUNNING

log = logging.getLogger(__name__)

ABORTED = "ABORTED"
CAUSE = "the local cloud stopped"
INTERRUPTED_STEP = "local cloud stopped"


@dataclass
class Settled:
    """What was settled, for the log and the tests."""

    guards: list[str] = field(default_factory=list)
    executions: list[str] = field(default_factory=list)
    audit_items: int = 0


def now_timestamp() -> str:
    """Step Functions' timestamp format (UTC, milliseconds), as the state machines write these items."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def settle_interrupted_runs(dynamodb: Any, outputs: dict[str, str],
                            committed: dict[str, list[str]] | None = None) -> Settled:
    """Record as aborted every run the previous cloud left Running (see the module's docstring); `committed`: the
    SQL jobs each execution had committed (shiftflow.local.cloud.durable_executions.committed_jobs)."""
    settled = Settled()
    ended = now_timestamp()
    if "JobGuardTableName" in outputs:
        for guard in _scan(dynamodb, outputs["JobGuardTableName"]):
            if guard.get("JobState") == GUARD_RUNNING:
                jobs = (committed or {}).get(str(guard.get("OwnerExecution", "")), [])
                _fail_guard(dynamodb, outputs["JobGuardTableName"], guard, ended, jobs, settled)
                if "RunHistoryTableName" in outputs:
                    _record_aborted_run(dynamodb, outputs["RunHistoryTableName"], guard, ended)
    for key, name_attribute in (("WorkflowAuditTableName", None), ("JobAuditTableName", "job_name")):
        if key in outputs:
            settled.audit_items += _abort_audit_items(dynamodb, outputs[key], name_attribute, ended)
    if settled.guards or settled.audit_items:
        log.warning("recorded as aborted (%s): guards %s, %d audit items", CAUSE, ", ".join(settled.guards),
                    settled.audit_items)
    return settled


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [plain(item) for page in pages for item in page["Items"]]


def interruption(owner: str, committed_jobs: list[str]) -> str:
    """The guard's LastError after an interruption: which execution, and which jobs' SQL it had committed."""
    jobs = ", ".join(committed_jobs) if committed_jobs else "none"
    return f"{ABORTED}: {CAUSE} during execution {owner}; jobs whose SQL had committed: {jobs}"


def _fail_guard(dynamodb: Any, table: str, guard: dict[str, Any], ended: str, committed_jobs: list[str],
                settled: Settled) -> None:
    owner = str(guard.get("OwnerExecution", ""))
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"JobID": {"S": guard["JobID"]}},
            UpdateExpression="SET JobState = :failed, JobEnd = :end, LastStatus = :aborted, LastExecution = :owner, "
                             "FailedStep = :step, LastError = :error",
            ConditionExpression="JobState = :running AND OwnerExecution = :owner",
            ExpressionAttributeValues={
                ":failed": {"S": "Failed"}, ":running": {"S": GUARD_RUNNING}, ":end": {"S": ended},
                ":aborted": {"S": ABORTED}, ":owner": {"S": owner}, ":step": {"S": INTERRUPTED_STEP},
                ":error": {"S": interruption(owner, committed_jobs)},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return  # released or taken again meanwhile: not the interrupted run's any more
    settled.guards.append(str(guard["JobID"]))
    settled.executions.append(owner)


def _record_aborted_run(dynamodb: Any, table: str, guard: dict[str, Any], ended: str) -> None:
    item = {
        "JobID": {"S": guard["JobID"]},
        "RunStart": {"S": str(guard.get("JobStart") or ended)},
        "RunEnd": {"S": ended},
        "ExecutionArn": {"S": str(guard.get("OwnerExecution", ""))},
        "Status": {"S": ABORTED},
        "FailedStep": {"S": INTERRUPTED_STEP},
        "Error": {"S": ABORTED},
        "Message": {"S": CAUSE},
    }
    if guard.get("RunDate"):
        item["RunDate"] = {"S": str(guard["RunDate"])}
    try:
        dynamodb.put_item(TableName=table, Item=item,
                          ConditionExpression="attribute_not_exists(JobID)")  # the run recorded its own end
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass


def _abort_audit_items(dynamodb: Any, table: str, name_attribute: str | None, ended: str) -> int:
    aborted = 0
    for item in _scan(dynamodb, table):
        if item.get("execution_status") != AUDIT_RUNNING:
            continue
        key = {"workflow_execution_id": {"S": item["workflow_execution_id"]}}
        if name_attribute:
            key[name_attribute] = {"S": item[name_attribute]}
        try:
            dynamodb.update_item(
                TableName=table, Key=key,
                UpdateExpression="SET execution_status = :aborted, execution_end_ts = :end, detail = :cause",
                ConditionExpression="execution_status = :running",
                ExpressionAttributeValues={":aborted": {"S": ABORTED}, ":running": {"S": AUDIT_RUNNING},
                                           ":end": {"S": ended}, ":cause": {"S": CAUSE}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        aborted += 1
    return aborted
