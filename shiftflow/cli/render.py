"""What the CLI shows: live progress of an execution, its summary, guards, history and query results."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shiftflow.cli.connection import Connection
from shiftflow.cli.progress import ENTERED, FAILED, SUCCEEDED, Progress, follow
from shiftflow.jobs.failures import json_or_none
from shiftflow.jobs.results import read_result
from shiftflow.jobs.status import TERMINAL_STATUSES, failure_of, summarize, wait_for_end
from shiftflow.jobs.submit import SqlJob, batch_request, statement_name

# Inside a SQL job (a run_sql_job child execution) only these states say something worth a line.
_CHILD_STATES_SHOWN = {"SubmitSqlScript"}
_CONDITION_NOT_MET = "DynamoDB.ConditionalCheckFailedException"


def run_and_follow(connection: Connection, name: str, execution_input: dict[str, Any], console: Console) -> dict[str, Any]:
    """Start `name`, print its progress until it ends, then its summary. Returns status, output, error, cause."""
    sfn = connection.client("stepfunctions")
    arn = connection.deployment.state_machine_arn(name)
    execution_arn = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
    console.print(f"[bold]{name}[/] started: {execution_arn}", highlight=False)
    shown_failures: set[str] = set()
    for item in follow(sfn, execution_arn, poll_seconds=0.1 if connection.is_local else 1.0):
        _progress_line(console, item, shown_failures)
    described = sfn.describe_execution(executionArn=execution_arn)
    result = {
        "status": described["status"],
        "output": json.loads(described["output"]) if described.get("output") else None,
        "error": described.get("error", ""),
        "cause": described.get("cause", ""),
        "execution_arn": execution_arn,
    }
    _summary(console, connection, result, execution_input)
    return result


def _progress_line(console: Console, item: Progress, shown_failures: set[str]) -> None:
    """One line per item; a failure's message is printed once (a job's failure also fails the states around it)."""
    if item.depth > 0 and item.state not in _CHILD_STATES_SHOWN and item.kind != FAILED:
        return
    if item.kind == FAILED and item.depth == 0 and item.state.startswith("Execution"):
        return  # the summary below says how the execution ended
    indent = "    " * item.depth
    label = f"{item.job} › {item.state}" if item.depth else item.state
    if item.kind == ENTERED:
        if item.depth == 0:
            console.print(f"{indent}[cyan]▶[/] {label}", highlight=False)
    elif item.kind == SUCCEEDED:
        detail = f"  {item.detail}" if item.detail else ""
        console.print(f"{indent}[green]✓[/] {label} [dim]{item.seconds or 0:.2f}s[/]{detail}", highlight=False)
    elif item.kind == FAILED and item.detail.startswith(_CONDITION_NOT_MET):
        # A conditional write that found the guard taken (or a job already done): a branch, not a failure.
        console.print(f"{indent}[yellow]↷[/] {label} [dim]{item.seconds or 0:.2f}s[/]  condition not met",
                      highlight=False)
    elif item.kind == FAILED:
        seconds = f" [dim]{item.seconds:.2f}s[/]" if item.seconds is not None else ""
        detail = item.detail if item.detail not in shown_failures else item.detail.split(":", 1)[0] + " (above)"
        shown_failures.add(item.detail)
        console.print(f"{indent}[red]✗ {label}[/]{seconds} {detail}", highlight=False)


def _summary(console: Console, connection: Connection, result: dict[str, Any], execution_input: dict[str, Any]) -> None:
    colour = "green" if result["status"] == "SUCCEEDED" else "red"
    output = result["output"] if isinstance(result["output"], dict) else {}
    outcome = output.get("status", result["status"])
    detail = f": {outcome}" if outcome != result["status"] else ""
    console.print(f"\n[bold {colour}]{result['status']}[/]{detail}", highlight=False)
    if result["status"] != "SUCCEEDED":
        console.print(f"[red]{result['error']}[/]: {result['cause']}", highlight=False)
    jobs = job_summaries(connection.client("stepfunctions"), result["execution_arn"])
    if jobs:
        table = Table("job", "status", "seconds", "rows", "statement", title="SQL jobs")
        for job in jobs:
            seconds = job.get("duration_ms", -1) / 1000 if job.get("duration_ms", -1) >= 0 else None
            table.add_row(job["job"], job["status"], f"{seconds:.2f}" if seconds is not None else "-",
                          str(job.get("rows", "-")), job.get("statement_id", ""))
        console.print(table)
    job_id = output.get("job_id") or execution_input.get("job_id")
    if job_id and "JobGuardTableName" in connection.deployment.outputs:
        _guard_and_history(console, connection, job_id)
    if connection.is_local:
        for notification in connection.notifications():
            console.print(f"[yellow]notification[/] {notification['subject']}: {json.dumps(notification['message'])}",
                          highlight=False)


def job_summaries(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """The summary of every SQL job an execution ran, found in the outputs of its child executions."""
    found: list[dict[str, Any]] = []
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    for event in (event for page in pages for event in page["events"]):
        if event["type"] != "TaskSucceeded":
            continue
        output = json_or_none(event["taskSucceededEventDetails"].get("output"))
        if not isinstance(output, dict) or "ExecutionArn" not in output:
            continue
        child_output = output.get("Output")
        child_output = json_or_none(child_output) if isinstance(child_output, str) else child_output
        if isinstance(child_output, dict) and "statement_id" in child_output and "job" in child_output:
            found.append(child_output)
        else:  # a child that runs jobs itself (a workflow stage)
            found += job_summaries(sfn, output["ExecutionArn"])
    return found


def _guard_and_history(console: Console, connection: Connection, job_id: str) -> None:
    from shiftflow.guard import read_guards, read_history

    dynamodb = connection.client("dynamodb")
    guard = read_guards(dynamodb, connection.deployment.output("JobGuardTableName"), job_id)
    guards(console, guard, job_id)
    latest = read_history(dynamodb, connection.deployment.output("RunHistoryTableName"), job_id, limit=1)
    if latest:
        item = dict(latest[0])
        item.pop("Jobs", None)
        console.print("run history: " + ", ".join(f"{key}={value}" for key, value in sorted(item.items())),
                      highlight=False)


def guards(console: Console, items: list[dict[str, Any]], job: str | None) -> None:
    if not items:
        console.print(f"job {job}: no guard yet (never run), ready to run" if job else "no job has run yet")
        return
    table = Table("job", "state", "since", "ended", "execution", "failed step", "last error", title="job guard")
    for item in items:
        state = item.get("JobState", "?")
        colour = {"Ready": "green", "Running": "cyan", "Failed": "red"}.get(state, "white")
        table.add_row(item["JobID"], f"[{colour}]{state}[/]", item.get("JobStart", ""), item.get("JobEnd", ""),
                      item.get("OwnerExecution", ""), item.get("FailedStep", ""), item.get("LastError", ""))
    console.print(table)


def history(console: Console, items: list[dict[str, Any]], job: str) -> None:
    if not items:
        console.print(f"job {job} has no recorded run")
        return
    table = Table("started", "ended", "status", "run date", "failed step", "message", "execution", title=f"runs of {job}")
    for item in items:
        table.add_row(item.get("RunStart", ""), item.get("RunEnd", ""), item.get("Status", ""), item.get("RunDate", ""),
                      item.get("FailedStep", ""), item.get("Message", ""), item.get("ExecutionArn", ""))
    console.print(table)


def query(console: Console, connection: Connection, sql: str, parameters: dict[str, str]) -> None:
    """One statement through the Data API; every page of the result as a table."""
    rows, columns = run_query(connection, sql, parameters)
    table = Table(*columns) if columns else None
    if table is None:
        console.print("statement finished (no result set)")
        return
    for row in rows:
        table.add_row(*("NULL" if value is None else str(value) for value in row.values()))
    console.print(table)
    console.print(f"{len(rows)} rows", style="dim")


def run_query(connection: Connection, sql: str, parameters: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    data_api = connection.client("redshift-data")
    request: dict[str, Any] = {**connection.target.request_fields(), "Sql": sql,
                               "StatementName": statement_name("shiftflow-cli", "query")}
    if parameters:
        request["Parameters"] = [{"name": name, "value": value} for name, value in parameters.items()]
    statement_id = data_api.execute_statement(**request)["Id"]
    description = _until_done(data_api, statement_id)
    failure = failure_of("query", description)
    if failure is not None:
        raise failure
    if not description.get("HasResultSet"):
        return [], []
    result = read_result(data_api, statement_id)
    return result.rows, result.columns


def demo_report(console: Console, connection: Connection, project_root: Path, run_date: str, city: str) -> None:
    """The validation checks and the ad hoc city report, read back with get-statement-result."""
    for title, script, parameters in [
        (f"validation of {run_date}", "sales/validate_sales_load.sql", {"run_date": run_date}),
        (f"daily sales by category, stores of {city}", "sales/report_daily_sales_by_category.sql", {"city": city}),
    ]:
        rows, columns = run_script(connection, (project_root / "scripts" / script).read_text(), parameters)
        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*("NULL" if value is None else str(value) for value in row.values()))
        console.print(table)


def run_script(connection: Connection, sql: str, parameters: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """A script as a job runs it (one batch), then the rows of its last result set."""
    data_api = connection.client("redshift-data")
    job = SqlJob(workflow="shiftflow-cli", job="report", sql=sql, parameters=parameters, client_token_seed=str(uuid.uuid4()))
    statement_id = data_api.batch_execute_statement(**batch_request(job, connection.target))["Id"]
    description = _until_done(data_api, statement_id)
    summary = summarize(job.job, description)
    failure = failure_of(job.job, description)
    if failure is not None:
        raise failure
    if "result_statement_id" not in summary:
        return [], []
    result = read_result(data_api, summary["result_statement_id"])
    return result.rows, result.columns


def _until_done(data_api: Any, statement_id: str) -> dict[str, Any]:
    description = wait_for_end(data_api, statement_id)
    while description["Status"] not in TERMINAL_STATUSES:
        description = wait_for_end(data_api, statement_id)
    return description

