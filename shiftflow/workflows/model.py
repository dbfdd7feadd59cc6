"""The workflow model: a workflow is an id, a description and ordered stages; a stage runs its jobs one after another
or side by side; a job runs one SQL script from the scripts bucket.

The configuration format is seed 003's JSON, accepted unchanged (`workflow_id`, `workflow_description`,
`workflow_stages[]` with `execution_flag`, `execution_type`, `scripts`, `stage_description`). Beyond it:

- a job may be an object: {"name", "script", "parameters", "timeout_seconds", "retries", "conflict_retries",
  "validation", "completion"}
  (a plain string is a script key; the job is then named after the file, without folder and extension);
- a stage may cap its parallelism with `max_concurrency`;
- a workflow may give default script parameters with `parameters`;
- a workflow or a job may say how a job learns of its SQL's end with `completion`: "event" (the Data API's event,
  a heartbeat as the safety net), "poll" (long polling) or "auto" (the default: poll a job whose past runs ended
  within one long poll, events for the rest; shiftflow.jobs.completion). A job's own setting wins.

`parse_workflow` checks everything that can be checked without the scripts and raises WorkflowInvalid with every
problem, each naming the workflow, stage and job; validation.py checks the scripts themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shiftflow.jobs.completion import AUTO, COMPLETION_MODES
from shiftflow.jobs.conflicts import DEFAULT_CONFLICT_RETRIES, MAX_CONFLICT_RETRIES
from shiftflow.jobs.submit import MAX_JOB_SECONDS
from shiftflow.workflows.errors import Problems, WorkflowInvalid

SEQUENTIAL, PARALLEL = "sequential", "parallel"
EXECUTION_TYPES = (SEQUENTIAL, PARALLEL)
EXECUTION_FLAGS = {"y": True, "n": False}
# An inline Map runs at most 40 iterations at once on AWS, whatever MaxConcurrency says.
MAX_CONCURRENCY = 40
# Each job costs 22 history events in its stage's child execution (measured: 1,121 for a stage of 50 jobs, see
# docs/workflows.md), a retry about 13 more: 500 jobs stay near 11,000 of the 25,000-event limit. Split larger stages.
MAX_JOBS_PER_STAGE = 500
MAX_RETRIES = 10
MAX_TIMEOUT_SECONDS = MAX_JOB_SECONDS
# Names end up in DynamoDB keys, guard ids, error prefixes (`job <name>: `) and Data API statement names.
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

WORKFLOW_KEYS = ("workflow_id", "workflow_description", "workflow_stages", "parameters", "completion")
STAGE_KEYS = ("stage_description", "execution_flag", "execution_type", "scripts", "max_concurrency")
JOB_KEYS = ("name", "script", "parameters", "timeout_seconds", "retries", "conflict_retries", "validation",
            "completion")

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Job:
    name: str
    script: str  # key in the scripts bucket, e.g. tpch/load_customer_dimension.sql
    parameters: Mapping[str, Scalar] = field(default_factory=dict)
    timeout_seconds: int = MAX_TIMEOUT_SECONDS
    retries: int = 0  # extra attempts after any failure, each a new run_sql_job execution (a new statement)
    # extra statements inside run_sql_job after a transaction conflict (the batch was rolled back); 0: off
    conflict_retries: int = DEFAULT_CONFLICT_RETRIES
    validation: bool = False  # the script's last result set is checks (check_name, passed, detail)
    completion: str | None = None  # event, poll or auto; None: the workflow's


@dataclass(frozen=True)
class Stage:
    number: int  # 1-based position in the workflow
    description: str
    enabled: bool  # execution_flag y / n
    execution_type: str
    jobs: tuple[Job, ...]
    max_concurrency: int = 0  # parallel stages only; 0: as many as the Map allows

    @property
    def label(self) -> str:
        return f"stage {self.number} ({self.description})"

    @property
    def concurrency(self) -> int:
        """The Map's MaxConcurrency: 1 keeps a sequential stage in order."""
        return 1 if self.execution_type == SEQUENTIAL else self.max_concurrency


@dataclass(frozen=True)
class Workflow:
    workflow_id: str
    description: str
    stages: tuple[Stage, ...]
    parameters: Mapping[str, Scalar] = field(default_factory=dict)
    completion: str = AUTO  # every job's, unless the job says otherwise

    @property
    def jobs(self) -> list[Job]:
        return [job for stage in self.stages for job in stage.jobs]

    def completion_of(self, job: Job) -> str:
        return job.completion or self.completion

    def stage_of(self, job_name: str) -> Stage | None:
        return next((stage for stage in self.stages if any(job.name == job_name for job in stage.jobs)), None)

    def to_config(self) -> dict[str, Any]:
        """The configuration JSON (seed format, job objects where a job needs more than a script)."""
        stages = []
        for stage in self.stages:
            entry: dict[str, Any] = {
                "stage_description": stage.description,
                "execution_flag": "y" if stage.enabled else "n",
                "execution_type": stage.execution_type,
                "scripts": [_job_config(job) for job in stage.jobs],
            }
            if stage.max_concurrency:
                entry["max_concurrency"] = stage.max_concurrency
            stages.append(entry)
        config: dict[str, Any] = {
            "workflow_id": self.workflow_id,
            "workflow_description": self.description,
            "workflow_stages": stages,
        }
        if self.parameters:
            config["parameters"] = dict(self.parameters)
        if self.completion != AUTO:
            config["completion"] = self.completion
        return config


def default_job_name(script: str) -> str:
    """`sales/load_item_dimension.sql` -> `load_item_dimension`; `rsql_blog_script_1.sh` -> `rsql_blog_script_1`."""
    base = script.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base


def default_parameters(run_date: str) -> dict[str, str]:
    """What every job is given before the workflow's own parameters: :run_date, the run's date (YYYY-MM-DD)."""
    return {"run_date": run_date}


def job_parameters(workflow: Workflow, job: Job, defaults: Mapping[str, Any],
                   overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A job's parameters, weakest first: the defaults, the workflow's, the job's own, the run input's."""
    return {**defaults, **workflow.parameters, **job.parameters, **overrides}


def parse_workflow(config: Any) -> Workflow:
    """The Workflow of a configuration; WorkflowInvalid lists every problem found, not just the first."""
    workflow, problems = read_workflow(config)
    problems.raise_if_any()
    return workflow


def read_workflow(config: Any) -> tuple[Workflow, Problems]:
    """The Workflow of a configuration as far as it is valid (a job with a problem is left out) and every problem
    found, so that a caller can check the valid jobs' scripts too and report everything at once."""
    problems = Problems(_workflow_id(config))
    if not isinstance(config, dict):
        problems.add("", "the configuration must be a JSON object")
        return Workflow(problems.workflow_id, "", ()), problems
    _unknown_keys(problems, "", config, WORKFLOW_KEYS)
    workflow_id = config.get("workflow_id")
    if not isinstance(workflow_id, str) or not NAME.match(workflow_id):
        problems.add("", "workflow_id must be 1-80 letters, digits, '_', '.' or '-'")
    description = config.get("workflow_description", "")
    if not isinstance(description, str):
        problems.add("", "workflow_description must be a string")
    parameters = _parameters(problems, "", config.get("parameters", {}))
    completion = _completion(problems, "", config.get("completion", AUTO)) or AUTO
    stages_config = config.get("workflow_stages")
    stages: list[Stage] = []
    if not isinstance(stages_config, list) or not stages_config:
        problems.add("", "workflow_stages must be a non-empty list of stages")
    else:
        stages = [_stage(problems, number, entry) for number, entry in enumerate(stages_config, start=1)]
    _duplicate_jobs(problems, stages)
    return Workflow(problems.workflow_id, str(description), tuple(stages), parameters, completion), problems


def _workflow_id(config: Any) -> str:
    value = config.get("workflow_id") if isinstance(config, dict) else None
    return value if isinstance(value, str) and value else "<no workflow_id>"


def _stage(problems: Problems, number: int, entry: Any) -> Stage:
    where = f"stage {number}"
    if not isinstance(entry, dict):
        problems.add(where, "a stage must be a JSON object")
        return Stage(number, where, False, SEQUENTIAL, ())
    description = entry.get("stage_description", where)
    if not isinstance(description, str) or not description:
        problems.add(where, "stage_description must be a non-empty string")
        description = where
    where = f"stage {number} ({description})"
    _unknown_keys(problems, where, entry, STAGE_KEYS)
    flag = entry.get("execution_flag", "y")
    if not isinstance(flag, str) or flag.lower() not in EXECUTION_FLAGS:
        problems.add(where, f"execution_flag is {flag!r}; it must be 'y' (run) or 'n' (skip)")
        flag = "y"
    execution_type = entry.get("execution_type")
    if execution_type not in EXECUTION_TYPES:
        problems.add(where, f"execution_type is {execution_type!r}; it must be 'sequential' or 'parallel'")
        execution_type = SEQUENTIAL
    max_concurrency = _max_concurrency(problems, where, entry, execution_type)
    scripts = entry.get("scripts")
    jobs: list[Job] = []
    if not isinstance(scripts, list) or not scripts:
        problems.add(where, "the stage has no jobs: scripts must be a non-empty list")
    elif len(scripts) > MAX_JOBS_PER_STAGE:
        problems.add(
            where,
            f"the stage has {len(scripts)} jobs; at most {MAX_JOBS_PER_STAGE} fit in one stage's execution history. "
            "Split it into several stages.",
        )
    else:
        jobs = [job for job in (_job(problems, where, item) for item in scripts) if job is not None]
    return Stage(number, description, EXECUTION_FLAGS[flag.lower()], execution_type, tuple(jobs), max_concurrency)


def _max_concurrency(problems: Problems, where: str, entry: dict[str, Any], execution_type: str) -> int:
    if "max_concurrency" not in entry:
        return 0
    value = entry["max_concurrency"]
    if not _is_int(value) or not 1 <= value <= MAX_CONCURRENCY:
        problems.add(where, f"max_concurrency is {value!r}; it must be a whole number from 1 to {MAX_CONCURRENCY}")
        return 0
    if execution_type == SEQUENTIAL and value != 1:
        problems.add(where, f"max_concurrency {value} contradicts execution_type 'sequential' (one job at a time)")
    return int(value)


def _job(problems: Problems, stage: str, item: Any) -> Job | None:
    if isinstance(item, str):
        item = {"script": item}
    if not isinstance(item, dict):
        problems.add(stage, f"a job must be a script key or an object, not {item!r}")
        return None
    script = item.get("script")
    name = item.get("name", default_job_name(script) if isinstance(script, str) else None)
    where = f"{stage}, job {name}" if isinstance(name, str) and name else f"{stage}, job {script!r}"
    _unknown_keys(problems, where, item, JOB_KEYS)
    valid = True
    if not isinstance(script, str) or not script.strip() or script.startswith("/"):
        problems.add(where, "script must be a key in the scripts bucket, e.g. tpch/load_customer_dimension.sql")
        valid = False
    if not isinstance(name, str) or not NAME.match(name):
        problems.add(where, "the job name must be 1-80 letters, digits, '_', '.' or '-' (set \"name\")")
        valid = False
    parameters = _parameters(problems, where, item.get("parameters", {}))
    timeout = item.get("timeout_seconds", MAX_TIMEOUT_SECONDS)
    if not _is_int(timeout) or not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        problems.add(where, f"timeout_seconds is {timeout!r}; it must be a whole number from 1 to {MAX_TIMEOUT_SECONDS}")
        valid = False
    retries = item.get("retries", 0)
    if not _is_int(retries) or not 0 <= retries <= MAX_RETRIES:
        problems.add(where, f"retries is {retries!r}; it must be a whole number from 0 to {MAX_RETRIES}")
        valid = False
    conflict_retries = item.get("conflict_retries", DEFAULT_CONFLICT_RETRIES)
    if not _is_int(conflict_retries) or not 0 <= conflict_retries <= MAX_CONFLICT_RETRIES:
        problems.add(where, f"conflict_retries is {conflict_retries!r}; it must be a whole number from 0 (no retry) "
                            f"to {MAX_CONFLICT_RETRIES}")
        valid = False
    validation = item.get("validation", False)
    if not isinstance(validation, bool):
        problems.add(where, f"validation is {validation!r}; it must be true or false")
        valid = False
    completion = item.get("completion")
    if completion is not None and _completion(problems, where, completion) is None:
        valid = False
    if not valid:
        return None
    return Job(str(name), str(script), parameters, int(timeout), int(retries), int(conflict_retries),
               bool(validation), completion)


def _completion(problems: Problems, where: str, value: Any) -> str | None:
    if value not in COMPLETION_MODES:
        problems.add(where, f"completion is {value!r}; it must be one of {', '.join(COMPLETION_MODES)}")
        return None
    return str(value)


def _parameters(problems: Problems, where: str, value: Any) -> dict[str, Scalar]:
    if not isinstance(value, dict):
        problems.add(where, "parameters must be an object of name: value")
        return {}
    good: dict[str, Scalar] = {}
    for name, item in value.items():
        if not PARAMETER_NAME.match(str(name)):
            problems.add(where, f"parameter name {name!r} is not a SQL :name (letters, digits, '_')")
        elif isinstance(item, (dict, list)) or item is None:
            problems.add(where, f"parameter {name} must be a string, number or boolean")
        else:
            good[str(name)] = item
    return good


def _unknown_keys(problems: Problems, where: str, entry: dict[str, Any], known: tuple[str, ...]) -> None:
    for key in entry:
        if key not in known:
            problems.add(where, f"unknown key {key!r} (known keys: {', '.join(known)})")


def _duplicate_jobs(problems: Problems, stages: list[Stage]) -> None:
    """Job names key the audit items of a run, so they are unique in the whole workflow, not just in a stage."""
    first_seen: dict[str, Stage] = {}
    for stage in stages:
        for job in stage.jobs:
            if job.name in first_seen:
                earlier = first_seen[job.name]
                place = "in the same stage" if earlier is stage else f"also in {earlier.label}"
                problems.add(
                    f"{stage.label}, job {job.name}",
                    f"duplicate job name ({place}): give one of them a distinct \"name\"",
                )
            else:
                first_seen[job.name] = stage


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _job_config(job: Job) -> str | dict[str, Any]:
    defaults = Job(name=default_job_name(job.script), script=job.script)
    if job == defaults:
        return job.script
    entry: dict[str, Any] = {"name": job.name, "script": job.script}
    if job.parameters:
        entry["parameters"] = dict(job.parameters)
    if job.timeout_seconds != MAX_TIMEOUT_SECONDS:
        entry["timeout_seconds"] = job.timeout_seconds
    if job.retries:
        entry["retries"] = job.retries
    if job.conflict_retries != DEFAULT_CONFLICT_RETRIES:
        entry["conflict_retries"] = job.conflict_retries
    if job.validation:
        entry["validation"] = True
    if job.completion is not None:
        entry["completion"] = job.completion
    return entry
