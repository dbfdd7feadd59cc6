"""Errors of a SQL job. Step Functions sees the class name as the Error, so Retry and Catch match on these names."""

from __future__ import annotations

import re

_JOB_PREFIX = re.compile(r"^job (?P<job>[\w.-]+): ")


class JobError(Exception):
    """Base: every message starts with `job <name>: ` so that a failure always names its job."""

    def __init__(self, job: str, detail: str) -> None:
        super().__init__(f"job {job}: {detail}")
        self.job = job
        self.detail = detail


def job_of(message: str) -> str | None:
    """The job named by a JobError message, if any."""
    match = _JOB_PREFIX.match(message)
    return match.group("job") if match else None


class ScriptNotFound(JobError):
    """The SQL script is not in the scripts bucket."""


class ScriptTooLarge(JobError):
    """The script exceeds what one batch-execute-statement call accepts."""


class InvalidJobRequest(JobError):
    """The job's request is incomplete or wrong (missing parameter, bad target, empty script)."""


class SqlSubmitRejected(JobError):
    """The Data API refused the batch (a ValidationException): retrying will not help."""


class TransientDataApiError(JobError):
    """Throttling or a temporary service error: the state machine retries these with backoff."""


class SqlStatementFailed(JobError):
    """A statement of the batch failed in the database."""


class SqlStatementAborted(JobError):
    """The statement was cancelled (CancelStatement, or the database aborted it)."""


class SqlJobTimedOut(JobError):
    """The statement ran past the job's timeout_seconds: it was cancelled, and ended, before this was raised (or had
    still not ended ROLLBACK_WAIT_SECONDS after the deadline: the job stopped waiting for it)."""


class ValidationChecksFailed(JobError):
    """A validation script reported failed checks."""


class SqlStatementStillRunning(JobError):
    """A statement was cancelled but has not ended within the invocation: a retry cancels it again and waits."""
