"""Resume the run_sql_job execution waiting for a statement, when its "Redshift Data Statement Status Change" event
arrives (event mode, shiftflow.jobs.completion).

Invoked asynchronously by an EventBridge rule on this stack's event-mode statements (their StatementName ends with
@<stack name>). FINISHED, FAILED and ABORTED all resume the job with its summary, described once here (the event
carries no error text). A duplicate or late event, or one for a job whose safety net came first, changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.completion import job_summary, record_final_state, resume_job
from shiftflow.jobs.status import TERMINAL_STATUSES, is_transient, transient_error
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
dynamodb = boto3.client("dynamodb")
redshift_data = boto3.client("redshift-data")
stepfunctions = boto3.client("stepfunctions")


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: the EventBridge event (detail: statementId, statementName, state, ...).

    Returns statement_id, state, job (None when no job had stored its token yet: the job finds the state itself) and
    resumed (how many waiting executions this event resumed). A temporary Data API error raises, so that Lambda
    retries the event.
    """
    detail = event["detail"]
    statement_id, state = detail["statementId"], detail["state"]
    logger.thread_safe_append_keys(statement_id=statement_id, statement_state=state)
    if state not in TERMINAL_STATUSES:
        logger.warning("Status change to a state that is not final: ignored")
        return {"statement_id": statement_id, "state": state, "job": None, "resumed": False}
    item = record_final_state(dynamodb, os.environ["COMPLETION_TABLE"], detail)
    job, tokens = item.get("job"), item.get("task_tokens") or []
    if not job or not tokens:
        logger.info("Statement ended before its job waited for it: the job will find the final state")
        return {"statement_id": statement_id, "state": state, "job": None, "resumed": 0}
    logger.thread_safe_append_keys(job=job)
    try:
        summary = job_summary(redshift_data, job, statement_id, item.get("conflict_attempt"))
    except ClientError as error:
        if is_transient(error):
            raise transient_error(job, error) from error
        raise
    # Every execution that waits for this statement (a job started twice with one seed follows one statement);
    # tokens of waits already over (a heartbeat came first, a duplicate event) are refused and skipped.
    resumed = sum(resume_job(stepfunctions, token, summary) for token in sorted(tokens))
    logger.info("SQL job resumed by its statement's event" if resumed else "SQL job was no longer waiting",
                extra={"status": summary["status"], "resumed": resumed, "tokens": len(tokens)})
    return {"statement_id": statement_id, "state": state, "job": job, "resumed": resumed}
