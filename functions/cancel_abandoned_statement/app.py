"""Cancel the Redshift statement of a run_sql_job execution that was stopped from outside, and wait for its end.

Invoked asynchronously by an EventBridge rule on "Step Functions Execution Status Change" events (ABORTED,
TIMED_OUT or FAILED) of the RunSqlJob state machine: StopExecution by an operator, a stopped parent (which stops its
startExecution.sync:2 children), an execution timeout, or a failure no Catch sees (the 25,000-event history limit,
States.Runtime, States.DataLimitExceeded). Such an execution runs none of its own states any more, so nothing else
would cancel its SQL. A job that failed on its own (its statement FAILED, or cancelled and waited for) has a
statement that has ended: it is left as it is.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.errors import SqlStatementStillRunning
from shiftflow.jobs.executions import submitted_statement_id
from shiftflow.jobs.failures import json_or_none
from shiftflow.jobs.status import (
    CANCEL_WAIT_SECONDS,
    TERMINAL_STATUSES,
    is_transient,
    transient_error,
    wait_within_deadline,
)
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
stepfunctions = boto3.client("stepfunctions")
redshift_data = boto3.client("redshift-data")
# Another cancel-and-wait round (at most CANCEL_WAIT_SECONDS) is started only while this much time is left.
_RESERVE_MILLIS = (CANCEL_WAIT_SECONDS + 5) * 1000


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: the EventBridge event; detail.executionArn names the stopped execution.

    Returns execution_arn, statement_id (None when the execution submitted nothing) and the statement's final
    status. Throttling or a temporary Data API error raises TransientDataApiError, and a statement that has not
    ended within this invocation raises SqlStatementStillRunning, so that Lambda retries the event.
    """
    detail = event["detail"]
    execution_arn = detail["executionArn"]
    execution_input = json_or_none(detail.get("input"))
    job = execution_input.get("job") if isinstance(execution_input, dict) else None
    job = job if isinstance(job, str) and job else execution_arn.rsplit(":", 1)[-1]
    # Names only: the execution's input may hold run parameters, which stay out of the logs.
    logger.thread_safe_append_keys(execution_arn=execution_arn, execution_status=detail.get("status"), job=job)

    statement_id = submitted_statement_id(stepfunctions, execution_arn)
    if statement_id is None:
        logger.info("Stopped SQL job had submitted no statement: nothing to cancel")
        return {"execution_arn": execution_arn, "statement_id": None, "status": None}
    logger.thread_safe_append_keys(statement_id=statement_id)

    try:
        status = _cancel_and_wait(job, statement_id, context)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ResourceNotFoundException":
            # The Data API keeps statements for 24 hours, and Redshift ends any query within 24 hours.
            logger.warning("Statement of the stopped SQL job is no longer known to the Data API: nothing to cancel")
            return {"execution_arn": execution_arn, "statement_id": statement_id, "status": None}
        if is_transient(error):
            raise transient_error(job, error) from error
        raise
    logger.info("Statement of the stopped SQL job has ended", extra={"status": status})
    return {"execution_arn": execution_arn, "statement_id": statement_id, "status": status}


def _cancel_and_wait(job: str, statement_id: str, context: LambdaContext) -> str:
    """Cancel (a statement that has already ended is left as it is) and wait until the statement has ended."""
    while True:
        # Deadline 0: cancel at once, then long-poll the statement's end for up to CANCEL_WAIT_SECONDS.
        description, _ = wait_within_deadline(redshift_data, statement_id, 0, CANCEL_WAIT_SECONDS)
        status = description["Status"]
        if status in TERMINAL_STATUSES:
            return status
        if context.get_remaining_time_in_millis() < _RESERVE_MILLIS:
            raise SqlStatementStillRunning(job, f"statement {statement_id} was cancelled but is still {status}; "
                                                "the retry of this event cancels it again")
        logger.info("Cancelled statement has not ended yet: cancelling again", extra={"status": status})
