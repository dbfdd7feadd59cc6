"""`shiftflow scripts sync --stack NAME` through the real CLI entry point, against moto: a stack created in moto's
CloudFormation whose ScriptsBucketName output names the bucket it created, as template.yaml's does."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from shiftflow.cli.app import app
from shiftflow.scripts_sync import ScriptsSyncError, apply_sync, plan_sync
from tests.conftest import ROOT

STACK = "shiftflow-test"
STACK_TEMPLATE = """
Resources:
  ScriptsBucket:
    Type: AWS::S3::Bucket
Outputs:
  ScriptsBucketName: {Value: !Ref ScriptsBucket}
"""
SCRIPTS = {
    "sales/load_item_dimension.sql": "insert into item select * from stg_item;\n",
    "sales/validate_sales_load.sql": "select 'rows' as check_name, true as passed, '' as detail;\n",
    "setup.sql": "create table if not exists item (i int);\n",
}


@pytest.fixture
def bucket() -> str:
    with mock_aws():
        boto3.client("cloudformation").create_stack(StackName=STACK, TemplateBody=STACK_TEMPLATE)
        outputs = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        name = next(item["OutputValue"] for item in outputs if item["OutputKey"] == "ScriptsBucketName")
        # Versioned as template.yaml's bucket is (moto's CloudFormation ignores VersioningConfiguration).
        boto3.client("s3").put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        yield name


@pytest.fixture
def project(tmp_path) -> Path:
    for key, text in SCRIPTS.items():
        write(tmp_path / "scripts" / key, text)
    write(tmp_path / "scripts" / "README.md", "what the scripts do\n")
    return tmp_path


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def shiftflow(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["scripts", "sync", *args, "--project", str(project)])
    return result.exit_code, result.stdout, result.stderr


def sync_json(project: Path, *args: str) -> dict:
    code, out, err = shiftflow(project, "--stack", STACK, "--json", *args)
    assert code == 0, out + err
    return json.loads(out)  # the whole of stdout is one JSON document


def bucket_contents(bucket: str) -> dict[str, str]:
    s3 = boto3.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in keys}


def versions(bucket: str, key: str) -> int:
    return len(boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []))


def test_the_first_sync_uploads_every_script_and_no_other_file(bucket, project):
    result = sync_json(project)
    assert result == {
        "stack": STACK,
        "dry_run": False,
        "bucket": bucket,
        "uploads": [{"key": key, "reason": "new", "size": len(text.encode())} for key, text in sorted(SCRIPTS.items())],
        "deletions": [],
        "left_in_bucket": [],
        "unchanged": [],
    }
    assert bucket_contents(bucket) == SCRIPTS


def test_only_new_and_changed_scripts_are_uploaded(bucket, project):
    sync_json(project)
    write(project / "scripts" / "setup.sql", "create table if not exists item (i bigint);\n")
    write(project / "scripts" / "tpch" / "load_customer_dimension.sql", "insert into customer select 1;\n")

    result = sync_json(project)
    assert [(upload["key"], upload["reason"]) for upload in result["uploads"]] == [
        ("setup.sql", "changed"), ("tpch/load_customer_dimension.sql", "new")]
    assert result["unchanged"] == ["sales/load_item_dimension.sql", "sales/validate_sales_load.sql"]
    assert bucket_contents(bucket)["setup.sql"] == "create table if not exists item (i bigint);\n"
    # An unchanged script was not written again: the versioned bucket holds one version of it, two of the changed one.
    assert (versions(bucket, "sales/load_item_dimension.sql"), versions(bucket, "setup.sql")) == (1, 2)

    again = sync_json(project)
    assert again["uploads"] == [] and len(again["unchanged"]) == 4


def test_a_dry_run_lists_what_it_would_do_and_writes_nothing(bucket, project):
    boto3.client("s3").put_object(Bucket=bucket, Key="old/retired.sql", Body=b"select 1;")
    sync_json(project)
    write(project / "scripts" / "setup.sql", "select 2;\n")
    before = bucket_contents(bucket)

    code, out, err = shiftflow(project, "--stack", STACK, "--dry-run", "--delete")
    assert code == 0, out + err
    assert out.splitlines() == [
        "upload  setup.sql  (changed, 10 bytes)",
        "delete  old/retired.sql",
        f"dry run, nothing written to s3://{bucket}/: 1 to upload, 1 to delete, 2 unchanged",
    ]
    assert bucket_contents(bucket) == before
    result = sync_json(project, "--dry-run")
    assert (result["dry_run"], result["deletions"], result["left_in_bucket"]) == (True, [], ["old/retired.sql"])
    assert bucket_contents(bucket) == before


def test_objects_gone_from_scripts_are_deleted_only_with_delete(bucket, project):
    sync_json(project)
    (project / "scripts" / "setup.sql").unlink()

    code, out, _ = shiftflow(project, "--stack", STACK)
    assert code == 0
    assert "left    setup.sql  (not in scripts/: --delete removes it)" in out.splitlines()
    assert "setup.sql" in bucket_contents(bucket)

    result = sync_json(project, "--delete")
    assert (result["deletions"], result["left_in_bucket"], result["uploads"]) == (["setup.sql"], [], [])
    assert sorted(bucket_contents(bucket)) == ["sales/load_item_dimension.sql", "sales/validate_sales_load.sql"]


def test_the_repositorys_scripts_folder_is_what_gets_staged(bucket):
    result = sync_json(ROOT, "--dry-run")
    expected = sorted(path.relative_to(ROOT / "scripts").as_posix() for path in (ROOT / "scripts").rglob("*.sql"))
    assert [upload["key"] for upload in result["uploads"]] == expected
    assert "sales/load_item_dimension.sql" in expected and not any(key.endswith(".md") for key in expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--stack", "no-such-stack"), "no-such-stack"),
        ((), "Missing option '--stack'"),
    ],
)
def test_a_sync_that_cannot_run_exits_2(bucket, project, args, message):
    code, out, err = shiftflow(project, *args)
    assert code == 2 and message in err and out == ""


def test_a_stack_without_a_scripts_bucket_output_exits_2(bucket, project):
    boto3.client("cloudformation").create_stack(
        StackName="other", TemplateBody="Resources:\n  Topic: {Type: AWS::SNS::Topic}\n")
    code, out, err = shiftflow(project, "--stack", "other", "--json")
    assert code == 2 and "ScriptsBucketName" in err and out == ""


def test_a_project_without_scripts_exits_2_before_reaching_the_stack(bucket, tmp_path):
    code, out, err = shiftflow(tmp_path, "--stack", STACK, "--delete")
    assert code == 2 and "no *.sql scripts under" in err and out == ""
    assert bucket_contents(bucket) == {}


def test_an_upload_that_fails_midway_names_the_key(bucket, project):
    s3 = boto3.client("s3")
    plan = plan_sync(s3, bucket, project / "scripts")
    s3.delete_bucket(Bucket=bucket)  # gone between the plan and the upload
    with pytest.raises(ScriptsSyncError, match=r"upload of sales/load_item_dimension.sql to s3://.* failed: .*NoSuchBucket"):
        apply_sync(s3, plan, project / "scripts")
