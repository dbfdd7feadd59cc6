"""The project folder as the local cloud sees it, brought up to date by every command before it runs: the scripts
bucket mirrors scripts/ (new and changed files uploaded, removed ones deleted, as `shiftflow scripts sync --delete`
does) and workflows/*.json are pushed to the configuration table. The in-process runtime got the same by starting
afresh each command; a long-lived cloud would otherwise run the SQL of the moment it started."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

# What a command learned from its cloud (the local stack's description) and the project as last pushed to it:
# later commands against the same cloud process skip the stack look-up and an unchanged project's sync (each costs
# boto3 clients and calls: about half of `shiftflow status`).
CLIENT_CACHE = "cloud-client.json"


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


def project_fingerprint(project_root: Path) -> list[list[Any]]:
    """Every file of scripts/ and workflows/ with its size and modification time: what a sync depends on."""
    fingerprint = []
    for folder in ("scripts", "workflows"):
        for path in sorted((project_root / folder).rglob("*")):
            try:
                status = path.stat()  # once per file: every command computes this
            except OSError:
                continue  # a dangling link: not a file (as is_file() says)
            if stat.S_ISREG(status.st_mode):
                fingerprint.append([str(path.relative_to(project_root)), status.st_size, status.st_mtime_ns])
    return fingerprint


def read_client_cache(state_dir: Path, cloud_pid: int, cloud_url: str) -> dict[str, Any] | None:
    """The cache written for this very cloud process, or None (another cloud, none yet, unreadable)."""
    try:
        cached = json.loads((state_dir / CLIENT_CACHE).read_text())
    except (OSError, ValueError):
        return None
    return cached if isinstance(cached, dict) and cached.get("cloud") == [cloud_pid, cloud_url] else None


def write_client_cache(state_dir: Path, cloud_pid: int, cloud_url: str, stack: dict[str, Any],
                       fingerprint: list[list[Any]]) -> None:
    from shiftflow.durable_files import atomic_write

    document = {"cloud": [cloud_pid, cloud_url], "stack": stack, "project": fingerprint}
    atomic_write(state_dir / CLIENT_CACHE, json.dumps(document, default=str).encode())
