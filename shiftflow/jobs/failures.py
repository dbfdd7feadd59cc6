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
    parsed = json_or_none(cause)
    step = default_step
    # A child execution's DescribeExecution, camelCase (.sync) or PascalCase with the input parsed (.sync:2);
    # children can nest (a workflow stage's child is a run_sql_job execution), so unwrap every level.
    while isinstance(parsed, dict) and ("executionArn" in parsed or "ExecutionArn" in parsed):
        child_input = _field(parsed, "input")
        child_input = child_input if isinstance(child_input, dict) else json_or_none(child_input) or {}
        step = child_input.get("job", step) if isinstance(child_input, dict) else step
        error, cause = _field(parsed, "error") or error, _field(parsed, "cause") or cause
        parsed = json_or_none(cause)
    if isinstance(parsed, dict) and "errorMessage" in parsed:  # a Lambda function's error
        error, cause = parsed.get("errorType", error), parsed["errorMessage"]
    message = cause or error
    return {"failed_step": job_of(message) or step, "error": error, "message": message}


def _field(description: dict[str, Any], name: str) -> Any:
    return description.get(name, description.get(name[:1].upper() + name[1:]))


def json_or_none(text: Any) -> Any:
    """The JSON document in `text` (an execution's input, output or cause), or None when it holds none."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
