"""Live progress read from an execution history: which states succeeded and which failed, and why."""

import json
from datetime import datetime, timedelta, timezone

from shiftflow.cli.progress import ENTERED, FAILED, SUCCEEDED, follow

START = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def event(number, kind, previous=0, **details):
    return {"id": number, "previousEventId": previous, "type": kind, "timestamp": START + timedelta(seconds=number),
            **details}


class History:
    """get_execution_history and describe_execution of one execution, paged as Step Functions pages them; `status`
    and `events` may change between calls, as the execution runs. Records the events each page carried."""

    def __init__(self, events, status="SUCCEEDED"):
        self.events = events
        self.status = status
        self.pages = []

    def describe_execution(self, executionArn):
        return {"status": self.status}

    def get_execution_history(self, executionArn, maxResults, reverseOrder, nextToken=None):
        ordered = list(reversed(self.events)) if reverseOrder else list(self.events)
        start = int(nextToken or 0)
        page = ordered[start:start + maxResults]
        self.pages.append(len(page))
        more = start + maxResults < len(ordered)
        return {"events": page, **({"nextToken": str(start + maxResults)} if more else {})}


def entered(number, kind, name, previous):
    return event(number, f"{kind}StateEntered", previous, stateEnteredEventDetails={"name": name, "input": "{}"})


def exited(number, kind, name, previous):
    return event(number, f"{kind}StateExited", previous, stateExitedEventDetails={"name": name, "output": "{}"})


def test_a_caught_task_failure_is_shown_failed_once_with_the_functions_own_error():
    lambda_error = json.dumps({"errorType": "ScriptNotFound", "errorMessage": "job load_x: s3://b/x.sql does not exist"})
    history = History([
        event(1, "ExecutionStarted", executionStartedEventDetails={"input": "{}"}),
        entered(2, "Task", "LoadX", 1),
        event(3, "TaskScheduled", 2, taskScheduledEventDetails={}),
        event(4, "TaskStarted", 3, taskStartedEventDetails={}),
        event(5, "TaskFailed", 4, taskFailedEventDetails={"error": "ScriptNotFound", "cause": lambda_error}),
        exited(6, "Task", "LoadX", 5),  # caught: the state is left, but it did not succeed
        entered(7, "Pass", "Recover", 6),
        exited(8, "Pass", "Recover", 7),
        event(9, "ExecutionSucceeded", 8, executionSucceededEventDetails={}),
    ])

    items = [(item.kind, item.state, item.detail) for item in follow(history, "arn", sleep=lambda _: None)]

    assert items == [
        (ENTERED, "LoadX", ""),
        (FAILED, "LoadX", "ScriptNotFound: job load_x: s3://b/x.sql does not exist"),
        (ENTERED, "Recover", ""),
        (SUCCEEDED, "Recover", ""),
    ]


def test_a_failed_branch_fails_its_parallel_state_and_names_the_child_jobs_error():
    child = json.dumps({"ExecutionArn": "arn:child", "Input": {"job": "load_item"}, "Error": "SqlStatementFailed",
                        "Cause": "job load_item: statement 1 of 2 failed: relation does not exist"})
    history = History([
        event(1, "ExecutionStarted", executionStartedEventDetails={"input": "{}"}),
        entered(2, "Parallel", "LoadDimensions", 1),
        event(3, "ParallelStateStarted", 2),
        entered(4, "Task", "LoadItem", 3),
        entered(5, "Task", "LoadAddress", 3),
        event(6, "TaskStarted", 4, taskStartedEventDetails={}),
        event(7, "TaskFailed", 6, taskFailedEventDetails={"error": "States.TaskFailed", "cause": child}),
        event(8, "ParallelStateFailed", 7),
        exited(9, "Parallel", "LoadDimensions", 8),
        event(10, "ExecutionSucceeded", 9, executionSucceededEventDetails={}),
    ])

    failed = [(item.state, item.detail) for item in follow(history, "arn", sleep=lambda _: None) if item.kind == FAILED]

    message = "SqlStatementFailed: job load_item: statement 1 of 2 failed: relation does not exist"
    assert failed == [("LoadItem", message), ("LoadDimensions", message)]


def test_a_task_that_failed_and_succeeded_on_a_retry_is_shown_succeeded_only():
    history = History([
        event(1, "ExecutionStarted", executionStartedEventDetails={"input": "{}"}),
        entered(2, "Task", "WaitForSqlCompletion", 1),
        event(3, "TaskScheduled", 2, taskScheduledEventDetails={}),
        event(4, "TaskFailed", 3, taskFailedEventDetails={"error": "TransientDataApiError", "cause": "busy"}),
        event(5, "TaskScheduled", 4, taskScheduledEventDetails={}),  # the Retry
        event(6, "TaskSucceeded", 5, taskSucceededEventDetails={"output": "{}"}),
        exited(7, "Task", "WaitForSqlCompletion", 6),
        event(8, "ExecutionSucceeded", 7, executionSucceededEventDetails={}),
    ])

    items = [(item.kind, item.state) for item in follow(history, "arn", sleep=lambda _: None)]

    assert items == [(ENTERED, "WaitForSqlCompletion"), (SUCCEEDED, "WaitForSqlCompletion")]


def test_map_iterations_running_the_same_states_are_told_apart_by_their_events():
    history = History([
        event(1, "ExecutionStarted", executionStartedEventDetails={"input": "{}"}),
        entered(2, "Map", "RunStageJobs", 1),
        entered(3, "Task", "RunJobScript", 2),  # iteration 0
        entered(4, "Task", "RunJobScript", 2),  # iteration 1
        event(5, "TaskScheduled", 3, taskScheduledEventDetails={}),
        event(6, "TaskScheduled", 4, taskScheduledEventDetails={}),
        event(7, "TaskFailed", 5, taskFailedEventDetails={"error": "SqlStatementFailed", "cause": "job a: boom"}),
        event(8, "TaskSucceeded", 6, taskSucceededEventDetails={"output": "{}"}),
        exited(9, "Task", "RunJobScript", 8),  # iteration 1 succeeded
        exited(10, "Task", "RunJobScript", 7),  # iteration 0 caught its failure
        exited(11, "Map", "RunStageJobs", 10),
        event(12, "ExecutionSucceeded", 11, executionSucceededEventDetails={}),
    ])

    items = [(item.kind, item.state, item.detail) for item in follow(history, "arn", sleep=lambda _: None)
             if item.kind != ENTERED]

    assert items == [(SUCCEEDED, "RunJobScript", ""), (FAILED, "RunJobScript", "SqlStatementFailed: job a: boom"),
                     (SUCCEEDED, "RunStageJobs", "")]


def test_a_poll_reads_one_small_page_when_few_events_are_new_and_every_new_event_otherwise():
    events = [event(1, "ExecutionStarted", executionStartedEventDetails={"input": "{}"})]
    for number in range(2, 300, 2):
        events += [entered(number, "Pass", f"Step{number}", number - 1), exited(number + 1, "Pass", f"Step{number}", number)]
    history = History(events[:250], status="RUNNING")
    polls = []

    def sleep(_):
        polls.append(list(history.pages))
        history.pages.clear()
        history.events = events[:252] if len(polls) == 1 else events
        history.status = "RUNNING" if len(polls) == 1 else "SUCCEEDED"

    items = list(follow(history, "arn", sleep=sleep))

    assert [item.state for item in items if item.kind == ENTERED] == [f"Step{number}" for number in range(2, 300, 2)]
    assert len(items) == len(events) - 1
    first_read, few_new, rest = polls[0], polls[1], history.pages
    assert first_read == [5, 100, 100, 50]  # all new: a new read in large pages
    assert few_new == [5]  # two new events: the small page alone
    assert rest[0] == 5 and sum(rest[1:]) >= len(events) - 252
