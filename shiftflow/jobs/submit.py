"""Turn a SQL script into one batch-execute-statement request: split, check the service limits, bind parameters."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shiftflow.jobs.errors import InvalidJobRequest, ScriptTooLarge
from shiftflow.jobs.target import RedshiftTarget
from shiftflow.sql import SqlSplitError, named_parameters, split_statements

# Limits of the Redshift Data API (BatchExecuteStatement): 40 statements, 100 KB of SQL text.
MAX_STATEMENTS = 40
MAX_SQL_BYTES = 100 * 1024
# Redshift ends any query after 24 hours: the longest timeout a job may ask for, and the default.
MAX_JOB_SECONDS = 86_400
# A fixed namespace makes client tokens reproducible: the same execution and job always give the same token.
_TOKEN_NAMESPACE = uuid.UUID("5f0c3b52-7d3e-4c57-9d56-2f9f6a3f1c10")


@dataclass(frozen=True)
class SqlJob:
    """One run of one script: who runs it (workflow, job), what (script text) and with which parameters."""

    workflow: str
    job: str
    sql: str
    parameters: Mapping[str, Any]
    client_token_seed: str  # unique per attempt of the workflow (execution id + redrive count)


def job_timeout(job: str, value: Any) -> int:
    """A job's timeout_seconds: absent means Redshift's own 24-hour limit."""
    if value is None:
        return MAX_JOB_SECONDS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_JOB_SECONDS:
        raise InvalidJobRequest(job, f"timeout_seconds is {value!r}; give a whole number of seconds from 1 to {MAX_JOB_SECONDS}")
    return value


def client_token(seed: str, job: str) -> str:
    """Idempotency token: a retried submit of the same job in the same run returns the same statement."""
    return str(uuid.uuid5(_TOKEN_NAMESPACE, f"{seed}/{job}"))


def statement_name(workflow: str, job: str) -> str:
    """The StatementName that shows up in ListStatements and the Redshift console."""
    return f"{workflow}.{job}"[:500]


def batch_request(job: SqlJob, target: RedshiftTarget) -> dict[str, Any]:
    """The BatchExecuteStatement request for `job`; raises a JobError naming what is wrong and what to do."""
    try:
        statements = [statement.text for statement in split_statements(job.sql)]
    except SqlSplitError as error:
        raise InvalidJobRequest(job.job, str(error)) from error
    if not statements:
        raise InvalidJobRequest(job.job, "the script contains no SQL statement")
    _check_limits(job.job, statements)
    request: dict[str, Any] = {
        **target.request_fields(),
        "Sqls": statements,
        "StatementName": statement_name(job.workflow, job.job),
        "ClientToken": client_token(job.client_token_seed, job.job),
    }
    parameters = _bound_parameters(job, statements)
    if parameters:
        request["Parameters"] = parameters
    return request


def _check_limits(job: str, statements: list[str]) -> None:
    if len(statements) > MAX_STATEMENTS:
        raise ScriptTooLarge(
            job,
            f"the script has {len(statements)} statements; one Data API batch takes at most {MAX_STATEMENTS}. "
            "Split it into several jobs, or move the logic into a stored procedure and CALL it.",
        )
    size = sum(len(statement.encode()) for statement in statements)
    if size > MAX_SQL_BYTES:
        raise ScriptTooLarge(
            job,
            f"the script has {size} bytes of SQL; the Data API accepts at most {MAX_SQL_BYTES}. "
            "Split it into several jobs, or load the data with COPY instead of inline VALUES.",
        )


def _bound_parameters(job: SqlJob, statements: list[str]) -> list[dict[str, str]]:
    """Data API `Parameters` for the placeholders the script uses; values are never formatted into the SQL."""
    used: list[str] = []
    for statement in statements:
        used += [name for name in named_parameters(statement) if name not in used]
    missing = [name for name in used if name not in job.parameters]
    if missing:
        names = ", ".join(f":{name}" for name in missing)
        raise InvalidJobRequest(job.job, f"the script uses {names} but the job gives no value for it")
    return [{"name": name, "value": _as_text(job.parameters[name])} for name in used]


def _as_text(value: Any) -> str:
    # The Data API takes every parameter value as a string; Redshift casts it to the column's type.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
