"""Heal the guard of a pipeline or workflow run that ended outside its own failure path, record the run, notify.

Invoked asynchronously by an EventBridge rule on "Step Functions Execution Status Change" events (FAILED,
TIMED_OUT, ABORTED) of this stack's pipeline and workflow state machines. A run that failed through its own failure
path has already failed its guard: the event is then a no-op. See shiftflow.heal.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftflow.heal import EndedRun, HealTargets, heal
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
dynamodb = boto3.client("dynamodb")
stepfunctions = boto3.client("stepfunctions")
sns = boto3.client("sns")


def targets_from_environment() -> HealTargets:
    return HealTargets(
        guard_table=os.environ["JOB_GUARD_TABLE"],
        history_table=os.environ["RUN_HISTORY_TABLE"],
        workflow_audit_table=os.environ["WORKFLOW_AUDIT_TABLE"],
        job_audit_table=os.environ["JOB_AUDIT_TABLE"],
        run_plan_table=os.environ["RUN_PLAN_TABLE"],
        topic_arn=os.environ["NOTIFICATION_TOPIC_ARN"],
        pipeline_state_machines=frozenset([os.environ["PIPELINE_STATE_MACHINE_ARN"]]),
        workflow_state_machines=frozenset([os.environ["WORKFLOW_STATE_MACHINE_ARN"]]),
    )


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: the EventBridge event. Returns execution_arn, job (the healed guard, None when the execution owns
    none), healed and notified. Any AWS error raises, so that Lambda retries the event (every step is idempotent)."""
    run = EndedRun.from_event(event)
    # Names only: the execution's input and cause may hold run parameters or database text.
    logger.thread_safe_append_keys(execution_arn=run.execution_arn, execution_status=run.status)
    outcome = heal(dynamodb, stepfunctions, sns, targets_from_environment(), run)
    if outcome.healed:
        logger.warning("Run ended outside its failure path: guard failed, run recorded, notified",
                       extra={"job": outcome.job})
    else:
        logger.info("Nothing to heal: the execution owns no Running guard", extra={"job": outcome.job})
    return outcome.as_dict()
