"""What the CLI shows: live progress of an execution, its summary, guards, history and query results."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shiftflow.cli.connection import Connection

# What follows an execution (shiftflow.cli.progress, shiftflow.jobs ...) is imported by the functions that do:
# `status`, `history` and `reset` show a table and pay for neither (about 10 ms of a command's start).
if TYPE_CHECKING:
    from shiftflow.cli.progress import Progress
    from shiftflow.history import RecordedRun  # its import pulls the workflow model (pydantic): history's alone
    from shiftflow.jobs.outcomes import JobOutcome

# Without a terminal, a running statement is announced this often (a terminal shows its elapsed time live).
HEARTBEAT_SECONDS = 30.0
_CONDITION_NOT_MET = "DynamoDB.ConditionalCheckFailedException"


def run_and_follow(connection: Connection, name: str, execution_input: dict[str, Any], console: Console,
                   expected_jobs: list[str] | None = None) -> dict[str, Any]:
    """Start `name` and print its progress until it ends. Returns status, output, error, cause, the execution ARN
    and every job of the run (`expected_jobs` first, in order: those never started are `not run`)."""
    sfn = connection.client("stepfunctions")
    arn = connection.deployment.state_machine_arn(name)
    execution_arn = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
    console.print(f"[bold]{name}[/] started: {execution_arn}", highlight=False)
    return follow_to_end(connection, name, execution_arn, console, expected_jobs)


def follow_to_end(connection: Connection, name: str, execution_arn: str, console: Console,
                  expected_jobs: list[str] | None = None) -> dict[str, Any]:
    """Print an execution's progress from its history until it ends (it may have been started anywhere: this
    command, a schedule, another terminal), then return how it ended and every job of it."""
    from shiftflow.cli.progress import follow
    from shiftflow.jobs.outcomes import job_outcomes

    sfn = connection.client("stepfunctions")
    shown_failures: set[str] = set()
    try:
        with RunningJobs(console) as running:
            for item in follow(sfn, execution_arn, poll_seconds=0.1 if connection.is_local else 1.0,
                               sleep=running.sleep):
                running.see(item)
                _progress_line(console, item, shown_failures)
    except KeyboardInterrupt:  # Ctrl-C stops this command, not the execution (it runs on the cloud or stack)
        console.print(f"stopped following; the execution goes on: shiftflow watch {execution_arn}", highlight=False)
        raise
    described = sfn.describe_execution(executionArn=execution_arn)
    return {
        "name": name,
        "status": described["status"],
        "output": json.loads(described["output"]) if described.get("output") else None,
        "error": described.get("error", ""),
        "cause": described.get("cause", ""),
        "execution_arn": execution_arn,
        "jobs": job_outcomes(sfn, execution_arn, expected_jobs),
    }


def _progress_line(console: Console, item: Progress, shown_failures: set[str]) -> None:
    """One line per item; a failure's message is printed once (a job's failure also fails the states around it).
    Inside a SQL job (a run_sql_job child execution) only the statement's submission says something worth a line."""
    from shiftflow.cli.progress import ENTERED, FAILED, SUCCEEDED
    from shiftflow.jobs.executions import SUBMIT_STATE

    if item.depth > 0 and item.state != SUBMIT_STATE and item.kind != FAILED:
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


class RunningJobs:
    """The jobs whose statement is running, so that a long statement is never silent: on a terminal a live line
    with each one's elapsed time, without one (a CI log) a line every `interval` seconds."""

    def __init__(self, console: Console, interval: float = HEARTBEAT_SECONDS,
                 clock: Callable[[], float] = time.monotonic, pause: Callable[[float], None] = time.sleep) -> None:
        self.console, self.interval, self.clock, self.pause = console, interval, clock, pause
        self.running: dict[str, tuple[str, float]] = {}  # job -> (its statement, since when)
        self._live: Any = None  # a rich Live on a terminal
        self._last_line = clock()

    def __enter__(self) -> RunningJobs:
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(Text(""), console=self.console, transient=True, refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc_info)

    def see(self, item: Progress) -> None:
        from shiftflow.cli.progress import ENDED, SUCCEEDED
        from shiftflow.jobs.executions import SUBMIT_STATE

        if item.depth == 0 or not item.job:
            return
        if item.kind == SUCCEEDED and item.state == SUBMIT_STATE:
            self.running[item.job] = (item.detail.split(" (", 1)[0], self.clock())
        elif item.kind == ENDED:
            self.running.pop(item.job, None)

    def sleep(self, seconds: float) -> None:
        self.tick()
        self.pause(seconds)

    def tick(self) -> None:
        now = self.clock()
        lines = [f"{job} running {now - since:.0f}s, {statement}" for job, (statement, since) in self.running.items()]
        if self._live is not None:
            self._live.update(Text("\n".join(f"⏳ {line}" for line in lines), style="cyan"))
        elif lines and now - self._last_line >= self.interval:
            self._last_line = now
            for line in lines:
                self.console.print(f"    … {line}", highlight=False)
        elif not lines:
            self._last_line = now  # the interval counts from when a statement is first seen running


def outcome(result: dict[str, Any]) -> str:
    """succeeded, failed, skipped (another run holds the guard) or blocked (a Failed guard): what the exit code says."""
    output = result.get("output") if isinstance(result.get("output"), dict) else {}
    status = str(output.get("status", ""))
    if result["status"] != "SUCCEEDED":
        return "failed"
    if status.startswith("skipped"):
        return "skipped"
    if status.startswith("blocked"):
        return "blocked"
    return "succeeded"


def run_document(connection: Connection, result: dict[str, Any], execution_input: dict[str, Any]) -> dict[str, Any]:
    """The `run --json` document: the execution, its outcome, every job, the guard and the latest history item."""
    guard, latest = _guard_and_latest_run(connection, _job_id(result, execution_input))
    return {
        "name": result["name"],
        "execution_arn": result["execution_arn"],
        "status": result["status"],
        "outcome": outcome(result),
        "error": result["error"],
        "cause": result["cause"],
        "output": result["output"],
        "jobs": [job.as_dict() for job in result["jobs"]],
        "guard": guard_document(guard) if guard else None,
        "last_run": latest,
        "notifications": connection.notifications(),
    }


def _job_id(result: dict[str, Any], execution_input: dict[str, Any]) -> str | None:
    """The guard's key: the pipeline's job id or the workflow id."""
    output = result["output"] if isinstance(result["output"], dict) else {}
    return (output.get("job_id") or output.get("workflow_id") or execution_input.get("job_id")
            or execution_input.get("workflow_id"))


def summary(console: Console, connection: Connection, result: dict[str, Any], execution_input: dict[str, Any]) -> None:
    """After the progress lines: how the run ended, every job, the guard, the history item, the notifications."""
    job_id = _job_id(result, execution_input)
    guard, latest = _guard_and_latest_run(connection, job_id)
    notifications = connection.notifications()
    ended = outcome(result)
    colour = "green" if ended == "succeeded" else "yellow" if ended == "skipped" else "red"
    output = result["output"] if isinstance(result["output"], dict) else {}
    described = output.get("status", result["status"])
    detail = f": {described}" if described != result["status"] else ""
    console.print(f"\n[bold {colour}]{result['status']}[/]{detail}", highlight=False)
    if result["status"] != "SUCCEEDED":
        console.print(f"[red]{result['error']}[/]: {result['cause']}", highlight=False)
    if result["jobs"]:
        _jobs_table(console, result["jobs"])
    if guard is not None:
        guards(console, [guard], job_id)
    if latest:
        item = dict(latest)
        item.pop("Jobs", None)
        console.print("run history: " + ", ".join(f"{key}={value}" for key, value in sorted(item.items())),
                      highlight=False)
    for notification in notifications:
        console.print(f"[yellow]notification[/] {notification['subject']}: {json.dumps(notification['message'])}",
                      highlight=False)


def _jobs_table(console: Console, jobs: list[JobOutcome]) -> None:
    from shiftflow.jobs import outcomes

    colours = {outcomes.SUCCEEDED: "green", outcomes.FAILED: "red", outcomes.RUNNING: "cyan", outcomes.NOT_RUN: "dim"}
    table = Table("job", "result", "seconds", "rows", "statement", "error", title="SQL jobs")
    for job in jobs:
        colour = colours.get(job.status, "white")
        table.add_row(job.job, f"[{colour}]{job.status}[/]", f"{job.seconds:.2f}" if job.seconds is not None else "-",
                      str(job.rows) if job.rows is not None else "-", job.statement_id, job.error)
    console.print(table)


def _guard_and_latest_run(connection: Connection, job_id: str | None) -> tuple[dict[str, Any] | None,
                                                                                 dict[str, Any] | None]:
    from shiftflow.guard import read_guards, read_history

    if not job_id or "JobGuardTableName" not in connection.deployment.outputs:
        return None, None
    dynamodb = connection.client("dynamodb")
    guard = read_guards(dynamodb, connection.deployment.output("JobGuardTableName"), job_id)
    latest = read_history(dynamodb, connection.deployment.output("RunHistoryTableName"), job_id, limit=1)
    return (guard[0] if guard else None), (latest[0] if latest else None)


def guard_document(item: dict[str, Any]) -> dict[str, Any]:
    """A guard item as `status --json` prints it: stable keys, empty strings for what the item lacks."""
    return {
        "job": item.get("JobID", ""),
        "state": item.get("JobState", ""),
        "since": item.get("JobStart", ""),
        "ended": item.get("JobEnd", ""),
        "execution_arn": item.get("OwnerExecution", ""),
        "failed_step": item.get("FailedStep", ""),
        "last_error": item.get("LastError", ""),
        # A Running guard whose owner execution has ended (shiftflow.guard.with_owner_status).
        "stale": bool(item.get("stale")),
        "owner_status": item.get("owner_status", ""),
    }


def guards(console: Console, items: list[dict[str, Any]], job: str | None) -> None:
    if not items:
        console.print(f"job {job}: no guard yet (never run), ready to run" if job else "no job has run yet")
        return
    table = Table("job", "state", "since", "ended", "execution", "owner", "failed step", "last error",
                  title="job guard")
    for item in map(guard_document, items):
        colour = {"Ready": "green", "Running": "cyan", "Failed": "red"}.get(item["state"], "white")
        owner = f"[red]{item['owner_status']}: stale[/]" if item["stale"] else item["owner_status"]
        table.add_row(item["job"], f"[{colour}]{item['state'] or '?'}[/]", item["since"], item["ended"],
                      item["execution_arn"], owner, item["failed_step"], item["last_error"])
    console.print(table)


def history(console: Console, runs: list[RecordedRun], name: str | None) -> None:
    if not runs:
        console.print(f"{name} has no recorded run" if name else "no run recorded yet")
        return
    table = Table("started", "ended", "kind", "name", "status", "run date", "jobs", "failed at", "message",
                  "execution", title=f"runs of {name}" if name else "runs")
    for run in runs:
        table.add_row(run.started, run.ended, run.kind, run.name, run.status, run.run_date, run.jobs, run.failed_at,
                      run.message, run.execution_arn)
    console.print(table)


def query(console: Console, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A query's result set as a table (every page of it was read)."""
    if not columns:
        console.print("statement finished (no result set)")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("NULL" if value is None else str(value) for value in row.values()))
    console.print(table)
    console.print(f"{len(rows)} rows", style="dim")


def run_query(connection: Connection, sql: str, parameters: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    from shiftflow.jobs.results import read_result
    from shiftflow.jobs.status import failure_of
    from shiftflow.jobs.submit import statement_name

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
    from shiftflow.jobs.results import read_result
    from shiftflow.jobs.status import failure_of, summarize
    from shiftflow.jobs.submit import SqlJob, batch_request

    data_api = connection.client("redshift-data")
    job = SqlJob(workflow="shiftflow-cli", job="report", sql=sql, parameters=parameters, client_token_seed=str(uuid.uuid4()))
    statement_id = data_api.batch_execute_statement(**batch_request(job, connection.target))["Id"]
    description = _until_done(data_api, statement_id)
    summary = summarize(job.job, description)
    failure = failure_of(job.job, description)
    if failure is not None:
        raise failure
    if summary["result_statement_id"] is None:
        return [], []
    result = read_result(data_api, summary["result_statement_id"])
    return result.rows, result.columns


def _until_done(data_api: Any, statement_id: str) -> dict[str, Any]:
    from shiftflow.jobs.status import TERMINAL_STATUSES, wait_for_end

    description = wait_for_end(data_api, statement_id)
    while description["Status"] not in TERMINAL_STATUSES:
        description = wait_for_end(data_api, statement_id)
    return description

