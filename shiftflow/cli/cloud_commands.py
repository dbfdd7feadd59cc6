"""`shiftflow up | down | endpoint`: the local cloud, the one process every local command is a client of.

    shiftflow up                 # in the foreground, with its logs; Ctrl-C stops it cleanly
    shiftflow up --detach        # in the background (any command also starts one when none runs)
    shiftflow endpoint           # its URL: export AWS_ENDPOINT_URL=$(shiftflow endpoint)
    shiftflow down               # stop it: what still ran is recorded as aborted

Registered by shiftflow/cli/app.py (register_cloud_commands). The logic lives in shiftflow.local.cloud.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shiftflow.cli.common import EngineOption, ProjectOption
from shiftflow.cli.connection import in_process_mode, local_state_dir


def up(
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Run in the background and return.")] = False,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    engine: EngineOption = None,
    schedules: Annotated[bool, typer.Option("--schedules", help="Run the template's schedules.")] = False,
    time_compression: Annotated[float, typer.Option("--time-compression", help="Time runs this many times faster: "
                                                    "schedules, Wait states, retry backoff.")] = 1.0,
    project: ProjectOption = Path("."),
) -> None:
    """Start the local cloud of this project: every local service on one endpoint."""
    from shiftflow.local.cloud.client import ensure_running, running, server_arguments

    project_root, state_dir = _folders(project)
    current = running(state_dir)
    if current is not None:
        Console().print(f"the local cloud of {current.project} already runs on {current.url} (pid {current.pid}); "
                        "`shiftflow down` first to start it with other options", highlight=False)
        return
    if detach:
        endpoint = ensure_running(project_root, state_dir, engine=engine, schedules=schedules,
                                  time_compression=time_compression)
        Console().print(f"local cloud on {endpoint.url} (pid {endpoint.pid}); `shiftflow down` stops it",
                        highlight=False)
        Console().print(f"export AWS_ENDPOINT_URL={endpoint.url}", highlight=False)
        return
    from shiftflow.local.cloud.server import main

    Console(stderr=True).print(f"starting the local cloud of {project_root} (Ctrl-C stops it)", highlight=False)
    main(["--project", str(project_root), "--state-dir", str(state_dir), "--port", str(port),
          *server_arguments(engine or "duckdb", schedules=schedules, time_compression=time_compression)])


def down(project: ProjectOption = Path(".")) -> None:
    """Stop the local cloud of this project (a run still going is recorded as aborted)."""
    from shiftflow.local.cloud.client import stop

    _, state_dir = _folders(project)
    stopped = stop(state_dir)
    if stopped is None:
        Console().print(f"no local cloud runs for {state_dir}")
    else:
        Console().print(f"stopped the local cloud on {stopped.url} (pid {stopped.pid})", highlight=False)


def endpoint(engine: EngineOption = None, project: ProjectOption = Path(".")) -> None:
    """Print the local cloud's URL (starting it when none runs), for AWS_ENDPOINT_URL."""
    from shiftflow.local.cloud.client import ensure_running

    project_root, state_dir = _folders(project)
    print(ensure_running(project_root, state_dir, engine=engine).url)


def _folders(project: Path) -> tuple[Path, Path]:
    if in_process_mode():
        Console(stderr=True).print("[bold red]error:[/] SHIFTFLOW_LOCAL_MODE=in-process has no local cloud "
                                   "(unset it to use one)")
        raise typer.Exit(2)
    project_root = project.resolve()
    return project_root, local_state_dir(project_root).resolve()


def register_cloud_commands(app: typer.Typer) -> None:
    for command in (up, down, endpoint):
        app.command()(command)
