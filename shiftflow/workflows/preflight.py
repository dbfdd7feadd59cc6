"""The check before a run starts: everything that would make the run fail before its first statement, known
without running it. Nothing has started when it refuses, so nobody is notified and no guard is taken.

    preflight(workflow, source, parameters, previous=None)   # raises RunRefused listing every problem
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from shiftflow.workflows.audit import PreviousRun
from shiftflow.workflows.errors import Problems, RunRefused
from shiftflow.workflows.model import Workflow
from shiftflow.workflows.plan import build_plan, size_problems
from shiftflow.workflows.validation import GIVE_AT_RUN, ScriptChecks, ScriptSource, names, where


def preflight(workflow: Workflow, source: ScriptSource, parameters: Mapping[str, Any],
              previous: PreviousRun | None = None) -> None:
    """Refuse a run of `workflow` with the run input's `parameters` (and, for a restart, the failed run `previous`)
    before it starts. RunRefused lists every problem at once: each run-input parameter no script of the workflow uses
    (naming the ones they use), and for each job the run would run, what its submit would refuse with the parameters
    the run gives it (script missing, unsplittable, empty, over the batch limits; a parameter missing or empty), and
    a run's state or a stage's plan too large for its execution (LoadWorkflow's check)."""
    problems = Problems(workflow.workflow_id)
    checks = ScriptChecks(source)
    known, unread = checks.used(workflow.jobs), checks.unknown(workflow.jobs)
    # Stricter rather than silent: a script that cannot be split is a problem of its own when its job runs.
    besides = f"; not counting {', '.join(unread)}, which could not be read or split" if unread else ""
    for name in parameters:
        if name not in known:
            problems.add("", f"unknown parameter {name}: no script of the workflow uses it "
                         f"(known parameters: {names(known)}{besides})")
    accepted = {name: value for name, value in parameters.items() if name in known}
    # An execution id as long as the name start_execution gives (a UUID): the plan's size is the run's.
    run_plan = build_plan(workflow, execution_id=str(uuid.uuid4()), run_date=date.today().isoformat(),
                          parameters=accepted, previous=previous)
    for too_large in size_problems(run_plan):
        problems.add("", too_large)
    for stage_plan in run_plan["stages"]:
        stage = workflow.stages[stage_plan["number"] - 1]
        jobs = {job.name: job for job in stage.jobs}
        for job_plan in stage_plan["jobs"]:
            job = jobs[job_plan["name"]]
            for problem in checks.job_problems(job, job_plan["parameters"], advice=GIVE_AT_RUN):
                problems.add(where(stage, job), problem)
    problems.raise_if_any(RunRefused)
