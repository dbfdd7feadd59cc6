"""What every `shiftflow` command shares: exit codes, output (tables for people, `--json` for scripts), the session
with the local runtime or a stack, and one-line errors.

Both shiftflow/cli/app.py and the sub-apps (workflow_commands ...) import from here, never from each other.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from shiftflow import collector
from shiftflow.cli import render
from shiftflow.cli.connection import Connection, connect, local_state_dir

# Exit codes, as a scheduler reads them (documented in README.md and in `shiftflow --help`).
EXIT_OK = 0  # the work succeeded
EXIT_FAILED = 1  # the work failed (an execution failed, a Failed guard blocked the run, a guard refused a reset)
EXIT_CANNOT_RUN = 2  # the command could not run: bad arguments, unknown names, nothing reachable
EXIT_SKIPPED = 99  # another run holds the guard: nothing ran (Airflow's BashOperator reads 99 as "skipped")
EXIT_CODES_HELP = (
    "Exit codes: 0 the work succeeded; 1 the work failed; 2 the command could not run (bad arguments, unknown names, "
    "nothing reachable); 99 the run was skipped because another run holds the guard (--skip-exit-code changes it)."
)

# Rich cuts a table to the console's width; without a terminal (a CI log, `| tee`) nobody is there to see a cut
# value, so the width is unbounded and every value is printed whole.
_UNBOUNDED_WIDTH = 1_000_000


def _console(stderr: bool = False) -> Console:
    """A console made when a command writes, so that it sees the COLUMNS and terminal of that moment."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=_UNBOUNDED_WIDTH, soft_wrap=True)


def stdout() -> Console:
    return _console()


def stderr() -> Console:
    return _console(stderr=True)


StackOption = Annotated[str | None, typer.Option("--stack", help="Drive this deployed stack instead of the local runtime.")]
LocalOption = Annotated[bool, typer.Option("--local", help="Use the local runtime (the default).")]
EngineOption = Annotated[str | None, typer.Option(
    "--engine", help="Local warehouse engine: duckdb or postgres (default: the running local cloud's, else duckdb).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show the details behind an error.")]
ProjectOption = Annotated[Path, typer.Option("--project", help="The Shiftflow project folder (template.yaml).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (keys in README.md).")]
SkipExitCodeOption = Annotated[int, typer.Option(
    "--skip-exit-code", help="Exit code of a run skipped because another run holds the guard.")]


class CommandFailed(Exception):
    """A command ran and its work failed (an execution failed, a guard refused): exit code 1, no traceback."""


class CannotRun(Exception):
    """The command cannot run as asked (an unknown name, a bad parameter): exit code 2, one line."""

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice


def fail(message: str, advice: str = "") -> NoReturn:
    """One line on stderr, exit 2: the command could not run."""
    hint = f" ({advice})" if advice else ""
    stderr().print(f"[bold red]error:[/] {message}{hint}", highlight=False)
    raise typer.Exit(EXIT_CANNOT_RUN)


def print_json(document: Any) -> None:
    """The one JSON document a `--json` command prints: on stdout, nothing else there."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def session(stack: str | None, local: bool, project: Path, engine: str | None, verbose: bool,
            runs: list[str] | None = None) -> Iterator[Connection]:
    """The connection a command works through, with its failures turned into exit codes and one-line errors."""
    if stack and local:
        fail("choose one of --local and --stack", "a command drives either the local runtime or a stack")
    try:
        with connect(stack, project.resolve(), engine=engine, log_level="INFO" if verbose else "CRITICAL",
                     state_machines=runs or []) as connection:
            collector.resume()  # the command's start-up is over (shiftflow.cli.startup.begin paused it)
            yield connection
    except CommandFailed:
        raise typer.Exit(EXIT_FAILED) from None
    except CannotRun as error:
        fail(str(error), error.advice)
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as error:  # one clear line; the traceback with --verbose, and kept for a local run
        if verbose:
            stderr().print_exception()
        where = f"stack {stack}" if stack else "the local runtime"
        kept = None if stack else keep_traceback(local_state_dir(project.resolve()))
        fail(f"{type(error).__name__} on {where}: {error}",
             "run again with --verbose for the details" + (f"; this one's traceback is in {kept}" if kept else ""))


COMMAND_ERRORS = "command-errors.log"  # in the state folder: the traceback of a command's unexpected error


def keep_traceback(state_dir: Path) -> Path | None:
    """Append the exception being handled, with the command line and the time, to the state folder's
    command-errors.log (an intermittent failure is gone by the time --verbose runs); its path, or None."""
    path = state_dir / COMMAND_ERRORS
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(timezone.utc).isoformat()} {' '.join(sys.argv)}\n{traceback.format_exc()}")
    except OSError:
        return None
    return path


def parse_parameter(item: str) -> tuple[str, str]:
    name, separator, value = item.partition("=")
    if not separator or not name:
        fail(f"--parameter {item!r} is not name=value", "for example -p city=Fairview")
    return name, value


def parse_parameters(items: list[str]) -> dict[str, str]:
    return dict(parse_parameter(item) for item in items)


def read_input(text: str) -> dict[str, Any]:
    """--input: JSON text or @file.json; a problem with either is one line, exit 2."""
    source = text
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            source = path.read_text()
        except OSError as error:
            fail(f"--input {text}: cannot read {path}: {error.strerror or error}", "give an existing JSON file")
    try:
        value = json.loads(source)
    except ValueError as error:
        fail(f"--input is not JSON: {error}", 'give an object such as \'{"run_date": "2026-11-21"}\' or @file.json')
    if not isinstance(value, dict):
        fail("--input must be a JSON object", 'for example \'{"run_date": "2026-11-21"}\'')
    return value


def progress_console(as_json: bool) -> Console:
    """Progress goes to stdout for people; with --json, stdout holds the document alone, so progress goes to stderr."""
    return stderr() if as_json else stdout()


def finish_run(connection: Connection, result: dict[str, Any], execution_input: dict[str, Any], as_json: bool,
               skip_exit_code: int) -> None:
    """The summary (or the JSON document), then the exit code a scheduler reads."""
    if as_json:
        print_json(render.run_document(connection, result, execution_input))
    else:
        render.summary(stdout(), connection, result, execution_input)
    code = {"succeeded": EXIT_OK, "skipped": skip_exit_code}.get(render.outcome(result), EXIT_FAILED)
    if code != EXIT_OK:
        raise typer.Exit(code)
