"""Validation that looks outside the configuration: the scripts. Every job's script must be staged, and must be a
script its job can submit: the same split, limits and parameter binding as shiftflow.jobs.submit, judged before
anything runs instead of failing after the guard is taken.

    validate(config, s3, bucket)          # the configuration, and that every script is staged (push, LoadWorkflow)
    validate_scripts(config, source)      # the configuration and every script's text (`shiftflow workflow validate`)
    ScriptChecks(source).job_problems(job, parameters)   # one job's script as its submit would judge it
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shiftflow.jobs.errors import JobError
from shiftflow.jobs.submit import (
    batch_problems,
    empty_parameters,
    missing_parameters,
    script_statements,
    used_parameters,
)
from shiftflow.workflows.errors import Problems
from shiftflow.workflows.model import (
    Job,
    Stage,
    Workflow,
    default_parameters,
    job_parameters,
    parse_workflow,
    read_workflow,
)

# What to say about a missing parameter, by where its value should come from.
GIVE_IN_CONFIG = 'give it a value in the workflow\'s or the job\'s "parameters"'
GIVE_AT_RUN = 'give it with -p NAME=VALUE or in the workflow\'s "parameters"'


def validate(config: Any, s3: Any = None, bucket: str | None = None) -> Workflow:
    """The Workflow of `config`, checked completely; with an s3 client and bucket, the scripts are checked too."""
    workflow = parse_workflow(config)
    if s3 is not None and bucket:
        check_scripts(workflow, s3, bucket)
    return workflow


@dataclass(frozen=True)
class ScriptSource:
    """Where a run's scripts come from: the stack's bucket, or locally the scripts folder the runtime stages as it."""

    location: str  # the prefix a message shows before a key: s3://bucket/ or /project/scripts/
    advice: str  # what to do about a missing script
    read: Callable[[str], bytes | None]  # a script's bytes by key; None when there is no such script

    @classmethod
    def bucket(cls, s3: Any, bucket: str) -> ScriptSource:
        def read(key: str) -> bytes | None:
            try:
                return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            except s3.exceptions.NoSuchKey:
                return None

        return cls(f"s3://{bucket}/", "stage the scripts folder (shiftflow scripts sync --stack <stack>) "
                   "or fix the key", read)

    @classmethod
    def folder(cls, folder: Path) -> ScriptSource:
        def read(key: str) -> bytes | None:
            path = folder / key
            return path.read_bytes() if path.is_file() else None

        return cls(f"{folder}/", "add the file or fix the key", read)


@dataclass
class _Script:
    """One script as its submit sees it: the problems of its text alone, and the parameters it uses."""

    problems: list[str]
    used: list[str] | None  # None when the script could not be read or split: its parameters are unknown


@dataclass
class ScriptChecks:
    """The checks of shiftflow.jobs.submit on the scripts of `source`, each script read and split once."""

    source: ScriptSource
    _scripts: dict[str, _Script] = field(default_factory=dict)

    def job_problems(self, job: Job, parameters: Mapping[str, Any], advice: str = GIVE_IN_CONFIG) -> list[str]:
        """Why `job`'s submit would fail with these parameters: its script missing, not UTF-8, unsplittable,
        empty, over the batch limits; a parameter it uses without a value, or with an empty one."""
        script = self._script(job)
        if script.used is None:
            return list(script.problems)
        problems = list(script.problems)
        missing = missing_parameters(job.name, script.used, parameters)
        if missing is not None:
            problems.append(f"{missing.detail}: {advice}")
        empty = empty_parameters(job.name, script.used, parameters)
        if empty is not None:
            problems.append(empty.detail)
        return problems

    def used(self, jobs: Iterable[Job]) -> list[str]:
        """The parameters the jobs' scripts use, in order of first use (of the scripts that could be split)."""
        names: list[str] = []
        for job in jobs:
            names += [name for name in self._script(job).used or [] if name not in names]
        return names

    def unknown(self, jobs: Iterable[Job]) -> list[str]:
        """The scripts of `jobs` whose parameters are unknown: they could not be read or split."""
        return sorted({job.script for job in jobs if self._script(job).used is None})

    def _script(self, job: Job) -> _Script:
        if job.script not in self._scripts:
            self._scripts[job.script] = self._check(job)
        return self._scripts[job.script]

    def _check(self, job: Job) -> _Script:
        body = self.source.read(job.script)
        if body is None:
            return _Script([f"does not exist in {self.source.location}: {self.source.advice}"], None)
        try:
            sql = body.decode("utf-8")  # as submit_sql_job reads it
        except UnicodeDecodeError as error:
            return _Script([f"the script is not UTF-8 text ({error.reason} at byte {error.start})"], None)
        try:
            statements = script_statements(job.name, sql)
        except JobError as error:
            return _Script([error.detail], None)
        problems = [problem.detail for problem in batch_problems(job.name, statements)]
        return _Script(problems, used_parameters(statements))


def where(stage: Stage, job: Job) -> str:
    """How a problem names its job: stage, job and script."""
    return f"{stage.label}, job {job.name}, script {job.script}"


def validate_scripts(config: Any, source: ScriptSource) -> Workflow:
    """The Workflow of `config` if it and every job's script would run: WorkflowInvalid lists every problem of the
    configuration and of every script at once (the scripts of the jobs that are themselves valid), each naming the
    workflow, stage, job and script. Stages flagged n are checked too: flipping the flag must not reveal problems.
    A job's parameters are what a run without run input gives it: run_date, the workflow's and the job's own."""
    workflow, problems = read_workflow(config)
    checks = ScriptChecks(source)
    defaults = default_parameters(date.today().isoformat())
    for stage in workflow.stages:
        for job in stage.jobs:
            for problem in checks.job_problems(job, job_parameters(workflow, job, defaults, {})):
                problems.add(where(stage, job), problem)
    _unused_parameters(problems, workflow, checks)
    problems.raise_if_any()
    return workflow


def _unused_parameters(problems: Problems, workflow: Workflow, checks: ScriptChecks) -> None:
    """A parameter the configuration gives that no script uses is a typo, as `-p` with a name no script uses is:
    the script then silently runs with another value (or fails on the one it lacks). Only judged when every script
    concerned could be split (the others are problems already)."""
    for stage in workflow.stages:
        for job in stage.jobs:
            used = checks.used([job])
            for name in job.parameters:
                if not checks.unknown([job]) and name not in used:
                    problems.add(where(stage, job), f"parameter {name} is given but the script does not use it "
                                 f"(it uses: {names(used)})")
    used_by_any = checks.used(workflow.jobs)
    for name in workflow.parameters:
        if not checks.unknown(workflow.jobs) and name not in used_by_any:
            problems.add("", f"parameter {name} is given but no script of the workflow uses it "
                         f"(they use: {names(used_by_any)})")


def names(parameters: list[str]) -> str:
    """Parameter names for a message: sorted, or `none`."""
    return ", ".join(sorted(parameters)) or "none"


def check_scripts(workflow: Workflow, s3: Any, bucket: str) -> None:
    """Raise WorkflowInvalid naming each job whose script is not in the bucket (one listing per folder)."""
    present = existing_keys(s3, bucket, {job.script for job in workflow.jobs})
    source = ScriptSource.bucket(s3, bucket)
    problems = Problems(workflow.workflow_id)
    for stage in workflow.stages:
        for job in stage.jobs:
            if job.script not in present:
                problems.add(f"{stage.label}, job {job.name}",
                             f"script {source.location}{job.script} does not exist: {source.advice}")
    problems.raise_if_any()


def existing_keys(s3: Any, bucket: str, keys: set[str]) -> set[str]:
    """Which of `keys` exist, listing each folder once (a workflow of 1,000 jobs costs a few list calls, not 1,000)."""
    folders = {key.rsplit("/", 1)[0] + "/" if "/" in key else "" for key in keys}
    found: set[str] = set()
    paginator = s3.get_paginator("list_objects_v2")
    for folder in sorted(folders):
        for page in paginator.paginate(Bucket=bucket, Prefix=folder):
            found.update(item["Key"] for item in page.get("Contents", []))
    return keys & found
