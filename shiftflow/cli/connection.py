"""Where the CLI's commands go: the local cloud (default) or a deployed stack, through one code path.

Both are reached with boto3 and found from a CloudFormation stack's outputs: a deployed stack with the default AWS
endpoints (`--stack NAME`), or the local cloud's stack `shiftflow-local` on its endpoint (shiftflow.local.cloud),
which the first command starts in the background when none runs. SHIFTFLOW_LOCAL_MODE=in-process runs the local
assembly inside the command instead (LocalRuntime, one command at a time per state folder): for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from shiftflow.deployment import Deployment
from shiftflow.jobs.target import RedshiftTarget

IN_PROCESS = "in-process"


@dataclass
class Connection:
    deployment: Deployment
    target: RedshiftTarget
    make_client: Callable[[str], Any]
    runtime: Any = None  # the LocalRuntime in the in-process mode
    local: bool = False  # the local cloud (or the in-process runtime), not a deployed stack

    @property
    def is_local(self) -> bool:
        return self.local or self.runtime is not None

    def client(self, service: str) -> Any:
        return self.make_client(service)

    def notifications(self) -> list[dict[str, Any]]:
        """Locally: the notifications delivered since the last read ({subject, message}); a stack's go to its
        topic's subscribers, none are read here."""
        if self.runtime is not None:
            return self.runtime.notifications()
        if not self.local:
            return []
        from shiftflow.local.runtime import NOTIFICATIONS_QUEUE, read_notifications

        sqs = self.client("sqs")
        return read_notifications(sqs, sqs.get_queue_url(QueueName=NOTIFICATIONS_QUEUE)["QueueUrl"])


def local_state_dir(project_root: Path) -> Path:
    """Where the local warehouse and tables live: $SHIFTFLOW_STATE_DIR, else <project>/.shiftflow."""
    return Path(os.environ.get("SHIFTFLOW_STATE_DIR") or project_root / ".shiftflow")


def in_process_mode() -> bool:
    return os.environ.get("SHIFTFLOW_LOCAL_MODE", "") == IN_PROCESS


@contextlib.contextmanager
def connect(stack: str | None, project_root: Path, engine: str | None = "duckdb", state_dir: Path | None = None,
            time_scale: float = 1.0, log_level: str = "WARNING",
            state_machines: list[str] | None = None) -> Iterator[Connection]:
    """A connection to the stack named `stack`, or to the local cloud when `stack` is None. `engine`: the local
    warehouse engine the command needs; None for a command that does not touch the warehouse (any cloud will do)."""
    if stack:
        # Here, not at the top: the command's start-up choices come before botocore's import (shiftflow.cli.startup).
        from shiftflow.aws_clients import client_factory

        yield stack_connection(stack, client_factory())
        return
    state_dir = state_dir or local_state_dir(project_root)
    if in_process_mode():
        with in_process_connection(project_root, state_dir, engine or "duckdb", time_scale, log_level,
                                   state_machines) as connection:
            yield connection
        return
    from shiftflow.local.cloud.client import ensure_running
    from shiftflow.local.cloud.project import project_fingerprint, read_client_cache, refresh, write_client_cache
    from shiftflow.local.cloud.restarting_clients import RestartingClients
    from shiftflow.local.identity import REGION, STACK_NAME

    def start() -> Any:
        return ensure_running(project_root, state_dir, engine=engine, time_scale=time_scale)

    endpoint = start()
    # A command following a run outlives a crash of the cloud: it goes on with the new one, as the next command would.
    make_client = RestartingClients(endpoint, REGION, start, state_dir)
    cached = read_client_cache(state_dir, endpoint.pid, endpoint.url)
    # The stack's description: as this cloud announced it (its endpoint file), else from CloudFormation.
    stack = cached["stack"] if cached else endpoint.stack or describe_stack(STACK_NAME, make_client)
    connection = connection_from(stack, make_client)
    connection.local = True
    fingerprint = project_fingerprint(project_root)
    if cached is None or cached["project"] != fingerprint:
        refresh(make_client, connection.deployment.outputs, project_root)  # scripts/, workflows/ as they are now
        write_client_cache(state_dir, endpoint.pid, endpoint.url, stack, fingerprint)
    yield connection


@contextlib.contextmanager
def in_process_connection(project_root: Path, state_dir: Path, engine: str, time_scale: float, log_level: str,
                          state_machines: list[str] | None) -> Iterator[Connection]:
    from shiftflow.local.runtime import LocalRuntime

    with LocalRuntime(project_root, state_dir=state_dir, engine=engine, time_scale=time_scale,
                      log_level=log_level, state_machines=state_machines) as runtime:
        yield Connection(
            deployment=runtime.deployment,
            target=RedshiftTarget.from_environment(),
            make_client=runtime.client,
            runtime=runtime,
            local=True,
        )


def stack_connection(stack: str, make_client: Callable[[str], Any]) -> Connection:
    """Resources from the stack's outputs, the Redshift target from its parameters."""
    return connection_from(describe_stack(stack, make_client), make_client)


def describe_stack(stack: str, make_client: Callable[[str], Any]) -> dict[str, Any]:
    """The stack's description: its Outputs and Parameters (plain JSON, so that it can be cached)."""
    described = make_client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {"Outputs": described.get("Outputs", []), "Parameters": described.get("Parameters", [])}


def connection_from(described: dict[str, Any], make_client: Callable[[str], Any]) -> Connection:
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in described.get("Parameters", [])}
    target = RedshiftTarget(
        database=parameters.get("DatabaseName", "dev"),
        cluster_identifier=parameters.get("RedshiftClusterIdentifier", ""),
        db_user=parameters.get("RedshiftDbUser", ""),
        workgroup_name=parameters.get("RedshiftWorkgroupName", ""),
        secret_arn=parameters.get("RedshiftSecretArn", ""),
    )
    return Connection(deployment=Deployment(outputs=outputs), target=target, make_client=make_client)
