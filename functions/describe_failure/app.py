"""Turn a caught Step Functions error into the failed step, the error name and a readable message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftflow.jobs.failures import bounded_summary, explain
from shiftflow.lambda_logs import invocation_logging

logger = Logger()


@invocation_logging(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """Event: the Catch's error output, {"Error": ..., "Cause": ...}."""
    summary = bounded_summary(explain(event.get("Error", "States.Unknown"), event.get("Cause")))
    logger.info("run failure", extra={"failed_step": summary["failed_step"], "error": summary["error"], "reason": summary["message"]})
    return summary
