"""`shiftflow workflow ...`: configured workflows, locally (the default) or on a stack (`--stack NAME`).

    shiftflow workflow validate workflows/*.json         # offline; the scripts checked against scripts/ (or a stack's bucket)
    shiftflow workflow push workflows/tpch_yearly_sales.json
    shiftflow workflow list
    shiftflow workflow show tpch_yearly_sales
    shiftflow workflow run tpch_yearly_sales [-p scale_factor=0.1] [--restart <execution>]
    shiftflow workflow runs tpch_yearly_sales            # the workflow audit, newest first
    shiftflow workflow jobs <execution>                  # the job audit of one run

Registered by shiftflow/cli/app.py: app.add_typer(workflow_app, name="workflow"); what both share is in
shiftflow/cli/common.py. The logic lives in shiftflow.workflows (plain functions taking boto3 clients); this module
only parses and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from shiftflow.cli import common
from shiftflow.cli.common import (
    EXIT_CANNOT_RUN,
    EXIT_SKIPPED,
    CannotRun,
    EngineOption,
    JsonOption,
    LocalOption,
    ProjectOption,
    SkipExitCodeOption,
    StackOption,
    VerboseOption,
    print_json,
)
from shiftflow.workflows import (
    RestartRefused,
    WorkflowError,
    WorkflowInvalid,
    WorkflowNotFound,
    list_workflows,
    push,
    restart_plan,
    run_input,
    show,
)
from shiftflow.workflows.audit import job_items, load_run, workflow_runs
from shiftflow.workflows.model import Workflow
from shiftflow.workflows.preflight import preflight
from shiftflow.workflows.restart import Tables
from shiftflow.workflows.store import read_file
from shiftflow.workflows.validation import ScriptSource, validate, validate_scripts

workflow_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Configured workflows (seed 003).")

FilesArgument = Annotated[list[Path], typer.Argument(help="Workflow JSON files.", exists=True, dir_okay=False)]
WORKFLOW_STATE_MACHINE = "workflow"


def _tables(connection: Any) -> Tables:
    return Tables.from_outputs(connection.deployment.outputs)


@workflow_app.command("validate")
def validate_command(files: FilesArgument, stack: StackOption = None, project: ProjectOption = Path("."),
                     verbose: VerboseOption = False) -> None:
    """Check workflow files as a run would: every key, stage and job, and every job's script (staged, splittable,
    not empty, within the Data API's 40 statements and 100 KB, its parameters given). Exit 1 if a file is invalid."""
    if stack:
        with common.session(stack, False, project, None, verbose) as connection:
            _validate_all(files, ScriptSource.bucket(connection.client("s3"),
                                                     connection.deployment.output("ScriptsBucketName")))
    else:
        _validate_all(files, ScriptSource.folder(project.resolve() / "scripts"))


def _validate_all(files: list[Path], source: ScriptSource) -> None:
    failed = 0
    for path in files:
        try:
            workflow = validate_scripts(read_file(path), source)
        except WorkflowInvalid as error:
            failed += 1
            _print_problems(error, path)
        except (WorkflowError, ValueError) as error:
            failed += 1
            _print_line(common.stderr(), f"[bold red]{escape(str(path))}[/]: {escape(str(error))}")
        else:
            _print_line(common.stdout(), f"[green]{escape(str(path))}[/]: workflow {workflow.workflow_id} is valid "
                                         f"({len(workflow.stages)} stages, {len(workflow.jobs)} jobs)")
    if failed:
        raise typer.Exit(1)


def _print_problems(error: WorkflowInvalid, path: Path | None = None) -> None:
    """The verdict, then one line per problem (each names its workflow, stage, job and script); a file's lines start
    with its path, so that grep finds every problem of it."""
    console, prefix = common.stderr(), f"[bold red]{escape(str(path))}[/]: " if path else ""
    _print_line(console, f"{prefix or '[bold red]error:[/] '}{escape(error.summary)}")
    for problem in error.problems:
        _print_line(console, f"{prefix}{escape(problem)}")


def _print_line(console: Any, text: str) -> None:
    # One problem, one line: never wrapped at the terminal's (or a pipe's 80) columns.
    console.print(text, highlight=False, soft_wrap=True)


@workflow_app.command("push")
def push_command(files: FilesArgument, stack: StackOption = None, project: ProjectOption = Path("."),
                 verbose: VerboseOption = False) -> None:
    """Validate workflow files against the scripts bucket and store them in the configuration table."""
    with common.session(stack, False, project, None, verbose) as connection:
        s3, dynamodb = connection.client("s3"), connection.client("dynamodb")
        bucket, table = connection.deployment.output("ScriptsBucketName"), _tables(connection).config
        for path in files:
            try:
                workflow = validate(read_file(path), s3, bucket)
            except (WorkflowError, ValueError) as error:
                common.stderr().print(f"[bold red]{path}[/]: {error}", highlight=False)
                raise common.CommandFailed(str(error)) from None
            push(dynamodb, table, workflow)
            common.stdout().print(f"pushed workflow {workflow.workflow_id} ({len(workflow.stages)} stages, "
                              f"{len(workflow.jobs)} jobs) to {table}", highlight=False)


@workflow_app.command("list")
def list_command(stack: StackOption = None, project: ProjectOption = Path("."), verbose: VerboseOption = False,
                 as_json: JsonOption = False) -> None:
    """The workflows in the configuration table."""
    with common.session(stack, False, project, None, verbose) as connection:
        summaries = list_workflows(connection.client("dynamodb"), _tables(connection).config)
    if as_json:
        print_json({"workflows": summaries})
        return
    table = Table("workflow", "stages", "jobs", "description")
    for summary in summaries:
        table.add_row(summary["workflow_id"], str(summary["stages"]), str(summary["jobs"]), summary["workflow_description"])
    common.stdout().print(table if summaries else "no workflows yet: shiftflow workflow push workflows/<name>.json")


@workflow_app.command("show")
def show_command(workflow_id: Annotated[str, typer.Argument(help="The workflow id.")], stack: StackOption = None,
                 project: ProjectOption = Path("."), verbose: VerboseOption = False,
                 as_json: JsonOption = False) -> None:
    """The stored configuration of one workflow, as JSON (--json: the same document, unformatted for scripts)."""
    with common.session(stack, False, project, None, verbose) as connection:
        config = _stored_config(connection, workflow_id)
    if as_json:
        print_json(config)
    else:
        common.stdout().print_json(json.dumps(config))


def _stored_config(connection: Any, workflow_id: str) -> dict[str, Any]:
    """The workflow's configuration; an unknown id cannot run (exit 2), and the message lists the known ones."""
    dynamodb, table = connection.client("dynamodb"), _tables(connection).config
    try:
        return show(dynamodb, table, workflow_id)
    except WorkflowNotFound:
        known = ", ".join(summary["workflow_id"] for summary in list_workflows(dynamodb, table)) or "none"
        pipelines = ", ".join(name for name in connection.deployment.state_machine_names()) or "none"
        raise CannotRun(f"no pipeline or workflow named {workflow_id!r}",
                        f"workflows: {known}; state machines: {pipelines}") from None


@workflow_app.command("run")
def run_command(
    workflow_id: Annotated[str, typer.Argument(help="The workflow id.")],
    restart: Annotated[str | None, typer.Option("--restart", help="Run only what this failed execution left.")] = None,
    parameter: Annotated[list[str], typer.Option("--parameter", "-p", help="name=value for the scripts.")] = [],  # noqa: B006
    stack: StackOption = None,
    local: LocalOption = False,
    engine: EngineOption = None,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    skip_exit_code: SkipExitCodeOption = EXIT_SKIPPED,
) -> None:
    """Run a workflow (or restart a failed run of it) and follow it live.

    Exit codes: 0 succeeded, 1 failed or blocked, 2 could not start (unknown workflow or parameter), 99 skipped."""
    run_workflow(workflow_id, restart=restart, parameter=parameter, stack=stack, local=local, engine=engine,
                 project=project, verbose=verbose, as_json=as_json, skip_exit_code=skip_exit_code)


def run_workflow(workflow_id: str, *, restart: str | None, parameter: list[str], stack: str | None, local: bool,
                 engine: str, project: Path, verbose: bool, as_json: bool, skip_exit_code: int) -> None:
    """`shiftflow run <workflow>` and `shiftflow workflow run`: checked before anything starts, then followed."""
    from shiftflow.cli import render

    parameters = common.parse_parameters(parameter)
    with common.session(stack, local, project, engine, verbose, runs=[WORKFLOW_STATE_MACHINE]) as connection:
        workflow = _refuse_what_cannot_start(connection, workflow_id, parameters, restart, project)
        console = common.progress_console(as_json)
        if restart:
            _print_restart_plan(console, restart_plan(connection.client("dynamodb"), _tables(connection),
                                                      workflow_id, restart))
        execution_input = run_input(workflow_id, parameters, restart)
        result = render.run_and_follow(connection, WORKFLOW_STATE_MACHINE, execution_input, console,
                                       [job.name for job in workflow.jobs])
        common.finish_run(connection, result, execution_input, as_json, skip_exit_code)


def _refuse_what_cannot_start(connection: Any, workflow_id: str, parameters: dict[str, str], restart: str | None,
                              project: Path) -> Workflow:
    """Before the execution starts: the stored workflow, its scripts (the project's scripts/ locally, the stack's
    bucket on a stack) and the parameters, checked as the run would use them; a refusal exits 2 with every problem,
    and nothing starts (no guard taken, nobody notified)."""
    dynamodb, tables = connection.client("dynamodb"), _tables(connection)
    source = (ScriptSource.folder(project.resolve() / "scripts") if connection.is_local
              else ScriptSource.bucket(connection.client("s3"), connection.deployment.output("ScriptsBucketName")))
    config = _stored_config(connection, workflow_id)
    try:
        workflow = validate(config)
        previous = (load_run(dynamodb, tables.workflow_audit, tables.job_audit, restart.rsplit(":", 1)[-1])
                    if restart else None)
        preflight(workflow, source, parameters, previous)
    except WorkflowInvalid as refused:  # RunRefused, or a stored configuration that no longer parses
        _print_problems(refused)
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    except (WorkflowNotFound, RestartRefused) as refused:  # --restart of an unknown run, or of one that did not fail
        raise CannotRun(str(refused), f"`shiftflow workflow runs {workflow_id}` lists its runs; a restart takes a "
                                      "FAILED, ABORTED or TIMED_OUT one") from None
    return workflow


def _print_restart_plan(console: Any, plan: dict[str, Any]) -> None:
    for stage in plan["stages"]:
        again = ", ".join(job["name"] for job in stage["jobs"]) or "nothing"
        console.print(f"stage {stage['number']} ({stage['description']}): runs {again}", highlight=False)


@workflow_app.command("runs")
def runs_command(workflow_id: Annotated[str, typer.Argument(help="The workflow id.")],
                 limit: Annotated[int, typer.Option(help="How many runs, newest first.", min=1)] = 20,
                 stack: StackOption = None, project: ProjectOption = Path("."), verbose: VerboseOption = False,
                 as_json: JsonOption = False) -> None:
    """The runs of a workflow from the workflow audit table, newest first."""
    with common.session(stack, False, project, None, verbose) as connection:
        runs = workflow_runs(connection.client("dynamodb"), _tables(connection).workflow_audit, workflow_id, limit)
    if as_json:
        print_json({"runs": runs})
        return
    table = Table("status", "start", "end", "jobs", "failed at")
    table.add_column("execution", no_wrap=True)  # the argument of `jobs` and `run --restart`: never cut
    for run in runs:
        failed_at = f"stage {run['failed_stage']}, job {run.get('failed_job', '?')}" if run.get("failed_stage") else ""
        table.add_row(run["execution_status"], run["execution_start_ts"], run.get("execution_end_ts", ""),
                      run.get("job_counts", ""), failed_at, run["workflow_execution_id"])
    common.stdout().print(table if runs else f"workflow {workflow_id} has not run yet")


@workflow_app.command("jobs")
def jobs_command(execution: Annotated[str, typer.Argument(help="A workflow execution (name or ARN).")],
                 stack: StackOption = None, project: ProjectOption = Path("."), verbose: VerboseOption = False,
                 as_json: JsonOption = False) -> None:
    """The job audit of one workflow run: each job's status, times, statement, rows and error."""
    with common.session(stack, False, project, None, verbose) as connection:
        items = job_items(connection.client("dynamodb"), _tables(connection).job_audit, execution.rsplit(":", 1)[-1])
    items.sort(key=lambda item: (item.get("stage_number", 0), item.get("execution_start_ts", "")))
    if as_json:
        print_json({"jobs": items})
        return
    table = Table("stage", "job", "status", "start", "end", "rows", "statement", "error")
    for item in items:
        table.add_row(str(item.get("stage_number", "")), item["job_name"], item["execution_status"],
                      item.get("execution_start_ts", ""), item.get("execution_end_ts", ""), str(item.get("row_count", "")),
                      item.get("statement_id", ""), item.get("error_message", item.get("detail", "")))
    common.stdout().print(table if items else f"no job audit for {execution}")
