"""What each SQL job of a run did: succeeded, failed (with its error), still running, or not run at all.

A run (a pipeline or a workflow execution) starts one run_sql_job child execution per job attempt, directly or
through a child of its own (a workflow stage). The children are found from the run's history (TaskSubmitted events
carry the child's ExecutionArn), described one by one, and matched against the jobs the run was meant to run, so a
failed run's summary names the failed job and the jobs that never ran, not only those that finished.
Works the same against the local runtime and a deployed stack: GetExecutionHistory, DescribeExecution and
DescribeStateMachine only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from shiftflow.jobs.failures import explain, json_or_none

SUCCEEDED, FAILED, RUNNING, NOT_RUN = "succeeded", "failed", "running", "not run"
_SYNC_START = "arn:aws:states:::states:startExecution.sync"


@dataclass(frozen=True)
class JobOutcome:
    job: str
    status: str  # succeeded, failed, running, not run
    seconds: float | None = None
    rows: int | None = None
    statement_id: str = ""
    error: str = ""  # "Error: message", for a failed job
    attempts: int = 0  # run_sql_job executions started for the job
    execution_arn: str = ""  # its last run_sql_job execution

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def jobs_of_definition(definition: str | dict[str, Any]) -> list[str]:
    """The SQL jobs an explicit pipeline graph can run: its Task states that start a run_sql_job execution with a
    literal `job` in their input, in the order the definition lists them."""
    document = json.loads(definition) if isinstance(definition, str) else definition
    return list(dict.fromkeys(_jobs_in_states(document.get("States", {}))))


def _jobs_in_states(states: dict[str, Any]) -> Iterator[str]:
    for state in states.values():
        if state.get("Type") == "Task" and str(state.get("Resource", "")).startswith(_SYNC_START):
            job = (state.get("Parameters") or {}).get("Input", {}).get("job")
            if isinstance(job, str):
                yield job
        for branch in state.get("Branches", []):
            yield from _jobs_in_states(branch.get("States", {}))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _jobs_in_states(state[key].get("States", {}))


def job_outcomes(sfn: Any, execution_arn: str, expected: list[str] | None = None) -> list[JobOutcome]:
    """Every job of the run: the expected ones in their order (those never started: not run), then any other job
    the run started. A job attempted more than once is reported by its last attempt."""
    attempts: dict[str, list[dict[str, Any]]] = {}
    for described in _job_executions(sfn, execution_arn):
        job = json_or_none(described.get("input"))["job"]
        attempts.setdefault(job, []).append(described)
    outcomes = [_outcome(job, sorted(runs, key=lambda run: run["startDate"])) for job, runs in attempts.items()]
    by_job = {outcome.job: outcome for outcome in outcomes}
    ordered = [by_job.pop(job, JobOutcome(job, NOT_RUN)) for job in dict.fromkeys(expected or [])]
    return ordered + list(by_job.values())


def _job_executions(sfn: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    """DescribeExecution of every run_sql_job execution under this one (children of children included)."""
    for child in _children(sfn, execution_arn):
        described = sfn.describe_execution(executionArn=child)
        child_input = json_or_none(described.get("input"))
        if isinstance(child_input, dict) and isinstance(child_input.get("job"), str):
            yield described
        else:  # a child that runs jobs itself (a workflow stage)
            yield from _job_executions(sfn, child)


def _children(sfn: Any, execution_arn: str) -> Iterator[str]:
    seen: set[str] = set()
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            if event["type"] != "TaskSubmitted":
                continue
            output = json_or_none(event["taskSubmittedEventDetails"].get("output"))
            child = output.get("ExecutionArn") if isinstance(output, dict) else None
            if child and child not in seen:
                seen.add(child)
                yield child


def _outcome(job: str, runs: list[dict[str, Any]]) -> JobOutcome:
    last = runs[-1]
    common = {"attempts": len(runs), "execution_arn": last["executionArn"]}
    if last["status"] == "RUNNING":
        return JobOutcome(job, RUNNING, **common)
    if last["status"] == "SUCCEEDED":
        output = json_or_none(last.get("output"))
        output = output if isinstance(output, dict) else {}
        milliseconds = output.get("duration_ms")
        return JobOutcome(
            job, SUCCEEDED,
            seconds=milliseconds / 1000 if isinstance(milliseconds, (int, float)) and milliseconds >= 0 else None,
            rows=output.get("rows") if isinstance(output.get("rows"), int) else None,
            statement_id=str(output.get("statement_id", "")),
            **common,
        )
    explained = explain(last.get("error", last["status"]), last.get("cause"))
    error = f"{explained['error']}: {explained['message']}" if explained["message"] else explained["error"]
    seconds = (last["stopDate"] - last["startDate"]).total_seconds() if last.get("stopDate") else None
    return JobOutcome(job, FAILED, seconds=seconds, error=error, **common)
