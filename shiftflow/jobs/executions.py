"""What an execution left behind, read back from its execution history.

An execution stopped from outside (StopExecution, a stopped parent, an execution timeout) runs none of its own
states any more, so what it would have cleaned up is found from the history: a run_sql_job's Redshift statement
(SubmitSqlScript's output carries `submission.statement_id`, its ResultPath, and every later state's input too),
a workflow's plan (LoadWorkflow's output), the state an execution was in when it ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shiftflow.jobs.failures import json_or_none

# The state of statemachine/run_sql_job.asl.json that submits the SQL.
SUBMIT_STATE = "SubmitSqlScript"
_PAGE_SIZE = 1000  # the most GetExecutionHistory returns per call


def submitted_statement_id(client: Any, execution_arn: str, state_name: str = SUBMIT_STATE) -> str | None:
    """The statement the execution's SubmitSqlScript submitted last, or None when it submitted none.

    Reads the history newest first: every state after a submit carries its `submission` in its input and output, so
    the current statement is among the last events however long the job's polls ran, and after a conflict retry
    (a new submit, shiftflow.jobs.conflicts) it is the new statement, not the failed one. A submit whose task
    succeeded but whose state never exited carries the id in its task output. A submit that never succeeded
    (stopped while the function ran, or failed) gives None: there is no statement id to cancel (any statement before
    it had failed, which is why it was submitted again).
    """
    task_output: Any = None  # the output of the task of the state being read, newest first
    for event in _history(client, execution_arn, newest_first=True):
        kind = event.get("type", "")
        if kind == "TaskSucceeded":
            task_output = json_or_none(event.get("taskSucceededEventDetails", {}).get("output"))
            continue
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if details is None:
            continue
        entered = kind.endswith("StateEntered")
        if entered and details.get("name") == state_name:
            return _field(task_output, "Payload", "statement_id")
        statement_id = _field(json_or_none(details.get("input" if entered else "output")), "submission", "statement_id")
        if statement_id:
            return statement_id
        task_output = None  # the next event read belongs to an earlier state
    return None


def state_output(client: Any, execution_arn: str, state_name: str) -> Any:
    """The output (parsed JSON) of the first exit of `state_name`, or None when the state never exited."""
    for event in _history(client, execution_arn):
        details = event.get("stateExitedEventDetails")
        if event.get("type", "").endswith("StateExited") and details and details.get("name") == state_name:
            return json_or_none(details.get("output"))
    return None


def last_entered_state(client: Any, execution_arn: str) -> str | None:
    """The state the execution entered last (where it was when it ended), or None when it entered none."""
    for event in _history(client, execution_arn, newest_first=True):
        if event.get("type", "").endswith("StateEntered"):
            return event.get("stateEnteredEventDetails", {}).get("name")
    return None


def _history(client: Any, execution_arn: str, newest_first: bool = False) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"executionArn": execution_arn, "maxResults": _PAGE_SIZE}
    if newest_first:
        request["reverseOrder"] = True
    while True:
        page = client.get_execution_history(**request)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        request["nextToken"] = page["nextToken"]


def _field(document: Any, *path: str) -> str | None:
    for name in path:
        if not isinstance(document, dict):
            return None
        document = document.get(name)
    return document if isinstance(document, str) and document else None
