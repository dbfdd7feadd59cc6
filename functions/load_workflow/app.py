"""Load a workflow's configuration from the config table, validate it (scripts in the bucket included) and plan the
run; a restart plans only what the failed run left, from the audit tables. The one write: the plan, staged in the
run plan table (its stages would not all fit in the execution's state); the execution carries the run's state."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftflow.jobs.completion import AUTO
from shiftflow.lambda_logs import invocation_logging
from shiftflow.workflows import audit, plan, plan_table, store
from shiftflow.workflows.errors import WorkflowInvalid
from shiftflow.workflows.validation import validate

logger = Logger()
dynamodb = boto3.client("dynamodb")
s3 = boto3.client("s3")
INPUT_KEYS = {"workflow_id", "parameters", "restart_execution_id"}


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: input (the execution's input: workflow_id, parameters, restart_execution_id), execution_name,
    started_at. Stages the run's plan (shiftflow.workflows.plan), with each job's expected duration from the
    workflow's past runs (completion auto), and returns the run's state (plan.run_state)."""
    run_input = event.get("input") or {}
    workflow_id = run_input.get("workflow_id") if isinstance(run_input, dict) else None
    _check_input(run_input, workflow_id)
    logger.thread_safe_append_keys(workflow=workflow_id, execution=event["execution_name"])
    config = store.get_config(dynamodb, os.environ["WORKFLOW_CONFIG_TABLE"], workflow_id)
    workflow = validate(config, s3, os.environ["SCRIPTS_BUCKET"])
    previous = None
    if run_input.get("restart_execution_id"):
        previous = audit.load_run(
            dynamodb, os.environ["WORKFLOW_AUDIT_TABLE"], os.environ["JOB_AUDIT_TABLE"], run_input["restart_execution_id"]
        )
    expected = {}
    if any(workflow.completion_of(job) == AUTO for job in workflow.jobs):  # only `auto` looks at past runs
        expected = audit.expected_durations(dynamodb, os.environ["WORKFLOW_AUDIT_TABLE"], os.environ["JOB_AUDIT_TABLE"],
                                            workflow.workflow_id)
    run_plan = plan.build_plan(
        workflow,
        execution_id=event["execution_name"],
        run_date=str(event["started_at"])[:10],
        parameters=run_input.get("parameters"),
        previous=previous,
        expected_seconds=expected,
    )
    too_large = plan.size_problems(run_plan)
    if too_large:
        raise WorkflowInvalid(workflow.workflow_id,
                              [f"workflow {workflow.workflow_id}: {problem}" for problem in too_large])
    plan_table.stage(dynamodb, os.environ["RUN_PLAN_TABLE"], run_plan, str(event["started_at"]))
    logger.info(
        "workflow planned",
        extra={
            "stages": len(run_plan["stages"]),
            "jobs_to_run": sum(len(stage["jobs"]) for stage in run_plan["stages"]),
            "restart_of": run_plan["restart_of"],
        },
    )
    return plan.run_state(run_plan)


def _check_input(run_input: Any, workflow_id: Any) -> None:
    if not isinstance(run_input, dict) or not isinstance(workflow_id, str) or not workflow_id:
        raise WorkflowInvalid("<none>", ['the input must be {"workflow_id": "<id>"} (optional: parameters, '
                                         "restart_execution_id)"])
    unknown = sorted(set(run_input) - INPUT_KEYS - {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"})
    if unknown:
        raise WorkflowInvalid(workflow_id, [f"workflow {workflow_id}: unknown input key(s) {', '.join(unknown)} "
                                            f"(known: {', '.join(sorted(INPUT_KEYS))})"])
