"""IAM enforced locally: handlers and state machines can do only what template.yaml's roles allow, with AWS's
AccessDenied naming the action and the resource; clients of the local runtime stay administrators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from shiftflow.guard import read_guards, read_history
from shiftflow.local.moto_gaps import wait_for_execution
from shiftflow.local.runtime import ACCOUNT_ID, LocalRuntime
from tests.conftest import ROOT

RUN_DATE = "2026-11-21"
JOB_ID = "sales_data_pipeline"
SUBMIT_ROLE = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/shiftflow-local-DataApiFunctionRole/shiftflow-local-SubmitSqlJobFunction"
SCRIPTS_BUCKET_ARN = "arn:aws:s3:::shiftflow-local-scriptsbucket"


def without_statement(runtime: LocalRuntime, resource: str, sid: str) -> None:
    """Take the statement `sid` out of the resource's policies in the runtime's copy of template.yaml."""
    properties = runtime.template.body["Resources"][resource]["Properties"]
    documents = [policy.get("PolicyDocument", policy) for policy in properties["Policies"]]
    for document in documents:
        kept = [statement for statement in document["Statement"]
                if not (isinstance(statement, dict) and statement.get("Sid") == sid)]
        if len(kept) < len(document["Statement"]):
            document["Statement"] = kept
            return
    raise AssertionError(f"{resource} has no statement {sid}")


@pytest.fixture
def local(tmp_path) -> Iterator[LocalRuntime]:
    yield LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, persist=False, log_level="ERROR")


def run_pipeline(runtime: LocalRuntime, **execution_input: Any) -> dict[str, Any]:
    sfn = runtime.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("sales_data_pipeline"),
                              input=json.dumps({"run_date": RUN_DATE, **execution_input}))["executionArn"]
    wait_for_execution(arn, timeout=120)
    return sfn.describe_execution(executionArn=arn)


def guard_and_latest_run(runtime: LocalRuntime) -> tuple[dict[str, Any], dict[str, Any]]:
    dynamodb = runtime.client("dynamodb")
    (guard,) = read_guards(dynamodb, runtime.deployment.output("JobGuardTableName"), JOB_ID)
    latest = read_history(dynamodb, runtime.deployment.output("RunHistoryTableName"), JOB_ID)[0]
    return guard, latest


def submit(runtime: LocalRuntime, script: str) -> dict[str, Any]:
    """Invoke the submit function as the state machine does; returns the Lambda error payload (or result)."""
    request = {"workflow": "iam", "job": "probe", "script": script, "client_token_seed": "iam-probe"}
    response = runtime.client("lambda").invoke(FunctionName="shiftflow-local-SubmitSqlJobFunction",
                                               Payload=json.dumps({"request": request}))
    return json.loads(response["Payload"].read())


def test_submit_without_get_object_fails_the_run_with_access_denied_and_the_guard_ends_failed(local):
    without_statement(local, "DataApiFunctionRole", "ReadSqlScripts")
    with local as runtime:
        runtime.notifications()
        failed = run_pipeline(runtime, setup_demo_data=True)
        assert failed["status"] == "FAILED"
        expected = (f"User: {SUBMIT_ROLE} is not authorized to perform: s3:GetObject on resource: "
                    f"{SCRIPTS_BUCKET_ARN}/")
        assert expected in failed["cause"], failed["cause"]
        assert "because no identity-based policy allows the s3:GetObject action" in failed["cause"]
        guard, latest = guard_and_latest_run(runtime)
        assert (guard["JobState"], guard["LastStatus"]) == ("Failed", "FAILED")
        assert latest["Status"] == "FAILED" and "s3:GetObject" in latest["Message"]
        (notification,) = runtime.notifications()
        assert notification["subject"] == "Shiftflow: sales_data_pipeline failed"


def test_a_state_machine_role_without_invoke_function_fails_the_job_and_the_guard_ends_failed(local):
    without_statement(local, "RunSqlJobStateMachine", "InvokeSqlJobFunctions")
    with local as runtime:
        failed = run_pipeline(runtime, setup_demo_data=True)
        assert failed["status"] == "FAILED"
        role = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/shiftflow-local-RunSqlJobStateMachineRole/"
        function = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:shiftflow-local-SubmitSqlJobFunction"
        assert role in failed["cause"], failed["cause"]
        assert f"is not authorized to perform: lambda:InvokeFunction on resource: {function}" in failed["cause"]
        guard, latest = guard_and_latest_run(runtime)
        assert (guard["JobState"], guard["LastStatus"]) == ("Failed", "FAILED")
        assert latest["Status"] == "FAILED"


def test_a_missing_script_without_list_bucket_is_access_denied_not_no_such_key(local):
    without_statement(local, "DataApiFunctionRole", "TellMissingScripts")
    with local as runtime:
        error = submit(runtime, "no/such/script.sql")
    assert error["errorType"] == "AccessDenied"  # botocore models S3's AccessDenied
    assert error["errorMessage"] == (
        "An error occurred (AccessDenied) when calling the GetObject operation: "
        f"User: {SUBMIT_ROLE} is not authorized to perform: s3:ListBucket on resource: {SCRIPTS_BUCKET_ARN} "
        "because no identity-based policy allows the s3:ListBucket action")


def test_a_missing_script_with_list_bucket_is_script_not_found(local):
    with local as runtime:
        error = submit(runtime, "no/such/script.sql")
    assert error["errorType"] == "ScriptNotFound"


def test_clients_are_administrators_with_any_credentials(local):
    with local as runtime:
        table = runtime.deployment.output("JobGuardTableName")
        anyone = {"region_name": "us-east-1", "aws_access_key_id": "AKIAANYONE", "aws_secret_access_key": "any"}
        boto3.client("dynamodb", **anyone).put_item(TableName=table, Item={"JobID": {"S": "admin-probe"}})
        s3 = boto3.client("s3", **anyone)
        with pytest.raises(ClientError) as missing:
            s3.get_object(Bucket="shiftflow-local-scriptsbucket", Key="no/such/script.sql")
        assert missing.value.response["Error"]["Code"] == "NoSuchKey"  # an administrator may list the bucket
        assert s3.list_objects_v2(Bucket="shiftflow-local-scriptsbucket")["KeyCount"] > 0


def test_the_local_cloud_enforces_roles_and_its_http_clients_are_administrators(tmp_path):
    from shiftflow.local.cloud.server import LocalCloud

    cloud = LocalCloud(ROOT, tmp_path, time_scale=0.001, log_level="ERROR")
    without_statement(cloud.runtime, "DataApiFunctionRole", "TellMissingScripts")
    with cloud:
        anyone = {"region_name": "us-east-1", "endpoint_url": cloud.url, "aws_access_key_id": "AKIAANYONE",
                  "aws_secret_access_key": "any", "aws_session_token": "whatever"}
        s3 = boto3.client("s3", **anyone)
        with pytest.raises(ClientError) as missing:
            s3.get_object(Bucket="shiftflow-local-scriptsbucket", Key="no/such/script.sql")
        assert missing.value.response["Error"]["Code"] == "NoSuchKey"
        request = {"workflow": "iam", "job": "probe", "script": "no/such/script.sql", "client_token_seed": "seed"}
        response = boto3.client("lambda", **anyone).invoke(FunctionName="shiftflow-local-SubmitSqlJobFunction",
                                                           Payload=json.dumps({"request": request}))
        error = json.loads(response["Payload"].read())
        assert response["FunctionError"] == "Unhandled"
        assert error["errorType"] == "AccessDenied"
        assert f"User: {SUBMIT_ROLE} is not authorized to perform: s3:ListBucket" in error["errorMessage"]


def test_a_pipeline_role_without_start_execution_cannot_start_its_sync_jobs(local):
    without_statement(local, "SalesDataPipelineStateMachine", "StartSqlJobs")
    with local as runtime:
        failed = run_pipeline(runtime, setup_demo_data=True)
        child = runtime.deployment.state_machine_arn("run_sql_job")
        role = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/shiftflow-local-SalesDataPipelineStateMachineRole/"
        assert failed["status"] == "FAILED"
        assert role in failed["cause"], failed["cause"]
        assert f"is not authorized to perform: states:StartExecution on resource: {child}" in failed["cause"]
        guard, latest = guard_and_latest_run(runtime)
        assert (guard["JobState"], guard["LastStatus"]) == ("Failed", "FAILED")



def test_a_pipeline_role_without_the_sync_rule_cannot_start_its_sync_jobs(local):
    # startExecution.sync needs events:PutRule/PutTargets/DescribeRule on the managed rule Step Functions creates
    # (Step Functions developer guide, "IAM policies for starting Step Functions workflows from Step Functions").
    without_statement(local, "SalesDataPipelineStateMachine", "ReceiveSqlJobCompletionEvents")
    with local as runtime:
        failed = run_pipeline(runtime, setup_demo_data=True)
        rule = f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
        role = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/shiftflow-local-SalesDataPipelineStateMachineRole/"
        assert failed["status"] == "FAILED"
        assert role in failed["cause"], failed["cause"]
        assert f"is not authorized to perform: events:PutRule on resource: {rule}" in failed["cause"]
        guard, _ = guard_and_latest_run(runtime)
        assert (guard["JobState"], guard["LastStatus"]) == ("Failed", "FAILED")

def test_the_data_api_role_follows_its_own_statements_only(local):
    """DescribeStatement is allowed by the statement-owner condition: a statement the role's functions submitted,
    not one an administrator (here: the test) submitted."""
    with local as runtime:
        target = {"ClusterIdentifier": "shiftflow-local", "DbUser": "shiftflow", "Database": "dev"}
        foreign = runtime.client("redshift-data").execute_statement(Sql="select 1", **target)["Id"]
        response = runtime.client("lambda").invoke(
            FunctionName="shiftflow-local-GetStatementStatusFunction",
            Payload=json.dumps({"job": "probe", "statement_id": foreign, "wait_seconds": 1}))
        error = json.loads(response["Payload"].read())
        assert error["errorType"] == "ClientError"  # botocore models no AccessDeniedException for redshift-data
        assert error["errorMessage"].startswith(
            "An error occurred (AccessDeniedException) when calling the DescribeStatement operation: ")
        status_role = SUBMIT_ROLE.replace("SubmitSqlJobFunction", "GetStatementStatusFunction")
        assert (f"User: {status_role} is not authorized to perform: redshift-data:DescribeStatement on resource: *"
                in error["errorMessage"])
        # The pipeline's own statements (submitted by SubmitSqlJobFunction, same role) are followed to the end.
        assert run_pipeline(runtime, setup_demo_data=True)["status"] == "SUCCEEDED"


def test_a_function_whose_role_may_not_write_its_logs_has_none_in_cloudwatch_logs(local):
    """Lambda writes a function's lines only with logs:CreateLogStream and logs:PutLogEvents on its log group
    (Lambda developer guide, "Sending Lambda function logs to CloudWatch Logs"); the cloud's log still has them."""
    without_statement(local, "DataApiFunctionRole", "WriteOwnLogs")
    with local as runtime:
        submit(runtime, "sales/no_such_script.sql")
        runtime.client("lambda").invoke(FunctionName="shiftflow-local-DescribeFailureFunction",
                                        Payload=json.dumps({"Error": "States.Timeout", "Cause": "late"}))
        runtime.function_logs.flush()
        logs = runtime.client("logs")
        assert logs.describe_log_streams(logGroupName="shiftflow-local-SubmitSqlJobLogGroup")["logStreams"] == []
        # A role that keeps the permission (DescribeFailureFunctionRole's own) writes as before.
        (stream,) = logs.describe_log_streams(logGroupName="shiftflow-local-DescribeFailureLogGroup")["logStreams"]
        events = logs.get_log_events(logGroupName="shiftflow-local-DescribeFailureLogGroup",
                                     logStreamName=stream["logStreamName"], startFromHead=True)["events"]
        assert events[0]["message"].startswith("START RequestId: ")
        assert events[-1]["message"].startswith("REPORT RequestId: ")
