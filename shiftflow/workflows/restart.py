"""Restarting a failed run: the input that asks the workflow state machine for it, and a preview of what it runs.

A restart is a new execution of the workflow state machine with `restart_execution_id`: it runs the failed stage's
unfinished jobs and every later stage, reusing the failed run's run_date and parameters; the jobs that succeeded
before are recorded ALREADY_SUCCEEDED. It may take over the job guard the failed run left Failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shiftflow.workflows import audit, store
from shiftflow.workflows.plan import build_plan
from shiftflow.workflows.validation import validate


@dataclass(frozen=True)
class Tables:
    """The physical table names (stack outputs WorkflowConfigTableName, WorkflowAuditTableName, JobAuditTableName)."""

    config: str
    workflow_audit: str
    job_audit: str

    @classmethod
    def from_outputs(cls, outputs: dict[str, str]) -> Tables:
        return cls(outputs["WorkflowConfigTableName"], outputs["WorkflowAuditTableName"], outputs["JobAuditTableName"])


def run_input(
    workflow_id: str, parameters: dict[str, Any] | None = None, restart_execution_id: str | None = None
) -> dict[str, Any]:
    """The input of a workflow state machine execution (`shiftflow run <workflow> [--restart <execution>]`).
    `restart_execution_id` is the failed execution's name (an ARN is accepted: its last part is the name)."""
    payload: dict[str, Any] = {"workflow_id": workflow_id}
    if parameters:
        payload["parameters"] = parameters
    if restart_execution_id:
        payload["restart_execution_id"] = restart_execution_id.rsplit(":", 1)[-1]
    return payload


def restart_plan(dynamodb: Any, tables: Tables, workflow_id: str, execution_id: str) -> dict[str, Any]:
    """What `--restart <execution_id>` would run, without running it: the plan's stages, each with `jobs` (to run)
    and `settled` (not run again). Raises RestartRefused / WorkflowNotFound with a message saying why."""
    workflow = validate(store.get_config(dynamodb, tables.config, workflow_id))
    previous = audit.load_run(dynamodb, tables.workflow_audit, tables.job_audit, execution_id.rsplit(":", 1)[-1])
    return build_plan(workflow, execution_id="(restart preview)", run_date=previous.run_date, previous=previous)
