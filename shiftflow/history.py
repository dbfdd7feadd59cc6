"""One view over every recorded run: pipeline runs (the run history table, key JobID + RunStart) and workflow runs
(the workflow audit table, index by_workflow), newest first, in one shape (`shiftflow history`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from shiftflow.guard import plain, read_history
from shiftflow.workflows.audit import workflow_runs

PIPELINE, WORKFLOW = "pipeline", "workflow"


@dataclass(frozen=True)
class RecordedRun:
    kind: str  # pipeline or workflow
    name: str  # the pipeline's job id or the workflow id
    status: str  # SUCCEEDED, FAILED, RUNNING ... as the record says
    started: str
    ended: str
    run_date: str
    failed_at: str  # the failed step, or "stage N, job J"
    message: str
    execution_arn: str
    jobs: str = ""  # a workflow run's job counts

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def recorded_runs(dynamodb: Any, outputs: dict[str, str], name: str | None = None, limit: int = 20) -> list[RecordedRun]:
    """The newest `limit` runs of `name` (a pipeline or a workflow), or of everything when `name` is None."""
    runs: list[RecordedRun] = []
    history_table, audit_table = outputs.get("RunHistoryTableName"), outputs.get("WorkflowAuditTableName")
    if history_table:
        items = (read_history(dynamodb, history_table, name, limit) if name else _scan(dynamodb, history_table))
        runs += [_pipeline_run(item) for item in items]
    if audit_table:
        items = workflow_runs(dynamodb, audit_table, name, limit) if name else _scan(dynamodb, audit_table)
        runs += [_workflow_run(item) for item in items]
    return sorted(runs, key=lambda run: run.started, reverse=True)[:limit]


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    return [plain(item) for page in pages for item in page["Items"]]


def _pipeline_run(item: dict[str, Any]) -> RecordedRun:
    return RecordedRun(
        kind=PIPELINE, name=str(item.get("JobID", "")), status=str(item.get("Status", "")),
        started=str(item.get("RunStart", "")), ended=str(item.get("RunEnd", "")), run_date=str(item.get("RunDate", "")),
        failed_at=str(item.get("FailedStep", "")), message=str(item.get("Message", "")),
        execution_arn=str(item.get("ExecutionArn", "")),
    )


def _workflow_run(item: dict[str, Any]) -> RecordedRun:
    failed_at = ""
    if item.get("failed_stage") not in (None, ""):
        failed_at = f"stage {item['failed_stage']}, job {item.get('failed_job', '?')}"
    counts = item.get("job_counts", "")
    if isinstance(counts, str) and counts.startswith("{"):
        counts = ", ".join(f"{count} {status.lower()}" for status, count in json.loads(counts).items())
    return RecordedRun(
        kind=WORKFLOW, name=str(item.get("workflow_id", "")), status=str(item.get("execution_status", "")),
        started=str(item.get("execution_start_ts", "")), ended=str(item.get("execution_end_ts", "")),
        run_date=str(item.get("run_date", "")), failed_at=failed_at, message=str(item.get("error_message", "")),
        execution_arn=str(item.get("execution_arn", item.get("workflow_execution_id", ""))), jobs=str(counts),
    )
