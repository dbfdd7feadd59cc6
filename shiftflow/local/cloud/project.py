"""The project folder as the local cloud sees it, brought up to date by every command before it runs: the scripts
bucket mirrors scripts/ (new and changed files uploaded, removed ones deleted, as `shiftflow scripts sync --delete`
does) and workflows/*.json are pushed to the configuration table. The in-process runtime got the same by starting
afresh each command; a long-lived cloud would otherwise run the SQL of the moment it started."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def refresh(make_client: Callable[[str], Any], outputs: dict[str, str], project_root: Path) -> None:
    from shiftflow.local.runtime import push_project_workflows
    from shiftflow.scripts_sync import apply_sync, plan_sync

    if "ScriptsBucketName" in outputs:
        s3, scripts = make_client("s3"), project_root / "scripts"
        plan = plan_sync(s3, outputs["ScriptsBucketName"], scripts, delete=True)
        if plan.uploads or plan.deletions:
            apply_sync(s3, plan, scripts)
    if "WorkflowConfigTableName" in outputs:
        push_project_workflows(make_client("dynamodb"), outputs["WorkflowConfigTableName"], project_root)
