"""Submit one SQL job: read its script from the scripts bucket and send it as one batch-execute-statement."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shiftflow.jobs.errors import InvalidJobRequest, ScriptNotFound, SqlSubmitRejected
from shiftflow.jobs.status import is_transient, transient_error
from shiftflow.jobs.submit import SqlJob, batch_request
from shiftflow.jobs.target import RedshiftTarget

logger = Logger()
s3 = boto3.client("s3")
redshift_data = boto3.client("redshift-data")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: workflow, job, script (key in the scripts bucket), parameters, client_token_seed."""
    job = _sql_job(event)
    logger.append_keys(workflow=job.workflow, job=job.job)
    request = batch_request(job, RedshiftTarget.from_environment())
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
            "parameters": [parameter["name"] for parameter in request.get("Parameters", [])],
        },
    )
    return {
        "job": job.job,
        "statement_id": response["Id"],
        "statement_name": request["StatementName"],
        "statement_count": len(request["Sqls"]),
    }


def _sql_job(event: dict[str, Any]) -> SqlJob:
    job = str(event.get("job") or "")
    missing = [key for key in ("workflow", "job", "script", "client_token_seed") if not event.get(key)]
    if missing:
        raise InvalidJobRequest(job or "?", f"the event lacks {', '.join(missing)}")
    return SqlJob(
        workflow=event["workflow"],
        job=job,
        sql=_read_script(job, event["script"]),
        parameters=event.get("parameters") or {},
        client_token_seed=event["client_token_seed"],
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
