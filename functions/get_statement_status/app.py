"""Report how a submitted SQL job stands, long-polling describe-statement until it ends or the wait is over."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.status import (
    MAX_WAIT_SECONDS,
    failure_of,
    is_transient,
    summarize,
    transient_error,
    wait_within_deadline,
)
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
redshift_data = boto3.client("redshift-data")


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: job, statement_id, wait_seconds (1-30, default 30), deadline (epoch seconds, optional) and
    timeout_seconds (for the message).

    Returns the job's summary; a FAILED or ABORTED statement adds `error` (SqlStatementFailed /
    SqlStatementAborted, or SqlJobTimedOut when it was cancelled at the deadline) and `message` (failed statement,
    its SQL, the database error) for the state machine's Fail.
    """
    job, statement_id = event["job"], event["statement_id"]
    logger.thread_safe_append_keys(job=job, statement_id=statement_id)
    try:
        description, timed_out = wait_within_deadline(redshift_data, statement_id, event.get("deadline"),
                                                      int(event.get("wait_seconds", MAX_WAIT_SECONDS)))
    except ClientError as error:
        if is_transient(error):
            raise transient_error(job, error) from error
        raise
    if timed_out:
        logger.warning("SQL job ran past its deadline: cancelled", extra={"status": description["Status"]})
    summary = summarize(job, description)
    failure = failure_of(job, description, event.get("timeout_seconds") if timed_out else None)
    if failure is not None:
        summary.update(error=type(failure).__name__, message=str(failure))
        logger.error("SQL job ended without success", extra={"status": summary["status"], "reason": str(failure)})
    else:
        logger.info("SQL job status", extra={"status": summary["status"], "rows": summary["rows"]})
    return summary
