"""The job and workflow audit tables: what each run did, job by job, readable while it runs and after it ended.

Job audit table, key (workflow_execution_id, job_name): one item per job of a run, seed 003's attributes
(workflow_id, execution_start_ts, execution_end_ts, execution_status) plus stage_number, script, attempt (the
job's `retries` used), statement_id, row_count, conflict_attempt and conflicted_statements (the statements that failed
on a transaction conflict before statement_id ran, JSON [{statement_id, error}]; a failure's error_message names
them too), error_type and error_message ("error" and "rows" are DynamoDB reserved words). The stage executions write
RUNNING, SUCCEEDED and FAILED as jobs go; `close_run` settles the rest.

Workflow audit table, key workflow_execution_id, index `by_workflow` (workflow_id, execution_start_ts): one item per
run (start, end, status, jobs, run date and parameters, and where it failed).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shiftflow.workflows.errors import WorkflowNotFound
from shiftflow.workflows.store import from_item

RUNNING, SUCCEEDED, FAILED = "RUNNING", "SUCCEEDED", "FAILED"
# A run whose execution ended outside its own failure path has that execution's status (shiftflow.heal).
ABORTED, TIMED_OUT = "ABORTED", "TIMED_OUT"
UNFINISHED = frozenset({FAILED, ABORTED, TIMED_OUT})  # what a restart may resume
STOPPED = "STOPPED"  # still running when its run ended (its stage execution stopped or lost)
NOT_RUN = "NOT_RUN"  # planned, never started because the run failed earlier
SKIPPED = "SKIPPED"  # its stage has execution_flag n (or a restart left it out)
ALREADY_SUCCEEDED = "ALREADY_SUCCEEDED"  # a restart: it succeeded in the run being restarted
DONE = frozenset({SUCCEEDED, ALREADY_SUCCEEDED})
FINAL = frozenset({SUCCEEDED, FAILED, STOPPED, NOT_RUN, SKIPPED, ALREADY_SUCCEEDED})
BY_WORKFLOW_INDEX = "by_workflow"
_SUBJECT_LIMIT = 100  # SNS subjects are at most 100 characters
_ENDED_AS = {ABORTED: "was stopped", TIMED_OUT: "timed out"}  # a notice's verb; FAILED and the rest: failed


@dataclass(frozen=True)
class PreviousRun:
    """A finished run as the audit tables tell it: what a restart starts from."""

    workflow_execution_id: str
    workflow_id: str
    status: str
    execution_arn: str
    run_date: str
    parameters: dict[str, Any]
    failed_stage: int | None
    jobs: dict[str, dict[str, Any]]  # job name -> its audit item (plain values)


def load_run(dynamodb: Any, workflow_table: str, job_table: str, execution_id: str) -> PreviousRun:
    item = dynamodb.get_item(
        TableName=workflow_table, Key={"workflow_execution_id": {"S": execution_id}}, ConsistentRead=True
    ).get("Item")
    if item is None:
        raise WorkflowNotFound(f"no workflow run {execution_id} in {workflow_table}")
    run = _plain_item(item)
    failed_stage = run.get("failed_stage")
    return PreviousRun(
        workflow_execution_id=execution_id,
        workflow_id=str(run.get("workflow_id", "")),
        status=str(run.get("execution_status", "")),
        execution_arn=str(run.get("execution_arn", "")),
        run_date=str(run.get("run_date", "")),
        parameters=json.loads(run.get("parameters") or "{}"),
        failed_stage=int(failed_stage) if failed_stage not in (None, "") else None,
        jobs={job["job_name"]: job for job in job_items(dynamodb, job_table, execution_id)},
    )


def job_items(dynamodb: Any, job_table: str, execution_id: str) -> list[dict[str, Any]]:
    """Every job audit item of one run, plain values."""
    items: list[dict[str, Any]] = []
    paginator = dynamodb.get_paginator("query")
    pages = paginator.paginate(
        TableName=job_table,
        KeyConditionExpression="workflow_execution_id = :run",
        ExpressionAttributeValues={":run": {"S": execution_id}},
        ConsistentRead=True,
    )
    for page in pages:
        items += [_plain_item(item) for item in page.get("Items", [])]
    return items


def workflow_runs(dynamodb: Any, workflow_table: str, workflow_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs of one workflow, newest first (for `shiftflow history`)."""
    response = dynamodb.query(
        TableName=workflow_table,
        IndexName=BY_WORKFLOW_INDEX,
        KeyConditionExpression="workflow_id = :workflow",
        ExpressionAttributeValues={":workflow": {"S": workflow_id}},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [_plain_item(item) for item in response.get("Items", [])]


# How many past runs of a workflow tell a job's expected duration (completion "auto").
EXPECTED_FROM_RUNS = 5


def expected_durations(dynamodb: Any, workflow_table: str, job_table: str, workflow_id: str,
                       runs: int = EXPECTED_FROM_RUNS) -> dict[str, float]:
    """Each job's longest duration (seconds, start to end of its audit item) among its successes in the workflow's
    last `runs` runs: what `completion: auto` expects of it. Jobs that never succeeded there are left out."""
    longest: dict[str, float] = {}
    for run in workflow_runs(dynamodb, workflow_table, workflow_id, limit=runs):
        for item in job_items(dynamodb, job_table, str(run["workflow_execution_id"])):
            seconds = _duration(item) if item.get("execution_status") == SUCCEEDED else None
            if seconds is not None:
                longest[item["job_name"]] = max(seconds, longest.get(item["job_name"], 0.0))
    return longest


def _duration(item: dict[str, Any]) -> float | None:
    try:
        start = datetime.fromisoformat(str(item["execution_start_ts"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(item["execution_end_ts"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return max((end - start).total_seconds(), 0.0)


def record_start(dynamodb: Any, workflow_table: str, plan: dict[str, Any], execution_arn: str, started_at: str) -> None:
    """The workflow audit item of a run starting, as the workflow state machine's RecordWorkflowStart writes it;
    left as it is when it exists (the heal of a run stopped before it recorded its start needs one to close)."""
    item = {
        "workflow_execution_id": {"S": plan["workflow_execution_id"]},
        "workflow_id": {"S": plan["workflow_id"]},
        "execution_arn": {"S": execution_arn},
        "execution_status": {"S": RUNNING},
        "execution_start_ts": {"S": started_at},
        "run_date": {"S": plan["run_date"]},
        "parameters": {"S": json.dumps(plan["parameters"], separators=(",", ":"))},
        "restart_of": {"S": plan["restart_of"]},
        "jobs": {"S": json.dumps(plan["jobs"], separators=(",", ":"))},
    }
    try:
        dynamodb.put_item(
            TableName=workflow_table, Item=item, ConditionExpression="attribute_not_exists(workflow_execution_id)"
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # recorded by the run itself


def close_run(
    dynamodb: Any,
    job_table: str,
    workflow_table: str,
    plan: dict[str, Any],
    status: str,
    ended_at: str,
    failure: dict[str, str] | None = None,
) -> dict[str, str]:
    """Settle a run: every planned job gets a final audit item, the workflow item its end; returns the notice
    (subject, message) to publish. After a failure, jobs still RUNNING become STOPPED and jobs never started NOT_RUN,
    so nothing is left RUNNING."""
    execution_id = plan["workflow_execution_id"]
    existing = {item["job_name"]: item for item in job_items(dynamodb, job_table, execution_id)}
    new_items: list[dict[str, Any]] = []
    for stage in plan["stages"]:
        for settled in stage["settled"]:
            if settled["job"] not in existing:
                new_items.append(_job_item(plan, stage, settled["job"], settled["status"], ended_at, settled))
        for job in stage["jobs"]:
            current = existing.get(job["name"])
            if current is None:
                new_items.append(_job_item(plan, stage, job["name"], NOT_RUN, ended_at, {"script": job["script"]}))
            elif current.get("execution_status") == RUNNING:
                _stop(dynamodb, job_table, execution_id, job["name"], ended_at)
    write_items(dynamodb, job_table, new_items)
    counts = Counter(item.get("execution_status") for item in job_items(dynamodb, job_table, execution_id))
    failed_stage, failed_job = _where_it_failed(plan, existing, failure)
    notice = _notice(plan, status, counts, failed_stage, failed_job, failure)
    _finish_workflow_item(dynamodb, workflow_table, plan, status, ended_at, counts, failed_stage, failed_job, failure,
                          notice)
    return notice


def _job_item(
    plan: dict[str, Any], stage: dict[str, Any], job: str, status: str, ended_at: str, extra: dict[str, Any]
) -> dict[str, Any]:
    item = {
        "workflow_execution_id": {"S": plan["workflow_execution_id"]},
        "job_name": {"S": job},
        "workflow_id": {"S": plan["workflow_id"]},
        "stage_number": {"N": str(stage["number"])},
        "stage_description": {"S": stage["description"]},
        "execution_status": {"S": status},
        "execution_end_ts": {"S": ended_at},
    }
    for key in ("script", "detail", "succeeded_in"):
        if extra.get(key):
            item[key] = {"S": str(extra[key])}
    return item


def _stop(dynamodb: Any, job_table: str, execution_id: str, job: str, ended_at: str) -> None:
    try:
        dynamodb.update_item(
            TableName=job_table,
            Key={"workflow_execution_id": {"S": execution_id}, "job_name": {"S": job}},
            UpdateExpression="SET execution_status = :stopped, execution_end_ts = :end, detail = :detail",
            ConditionExpression="execution_status = :running",
            ExpressionAttributeValues={
                ":stopped": {"S": STOPPED},
                ":running": {"S": RUNNING},
                ":end": {"S": ended_at},
                ":detail": {"S": "still running when the run ended"},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # it ended on its own meanwhile: its own status stands


def write_items(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    """Put `items` (DynamoDB-typed) in batches, again what a batch left unprocessed until none is left."""
    for start in range(0, len(items), 25):  # BatchWriteItem takes at most 25 items
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _where_it_failed(
    plan: dict[str, Any], existing: dict[str, dict[str, Any]], failure: dict[str, str] | None
) -> tuple[dict[str, Any] | None, str | None]:
    if failure is None:
        return None, None
    stages = {job["name"]: stage for stage in plan["stages"] for job in stage["jobs"]}
    failed_job = failure.get("failed_step")
    if failed_job not in stages:  # the error did not name a job: the first job the audit saw fail, or still running
        by_status = [(item.get("execution_status"), name) for name, item in existing.items()]
        failed_job = next((name for status, name in by_status if status == FAILED), None) or next(
            (name for status, name in by_status if status == RUNNING), None)  # a run stopped from outside
    return stages.get(failed_job or ""), failed_job


def _notice(
    plan: dict[str, Any],
    status: str,
    counts: Counter,
    failed_stage: dict[str, Any] | None,
    failed_job: str | None,
    failure: dict[str, str] | None,
) -> dict[str, str]:
    workflow, execution = plan["workflow_id"], plan["workflow_execution_id"]
    tally = ", ".join(f"{count} {name.lower()}" for name, count in sorted(counts.items()))
    if status == SUCCEEDED:
        subject = f"Shiftflow: workflow {workflow} succeeded"
        message = f"workflow {workflow}, run {execution}: succeeded ({tally or 'no jobs'})."
    else:
        ended = _ENDED_AS.get(status, "failed")
        subject = f"Shiftflow: workflow {workflow} {ended}"
        where = f"workflow {workflow}, run {execution}"
        if failed_stage is not None:
            where += f", stage {failed_stage['number']} of {len(plan['stages'])} ({failed_stage['description']})"
        if failed_job:
            where += f", job {failed_job}"
        failure = failure or {}
        message = (
            f"{where} {ended}: {failure.get('error', 'unknown error')}: {failure.get('message', '')}\n"
            f"Jobs: {tally or 'none'}.\n"
            f"Restart what is left: shiftflow run {workflow} --restart {execution} "
            f"(or start the workflow state machine with {{\"workflow_id\": \"{workflow}\", "
            f"\"restart_execution_id\": \"{execution}\"}})."
        )
    return {"subject": subject[:_SUBJECT_LIMIT], "message": message, "status": status}


def _finish_workflow_item(
    dynamodb: Any,
    table: str,
    plan: dict[str, Any],
    status: str,
    ended_at: str,
    counts: Counter,
    failed_stage: dict[str, Any] | None,
    failed_job: str | None,
    failure: dict[str, str] | None,
    notice: dict[str, str],
) -> None:
    values: dict[str, Any] = {
        ":status": {"S": status},
        ":end": {"S": ended_at},
        ":counts": {"S": json.dumps(dict(sorted(counts.items())))},
    }
    assignments = ["execution_status = :status", "execution_end_ts = :end", "job_counts = :counts"]
    if failure is not None:
        values.update({":error": {"S": failure.get("error", "")}, ":message": {"S": notice["message"]}})
        assignments += ["error_type = :error", "error_message = :message"]
    if failed_stage is not None:
        values.update(
            {":stage": {"N": str(failed_stage["number"])}, ":stage_description": {"S": failed_stage["description"]}}
        )
        assignments += ["failed_stage = :stage", "failed_stage_description = :stage_description"]
    if failed_job:
        values[":job"] = {"S": failed_job}
        assignments.append("failed_job = :job")
    dynamodb.update_item(
        TableName=table,
        Key={"workflow_execution_id": {"S": plan["workflow_execution_id"]}},
        UpdateExpression="SET " + ", ".join(assignments),
        ExpressionAttributeValues=values,
    )


def _plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return from_item(item)
