"""Where the CLI's commands go: the local runtime (default) or a deployed stack, behind one interface."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3

from shiftflow.deployment import Deployment
from shiftflow.jobs.target import RedshiftTarget


@dataclass
class Connection:
    deployment: Deployment
    target: RedshiftTarget
    make_client: Callable[[str], Any]
    runtime: Any = None  # the LocalRuntime when local, None for a stack

    @property
    def is_local(self) -> bool:
        return self.runtime is not None

    def client(self, service: str) -> Any:
        return self.make_client(service)


def local_state_dir(project_root: Path) -> Path:
    """Where the local warehouse and tables live: $SHIFTFLOW_STATE_DIR, else <project>/.shiftflow."""
    return Path(os.environ.get("SHIFTFLOW_STATE_DIR") or project_root / ".shiftflow")


@contextlib.contextmanager
def connect(stack: str | None, project_root: Path, engine: str = "duckdb", state_dir: Path | None = None,
            time_scale: float = 1.0, log_level: str = "WARNING",
            state_machines: list[str] | None = None) -> Iterator[Connection]:
    """A connection to the stack named `stack`, or to the local runtime when `stack` is None."""
    if stack:
        yield stack_connection(stack, boto3.client)
        return
    from shiftflow.local.runtime import LocalRuntime

    with LocalRuntime(project_root, state_dir=state_dir or local_state_dir(project_root), engine=engine, time_scale=time_scale,
                      log_level=log_level, state_machines=state_machines) as runtime:
        yield Connection(
            deployment=runtime.deployment,
            target=RedshiftTarget.from_environment(),
            make_client=runtime.client,
            runtime=runtime,
        )


def stack_connection(stack: str, make_client: Callable[[str], Any]) -> Connection:
    """Resources from the stack's outputs, the Redshift target from its parameters."""
    described = make_client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
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
