"""Fail the run when a validation script reports a failed check.

A validation script's last result set has the columns check_name, passed and detail, one row per check.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftflow.jobs.errors import InvalidJobRequest, ValidationChecksFailed
from shiftflow.jobs.results import read_result
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
redshift_data = boto3.client("redshift-data")
REQUIRED_COLUMNS = {"check_name", "passed", "detail"}


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: job, result_statement_id (the sub-statement holding the checks)."""
    job = event["job"]
    result_id = event.get("result_statement_id")
    if not result_id:
        raise InvalidJobRequest(job, "the validation script returned no result set: end it with the checks' SELECT")
    result = read_result(redshift_data, result_id)
    missing = REQUIRED_COLUMNS - set(result.columns)
    if missing:
        raise InvalidJobRequest(job, f"the checks' result lacks the columns {', '.join(sorted(missing))}")
    failed = [row for row in result.rows if row["passed"] is not True]
    logger.info("validation checks", extra={"job": job, "checks": len(result.rows), "failed": len(failed)})
    if failed:
        details = "; ".join(f"{row['check_name']} ({row['detail']})" for row in failed)
        raise ValidationChecksFailed(job, f"{len(failed)} of {len(result.rows)} validation checks failed: {details}")
    return {"job": job, "checks": len(result.rows), "passed": len(result.rows)}
