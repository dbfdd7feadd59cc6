"""Close a workflow run in the audit tables and word its notification.

Every planned job gets a final job audit item (SKIPPED, ALREADY_SUCCEEDED, and after a failure STOPPED for jobs
still running and NOT_RUN for jobs never started) and the workflow audit item its status and end, so no item is left
RUNNING. Returns the notice (subject, message) naming the workflow, the failed stage and job and the error.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftflow.lambda_logs import invocation_logging
from shiftflow.workflows import plan_table
from shiftflow.workflows.audit import FAILED, SUCCEEDED, close_run

logger = Logger()
dynamodb = boto3.client("dynamodb")


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """Event: run (the run's state, LoadWorkflow's output), status (SUCCEEDED or FAILED), ended_at, failure
    (failed_step, error, message). The run's whole plan is read back from the run plan table."""
    status = event["status"]
    if status not in (SUCCEEDED, FAILED):
        raise ValueError(f"status must be {SUCCEEDED} or {FAILED}, not {status!r}")
    run = event["run"] if "run" in event else event["plan"]  # "plan": an execution started before the plan was staged
    logger.thread_safe_append_keys(workflow=run["workflow_id"], execution=run["workflow_execution_id"])
    plan = plan_table.load(dynamodb, os.environ["RUN_PLAN_TABLE"], run)
    notice = close_run(
        dynamodb,
        job_table=os.environ["JOB_AUDIT_TABLE"],
        workflow_table=os.environ["WORKFLOW_AUDIT_TABLE"],
        plan=plan,
        status=status,
        ended_at=event["ended_at"],
        failure=event.get("failure"),
    )
    logger.info("workflow run closed", extra={"status": status})
    return notice
