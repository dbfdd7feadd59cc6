"""Turn a SQL script into one batch-execute-statement request: split, check the service limits, bind parameters."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shiftflow.jobs.errors import InvalidJobRequest, JobError, ScriptTooLarge
from shiftflow.jobs.target import RedshiftTarget
from shiftflow.sql import SqlSplitError, named_parameters, split_statements

# Limits of the Redshift Data API's BatchExecuteStatement: 40 statements (SqlList's max in botocore's model),
# 100 KB of SQL text (the Data API's documented statement size; the service checks it, the model does not).
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
    statements = script_statements(job.job, job.sql)
    _raise_first(batch_problems(job.job, statements))
    used = used_parameters(statements)
    _raise_first(parameter_problems(job.job, used, job.parameters))
    request: dict[str, Any] = {
        **target.request_fields(),
        "Sqls": statements,
        "StatementName": statement_name(job.workflow, job.job),
        "ClientToken": client_token(job.client_token_seed, job.job),
    }
    if used:
        request["Parameters"] = [{"name": name, "value": _as_text(job.parameters[name])} for name in used]
    return request


# The checks below are the submit's own; `shiftflow workflow validate` and the check before a run call them too, so
# a script is judged the same way before a run as when its job submits it.


def script_statements(job: str, sql: str) -> list[str]:
    """The statements of a script as its batch sends them; InvalidJobRequest when the splitter cannot split it."""
    try:
        return [statement.text for statement in split_statements(sql)]
    except SqlSplitError as error:
        raise InvalidJobRequest(job, str(error)) from error


def batch_problems(job: str, statements: list[str]) -> list[JobError]:
    """Every reason `statements` cannot be one BatchExecuteStatement: none at all, too many, too much SQL text."""
    if not statements:
        return [InvalidJobRequest(job, "the script contains no SQL statement (only whitespace, comments or ';')")]
    problems: list[JobError] = []
    if len(statements) > MAX_STATEMENTS:
        problems.append(ScriptTooLarge(
            job,
            f"the script has {len(statements)} statements; one Data API batch takes at most {MAX_STATEMENTS}. "
            "Split it into several jobs, or move the logic into a stored procedure and CALL it.",
        ))
    # The Data API documents 100 KB per query statement, not how a batch counts: the batch's total is never more
    # lenient than the service.
    size = sum(len(statement.encode()) for statement in statements)
    if size > MAX_SQL_BYTES:
        problems.append(ScriptTooLarge(
            job,
            f"the script has {size} bytes of SQL; the Data API accepts at most {MAX_SQL_BYTES}. "
            "Split it into several jobs, or load the data with COPY instead of inline VALUES.",
        ))
    return problems


def used_parameters(statements: list[str]) -> list[str]:
    """The `:name` placeholders of the statements, in order of first use: the batch binds exactly these."""
    used: list[str] = []
    for statement in statements:
        used += [name for name in named_parameters(statement) if name not in used]
    return used


def parameter_problems(job: str, used: list[str], parameters: Mapping[str, Any]) -> list[JobError]:
    """Why the batch cannot bind the placeholders `used` from `parameters`: a value missing, or one the Data API
    refuses."""
    return [problem for problem in (missing_parameters(job, used, parameters), empty_parameters(job, used, parameters))
            if problem is not None]


def missing_parameters(job: str, used: list[str], parameters: Mapping[str, Any]) -> JobError | None:
    missing = [name for name in used if name not in parameters]
    if not missing:
        return None
    names = ", ".join(f":{name}" for name in missing)
    return InvalidJobRequest(job, f"the script uses {names} but the job gives no value for it")


def empty_parameters(job: str, used: list[str], parameters: Mapping[str, Any]) -> JobError | None:
    # ParameterValue has min length 1 in the service model: an empty string is refused with the whole batch.
    empty = [name for name in used if name in parameters and _as_text(parameters[name]) == ""]
    if not empty:
        return None
    names = ", ".join(f":{name}" for name in empty)
    return InvalidJobRequest(job, f"the value of {names} is empty; the Data API refuses an empty parameter value")


def _raise_first(problems: list[JobError]) -> None:
    if problems:
        raise problems[0]


def _as_text(value: Any) -> str:
    # The Data API takes every parameter value as a string; Redshift casts it to the column's type.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
