"""Stage the scripts folder in a stack's scripts bucket: plan what differs, then upload and delete only that.

The bucket holds the SQL scripts and nothing else (template.yaml's ScriptsBucket): keys are paths under `scripts/`
(`sales/load_item_dimension.sql`), the files are the `*.sql` ones, as the local runtime stages them. An object is
unchanged when its ETag is the file's MD5: true of every object uploaded in one part without KMS, which is how this
module uploads them (a script is at most 100 KB). Any other ETag (a multipart upload by another tool) counts as
changed, so the next sync replaces it with one that compares.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

SCRIPT_PATTERN = "*.sql"
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys a call


class ScriptsSyncError(RuntimeError):
    """An upload or a deletion failed after the sync had started; the message names the key."""


@dataclass(frozen=True)
class LocalScript:
    key: str
    path: Path
    md5: str  # hex digest
    size: int


@dataclass(frozen=True)
class Upload:
    key: str
    reason: str  # "new" or "changed"
    size: int


@dataclass
class SyncPlan:
    bucket: str
    uploads: list[Upload] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)  # in the bucket, not in the folder; removed with delete=True
    left_in_bucket: list[str] = field(default_factory=list)  # the same, kept because delete was not asked for
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "uploads": [{"key": upload.key, "reason": upload.reason, "size": upload.size} for upload in self.uploads],
            "deletions": self.deletions,
            "left_in_bucket": self.left_in_bucket,
            "unchanged": self.unchanged,
        }


def local_scripts(folder: Path) -> dict[str, LocalScript]:
    """Every script under `folder`, by bucket key."""
    scripts = {}
    for path in sorted(folder.rglob(SCRIPT_PATTERN)):
        if not path.is_file():
            continue
        body = path.read_bytes()
        key = path.relative_to(folder).as_posix()
        scripts[key] = LocalScript(key=key, path=path, md5=hashlib.md5(body).hexdigest(), size=len(body))  # noqa: S324 - S3's ETag
    return scripts


def bucket_etags(s3: Any, bucket: str) -> dict[str, str]:
    """Key -> ETag (quotes stripped) of every object in the bucket."""
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def plan_sync(s3: Any, bucket: str, folder: Path, delete: bool = False) -> SyncPlan:
    """What a sync of `folder` to `bucket` would do; nothing is written."""
    scripts = local_scripts(folder)
    remote = bucket_etags(s3, bucket)
    plan = SyncPlan(bucket=bucket)
    for key, script in scripts.items():
        if key not in remote:
            plan.uploads.append(Upload(key, "new", script.size))
        elif remote[key] != script.md5:
            plan.uploads.append(Upload(key, "changed", script.size))
        else:
            plan.unchanged.append(key)
    extra = sorted(set(remote) - set(scripts))
    if delete:
        plan.deletions = extra
    else:
        plan.left_in_bucket = extra
    return plan


def apply_sync(s3: Any, plan: SyncPlan, folder: Path) -> None:
    """Upload and delete what `plan` says. S3 checks each body against its Content-MD5, so a script that changed
    since the plan is uploaded as it is now, never half-written."""
    for upload in plan.uploads:
        body = (folder / upload.key).read_bytes()
        digest = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")  # noqa: S324 - S3's Content-MD5
        try:
            s3.put_object(Bucket=plan.bucket, Key=upload.key, Body=body, ContentMD5=digest)
        except (BotoCoreError, ClientError) as error:
            raise ScriptsSyncError(f"upload of {upload.key} to s3://{plan.bucket}/ failed: {error}") from error
    for start in range(0, len(plan.deletions), DELETE_BATCH):
        batch = plan.deletions[start:start + DELETE_BATCH]
        try:
            response = s3.delete_objects(
                Bucket=plan.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
        except (BotoCoreError, ClientError) as error:
            raise ScriptsSyncError(f"deleting {len(batch)} objects from s3://{plan.bucket}/ failed: {error}") from error
        errors = response.get("Errors", [])
        if errors:
            failed = ", ".join(f"{item['Key']} ({item.get('Code', '?')})" for item in errors)
            raise ScriptsSyncError(f"could not delete from s3://{plan.bucket}/: {failed}")
