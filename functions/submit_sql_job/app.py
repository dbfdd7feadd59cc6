"""Submit one SQL job: read its script from the scripts bucket and send it as one batch-execute-statement."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.completion import EVENT, TOKEN_TTL_SECONDS, choose_completion, event_statement_name, first_heartbeat
from shiftflow.jobs.conflicts import ConflictAttempt, conflict_retries
from shiftflow.jobs.errors import InvalidJobRequest, ScriptNotFound, SqlSubmitRejected
from shiftflow.jobs.status import is_transient, transient_error
from shiftflow.jobs.submit import SqlJob, batch_request, job_timeout
from shiftflow.jobs.target import RedshiftTarget
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
s3 = boto3.client("s3")
redshift_data = boto3.client("redshift-data")


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: request (the run_sql_job input: workflow, job, script, parameters, optional timeout_seconds,
    client_token_seed, completion, expected_seconds, heartbeat_seconds and conflict_retries; conflict_retry when the
    state machine retries a transaction conflict) and client_token_seed (this execution's id, used when the request
    brings none).

    Returns the statement id, the job's deadline (epoch seconds) for get_statement_status to enforce, the conflict
    attempt (shiftflow.jobs.conflicts) from which get_statement_status tells whether a conflict is retried, how the
    job learns of the statement's end (completion: event or poll; shiftflow.jobs.completion), the first heartbeat
    interval of an event-mode wait and when its completion item expires.
    """
    request_fields = event.get("request") or {}
    job_name = str(request_fields.get("job") or "?")
    attempt = ConflictAttempt.submitted(conflict_retries(job_name, request_fields.get("conflict_retries")),
                                        request_fields.get("conflict_retry"))
    # The starter's seed (its execution, redrive count and attempt) survives the starter retrying the start; a
    # conflict retry is a new statement, so its seed (and ClientToken) is its own.
    seed = request_fields.get("client_token_seed") or event.get("client_token_seed")
    job = _sql_job(request_fields, f"{seed}{attempt.token_suffix()}" if seed else None)
    timeout_seconds = job_timeout(job.job, request_fields.get("timeout_seconds"))
    # A retry keeps the job's first deadline: the timeout is the job's, whatever the number of attempts.
    deadline = (request_fields.get("conflict_retry") or {}).get("deadline") or time.time() + timeout_seconds
    logger.thread_safe_append_keys(workflow=job.workflow, job=job.job)
    completion = choose_completion(job.job, request_fields.get("completion"), request_fields.get("expected_seconds"))
    heartbeat_seconds = first_heartbeat(job.job, request_fields.get("expected_seconds"),
                                        request_fields.get("heartbeat_seconds"), deadline - time.time())
    if completion != EVENT:
        heartbeat_seconds = 0  # poll mode: no heartbeat
    request = batch_request(job, RedshiftTarget.from_environment())
    if completion == EVENT:
        # The event names the statement: the suffix is what this stack's rule matches.
        request.update(WithEvent=True,
                       StatementName=event_statement_name(request["StatementName"], os.environ["SHIFTFLOW_STACK_NAME"]))
    try:
        response = redshift_data.batch_execute_statement(**request)
    except ClientError as error:
        if is_transient(error):
            raise transient_error(job.job, error) from error
        raise SqlSubmitRejected(job.job, f"the Data API rejected the batch: {error}") from error
    # Parameter names only: values may be sensitive and never go to the logs.
    logger.info(
        "SQL job submitted",
        extra={
            "statement_id": response["Id"],
            "statements": len(request["Sqls"]),
            "completion": completion,
            "conflict_attempt": attempt.attempt,
            "parameters": [parameter["name"] for parameter in request.get("Parameters", [])],
        },
    )
    return {
        "job": job.job,
        "statement_id": response["Id"],
        "statement_name": request["StatementName"],
        "statement_count": len(request["Sqls"]),
        "timeout_seconds": timeout_seconds,
        "deadline": deadline,
        "completion": completion,
        "heartbeat_seconds": heartbeat_seconds,
        "token_expires_at": int(deadline) + TOKEN_TTL_SECONDS,
        "conflict": attempt.as_state(),
    }


def _sql_job(request: dict[str, Any], client_token_seed: str | None) -> SqlJob:
    job = str(request.get("job") or "")
    missing = [key for key in ("workflow", "job", "script") if not request.get(key)]
    missing += [] if client_token_seed else ["client_token_seed"]
    if missing:
        raise InvalidJobRequest(job or "?", f"the event lacks {', '.join(missing)}")
    return SqlJob(
        workflow=request["workflow"],
        job=job,
        sql=_read_script(job, request["script"]),
        parameters=request.get("parameters") or {},
        client_token_seed=client_token_seed,
    )


def _read_script(job: str, key: str) -> str:
    bucket = os.environ["SCRIPTS_BUCKET"]
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise ScriptNotFound(job, f"s3://{bucket}/{key} does not exist: stage the scripts folder first") from error
        raise
    return body.decode("utf-8")
