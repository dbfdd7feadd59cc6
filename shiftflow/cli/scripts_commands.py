"""`shiftflow scripts ...`: the SQL scripts a deployed stack runs.

    shiftflow scripts sync --stack shiftflow             # upload the new and changed scripts/ files
    shiftflow scripts sync --stack shiftflow --dry-run   # list what it would upload and delete, write nothing
    shiftflow scripts sync --stack shiftflow --delete    # also delete objects that are no longer in scripts/
    shiftflow scripts sync --stack shiftflow --json      # one JSON document on stdout

Exit codes: 0 the bucket matches scripts/ (or, with --dry-run, the plan was made); 1 an upload or deletion failed
after the sync had started; 2 the sync could not run (no such stack, no ScriptsBucketName output, no scripts).
Locally there is nothing to sync: the local runtime stages scripts/ itself whenever it starts.

Registered by shiftflow/cli/app.py: app.add_typer(scripts_app, name="scripts").
The logic lives in shiftflow.scripts_sync (plain functions taking a boto3 S3 client); this module parses and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shiftflow.cli import common
from shiftflow.cli.common import JsonOption, ProjectOption, VerboseOption, print_json
from shiftflow.scripts_sync import ScriptsSyncError, SyncPlan, apply_sync, local_scripts, plan_sync

scripts_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The SQL scripts of a deployed stack.")

@scripts_app.command("sync")
def sync_command(
    stack: Annotated[str, typer.Option("--stack", help="The deployed stack whose ScriptsBucketName to stage.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be uploaded and deleted; write nothing.")] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Also delete objects that are not in scripts/.")] = False,
    as_json: JsonOption = False,
    project: ProjectOption = Path("."),
    verbose: VerboseOption = False,
) -> None:
    """Copy scripts/ to the stack's scripts bucket: new and changed files only, deletions only with --delete."""
    folder = project.resolve() / "scripts"
    if not local_scripts(folder):
        common.fail(f"no *.sql scripts under {folder}", "run from the project folder or give --project")
    with common.session(stack, False, project, None, verbose) as connection:
        s3 = connection.client("s3")
        plan = plan_sync(s3, connection.deployment.output("ScriptsBucketName"), folder, delete=delete)
        if not dry_run:
            try:
                apply_sync(s3, plan, folder)
            except ScriptsSyncError as error:
                common.stderr().print(f"[bold red]error:[/] {error}", highlight=False)
                raise common.CommandFailed(str(error)) from None
    if as_json:
        print_json({"stack": stack, "dry_run": dry_run, **plan.as_dict()})
    else:
        _print_plan(plan, dry_run)


def _print_plan(plan: SyncPlan, dry_run: bool) -> None:
    """One line per object (action first, then the key), then a summary: plain text, whole keys, for any pipe."""
    for upload in plan.uploads:
        typer.echo(f"upload  {upload.key}  ({upload.reason}, {upload.size} bytes)")
    for key in plan.deletions:
        typer.echo(f"delete  {key}")
    for key in plan.left_in_bucket:
        typer.echo(f"left    {key}  (not in scripts/: --delete removes it)")
    counts = f"{len(plan.uploads)} to upload, {len(plan.deletions)} to delete, {len(plan.unchanged)} unchanged"
    if dry_run:
        typer.echo(f"dry run, nothing written to s3://{plan.bucket}/: {counts}")
    else:
        typer.echo(f"s3://{plan.bucket}/ is in step with scripts/: "
                   f"{len(plan.uploads)} uploaded, {len(plan.deletions)} deleted, {len(plan.unchanged)} unchanged")
