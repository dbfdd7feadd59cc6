"""Validation that looks outside the configuration: every job's script must be staged before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shiftflow.workflows.errors import Problems
from shiftflow.workflows.model import Workflow, parse_workflow


def validate(config: Any, s3: Any = None, bucket: str | None = None) -> Workflow:
    """The Workflow of `config`, checked completely; with an s3 client and bucket, the scripts are checked too."""
    workflow = parse_workflow(config)
    if s3 is not None and bucket:
        check_scripts(workflow, s3, bucket)
    return workflow


def check_scripts(workflow: Workflow, s3: Any, bucket: str) -> None:
    """Raise WorkflowInvalid naming each job whose script is not in the bucket."""
    present = existing_keys(s3, bucket, {job.script for job in workflow.jobs})
    _report_missing(workflow, present, f"s3://{bucket}/", "stage the scripts folder "
                    "(aws s3 sync scripts/ s3://<ScriptsBucketName>/) or fix the key")


def check_scripts_in_folder(workflow: Workflow, folder: Path) -> None:
    """The same check against a scripts folder (the local runtime stages `scripts/` as the bucket)."""
    present = {job.script for job in workflow.jobs if (folder / job.script).is_file()}
    _report_missing(workflow, present, f"{folder}/", "add the file or fix the key")


def existing_keys(s3: Any, bucket: str, keys: set[str]) -> set[str]:
    """Which of `keys` exist, listing each folder once (a workflow of 1,000 jobs costs a few list calls, not 1,000)."""
    folders = {key.rsplit("/", 1)[0] + "/" if "/" in key else "" for key in keys}
    found: set[str] = set()
    paginator = s3.get_paginator("list_objects_v2")
    for folder in sorted(folders):
        for page in paginator.paginate(Bucket=bucket, Prefix=folder):
            found.update(item["Key"] for item in page.get("Contents", []))
    return keys & found


def _report_missing(workflow: Workflow, present: set[str], location: str, advice: str) -> None:
    problems = Problems(workflow.workflow_id)
    for stage in workflow.stages:
        for job in stage.jobs:
            if job.script not in present:
                problems.add(f"{stage.label}, job {job.name}", f"script {location}{job.script} does not exist: {advice}")
    problems.raise_if_any()
