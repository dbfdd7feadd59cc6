"""Read a statement's result rows back with get-statement-result (all pages), for reports and checks."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftflow.jobs.results import read_result
from shiftflow.lambda_logs import invocation_logging

logger = Logger()
redshift_data = boto3.client("redshift-data")
# Step Functions payloads are capped at 256 KiB: return at most this many rows, and say how many there were.
DEFAULT_MAX_ROWS = 1000


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Event: statement_id (a statement or a sub-statement `<id>:<n>`), max_rows (default 1000)."""
    statement_id = event["statement_id"]
    max_rows = int(event.get("max_rows", DEFAULT_MAX_ROWS))
    result = read_result(redshift_data, statement_id)
    logger.info("result read", extra={"statement_id": statement_id, "rows": len(result.rows)})
    return {
        "statement_id": statement_id,
        "columns": result.columns,
        "rows": result.rows[:max_rows],
        "total_rows": len(result.rows),
        "truncated": len(result.rows) > max_rows,
    }
