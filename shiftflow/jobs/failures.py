"""Explain a caught Step Functions error as (failed step, error, message) for the guard, history and alerts.

A failure reaches a pipeline's Catch in one of three shapes: a child `run_sql_job` execution that failed
(Cause = the child's DescribeExecution JSON), a Lambda error (Cause = {errorMessage, errorType}), or a plain
Step Functions error (States.Timeout ...) whose Cause is text.
"""

from __future__ import annotations

import json
from typing import Any

from shiftflow.jobs.errors import job_of


def explain(error: str, cause: str | None, default_step: str = "unknown") -> dict[str, str]:
    parsed = _json(cause)
    step = default_step
    if isinstance(parsed, dict) and "executionArn" in parsed:  # a child execution's DescribeExecution
        child_input = _json(parsed.get("input")) or {}
        step = child_input.get("job", step) if isinstance(child_input, dict) else step
        error, cause = parsed.get("error", error), parsed.get("cause", cause)
        parsed = _json(cause)
    if isinstance(parsed, dict) and "errorMessage" in parsed:  # a Lambda function's error
        error, cause = parsed.get("errorType", error), parsed["errorMessage"]
    message = cause or error
    return {"failed_step": job_of(message) or step, "error": error, "message": message}


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
