"""How a SQL job learns that its statement has ended: by the Data API's event (event mode) or by long polling.

Event mode: the statement is submitted with WithEvent; run_sql_job adds its task token to the statement's item in the
completion table (a conditional UpdateItem that fails once the statement's final state is recorded; a set of tokens,
as two executions of one job and seed follow one statement) and waits. When the "Redshift Data Statement Status
Change" event arrives, `record_final_state` writes the final state into the same item and returns the tokens stored
there, if any; the statement is described once and `resume_job` completes each token with the job's summary. Whichever of the two writes comes second sees the other: an event before the token (the put
fails, the job checks the statement itself) or a token before the event (the event finds it). A silent heartbeat
interval (a lost or late event) makes the job check the statement itself with the long poll and wait again, each
interval HEARTBEAT_GROWTH times longer up to MAX_HEARTBEAT_SECONDS, never past the job's deadline.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from botocore.exceptions import ClientError

from shiftflow.jobs.conflicts import ConflictAttempt
from shiftflow.jobs.errors import InvalidJobRequest
from shiftflow.jobs.status import report

EVENT, POLL, AUTO = "event", "poll", "auto"
COMPLETION_MODES = (EVENT, POLL, AUTO)
# `auto`: a job expected to end within one long poll (30 s, less a margin for the submit) is polled: it costs what an
# event would (one check, no wait loop) and is seen sooner. Longer or unknown jobs wait for the event.
SHORT_JOB_SECONDS = 25
# The first safety-net check of a job of unknown duration; of a job with past runs, FIRST_HEARTBEAT_FACTOR times its
# expected duration, at least MIN_HEARTBEAT_SECONDS. Each later interval is HEARTBEAT_GROWTH times the one before, at
# most MAX_HEARTBEAT_SECONDS: with events delivered, a 2-hour statement of unknown duration is checked once (15 min,
# then 2 h more); with its event lost, a statement is seen ended within one interval, so at most 2 hours late once it
# has outlasted its first interval (without the cap, 16 hours late for one ending at 2 h 16 min).
DEFAULT_HEARTBEAT_SECONDS = 900
MIN_HEARTBEAT_SECONDS = 300
FIRST_HEARTBEAT_FACTOR = 1.5
HEARTBEAT_GROWTH = 8
MAX_HEARTBEAT_SECONDS = 7200
# The Data API keeps a statement for 24 hours: a completion item is of no use a day after the job's deadline.
TOKEN_TTL_SECONDS = 86_400
STATUS_CHANGE = "Redshift Data Statement Status Change"
# What an event-mode statement's name ends with: the rule of one stack matches its own statements only (a stack name
# has no '@', so one stack's suffix is never the end of another's).
STACK_SUFFIX_SEPARATOR = "@"
# SendTaskSuccess on a token whose task is over (completed, timed out by its heartbeat, its execution stopped).
_FINISHED_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def choose_completion(job: str, requested: Any, expected_seconds: Any) -> str:
    """EVENT or POLL for a job asking for `requested` (event, poll, auto or None: auto), given its expected duration
    (seconds, from past runs; None when unknown)."""
    mode = AUTO if requested is None else requested
    if mode not in COMPLETION_MODES:
        raise InvalidJobRequest(job, f"completion is {requested!r}; give one of {', '.join(COMPLETION_MODES)}")
    if mode != AUTO:
        return str(mode)
    expected = _seconds_or_none(job, "expected_seconds", expected_seconds)
    return POLL if expected is not None and expected <= SHORT_JOB_SECONDS else EVENT


def first_heartbeat(job: str, expected_seconds: Any, override: Any, seconds_left: float) -> int:
    """The first safety-net interval of an event-mode job: `override` when given (heartbeat_seconds of the request),
    else from its expected duration; never past its deadline (`seconds_left` from now)."""
    if override is not None:
        chosen = _seconds_or_none(job, "heartbeat_seconds", override)
        if chosen is None or chosen < 1 or chosen != int(chosen):
            raise InvalidJobRequest(job, f"heartbeat_seconds is {override!r}; give a whole number of seconds >= 1")
        return _within(int(chosen), seconds_left)
    expected = _seconds_or_none(job, "expected_seconds", expected_seconds)
    if expected is None:
        return _within(DEFAULT_HEARTBEAT_SECONDS, seconds_left)
    return _within(max(MIN_HEARTBEAT_SECONDS, math.ceil(expected * FIRST_HEARTBEAT_FACTOR)), seconds_left)


def next_heartbeat(previous: int, seconds_left: float) -> int:
    """The interval after a silent one: HEARTBEAT_GROWTH times longer, at most MAX_HEARTBEAT_SECONDS (a first interval
    above it, from a long expected duration, is followed by shorter ones: the statement has outlasted it), and ending
    right after the job's deadline (the check then cancels the statement)."""
    return _within(min(previous * HEARTBEAT_GROWTH, MAX_HEARTBEAT_SECONDS), seconds_left)


def heartbeats_before(seconds: float, first: int) -> int:
    """The heartbeat intervals (each a safety-net check) that end before `seconds` have passed, the first one `first`
    long: for a statement of that duration whose event is delivered, the checks its job makes; for a deadline, the
    checks before it of a job that never gets its event."""
    ended, elapsed, interval = 0, 0.0, first
    while elapsed + interval < seconds:
        ended, elapsed = ended + 1, elapsed + interval
        interval = next_heartbeat(interval, seconds - elapsed)
    return ended


def _within(seconds: int, seconds_left: float) -> int:
    # One second past the deadline: the check that follows finds it passed. Step Functions wants at least 1.
    if math.isinf(seconds_left):
        return max(1, seconds)
    return max(1, min(seconds, math.ceil(max(seconds_left, 0)) + 1))


def _seconds_or_none(job: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or not math.isfinite(value):
        raise InvalidJobRequest(job, f"{name} is {value!r}; give a number of seconds >= 0")
    return float(value)


def event_statement_name(name: str, stack_name: str) -> str:
    """The StatementName of an event-mode statement: its name, then the stack's suffix (what the stack's rule
    matches), within the Data API's 500 characters."""
    suffix = f"{STACK_SUFFIX_SEPARATOR}{stack_name}"
    return name[: 500 - len(suffix)] + suffix


def event_pattern(stack_name: str) -> dict[str, Any]:
    """The EventBridge pattern of one stack's statements' status changes (template.yaml declares the same)."""
    return {
        "source": ["aws.redshift-data"],
        "detail-type": [STATUS_CHANGE],
        "detail": {"statementName": [{"suffix": f"{STACK_SUFFIX_SEPARATOR}{stack_name}"}]},
    }


def record_final_state(dynamodb: Any, table: str, detail: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Write the event's final state into the statement's completion item; the item as it now is (with the task tokens
    and job when run_sql_job stored them first). One atomic update: a token added after it fails its condition."""
    response = dynamodb.update_item(
        TableName=table,
        Key={"statement_id": {"S": detail["statementId"]}},
        UpdateExpression="SET final_state = :state, expires_at = if_not_exists(expires_at, :expires)",
        ExpressionAttributeValues={
            ":state": {"S": str(detail["state"])},
            ":expires": {"N": str(final_state_expires_at(detail, time.time() if now is None else now))},
        },
        ReturnValues="ALL_NEW",
    )
    return {name: next(iter(value.values())) for name, value in response.get("Attributes", {}).items()}


def final_state_expires_at(detail: dict[str, Any], now: float) -> int:
    """When TTL may delete an item the event created: a day after the statement's expireAt, counted from now when the
    event has none (or one already past), so that a late job still finds the recorded state."""
    try:
        expire_at = float(detail.get("expireAt") or 0)
    except (TypeError, ValueError):  # not epoch seconds: the day counts from now
        expire_at = 0.0
    return int(max(now, expire_at if math.isfinite(expire_at) else 0.0)) + TOKEN_TTL_SECONDS


def job_summary(redshift_data: Any, job: str, statement_id: str, conflict: str | None) -> dict[str, Any]:
    """What the job reports once its statement has ended, as get_statement_status reports it (an event never comes
    from a cancel at the deadline: the wait ends before the deadline does). `conflict`: the job's conflict attempt
    (JSON, as the wait stored it); a statement that did not finish is checked by the long poll, which decides its
    retry: only a finished one has conflict_retry (null) here."""
    attempt = ConflictAttempt.of(json.loads(conflict) if conflict else None)
    summary = {**report(job, redshift_data.describe_statement(Id=statement_id)), "past_deadline": False,
               "conflict_attempt": attempt.attempt, "conflicted_statements": list(attempt.earlier)}
    if summary["status"] == "FINISHED":  # without conflict_retry, run_sql_job checks the statement with the long poll
        summary["conflict_retry"] = None
    return summary


def resume_job(stepfunctions: Any, task_token: str, summary: dict[str, Any]) -> bool:
    """Complete the job's wait with its summary; False when that wait is already over (a duplicate or late event,
    or the safety net came first): nothing to do, by design."""
    try:
        stepfunctions.send_task_success(taskToken=task_token, output=json.dumps(summary))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _FINISHED_TOKEN_ERRORS:
            return False
        raise
    return True
