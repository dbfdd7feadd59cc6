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

    settled = settle_interrupted_runs(dynamodb, OUTPUTS)

    assert settled.guards == ["tpch"] and settled.executions == [OWNER] and settled.audit_items == 2
    tpch, sales = _items(dynamodb, "guard")[1], _items(dynamodb, "guard")[0]
    assert sales == {"JobID": "sales", "JobState": "Ready"}
    assert tpch["JobState"] == "Failed" and tpch["LastStatus"] == "ABORTED" and tpch["LastExecution"] == OWNER
    assert tpch["LastError"] == f"ABORTED: the local cloud stopped during execution {OWNER}"
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
