"""run_sql_job's history events, counted from its definition (statemachine/run_sql_job.asl.json).

Step Functions ends an execution at 25,000 history events (States.Runtime, which nothing catches), so the longest job
must fit: its submit, its wait for the statement until the 24-hour deadline, the cancel at the deadline and the wait
for the statement's end (its rollback), then the job's failure. Each visit of a state writes a fixed number of events
(`state_events`); a job's path is the list of states it visits; `worst_case_path` is the longest one a job can take.

What bounds a path is time: a check of a running statement (WaitForSqlCompletion) is a long poll that lasts its full
MAX_WAIT_SECONDS, so at most one check per 30 s before the deadline (poll mode) or one per heartbeat interval (event
mode), and one per 30 s after it until ROLLBACK_WAIT_SECONDS have passed. Added on top: every conflict retry a job can
make (each a new submit) and one exhausted Retry sequence of each Task state (transient errors).
"""

from __future__ import annotations

import math
from typing import Any

from shiftflow.jobs.completion import EVENT, POLL, heartbeats_before
from shiftflow.jobs.conflicts import MAX_CONFLICT_RETRIES
from shiftflow.jobs.status import MAX_WAIT_SECONDS, ROLLBACK_WAIT_SECONDS
from shiftflow.jobs.submit import MAX_JOB_SECONDS

HISTORY_EVENT_LIMIT = 25_000
# ExecutionStarted and the execution's end (ExecutionSucceeded / ExecutionFailed / ...).
EXECUTION_EVENTS = 2
# A failed attempt that a Retry retries: TaskScheduled, TaskStarted, TaskFailed.
RETRIED_ATTEMPT_EVENTS = 3
# The smallest first heartbeat interval a request may ask for (heartbeat_seconds >= 1): the most checks.
SHORTEST_HEARTBEAT_SECONDS = 1

SUBMIT = ["SubmitSqlScript", "RouteOnCompletionMode"]
CHECK = ["WaitForSqlCompletion", "RouteOnSqlStatus"]
EVENT_WAIT = ["WaitForStatementEvent", *CHECK]
# A statement that failed on a conflict, in the costlier event mode: its event, the check that decides the retry,
# the wait and the new submit (its failure ends a check early: not bounded by the time).
CONFLICT_RETRY = ["WaitForStatementEvent", "RouteOnSqlStatus", *CHECK, "CarryConflictRetry", "WaitBeforeConflictRetry",
                  *SUBMIT]
# The check that gives up on the rollback, the stop of the statement (which gives up too) and the job's failure.
GIVE_UP = ["WaitForSqlCompletion", "StopStatementBeforeFailing", "RouteOnStatementStopped",
           "ChooseCouldNotRunErrorName", "NameInterruptedSqlJob", "SqlJobCouldNotRun"]


def state_events(state: dict[str, Any]) -> int:
    """The events one visit of `state` writes: a Task its entry, scheduling, start, (for a .waitForTaskToken task
    its submission,) its outcome and its exit; a Fail its entry (the execution's end is counted apart); any other
    state its entry and exit."""
    kind = state["Type"]
    if kind == "Task":
        return 6 if state["Resource"].endswith(".waitForTaskToken") else 5
    if kind == "Fail":
        return 1
    if kind in ("Choice", "Pass", "Wait", "Succeed"):
        return 2
    raise ValueError(f"no event count for a {kind} state (run_sql_job has none)")


def path_events(definition: dict[str, Any], path: list[str]) -> int:
    """The history events of an execution that visits the states of `path`, in order, once per mention."""
    states = definition["States"]
    return EXECUTION_EVENTS + sum(state_events(states[name]) for name in path)


def retry_allowance(definition: dict[str, Any]) -> int:
    """One exhausted Retry sequence of each Task state (its largest MaxAttempts, each attempt failing)."""
    return sum(RETRIED_ATTEMPT_EVENTS * max((retrier.get("MaxAttempts", 3) for retrier in state.get("Retry", [])),
                                            default=0)
               for state in definition["States"].values() if state["Type"] == "Task")


def checks_until(seconds: float) -> int:
    """Long polls of a running statement in `seconds` (each lasts MAX_WAIT_SECONDS), the last one cut short."""
    return math.ceil(seconds / MAX_WAIT_SECONDS)


def heartbeat_waits(timeout_seconds: float, first_heartbeat: int = SHORTEST_HEARTBEAT_SECONDS) -> int:
    """The event waits of an event-mode job whose events are all lost: each ends at its heartbeat (the first one
    `first_heartbeat`, the next ones longer, shiftflow.jobs.completion), the last one right after the deadline."""
    return 1 + heartbeats_before(timeout_seconds, first_heartbeat)


def worst_case_path(completion: str, timeout_seconds: int = MAX_JOB_SECONDS) -> list[str]:
    """The longest path of a job in `completion` mode (event or poll): every conflict retry, the statement still
    running at the deadline (poll: a check per 30 s; event: no event ever comes, a check per heartbeat), then a
    check per 30 s until ROLLBACK_WAIT_SECONDS after it, then the give-up."""
    if completion == POLL:
        waiting = CHECK * checks_until(timeout_seconds)
    elif completion == EVENT:
        waiting = EVENT_WAIT * heartbeat_waits(timeout_seconds)
    else:
        raise ValueError(f"completion is {completion!r}: give {EVENT} or {POLL}")
    cancelling = CHECK * checks_until(ROLLBACK_WAIT_SECONDS)
    return [*SUBMIT, *CONFLICT_RETRY * MAX_CONFLICT_RETRIES, *waiting, *cancelling, *GIVE_UP]


def worst_case_events(definition: dict[str, Any], completion: str, timeout_seconds: int = MAX_JOB_SECONDS) -> int:
    """The most history events a job in `completion` mode can write (worst_case_path and the retry allowance)."""
    return path_events(definition, worst_case_path(completion, timeout_seconds)) + retry_allowance(definition)
