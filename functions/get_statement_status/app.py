"""Report how a submitted SQL job stands, long-polling describe-statement until it ends or the wait is over."""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.completion import next_heartbeat
from shiftflow.jobs.conflicts import ConflictAttempt
from shiftflow.jobs.status import (
    FAILED,
    MAX_WAIT_SECONDS,
    database_error,
    failure_of,
    is_transient,
    rollback_outlasted,
    summarize,
    transient_error,
    wait_within_deadline,
)
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
redshift_data = boto3.client("redshift-data")


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: job, statement_id, wait_seconds (1-30, default 30), deadline (epoch seconds, optional),
    timeout_seconds (for the message) and conflict (the submit's conflict attempt; absent: never retried).
    In event mode also heartbeat_seconds (the silent interval that ended). `stop`: cancel the statement now, whatever
    the deadline (a job that cannot be followed any more stops its statement before it fails).

    Raises SqlJobTimedOut once a statement cancelled at the deadline has still not ended ROLLBACK_WAIT_SECONDS after
    it (shiftflow.jobs.status.rollback_outlasted).

    Returns the job's summary with its conflict_attempt and conflicted_statements (the earlier attempts) and
    conflict_retry: null, or the retry of a statement that failed on a transaction conflict (the state machine
    waits its wait_seconds and submits it). A FAILED or ABORTED statement adds `error` (SqlStatementFailed /
    SqlStatementAborted, or SqlJobTimedOut when it was cancelled at the deadline) and `message` (failed statement,
    its SQL, the database error) for the state machine's Fail. `past_deadline` says the statement was cancelled (it
    is followed by polling until it ends), and `heartbeat_seconds` is the next interval of an event-mode wait (0 in
    poll mode).
    """
    job, statement_id = event["job"], event["statement_id"]
    logger.thread_safe_append_keys(job=job, statement_id=statement_id)
    deadline = event.get("deadline")
    try:
        description, timed_out = wait_within_deadline(redshift_data, statement_id, 0 if event.get("stop") else deadline,
                                                      int(event.get("wait_seconds", MAX_WAIT_SECONDS)))
    except ClientError as error:
        if is_transient(error):
            raise transient_error(job, error) from error
        raise
    if timed_out:
        logger.warning("SQL job's statement cancelled", extra={"status": description["Status"],
                                                              "stopping": bool(event.get("stop"))})
        outlasted = rollback_outlasted(job, description, deadline, event.get("timeout_seconds"))
        if outlasted is not None:
            logger.error("SQL job stops waiting for its cancelled statement", extra={"reason": str(outlasted)})
            raise outlasted
    summary = summarize(job, description)
    attempt = ConflictAttempt.of(event.get("conflict"))
    summary.update(conflict_attempt=attempt.attempt, conflicted_statements=list(attempt.earlier), conflict_retry=None)
    failure = failure_of(job, description, event.get("timeout_seconds") if timed_out else None)
    if failure is not None:
        why_not_retried = ""
        if description["Status"] == FAILED:  # an aborted (cancelled) statement is never retried
            summary["conflict_retry"], why_not_retried = attempt.next_retry(
                statement_id, database_error(description), event.get("deadline"))
        summary.update(error=type(failure).__name__, message=f"{failure}{attempt.failure_note(why_not_retried)}")
        if summary["conflict_retry"] is not None:
            logger.warning("SQL job failed on a transaction conflict: it runs again as a new statement",
                           extra={"attempt": attempt.attempt + 1, "reason": str(failure),
                                  "wait_seconds": summary["conflict_retry"]["wait_seconds"]})
        else:
            logger.error("SQL job ended without success", extra={"status": summary["status"], "reason": str(failure)})
    else:
        logger.info("SQL job status", extra={"status": summary["status"], "rows": summary["rows"]})
    summary["past_deadline"] = timed_out
    summary["heartbeat_seconds"] = 0  # poll mode: no heartbeat
    if event.get("heartbeat_seconds"):
        seconds_left = deadline - time.time() if deadline is not None else float("inf")
        summary["heartbeat_seconds"] = next_heartbeat(int(event["heartbeat_seconds"]), seconds_left)
    return summary
