"""What a stopped or killed local cloud left running is recorded as aborted; what ended on its own is left alone."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from shiftflow.guard import plain
from shiftflow.local.cloud.recovery import settle_interrupted_runs

OUTPUTS = {"JobGuardTableName": "guard", "RunHistoryTableName": "history", "WorkflowAuditTableName": "runs",
           "JobAuditTableName": "jobs"}
OWNER = "arn:aws:states:us-east-1:123456789012:execution:shiftflow-local-Workflow:run-1"


def _table(client, name: str, *keys: str) -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in zip(keys, ("HASH", "RANGE"))],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys])


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client, "guard", "JobID")
        _table(client, "history", "JobID", "RunStart")
        _table(client, "runs", "workflow_execution_id")
        _table(client, "jobs", "workflow_execution_id", "job_name")
        yield client


def _items(client, table: str) -> list[dict]:
    return sorted((plain(item) for item in client.scan(TableName=table)["Items"]), key=str)


def test_a_run_left_running_is_aborted_everywhere(dynamodb):
    dynamodb.put_item(TableName="guard", Item={
        "JobID": {"S": "tpch"}, "JobState": {"S": "Running"}, "OwnerExecution": {"S": OWNER},
        "JobStart": {"S": "2026-12-01T10:00:00.000Z"}, "RunDate": {"S": "2026-11-21"}})
    dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "sales"}, "JobState": {"S": "Ready"}})
    dynamodb.put_item(TableName="runs", Item={"workflow_execution_id": {"S": "run-1"},
                                              "execution_status": {"S": "RUNNING"}})
    dynamodb.put_item(TableName="jobs", Item={"workflow_execution_id": {"S": "run-1"}, "job_name": {"S": "load"},
                                              "execution_status": {"S": "RUNNING"}})
    dynamodb.put_item(TableName="jobs", Item={"workflow_execution_id": {"S": "run-1"}, "job_name": {"S": "setup"},
                                              "execution_status": {"S": "SUCCEEDED"}})

    settled = settle_interrupted_runs(dynamodb, OUTPUTS, {OWNER: ["setup"], "another": ["x"]})

    assert settled.guards == ["tpch"] and settled.executions == [OWNER] and settled.audit_items == 2
    tpch, sales = _items(dynamodb, "guard")[1], _items(dynamodb, "guard")[0]
    assert sales == {"JobID": "sales", "JobState": "Ready"}
    assert tpch["JobState"] == "Failed" and tpch["LastStatus"] == "ABORTED" and tpch["LastExecution"] == OWNER
    assert tpch["LastError"] == (f"ABORTED: the local cloud stopped during execution {OWNER}; "
                                 "jobs whose SQL had committed: setup")
    [run] = _items(dynamodb, "history")
    assert run["Status"] == "ABORTED" and run["RunStart"] == "2026-12-01T10:00:00.000Z"
    assert run["ExecutionArn"] == OWNER and run["RunDate"] == "2026-11-21" and run["Message"] == "the local cloud stopped"
    assert [item["execution_status"] for item in _items(dynamodb, "runs")] == ["ABORTED"]
    statuses = {item["job_name"]: item["execution_status"] for item in _items(dynamodb, "jobs")}
    assert statuses == {"load": "ABORTED", "setup": "SUCCEEDED"}

    assert settle_interrupted_runs(dynamodb, OUTPUTS).guards == []  # settled once: nothing left to do
    assert len(_items(dynamodb, "history")) == 1


def test_a_run_that_recorded_its_own_end_keeps_it(dynamodb):
    dynamodb.put_item(TableName="guard", Item={
        "JobID": {"S": "sales"}, "JobState": {"S": "Running"}, "OwnerExecution": {"S": OWNER},
        "JobStart": {"S": "2026-12-01T10:00:00.000Z"}})
    dynamodb.put_item(TableName="history", Item={"JobID": {"S": "sales"}, "RunStart": {"S": "2026-12-01T10:00:00.000Z"},
                                                 "Status": {"S": "SUCCEEDED"}})
    settle_interrupted_runs(dynamodb, OUTPUTS)
    assert [item["Status"] for item in _items(dynamodb, "history")] == ["SUCCEEDED"]
    assert _items(dynamodb, "guard")[0]["JobState"] == "Failed"  # the guard still was not released: not Running


def test_the_committed_jobs_of_an_execution_are_its_descendants_that_succeeded():
    from shiftflow.local.cloud.durable_executions import committed_jobs

    def record(arn: str, status: str, parent: str | None = None, job: str | None = None, at: int = 0) -> dict:
        inputs = {key: value for key, value in (("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID", parent),
                                                ("job", job)) if value}
        return {"executionArn": arn, "status": status, "input": inputs, "startDate": at, "stopDate": at}

    records = [record("wf", "ABORTED"), record("stage-1", "SUCCEEDED", "wf", at=1),
               record("setup", "SUCCEEDED", "stage-1", "setup", at=2), record("load", "SUCCEEDED", "stage-2", "load", 4),
               record("stage-2", "ABORTED", "wf", at=3), record("fact", "ABORTED", "stage-2", "fact", 5),
               record("other", "SUCCEEDED", "elsewhere", "x", 6)]
    assert committed_jobs(records) == {"wf": ["setup", "load"], "elsewhere": ["x"]}
