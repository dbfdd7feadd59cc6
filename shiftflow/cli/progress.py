"""Follow a Step Functions execution and its child executions live, state by state, from the execution history.

Works the same against the local runtime and a deployed stack: only get_execution_history and describe_execution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shiftflow.jobs.failures import explain, json_or_none

ENTERED, SUCCEEDED, FAILED, SUBMITTED = "entered", "succeeded", "failed", "submitted"
# A child execution (a SQL job, a workflow stage) ended, whichever way: its last item.
ENDED = "ended"


@dataclass(frozen=True)
class Progress:
    """One thing worth showing: a state entered or left, a statement submitted, a failure."""

    kind: str
    state: str
    depth: int  # 0: the execution started; 1: a child execution (a SQL job) ...
    job: str = ""  # the SQL job a child execution runs
    seconds: float | None = None  # time spent in the state, when it ends
    detail: str = ""


@dataclass
class _OpenState:
    name: str
    kind: str  # TaskState, ParallelState, MapState ...
    since: datetime
    failure: str | None = None  # its last failure; a retry clears it, leaving the state (Exited) shows it


@dataclass
class _Followed:
    arn: str
    depth: int
    job: str = ""
    last_seen: int = 0
    # Keyed by the id of the state's Entered event: the iterations of a Map run the same states at the same time.
    open: dict[int, _OpenState] = field(default_factory=dict)
    entered_of: dict[int, int] = field(default_factory=dict)  # event id -> Entered event id of its state
    last_failure: str = ""
    done: bool = False


# A state's own failure events; their previousEventId chain leads back to the state's Entered event.
_STATE_FAILURES = frozenset({"TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed",
                             "LambdaFunctionFailed", "LambdaFunctionTimedOut", "LambdaFunctionStartFailed"})
# A retry starts with these: the failure before it did not end the state.
_RETRIES = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
# Failures of a Parallel or Map state as a whole; moto links them to the failed branch, so they are matched by type.
_BLOCK_FAILURES = {"ParallelStateFailed": "ParallelState", "MapStateFailed": "MapState"}
_EXECUTION_FAILURES = frozenset({"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})


def follow(
    sfn: Any,
    execution_arn: str,
    poll_seconds: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Progress]:
    """Yield Progress items until the execution ends, following the child executions it starts."""
    followed = [_Followed(execution_arn, 0)]
    while True:
        running = sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
        # Read after the status check: once the execution has ended, this read holds every remaining event.
        for execution, event in _read_all(sfn, followed):
            yield from _progress(execution, event, followed)
        if not running:
            return
        sleep(poll_seconds)


def _read_all(sfn: Any, followed: list[_Followed]) -> list[tuple[_Followed, dict[str, Any]]]:
    """New events of every followed execution, children found on the way included, in time order."""
    collected: list[tuple[_Followed, dict[str, Any]]] = []
    index = 0
    while index < len(followed):
        execution = followed[index]
        if not execution.done:
            for event in _new_events(sfn, execution):
                collected.append((execution, event))
                child = _child_execution(event)
                if child and not any(item.arn == child for item in followed):
                    followed.append(_Followed(child, execution.depth + 1))
        index += 1
    collected.sort(key=lambda pair: (pair[1]["timestamp"], pair[0].depth, pair[1]["id"]))
    return collected


def _child_execution(event: dict[str, Any]) -> str | None:
    if event["type"] != "TaskSubmitted":
        return None
    output = json_or_none(event["taskSubmittedEventDetails"].get("output")) or {}
    return output.get("ExecutionArn") if isinstance(output, dict) else None


# A poll reads the newest events in a page this small first (it usually finds a few new ones, and the service
# serializes every event of a page: locally 1-2 ms each, the local cloud's busiest work while a run is followed);
# only when all of them are new are the events read again in pages of CATCH_UP_PAGE (a new read: Step Functions
# wants every argument but the token unchanged across the pages of one read).
FIRST_PAGE = 5
CATCH_UP_PAGE = 100


def _new_events(sfn: Any, execution: _Followed) -> list[dict[str, Any]]:
    """Events newer than the last one seen: read newest first and stop at the last seen event."""
    fresh, complete = _newest_events(sfn, execution, FIRST_PAGE, one_page=True)
    if not complete:
        fresh, _ = _newest_events(sfn, execution, CATCH_UP_PAGE, one_page=False)
    fresh.reverse()
    if fresh:
        execution.last_seen = fresh[-1]["id"]
    return fresh


def _newest_events(sfn: Any, execution: _Followed, page_size: int, one_page: bool) -> tuple[list[dict[str, Any]], bool]:
    """(the events newer than the last seen, newest first; whether that is all of them)."""
    fresh: list[dict[str, Any]] = []
    request: dict[str, Any] = {"executionArn": execution.arn, "maxResults": page_size, "reverseOrder": True}
    while True:
        page = sfn.get_execution_history(**request)
        for event in page["events"]:
            if event["id"] <= execution.last_seen:
                return fresh, True
            fresh.append(event)
        if not page.get("nextToken"):
            return fresh, True
        if one_page:
            return fresh, False
        request["nextToken"] = page["nextToken"]


def _progress(execution: _Followed, event: dict[str, Any], followed: list[_Followed]) -> Iterator[Progress]:
    kind = event["type"]
    at = event["timestamp"]
    entered = execution.entered_of.get(event.get("previousEventId", 0))
    if entered is not None and not kind.endswith("StateEntered"):
        execution.entered_of[event["id"]] = entered
    if kind == "ExecutionStarted":
        started_with = json_or_none(event["executionStartedEventDetails"].get("input"))
        if isinstance(started_with, dict) and isinstance(started_with.get("job"), str):
            execution.job = started_with["job"]  # a SQL job's child execution: name its lines after the job
    elif kind.endswith("StateEntered"):
        name = event["stateEnteredEventDetails"]["name"]
        execution.open[event["id"]] = _OpenState(name, kind.removesuffix("Entered"), at)
        execution.entered_of[event["id"]] = event["id"]
        yield Progress(ENTERED, name, execution.depth, execution.job)
    elif kind.endswith("StateExited"):
        details = event["stateExitedEventDetails"]
        key = _open_key(execution, details["name"], entered)
        if key is None:
            return  # already shown as failed when its block failed
        state = execution.open.pop(key)
        seconds = (at - state.since).total_seconds()
        if state.failure is not None:  # left through a Catch
            yield Progress(FAILED, state.name, execution.depth, execution.job, seconds=seconds, detail=state.failure)
        else:
            yield Progress(SUCCEEDED, state.name, execution.depth, execution.job, seconds=seconds,
                           detail=_statement_detail(details.get("output")))
    elif kind in _RETRIES and entered in execution.open:
        execution.open[entered].failure = None
    elif kind in _STATE_FAILURES:
        details = _details(event)
        execution.last_failure = _explained(details)
        if entered in execution.open:
            execution.open[entered].failure = execution.last_failure
    elif kind in _BLOCK_FAILURES:
        yield from _failed_inside(execution, at)  # the failed states of its branches never leave
        key = _open_key(execution, None, None, _BLOCK_FAILURES[kind])
        if key is not None:
            execution.open[key].failure = execution.last_failure
    elif kind in _EXECUTION_FAILURES:
        yield from _failed_inside(execution, at)
        details = _details(event)
        yield Progress(FAILED, kind, execution.depth, execution.job, detail=_explained(details))
        yield from _ended(execution)
    elif kind == "ExecutionSucceeded":
        yield from _ended(execution)


def _ended(execution: _Followed) -> Iterator[Progress]:
    execution.done = True
    if execution.depth > 0:  # the summary says how the followed execution itself ended
        yield Progress(ENDED, "Execution", execution.depth, execution.job)


def _details(event: dict[str, Any]) -> dict[str, Any]:
    """The event's one `...EventDetails` member (its name follows the event type)."""
    return next((value for key, value in event.items() if key.endswith("EventDetails")), {})


def _open_key(execution: _Followed, name: str | None, entered: int | None, kind: str | None = None) -> int | None:
    """The open state an event ends: the one its chain leads to when that one has the name, else the latest with
    this name (or of this kind)."""
    if entered in execution.open and (name is None or execution.open[entered].name == name):
        return entered
    keys = [key for key, state in execution.open.items()
            if (name is None or state.name == name) and (kind is None or state.kind == kind)]
    return max(keys) if keys else None


def _failed_inside(execution: _Followed, at: datetime) -> Iterator[Progress]:
    """States that failed and will never leave (their branch or execution failed): shown failed now."""
    for key, state in sorted(execution.open.items()):
        if state.failure is not None:
            del execution.open[key]
            yield Progress(FAILED, state.name, execution.depth, execution.job,
                           seconds=(at - state.since).total_seconds(), detail=state.failure)


def _explained(details: dict[str, Any]) -> str:
    """'Error: message', with a failed child execution's own error instead of its DescribeExecution JSON."""
    explained = explain(details.get("error", ""), details.get("cause"))
    return f"{explained['error']}: {explained['message']}" if explained["message"] else explained["error"]


def _statement_detail(output: str | None) -> str:
    """The statement a SQL job submitted, when the state's output carries one."""
    data = json_or_none(output)
    if isinstance(data, dict):
        submission = data.get("submission")
        if isinstance(submission, dict) and "statement_id" in submission:
            count = submission.get("statement_count", "?")
            return f"statement {submission['statement_id']} ({count} SQL statement{'' if count == 1 else 's'})"
        report = data.get("progress", {}).get("report") if isinstance(data.get("progress"), dict) else None
        if isinstance(report, dict) and report.get("status"):
            return f"{report['status']}, {report.get('rows', 0)} rows"
    return ""

