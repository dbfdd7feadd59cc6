"""run_sql_job's history events, counted from its definition (statemachine/run_sql_job.asl.json).

Step Functions ends an execution at 25,000 history events (States.Runtime, which nothing catches), so the longest job
must fit: its submit, its wait for the statement until the 24-hour deadline, the cancel at the deadline and the wait
for the statement's end (its rollback), then the job's failure. Each visit of a state writes a fixed number of events
(`state_events`); a job's path is the list of states it visits; `worst_case_path` is the longest one a job can take.

What bounds a path is time: a check of a running statement (WaitForSqlCompletion) is a long poll that lasts its full
MAX_WAIT_SECONDS, so at most one check per 30 s before the deadline (poll mode) or one per heartbeat interval (event
mode), and one per 30 s after it until ROLLBACK_WAIT_SECONDS have passed. Added on top: every conflict retry a job can
make (each a new submit) and the Task states' retries (transient errors).

Step Functions keeps a retrier's attempt count for one visit of its state: each new visit may use up its MaxAttempts
again. So every visit of a Task counts a full Retry sequence, except in the loops counted by time (the checks of poll
mode, the checks after the deadline): there a `paced` Task, whose every retry waits at least a long poll, fails no
more often than it checks, and each failed attempt writes fewer events than a check (RETRIED_ATTEMPT_EVENTS against
a visit and its routing), so the checks counted by time already count its failures, all but the sequence that ends
the loop. Without the pacing, 2,880 checks of 18 more events each would exceed the limit twice over.
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

Segment = tuple[list[str], bool]  # states visited in order; True: a loop whose visits are counted by time

SUBMIT = ["SubmitSqlScript", "RouteOnCompletionMode"]
CHECK = ["WaitForSqlCompletion", "RouteOnSqlStatus"]
EVENT_WAIT = ["WaitForStatementEvent", *CHECK]
# A statement that failed on a conflict, in the costlier event mode: its event, the check that decides the retry,
# the wait and the new submit (its failure ends a check early: not bounded by the time).
CONFLICT_RETRY = ["WaitForStatementEvent", "RouteOnSqlStatus", *CHECK, "CarryConflictRetry", "WaitBeforeConflictRetry",
                  *SUBMIT]
# In poll mode (a job's mode is the same for each of its attempts): the check that decides the retry, the wait and the
# new submit.
POLL_CONFLICT_RETRY = [*CHECK, "CarryConflictRetry", "WaitBeforeConflictRetry", *SUBMIT]
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


def retry_sequence_events(state: dict[str, Any]) -> int:
    """The events of the failed attempts one visit of `state` may retry: each retrier's MaxAttempts (a retrier
    counts its own attempts) of RETRIED_ATTEMPT_EVENTS each."""
    return sum(RETRIED_ATTEMPT_EVENTS * retrier.get("MaxAttempts", 3) for retrier in state.get("Retry", []))


def paced(state: dict[str, Any]) -> bool:
    """Whether every retry of `state` waits at least MAX_WAIT_SECONDS (FULL jitter may wait no time at all)."""
    return all(retrier.get("JitterStrategy", "NONE") == "NONE" and retrier.get("IntervalSeconds", 1) >= MAX_WAIT_SECONDS
               for retrier in state.get("Retry", []))


def retry_allowance(definition: dict[str, Any], segments: list[Segment]) -> int:
    """The retries' events along a path: a full Retry sequence per visit of each Task, but per loop counted by time
    only one per paced Task (the sequence that ends the loop; its earlier failures took the place of checks)."""
    states, total = definition["States"], 0
    for visits, timed in segments:
        tasks = [name for name in visits if states[name]["Type"] == "Task"]
        counted = [name for name in tasks if not (timed and paced(states[name]))]
        if timed:
            counted += sorted({name for name in tasks if paced(states[name])})
        total += sum(retry_sequence_events(states[name]) for name in counted)
    return total


def checks_until(seconds: float) -> int:
    """Long polls of a running statement in `seconds` (each lasts MAX_WAIT_SECONDS), the last one cut short."""
    return math.ceil(seconds / MAX_WAIT_SECONDS)


def heartbeat_waits(timeout_seconds: float, first_heartbeat: int = SHORTEST_HEARTBEAT_SECONDS) -> int:
    """The event waits of an event-mode job whose events are all lost: each ends at its heartbeat (the first one
    `first_heartbeat`, the next ones longer, shiftflow.jobs.completion), the last one right after the deadline."""
    return 1 + heartbeats_before(timeout_seconds, first_heartbeat)


def worst_case_segments(completion: str, timeout_seconds: int = MAX_JOB_SECONDS) -> list[Segment]:
    """The longest path of a job in `completion` mode (event or poll), in segments: every conflict retry, the
    statement still running at the deadline (poll: a check per 30 s; event: no event ever comes, a check per
    heartbeat), then a check per 30 s until ROLLBACK_WAIT_SECONDS after it, then the give-up. Counted by time: in poll
    mode everything before the give-up (the checks fill the whole time to the deadline and past it, on top of the
    conflict retries, which take time too), in event mode the checks after the deadline."""
    cancelling = CHECK * checks_until(ROLLBACK_WAIT_SECONDS)
    if completion == POLL:
        waiting = CHECK * checks_until(timeout_seconds)
        return [([*SUBMIT, *POLL_CONFLICT_RETRY * MAX_CONFLICT_RETRIES, *waiting, *cancelling], True), (GIVE_UP, False)]
    if completion == EVENT:
        waiting = EVENT_WAIT * heartbeat_waits(timeout_seconds)
        return [([*SUBMIT, *CONFLICT_RETRY * MAX_CONFLICT_RETRIES, *waiting], False), (cancelling, True),
                (GIVE_UP, False)]
    raise ValueError(f"completion is {completion!r}: give {EVENT} or {POLL}")


def worst_case_path(completion: str, timeout_seconds: int = MAX_JOB_SECONDS) -> list[str]:
    """The states of worst_case_segments, in order."""
    return [name for visits, _ in worst_case_segments(completion, timeout_seconds) for name in visits]


def worst_case_events(definition: dict[str, Any], completion: str, timeout_seconds: int = MAX_JOB_SECONDS) -> int:
    """The most history events a job in `completion` mode can write (worst_case_path and its retries)."""
    segments = worst_case_segments(completion, timeout_seconds)
    return path_events(definition, worst_case_path(completion, timeout_seconds)) + retry_allowance(definition, segments)
