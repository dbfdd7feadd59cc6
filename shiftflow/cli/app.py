"""The `shiftflow` command: run pipelines and workflows, watch them, inspect and reset guards, query the warehouse.

Every command works on the local runtime (the default) or on a deployed stack (`--stack NAME`).
"""

from __future__ import annotations

if __name__ == "__main__":  # `python -m shiftflow.cli.app`: the process's start-up choices before the imports below
    from shiftflow.cli import startup

    startup.begin()

import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from shiftflow import __version__
from shiftflow.cli import common, render
from shiftflow.cli.common import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SKIPPED,
    CannotRun,
    CommandFailed,
    EngineOption,
    JsonOption,
    LocalOption,
    ProjectOption,
    SkipExitCodeOption,
    StackOption,
    VerboseOption,
    fail,
    parse_parameters,
    print_json,
    read_input,
    session,
    stderr,
    stdout,
)
from shiftflow.cli.connection import Connection, local_state_dir


class CommandGroup(TyperGroup):
    """The `shiftflow` group, each command converted to click when named (or listed by --help): typer converts
    every command of a group at once (about 10 ms), a command needs only its own. The sub-apps are imported when
    named, too: a command pays for neither their imports (the workflow model's pydantic classes ...) nor their
    conversion."""

    LAZY_SUBAPPS = {
        "workflow": "shiftflow.cli.workflow_commands:workflow_app",
        "scripts": "shiftflow.cli.scripts_commands:scripts_app",
        "stream": "shiftflow.cli.stream_commands:stream_app",
    }
    # The app's own commands (typer's CommandInfo by name), taken out of the app by defer_commands.
    deferred: dict[str, Any] = {}
    deferred_from: Any = None  # the Typer they were registered on: its settings for their conversion

    def list_commands(self, ctx: Any) -> list[str]:
        eager = [name for name in super().list_commands(ctx) if name not in self.deferred]
        return [*self.deferred, *eager, *(name for name in self.LAZY_SUBAPPS if name not in eager)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.deferred:
            self.commands[cmd_name] = _one_command(self.deferred_from, self.deferred[cmd_name])
        elif cmd_name not in self.commands and cmd_name in self.LAZY_SUBAPPS:
            module, attribute = self.LAZY_SUBAPPS[cmd_name].split(":")
            # get_group: a sub-app of one command (scripts) stays a group, as add_typer keeps it
            command = typer.main.get_group(getattr(importlib.import_module(module), attribute))
            command.name = cmd_name
            self.commands[cmd_name] = command
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        known = (*self.commands, *self.deferred, *self.LAZY_SUBAPPS)
        if args and args[0] not in known:
            for name in self.list_commands(ctx):  # an unknown name: typer's "did you mean" looks through every command
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


def defer_commands(typer_app: typer.Typer) -> None:
    """Take the commands registered on `typer_app` out of it, for CommandGroup to convert one at a time."""
    for info in typer_app.registered_commands:
        # typer's name of a command (typer.main.get_command_name), tests/unit/test_cli_startup.py checks they agree
        CommandGroup.deferred[info.name or info.callback.__name__.lower().replace("_", "-")] = info
    CommandGroup.deferred_from = typer_app
    typer_app.registered_commands = []


def _one_command(typer_app: typer.Typer, info: Any) -> Any:
    """One command as typer converts it in its group: a Typer of that one command, with the group's settings."""
    single = typer.Typer(add_completion=False, rich_markup_mode=typer_app.rich_markup_mode,
                         pretty_exceptions_short=typer_app.pretty_exceptions_short)
    single.registered_commands.append(info)
    return typer.main.get_command(single)


app = typer.Typer(cls=CommandGroup, add_completion=False, no_args_is_help=True,
                  help=f"{__doc__}\n\n{EXIT_CODES_HELP}")


def _version_callback(value: bool) -> None:
    if value:
        print(f"shiftflow {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Options before the command."""


@app.command()
def version() -> None:
    """Print the version of shiftflow."""
    print(f"shiftflow {__version__}")


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="A state machine (sales_data_pipeline) or a configured workflow id.")],
    input_json: Annotated[str, typer.Option("--input", help="Execution input: JSON text or @file.json.")] = "{}",
    restart: Annotated[str | None, typer.Option("--restart", help="Workflows: run only what this failed execution left.")] = None,
    parameter: Annotated[list[str], typer.Option("--parameter", "-p", help="Workflows: name=value for the scripts.")] = [],  # noqa: B006
    stack: StackOption = None,
    local: LocalOption = False,
    engine: EngineOption = None,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    skip_exit_code: SkipExitCodeOption = EXIT_SKIPPED,
) -> None:
    """Start an execution and follow it live, state by state, then summarize every job of it.

    Exit codes: 0 succeeded, 1 failed or blocked by a Failed guard, 2 could not start, 99 skipped (another run holds
    the guard; --skip-exit-code changes it)."""
    if not (project / "statemachine" / f"{name}.asl.json").is_file() and not name.startswith("arn:"):
        from shiftflow.cli.workflow_commands import run_workflow

        run_workflow(name, restart=restart, parameter=parameter, stack=stack, local=local, engine=engine,
                     project=project, verbose=verbose, as_json=as_json, skip_exit_code=skip_exit_code)
        return
    if restart or parameter:
        fail("--restart and --parameter are for configured workflows", f"{name} is a state machine: use --input")
    execution_input = read_input(input_json)
    with session(stack, local, project, engine, verbose, runs=[name]) as connection:
        result = render.run_and_follow(connection, name, execution_input, common.progress_console(as_json),
                                       pipeline_jobs(connection, name))
        common.finish_run(connection, result, execution_input, as_json, skip_exit_code)


def pipeline_jobs(connection: Connection, name: str) -> list[str]:
    """The SQL jobs the pipeline's definition can run, for a summary that names those that did not run."""
    from shiftflow.jobs.outcomes import jobs_of_definition

    arn = connection.deployment.state_machine_arn(name)
    return jobs_of_definition(connection.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])


@app.command()
def watch(
    execution: Annotated[str, typer.Argument(help="An execution ARN, or an execution name of a deployed state machine.")],
    stack: StackOption = None,
    local: LocalOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    skip_exit_code: SkipExitCodeOption = EXIT_SKIPPED,
) -> None:
    """Follow an execution started anywhere (a schedule, another terminal) until it ends, then summarize it.

    Exit codes as for run."""
    with session(stack, local, project, None, verbose) as connection:
        sfn = connection.client("stepfunctions")
        described = _find_execution(connection, execution)
        state_machine = described["stateMachineArn"]
        name = next((known for known in connection.deployment.state_machine_names()
                     if connection.deployment.state_machine_arn(known) == state_machine), state_machine)
        definition = sfn.describe_state_machine(stateMachineArn=state_machine)["definition"]
        from shiftflow.jobs.outcomes import jobs_of_definition

        console = common.progress_console(as_json)
        console.print(f"[bold]{name}[/] following: {described['executionArn']}", highlight=False)
        result = render.follow_to_end(connection, name, described["executionArn"], console,
                                      jobs_of_definition(definition))
        common.finish_run(connection, result, json.loads(described.get("input") or "{}"), as_json, skip_exit_code)


def _find_execution(connection: Connection, execution: str) -> dict[str, Any]:
    """DescribeExecution of an ARN, or of the execution with that name under one of the deployment's state
    machines; an unknown one cannot be watched (exit 2)."""
    sfn = connection.client("stepfunctions")
    candidates = [execution] if execution.startswith("arn:") else [
        connection.deployment.state_machine_arn(name).replace(":stateMachine:", ":execution:") + f":{execution}"
        for name in connection.deployment.state_machine_names()]
    for arn in candidates:
        try:
            return sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
    raise CannotRun(f"no execution {execution!r}", "give an execution ARN, as run and history print them")


@app.command()
def status(
    job: Annotated[str | None, typer.Argument(help="A job id; all jobs when omitted.")] = None,
    stack: StackOption = None,
    local: LocalOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show the job guard: Ready, Running (and by which execution) or Failed (where, and why)."""
    from shiftflow.guard import read_guards, running_owner, with_owner_status

    with session(stack, local, project, None, verbose) as connection:
        table = connection.deployment.output("JobGuardTableName")
        guards = read_guards(connection.client("dynamodb"), table, job)
        # A Step Functions client (tens of ms to create) only when a Running guard's owner is to be looked up.
        owners = any(running_owner(guard) for guard in guards)
        guards = with_owner_status(connection.client("stepfunctions") if owners else None, guards)
    if as_json:
        print_json({"guards": [render.guard_document(item) for item in guards]})
    else:
        render.guards(stdout(), guards, job)


@app.command()
def history(
    name: Annotated[str | None, typer.Argument(help="A pipeline or workflow id; every run when omitted.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.", min=1)] = 20,
    stack: StackOption = None,
    local: LocalOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show recorded runs, pipelines and workflows alike, newest first."""
    from shiftflow.history import recorded_runs

    with session(stack, local, project, None, verbose) as connection:
        runs = recorded_runs(connection.client("dynamodb"), connection.deployment.outputs, name, limit)
    if as_json:
        print_json({"runs": [run.as_dict() for run in runs]})
    else:
        render.history(stdout(), runs, name)


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

    with session(stack, local, project, None, verbose) as connection:
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
    engine: EngineOption = None,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run ad hoc SQL through the Data API and show every row of the result as a table."""
    parameters = parse_parameters(parameter)
    with session(stack, local, project, engine, verbose) as connection:
        rows, columns = render.run_query(connection, sql, parameters)
    if as_json:
        print_json({"columns": columns, "rows": [list(row.values()) for row in rows], "row_count": len(rows)})
    else:
        render.query(stdout(), rows, columns)


@app.command("serve-data-api")
def serve_data_api(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 4599,
    engine: Annotated[str, typer.Option("--engine", help="Local warehouse engine: duckdb or postgres.")] = "duckdb",
    project: ProjectOption = Path("."),
) -> None:
    """Serve the local warehouse through the Data API over HTTP, for the AWS CLI and any SDK. When the project's
    local cloud runs, it holds the warehouse and serves the Data API already: its endpoint is printed instead."""
    from shiftflow.local.cloud import client

    state_dir = local_state_dir(project.resolve())
    cloud = client.running(state_dir)
    if cloud is not None:
        if cloud.engine != engine:
            fail(f"the local cloud of {state_dir} runs the {cloud.engine} engine, not {engine}",
                 "`shiftflow down` first to serve another engine")
        stdout().print(f"the local cloud (pid {cloud.pid}) holds the warehouse ({cloud.engine}, {state_dir}) and "
                       f"serves the Redshift Data API on {cloud.url}", highlight=False)
        stdout().print(f"export AWS_ENDPOINT_URL_REDSHIFT_DATA={cloud.url}   # `shiftflow down` stops it",
                       highlight=False)
        return
    _serve_data_api_alone(state_dir, port, engine)


def _serve_data_api_alone(state_dir: Path, port: int, engine: str) -> None:
    """The emulator alone over the warehouse, holding the state folder as the local cloud does: a cloud cannot
    start beside it (shiftflow.local.cloud.client.refuse_beside_standalone_data_api)."""
    from shiftflow.dataapi.engines import open_engine
    from shiftflow.dataapi.http import serve_until_interrupted
    from shiftflow.dataapi.service import DataApiEmulator
    from shiftflow.local.cloud import client
    from shiftflow.local.runtime import LocalRuntimeError, _exclusive

    def announce(url: str) -> None:
        client.announce_standalone_data_api(state_dir, url)
        stdout().print(f"Redshift Data API emulator ({engine}, {state_dir / 'warehouse'}) on {url}", highlight=False)
        stdout().print(f"export AWS_ENDPOINT_URL_REDSHIFT_DATA={url}   # Ctrl-C stops the server", highlight=False)

    state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(_exclusive(state_dir / "lock"))  # the lock the local cloud's runtime takes
        except LocalRuntimeError as error:
            fail(str(error), "a local cloud may be starting: run serve-data-api again to be given its endpoint")
        held.callback(client.remove_standalone_data_api, state_dir)
        serve_until_interrupted(DataApiEmulator(open_engine(engine, state_dir / "warehouse")), port, announce=announce)


@app.command()
def demo(
    which: Annotated[str, typer.Argument(help="sales (the sales pipeline) or stream (streaming ingestion).")] = "sales",
    engine: EngineOption = None,
    cycles: Annotated[int, typer.Option(help="demo stream: the scheduled load cycles to follow.")] = 4,
    records: Annotated[int, typer.Option(help="demo stream: the records the producer writes.")] = 400,
    run_date: Annotated[str, typer.Option(help="The run date of the demo load.")] = "2026-11-21",
    city: Annotated[str, typer.Option(help="The city of the ad hoc report.")] = "Fairview",
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Bootstrap the demo data, run the sales pipeline with live progress, show the checks and a report.
    `shiftflow demo stream`: a producer and the scheduled orders_stream loads (shiftflow/cli/stream_demo.py)."""
    if which == "stream":
        from shiftflow.cli.stream_demo import run_stream_demo

        # Against the local cloud, as the other commands (engine None: the running cloud's).
        run_stream_demo(stdout(), project.resolve(), local_state_dir(project.resolve()), engine, cycles,
                        records, cycle_seconds=2.0)
        return
    if which != "sales":
        fail(f"unknown demo {which!r}", "shiftflow demo sales or shiftflow demo stream")
    execution_input = {"job_id": "sales_data_pipeline", "run_date": run_date, "setup_demo_data": True}
    with session(None, True, project, engine, verbose, runs=["sales_data_pipeline"]) as connection:
        from shiftflow.guard import read_guards

        guard = read_guards(connection.client("dynamodb"), connection.deployment.output("JobGuardTableName"),
                            "sales_data_pipeline")
        if guard and guard[0].get("JobState") == "Failed":
            stdout().print("[yellow]The sales pipeline's guard is Failed from an earlier run: resetting it for the demo.")
            from shiftflow.guard import reset_guard

            stdout().print(reset_guard(connection.client("dynamodb"), connection.deployment.output("JobGuardTableName"),
                                      "sales_data_pipeline"))
        result = render.run_and_follow(connection, "sales_data_pipeline", execution_input, stdout(),
                                       pipeline_jobs(connection, "sales_data_pipeline"))
        render.summary(stdout(), connection, result, execution_input)
        if render.outcome(result) != "succeeded":
            raise CommandFailed(result["status"])
        render.demo_report(stdout(), connection, project.resolve(), run_date, city)


def _register_cloud_commands() -> None:
    from shiftflow.cli.cloud_commands import register_cloud_commands

    register_cloud_commands(app)


_register_cloud_commands()  # the sub-apps: CommandGroup.LAZY_SUBAPPS
defer_commands(app)


def main() -> None:
    """The `shiftflow` command's process (the console script and `python -m shiftflow.cli.app`)."""
    from shiftflow.cli import startup

    startup.begin()
    try:
        app(prog_name="shiftflow")
    except SystemExit as end:
        if end.code is not None and not isinstance(end.code, int):
            raise  # a message to print: the normal exit prints it
        startup.exit_without_teardown(end.code or EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())
