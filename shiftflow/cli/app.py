"""The `shiftflow` command: run pipelines and workflows, watch them, inspect and reset guards, query the warehouse.

Every command works on the local runtime (the default) or on a deployed stack (`--stack NAME`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shiftflow.cli import render
from shiftflow.cli.connection import Connection, connect, local_state_dir

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def stdout() -> Console:
    """A console made when a command writes, so that it sees the COLUMNS and terminal of that moment."""
    return Console()


def stderr() -> Console:
    return Console(stderr=True)


StackOption = Annotated[str | None, typer.Option("--stack", help="Drive this deployed stack instead of the local runtime.")]
LocalOption = Annotated[bool, typer.Option("--local", help="Use the local runtime (the default).")]
EngineOption = Annotated[str, typer.Option("--engine", help="Local warehouse engine: duckdb or postgres.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show the details behind an error.")]
ProjectOption = Annotated[Path, typer.Option("--project", help="The Shiftflow project folder (template.yaml).")]


class CommandFailed(Exception):
    """A command ran and its work failed (an execution failed, a guard refused): exit code 1, no traceback."""


def check_run(result: dict[str, Any]) -> None:
    """A run that failed, or that a Failed guard blocked, exits 1 so that a scheduler notices; a run skipped
    because another one holds the guard is not a failure."""
    output = result.get("output") if isinstance(result.get("output"), dict) else {}
    if result["status"] != "SUCCEEDED" or str(output.get("status", "")).startswith("blocked"):
        raise CommandFailed(result["status"])


@contextmanager
def _session(stack: str | None, local: bool, project: Path, engine: str, verbose: bool,
             runs: list[str] | None = None) -> Iterator[Connection]:
    if stack and local:
        _fail("choose one of --local and --stack", "a command drives either the local runtime or a stack")
    try:
        with connect(stack, project.resolve(), engine=engine, log_level="INFO" if verbose else "CRITICAL",
                     state_machines=runs or []) as connection:
            yield connection
    except CommandFailed:
        raise typer.Exit(1) from None
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as error:  # one clear line; the traceback only with --verbose
        if verbose:
            stderr().print_exception()
        where = f"stack {stack}" if stack else "the local runtime"
        _fail(f"{type(error).__name__} on {where}: {error}", "run again with --verbose for the details")


def _fail(message: str, advice: str) -> None:
    stderr().print(f"[bold red]error:[/] {message} ({advice})", highlight=False)
    raise typer.Exit(2)


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="A state machine (sales_data_pipeline) or a configured workflow id.")],
    input_json: Annotated[str, typer.Option("--input", help="Execution input: JSON text or @file.json.")] = "{}",
    restart: Annotated[str | None, typer.Option("--restart", help="Workflows: run only what this failed execution left.")] = None,
    parameter: Annotated[list[str], typer.Option("--parameter", "-p", help="Workflows: name=value for the scripts.")] = [],  # noqa: B006
    stack: StackOption = None,
    local: LocalOption = False,
    engine: EngineOption = "duckdb",
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Start an execution and follow it live, state by state, then summarize it."""
    if not (project / "statemachine" / f"{name}.asl.json").is_file() and not name.startswith("arn:"):
        from shiftflow.cli.workflow_commands import run_command

        run_command(name, restart=restart, parameter=parameter, stack=stack, engine=engine, project=project,
                    verbose=verbose)
        return
    if restart or parameter:
        _fail("--restart and --parameter are for configured workflows", f"{name} is a state machine: use --input")
    execution_input = _input(input_json)
    with _session(stack, local, project, engine, verbose, runs=[name]) as connection:
        check_run(render.run_and_follow(connection, name, execution_input, stdout()))


@app.command()
def status(
    job: Annotated[str | None, typer.Argument(help="A job id; all jobs when omitted.")] = None,
    stack: StackOption = None,
    local: LocalOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Show the job guard: Ready, Running (and by which execution) or Failed (where, and why)."""
    from shiftflow.guard import read_guards

    with _session(stack, local, project, "duckdb", verbose) as connection:
        table = connection.deployment.output("JobGuardTableName")
        guards = read_guards(connection.client("dynamodb"), table, job)
        render.guards(stdout(), guards, job)


@app.command()
def history(
    job: Annotated[str, typer.Argument(help="A job id.")] = "sales_data_pipeline",
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    stack: StackOption = None,
    local: LocalOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Show the run history of a job, newest first."""
    from shiftflow.guard import read_history

    with _session(stack, local, project, "duckdb", verbose) as connection:
        table = connection.deployment.output("RunHistoryTableName")
        render.history(stdout(), read_history(connection.client("dynamodb"), table, job, limit), job)


@app.command()
def reset(
    job: Annotated[str, typer.Argument(help="The job whose Failed guard to re-arm.")],
    force: Annotated[bool, typer.Option(help="Also reset a Running guard whose run is known to be dead.")] = False,
    stack: StackOption = None,
    local: LocalOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Re-arm a Failed guard so the next run starts, and say what was done."""
    from shiftflow.guard import GuardError, reset_guard

    with _session(stack, local, project, "duckdb", verbose) as connection:
        table = connection.deployment.output("JobGuardTableName")
        try:
            stdout().print(reset_guard(connection.client("dynamodb"), table, job, force=force))
        except GuardError as error:
            stderr().print(f"[bold red]error:[/] {error}", highlight=False)
            raise CommandFailed(str(error)) from None


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="One SQL statement, run through the Redshift Data API.")],
    parameter: Annotated[list[str], typer.Option("--parameter", "-p", help="name=value, bound as :name.")] = [],  # noqa: B006
    stack: StackOption = None,
    local: LocalOption = False,
    engine: EngineOption = "duckdb",
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Run ad hoc SQL through the Data API and show every row of the result as a table."""
    parameters = dict(_parameter(item) for item in parameter)
    with _session(stack, local, project, engine, verbose) as connection:
        render.query(stdout(), connection, sql, parameters)


@app.command("serve-data-api")
def serve_data_api(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 4599,
    engine: EngineOption = "duckdb",
    project: ProjectOption = Path("."),
) -> None:
    """Serve the local warehouse through the Data API over HTTP, for the AWS CLI and any SDK."""
    from shiftflow.dataapi.engines import open_engine
    from shiftflow.dataapi.http import serve_until_interrupted
    from shiftflow.dataapi.service import DataApiEmulator

    state_dir = local_state_dir(project.resolve())

    def announce(url: str) -> None:
        stdout().print(f"Redshift Data API emulator ({engine}, {state_dir / 'warehouse'}) on {url}", highlight=False)
        stdout().print(f"export AWS_ENDPOINT_URL_REDSHIFT_DATA={url}   # Ctrl-C stops the server", highlight=False)

    serve_until_interrupted(DataApiEmulator(open_engine(engine, state_dir / "warehouse")), port, announce=announce)


@app.command()
def demo(
    engine: EngineOption = "duckdb",
    run_date: Annotated[str, typer.Option(help="The run date of the demo load.")] = "2026-11-21",
    city: Annotated[str, typer.Option(help="The city of the ad hoc report.")] = "Fairview",
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Bootstrap the demo data, run the sales pipeline with live progress, show the checks and a report."""
    execution_input = {"job_id": "sales_data_pipeline", "run_date": run_date, "setup_demo_data": True}
    with _session(None, True, project, engine, verbose, runs=["sales_data_pipeline"]) as connection:
        from shiftflow.guard import read_guards

        guard = read_guards(connection.client("dynamodb"), connection.deployment.output("JobGuardTableName"),
                            "sales_data_pipeline")
        if guard and guard[0].get("JobState") == "Failed":
            stdout().print("[yellow]The sales pipeline's guard is Failed from an earlier run: resetting it for the demo.")
            from shiftflow.guard import reset_guard

            stdout().print(reset_guard(connection.client("dynamodb"), connection.deployment.output("JobGuardTableName"),
                                      "sales_data_pipeline"))
        result = render.run_and_follow(connection, "sales_data_pipeline", execution_input, stdout())
        if result["status"] != "SUCCEEDED":
            raise CommandFailed(result["status"])
        render.demo_report(stdout(), connection, project.resolve(), run_date, city)


def _input(text: str) -> dict[str, Any]:
    source = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        value = json.loads(source)
    except ValueError as error:
        _fail(f"--input is not JSON: {error}", 'give an object such as \'{"run_date": "2026-11-21"}\' or @file.json')
    if not isinstance(value, dict):
        _fail("--input must be a JSON object", 'for example \'{"run_date": "2026-11-21"}\'')
    return value


def _parameter(item: str) -> tuple[str, str]:
    name, separator, value = item.partition("=")
    if not separator or not name:
        _fail(f"--parameter {item!r} is not name=value", "for example -p city=Fairview")
    return name, value


def _register_subcommands() -> None:
    from shiftflow.cli.workflow_commands import workflow_app

    app.add_typer(workflow_app, name="workflow")
    from shiftflow.cli.cloud_commands import register_cloud_commands

    register_cloud_commands(app)


_register_subcommands()


def main() -> None:
    app(prog_name="shiftflow")


if __name__ == "__main__":
    sys.exit(main())
