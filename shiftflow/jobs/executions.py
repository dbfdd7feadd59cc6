"""What a run_sql_job execution left behind, read back from its execution history.

An execution stopped from outside (StopExecution, a stopped parent, an execution timeout) runs none of its own
states any more, so its Redshift statement is found from the history: SubmitSqlScript's output carries
`submission.statement_id` (its ResultPath).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shiftflow.jobs.failures import json_or_none

# The state of statemachine/run_sql_job.asl.json that submits the SQL.
SUBMIT_STATE = "SubmitSqlScript"
_PAGE_SIZE = 1000  # the most GetExecutionHistory returns per call


def submitted_statement_id(client: Any, execution_arn: str, state_name: str = SUBMIT_STATE) -> str | None:
    """The statement the execution's latest SubmitSqlScript submitted, or None when it submitted none.

    Reads the history newest first: the latest TaskStateExited of `state_name` whose output carries
    `submission.statement_id`; or, when the execution was stopped between the task's success and the state's exit,
    that TaskSucceeded's Lambda output (`Payload.statement_id`). A TaskSucceeded belongs to the state entered last
    before it (run_sql_job has no Parallel or Map). A submit that never succeeded (stopped while the function ran,
    or failed) gives None: there is no statement id to cancel.
    """
    succeeded_output: Any = None  # the latest TaskSucceeded seen, until its TaskStateEntered tells whose it is
    for event in _history_newest_first(client, execution_arn):
        kind = event.get("type")
        if kind == "TaskSucceeded":
            succeeded_output = json_or_none(event.get("taskSucceededEventDetails", {}).get("output"))
        elif kind == "TaskStateExited":
            details = event.get("stateExitedEventDetails", {})
            if details.get("name") == state_name:
                statement_id = _field(json_or_none(details.get("output")), "submission", "statement_id")
                if statement_id:
                    return statement_id
            succeeded_output = None
        elif kind == "TaskStateEntered":
            if event.get("stateEnteredEventDetails", {}).get("name") == state_name:
                statement_id = _field(succeeded_output, "Payload", "statement_id")
                if statement_id:
                    return statement_id
            succeeded_output = None
    return None


def _history_newest_first(client: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"executionArn": execution_arn, "reverseOrder": True, "maxResults": _PAGE_SIZE}
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
