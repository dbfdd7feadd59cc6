"""Explain a caught Step Functions error as (failed step, error, message) for the guard, history and alerts.

A failure reaches a pipeline's Catch in one of three shapes: a child `run_sql_job` execution that failed
(Cause = the child's DescribeExecution JSON), a Lambda error (Cause = {errorMessage, errorType}), or a plain
Step Functions error (States.Timeout ...) whose Cause is text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shiftflow.jobs.errors import job_of

# What a failure record, guard or notification carries of a message: enough for the failed statement, its SQL
# preview and the database's message, and small enough that the failure path of a large plan stays far under 256 KiB.
MAX_SUMMARY_MESSAGE_CHARACTERS = 4_096
# A child's DescribeExecution begins with its ARN; past 32,768 characters Step Functions cuts the cause.
_CUT_CHILD_DESCRIPTION = re.compile(r'^\{\s*"(?:ExecutionArn|executionArn)"\s*:\s*"(?P<arn>arn:[^"]+)"')


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
    cut_child = _CUT_CHILD_DESCRIPTION.match(cause) if isinstance(cause, str) and parsed is None else None
    if cut_child:  # never pass on the rest: it is the child's input (a stage's plan), not its error
        cause = (f"child execution {cut_child['arn']} failed; its description was cut at the 32,768-character "
                 "limit of a cause: its own error and cause are in its execution history")
    message = cause or error
    return {"failed_step": job_of(message) or step, "error": error, "message": message}


def bounded_summary(summary: dict[str, str]) -> dict[str, str]:
    """The summary with its message cut to MAX_SUMMARY_MESSAGE_CHARACTERS, for records and notifications."""
    message = summary["message"]
    if len(message) <= MAX_SUMMARY_MESSAGE_CHARACTERS:
        return summary
    kept = MAX_SUMMARY_MESSAGE_CHARACTERS - len(" ... (cut)")
    return {**summary, "message": message[:kept] + " ... (cut)"}


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
