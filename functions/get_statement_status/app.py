"""Report how a submitted SQL job stands, long-polling describe-statement until it ends or the wait is over."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.status import MAX_WAIT_SECONDS, failure_of, is_transient, summarize, transient_error, wait_for_end

logger = Logger()
redshift_data = boto3.client("redshift-data")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: job, statement_id, wait_seconds (1-30, default 30).

    Returns the job's summary; a FAILED or ABORTED statement adds `error` (SqlStatementFailed /
    SqlStatementAborted) and `message` (failed statement, its SQL, the database error) for the state machine's Fail.
    """
    job, statement_id = event["job"], event["statement_id"]
    logger.append_keys(job=job, statement_id=statement_id)
    try:
        description = wait_for_end(redshift_data, statement_id, int(event.get("wait_seconds", MAX_WAIT_SECONDS)))
    except ClientError as error:
        if is_transient(error):
            raise transient_error(job, error) from error
        raise
    summary = summarize(job, description)
    failure = failure_of(job, description)
    if failure is not None:
        summary.update(error=type(failure).__name__, message=str(failure))
        logger.error("SQL job ended without success", extra={"status": summary["status"], "reason": str(failure)})
    else:
        logger.info("SQL job status", extra={"status": summary["status"], "rows": summary["rows"]})
    return summary
