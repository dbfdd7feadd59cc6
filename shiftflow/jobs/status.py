"""Follow a submitted statement with describe-statement and summarize how it ended."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from shiftflow.jobs.errors import SqlJobTimedOut, SqlStatementAborted, SqlStatementFailed, TransientDataApiError
from shiftflow.sql.splitter import SqlSplitError, tokenize

FINISHED, FAILED, ABORTED = "FINISHED", "FAILED", "ABORTED"
TERMINAL_STATUSES = frozenset({FINISHED, FAILED, ABORTED})
# The longest long poll the Data API allows; one describe call per 30 s keeps state transitions minimal.
MAX_WAIT_SECONDS = 30
# Codes worth a retry with backoff; anything else (a SQL error, a bad request) would fail again.
# ActiveWaitingRequestsExceededException: too many long polls (WaitTimeSeconds) wait on the same statement, for
# instance a retried poll beside one still waiting; the statement itself is healthy, so poll again.
TRANSIENT_ERROR_CODES = frozenset(
    {"ThrottlingException", "ActiveStatementsExceededException", "ActiveWaitingRequestsExceededException",
     "InternalServerException", "ServiceUnavailable", "DatabaseConnectionException"}
)
# The clean-up function's cancel-and-wait rounds (cancel_abandoned_statement): each long-polls this long after its
# cancel, so that several fit in one invocation.
CANCEL_WAIT_SECONDS = 10
# After its deadline a job cancels its statement and waits for it to end (a rollback can take hours), so that a retry
# never runs beside it; but not for ever: this long after the deadline it fails with SqlJobTimedOut, leaving the
# statement to end alone. It keeps the longest job within Step Functions' 25,000 history events
# (shiftflow.jobs.history_budget).
ROLLBACK_WAIT_SECONDS = 4 * 3600
_SQL_PREVIEW_CHARS = 300


# Without long polling (an SDK that predates WaitTimeSeconds), poll this often inside one invocation.
FALLBACK_POLL_SECONDS = 1.0


def wait_for_end(client: Any, statement_id: str, wait_seconds: int = MAX_WAIT_SECONDS) -> dict[str, Any]:
    """describe-statement, returning as soon as the statement ends or after about `wait_seconds`.

    Long polls with WaitTimeSeconds; an SDK that does not know that parameter (older boto3 bundled in a Lambda
    runtime) makes botocore reject it before sending, and then plain describe calls are polled instead.
    """
    wait_seconds = max(0, min(wait_seconds, MAX_WAIT_SECONDS))
    if wait_seconds == 0:
        return client.describe_statement(Id=statement_id)
    try:
        return client.describe_statement(Id=statement_id, WaitTimeSeconds=wait_seconds)
    except ParamValidationError as error:
        if "WaitTimeSeconds" not in str(error):
            raise
    deadline = time.monotonic() + wait_seconds
    while True:
        description = client.describe_statement(Id=statement_id)
        if description["Status"] in TERMINAL_STATUSES or time.monotonic() + FALLBACK_POLL_SECONDS > deadline:
            return description
        time.sleep(FALLBACK_POLL_SECONDS)


def wait_within_deadline(client: Any, statement_id: str, deadline: float | None,
                         wait_seconds: int = MAX_WAIT_SECONDS) -> tuple[dict[str, Any], bool]:
    """Long-poll the statement, but not past `deadline` (epoch seconds); a statement still running then is cancelled.

    Returns the description and whether the deadline had passed. A cancelled statement is reported only once it has
    ended, so that a retry of the job can never overlap it; until then the caller polls again (and cancels again),
    each cancel followed by a long poll of `wait_seconds`. A deadline of 0 stops the statement at once (a job that
    cannot be followed any more is stopped before it fails).
    """
    remaining = None if deadline is None else deadline - time.time()
    if remaining is None or remaining > 0:
        wait = wait_seconds if remaining is None else min(wait_seconds, max(1, int(remaining + 0.999)))
        description = wait_for_end(client, statement_id, wait)
        if description["Status"] in TERMINAL_STATUSES or deadline is None or time.time() < deadline:
            return description, False
    try:
        client.cancel_statement(Id=statement_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ValidationException":
            raise  # a ValidationException says it has ended meanwhile: the describe below tells how
    return wait_for_end(client, statement_id, wait_seconds), True


def rollback_outlasted(job: str, description: dict[str, Any], deadline: float | None,
                       timeout_seconds: int | None) -> SqlJobTimedOut | None:
    """The failure of a job whose cancelled statement has still not ended ROLLBACK_WAIT_SECONDS after the job's
    deadline (the job stops waiting for it); None while it may still be waited for."""
    if deadline is None or description["Status"] in TERMINAL_STATUSES or time.time() < deadline + ROLLBACK_WAIT_SECONDS:
        return None
    return SqlJobTimedOut(job, f"statement {description['Id']} was cancelled at the job's deadline (timeout "
                               f"{timeout_seconds} s) and had still not ended {ROLLBACK_WAIT_SECONDS} s later (rolling "
                               "back): the job stops waiting for it, and a rerun may run beside it until it ends")


def is_transient(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in TRANSIENT_ERROR_CODES


def summarize(job: str, description: dict[str, Any]) -> dict[str, Any]:
    """A small JSON-safe summary for the state machine: status, duration, rows, and each sub-statement."""
    subs = description.get("SubStatements") or []
    summary: dict[str, Any] = {
        "job": job,
        "statement_id": description["Id"],
        "status": description["Status"],
        "done": description["Status"] in TERMINAL_STATUSES,
        "duration_ms": _milliseconds(description.get("Duration", -1)),
        "rows": _rows(description, subs),
        "statement_count": len(subs) or 1,
    }
    result_ids = [sub["Id"] for sub in subs if sub.get("HasResultSet")]
    # The last statement with a result set is the one a validation or report script returns; None when there is
    # none. Always present: a state machine path to an absent field fails the execution (States.Runtime).
    summary["result_statement_id"] = (
        result_ids[-1] if result_ids else description["Id"] if description.get("HasResultSet") else None
    )
    return summary


def report(job: str, description: dict[str, Any], timeout_seconds: int | None = None) -> dict[str, Any]:
    """The job's summary, and for a FAILED or ABORTED statement the `error` (the failure's class name) and `message`
    that run_sql_job's Fail state raises. `timeout_seconds`: as for failure_of."""
    summary = summarize(job, description)
    failure = failure_of(job, description, timeout_seconds)
    if failure is not None:
        summary.update(error=type(failure).__name__, message=str(failure))
    return summary


def failure_of(job: str, description: dict[str, Any],
               timeout_seconds: int | None = None) -> SqlStatementFailed | SqlStatementAborted | SqlJobTimedOut | None:
    """The error of a FAILED or ABORTED statement, naming the failed statement, its SQL and the database error.

    `timeout_seconds` is given when the statement was cancelled because the job ran past it.
    """
    status = description["Status"]
    if status == FAILED:
        return SqlStatementFailed(job, failure_detail(description))
    if status == ABORTED and timeout_seconds is not None:
        return SqlJobTimedOut(job, f"statement {description['Id']} ran longer than the job's timeout of "
                                   f"{timeout_seconds} s and was cancelled [SQL: {_preview(_running_sql(description))}]")
    if status == ABORTED:
        return SqlStatementAborted(job, f"statement {description['Id']} was aborted (cancelled) before it finished")
    return None


def failure_detail(description: dict[str, Any]) -> str:
    """Which statement failed, its SQL, and the database's own message."""
    subs = description.get("SubStatements") or []
    failed = _failed_sub(subs)
    error = database_error(description)
    if failed is None:
        return f"statement {description['Id']} failed: {error} [SQL: {_preview(description.get('QueryString', ''))}]"
    position = subs.index(failed) + 1
    return (
        f"statement {position} of {len(subs)} ({failed['Id']}) failed: {error} "
        f"[SQL: {_preview(failed.get('QueryString', ''))}]"
    )


def database_error(description: dict[str, Any]) -> str:
    """The database's own message about a failed statement: its failed sub-statement's, else the statement's."""
    failed = _failed_sub(description.get("SubStatements") or [])
    return (failed or {}).get("Error") or description.get("Error") or "no error message from the database"


def _failed_sub(subs: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((sub for sub in subs if sub.get("Status") in (FAILED, ABORTED)), None)


def _running_sql(description: dict[str, Any]) -> str:
    """The SQL of the sub-statement that was running (or would have run next) when the batch was stopped."""
    subs = description.get("SubStatements") or []
    stopped = next((sub for sub in subs if sub.get("Status") != FINISHED), None)
    return (stopped or description).get("QueryString", "")


def transient_error(job: str, error: ClientError) -> TransientDataApiError:
    message = error.response.get("Error", {}).get("Message", str(error))
    return TransientDataApiError(job, f"the Data API is busy or unavailable, will retry: {message}")


def _preview(sql: str) -> str:
    """The statement's text from its first token (leading comments say less than the SQL), on one line."""
    try:
        tokens = tokenize(sql)
    except SqlSplitError:
        tokens = []
    flat = " ".join(sql[tokens[0].start if tokens else 0 :].split())
    return flat if len(flat) <= _SQL_PREVIEW_CHARS else flat[: _SQL_PREVIEW_CHARS - 3] + "..."


def _milliseconds(nanoseconds: int) -> int:
    return -1 if nanoseconds is None or nanoseconds < 0 else nanoseconds // 1_000_000


def _rows(description: dict[str, Any], subs: list[dict[str, Any]]) -> int:
    """Rows affected or returned, summed over the batch (the service reports -1 where it has no count)."""
    counts = [sub.get("ResultRows", -1) for sub in subs] if subs else [description.get("ResultRows", -1)]
    return sum(count for count in counts if count and count > 0)
