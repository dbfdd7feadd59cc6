"""The plan of one run: which stages and jobs run, with which parameters; for a restart, only what was left.

The plan is plain JSON. It grows with the jobs (about 240 bytes each), and Step Functions carries at most 256 KiB
in an execution's state, so it does not travel whole: LoadWorkflow stages it in the run plan table, one item per
stage (shiftflow.workflows.plan_table), and the workflow execution carries only the run's state (`run_state`: the
run's identity, its job names and each stage's number and whether it runs). Each stage execution reads its own
stage (`stage_slice`, the jobs it runs) and `close_run` settles the audit from the whole plan read back. So a run's
size is bounded per stage (at most MAX_JOBS_PER_STAGE jobs), not per workflow: `size_problems` says what is too large.

Stages are never dropped from the plan: a stage that does not run has `run: false` and its jobs in `settled`
(SKIPPED or ALREADY_SUCCEEDED), so the audit accounts for every job of the workflow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shiftflow.workflows.audit import ALREADY_SUCCEEDED, DONE, SKIPPED, UNFINISHED, PreviousRun
from shiftflow.workflows.errors import Problems, RestartRefused
from shiftflow.workflows.model import Job, Stage, Workflow, _parameters, default_parameters, job_parameters

# Step Functions refuses an execution's state over 256 KiB (compact UTF-8 JSON). The run's state and a stage's slice
# each get 200 KiB of it: the rest is for what the executions add (failure summaries, notices, the Map's results).
MAX_STATE_BYTES = 200 * 1024
# A DynamoDB item holds at most 400 KB, attribute names included: one stage's slice and its settled jobs.
MAX_STAGE_ITEM_BYTES = 400 * 1024


def build_plan(
    workflow: Workflow,
    execution_id: str,
    run_date: str,
    parameters: dict[str, Any] | None = None,
    previous: PreviousRun | None = None,
    expected_seconds: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The plan of run `execution_id`. `parameters` (the run's input) override the workflow's and the jobs' own;
    `run_date` (YYYY-MM-DD) is every job's default :run_date. With `previous`, the run restarts that failed run.
    `expected_seconds`: how long each job took in past runs (audit.expected_durations), for `completion: auto`."""
    problems = Problems(workflow.workflow_id)
    overrides = _parameters(problems, "run input", parameters or {})
    problems.raise_if_any()
    failed_stage = None
    if previous is not None:
        failed_stage = restart_stage(workflow, previous)
        run_date = previous.run_date or run_date
        overrides = {**previous.parameters, **overrides}
    defaults = default_parameters(run_date)
    expected = dict(expected_seconds or {})
    stages = [_stage_plan(workflow, stage, defaults, overrides, previous, failed_stage, expected)
              for stage in workflow.stages]
    return {
        "workflow_id": workflow.workflow_id,
        "workflow_execution_id": execution_id,
        "run_date": run_date,
        "parameters": overrides,
        "restart_of": previous.workflow_execution_id if previous else "",
        # The guard may be taken over from a Failed state only by a restart of the run that failed it.
        "restart_of_arn": previous.execution_arn if previous else "none",
        "jobs": [job.name for job in workflow.jobs],
        "stages": stages,
    }


def run_state(run_plan: dict[str, Any]) -> dict[str, Any]:
    """What the workflow execution carries of `run_plan` (LoadWorkflow's output): all but the stages' jobs, each
    stage as its number and whether it runs. The rest is in the run plan table."""
    stages = [{"number": stage["number"], "run": stage["run"]} for stage in run_plan["stages"]]
    return {**{key: value for key, value in run_plan.items() if key != "stages"}, "stages": stages}


def stage_slice(stage: dict[str, Any]) -> dict[str, Any]:
    """What a stage execution carries of its stage's plan: all but the settled jobs, which it does not run."""
    return {key: value for key, value in stage.items() if key != "settled"}


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def state_bytes(value: Any) -> int:
    """A value's size as Step Functions measures its payloads: compact JSON text in UTF-8."""
    return len(compact_json(value).encode("utf-8"))


def size_problems(run_plan: dict[str, Any]) -> list[str]:
    """What is too large in `run_plan` for the executions' state or for the run plan table; empty when it fits."""
    problems = []
    state = state_bytes(run_state(run_plan))
    if state > MAX_STATE_BYTES:
        jobs = _jobs(len(run_plan["jobs"]))
        problems.append(f"the run's state (its parameters and the names of {jobs}) is {state} bytes; Step Functions "
                        f"carries at most {MAX_STATE_BYTES} here. Shorten parameters or job names, or split the workflow.")
    for stage in run_plan["stages"]:
        where = f"stage {stage['number']} ({stage['description']})"
        # As ReadStagePlan's state holds it: the item's text, a JSON string (its quotes escaped) in JSON.
        size = state_bytes(compact_json(stage_slice(stage)))
        if size > MAX_STATE_BYTES:
            problems.append(f"{where}: its plan ({_jobs(len(stage['jobs']))} and their parameters) is {size} bytes; "
                            f"its execution carries at most {MAX_STATE_BYTES}. Shorten parameters or split the stage.")
        elif size + state_bytes(stage["settled"]) > MAX_STAGE_ITEM_BYTES:
            problems.append(f"{where}: its plan and settled jobs are over the {MAX_STAGE_ITEM_BYTES} bytes of a "
                            "DynamoDB item. Split the stage.")
    return problems


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


def restart_stage(workflow: Workflow, previous: PreviousRun) -> int:
    """The stage a restart of `previous` resumes at; RestartRefused when it cannot be restarted."""
    who = f"workflow {workflow.workflow_id}: run {previous.workflow_execution_id}"
    if previous.workflow_id != workflow.workflow_id:
        raise RestartRefused(f"{who} belongs to workflow {previous.workflow_id}, not {workflow.workflow_id}")
    if previous.status not in UNFINISHED:
        hint = {
            "SUCCEEDED": "it succeeded: there is nothing left to run",
            "RUNNING": "it is still running, or was stopped before it could record its end (redrive it instead)",
        }.get(previous.status, f"its status is {previous.status or 'unknown'}")
        raise RestartRefused(f"{who} cannot be restarted: only a FAILED, ABORTED or TIMED_OUT run can, and {hint}")
    if previous.failed_stage is not None:
        return previous.failed_stage
    for stage in workflow.stages:
        if any(previous.jobs.get(job.name, {}).get("execution_status") not in DONE | {SKIPPED} for job in stage.jobs):
            return stage.number
    raise RestartRefused(f"{who} left no unfinished job to restart")


def _stage_plan(
    workflow: Workflow,
    stage: Stage,
    defaults: dict[str, Any],
    overrides: dict[str, Any],
    previous: PreviousRun | None,
    failed_stage: int | None,
    expected: dict[str, float],
) -> dict[str, Any]:
    to_run: list[Job] = []
    settled: list[dict[str, str]] = []
    for job in stage.jobs:
        earlier = previous.jobs.get(job.name, {}) if previous else {}
        if previous and earlier.get("execution_status") in DONE and stage.number <= (failed_stage or 0):
            origin = earlier.get("succeeded_in") or previous.workflow_execution_id
            settled.append(_settled(job, ALREADY_SUCCEEDED, f"succeeded in run {origin}", origin))
        elif not stage.enabled:
            settled.append(_settled(job, SKIPPED, "its stage has execution_flag n"))
        elif previous and stage.number < (failed_stage or 0):
            settled.append(_settled(job, SKIPPED, f"before the stage where run {previous.workflow_execution_id} failed"))
        else:
            to_run.append(job)
    return {
        "number": stage.number,
        "description": stage.description,
        "execution_type": stage.execution_type,
        "max_concurrency": stage.concurrency,
        "run": bool(to_run),
        "jobs": [_job_plan(workflow, job, defaults, overrides, expected.get(job.name)) for job in to_run],
        "settled": settled,
    }


def _job_plan(workflow: Workflow, job: Job, defaults: dict[str, Any], overrides: dict[str, Any],
              expected_seconds: float | None) -> dict[str, Any]:
    return {
        "name": job.name,
        "script": job.script,
        "parameters": job_parameters(workflow, job, defaults, overrides),
        "timeout_seconds": job.timeout_seconds,
        "retries": job.retries,
        "conflict_retries": job.conflict_retries,
        "validation": job.validation,
        # run_sql_job's submit chooses the mode (shiftflow.jobs.completion.choose_completion) from these two.
        "completion": workflow.completion_of(job),
        "expected_seconds": expected_seconds,
    }


def _settled(job: Job, status: str, detail: str, succeeded_in: str = "") -> dict[str, str]:
    entry = {"job": job.name, "status": status, "detail": detail, "script": job.script}
    if succeeded_in:
        entry["succeeded_in"] = succeeded_in
    return entry
