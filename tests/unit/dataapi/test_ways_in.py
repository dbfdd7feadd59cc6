"""The two ways in: in-process routing (also under moto's mock_aws) and the HTTP endpoint and its command."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from shiftflow.dataapi.http import start_server
from shiftflow.dataapi.inprocess import route_client, route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.unit.dataapi.conftest import TARGET, assert_shape, make_emulator

UNKNOWN_ID = "0d1c3c9e-0747-4bf4-b142-e8883122f766"


def test_in_process_routing_wins_over_motos_own_mock(emulator: DataApiEmulator) -> None:
    with mock_aws(), route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1")
        # moto has no BatchExecuteStatement / ListStatements: answering them proves moto never saw the calls.
        batch = client.batch_execute_statement(Sqls=["CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1)"],
                                               **TARGET, WaitTimeSeconds=30)
        assert batch["Status"] == "FINISHED"
        assert [s["Id"] for s in client.list_statements()["Statements"]] == [batch["Id"]]
        # moto's S3 keeps working alongside.
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="scripts")


def test_routing_is_reversible(emulator: DataApiEmulator) -> None:
    with mock_aws():
        with route_in_process(emulator):
            routed = boto3.client("redshift-data", region_name="us-east-1")
            statement_id = routed.execute_statement(Sql="SELECT 1", **TARGET, WaitTimeSeconds=30)["Id"]
            assert routed.describe_statement(Id=statement_id)["Status"] == "FINISHED"
        # Out of the block, moto's mock answers again and knows nothing of the emulator's statement.
        with pytest.raises(routed.exceptions.ResourceNotFoundException):
            routed.describe_statement(Id=statement_id)


def test_innermost_routing_wins_and_outer_resumes() -> None:
    with make_emulator() as outer, make_emulator() as inner, route_in_process(outer):
        client = boto3.client("redshift-data", region_name="us-east-1")
        outer_id = client.execute_statement(Sql="SELECT 1", **TARGET)["Id"]
        with route_in_process(inner):
            with pytest.raises(client.exceptions.ResourceNotFoundException):
                client.describe_statement(Id=outer_id)
        assert client.describe_statement(Id=outer_id, WaitTimeSeconds=30)["Status"] == "FINISHED"


def test_clients_created_before_routing_can_be_routed(emulator: DataApiEmulator) -> None:
    early = boto3.session.Session().client("redshift-data", region_name="us-east-1",
                                           endpoint_url="http://127.0.0.1:9")  # nothing listens there
    with route_in_process(emulator):
        route_client(early)
        assert early.execute_statement(Sql="SELECT 1", **TARGET, WaitTimeSeconds=30)["Status"] == "FINISHED"


def test_unvalidating_clients_meet_the_services_validation(emulator: DataApiEmulator) -> None:
    # Step Functions' aws-sdk tasks in moto create clients with parameter_validation=False.
    with route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1",
                              config=Config(parameter_validation=False))
        with pytest.raises(client.exceptions.ValidationException, match="Member must not be null"):
            client.execute_statement(**TARGET)
        with pytest.raises(client.exceptions.ValidationException, match="must be a number"):
            client.execute_statement(Sql="SELECT 1", **TARGET, WaitTimeSeconds="soon")


def test_http_endpoint_through_the_environment_variable(emulator: DataApiEmulator,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_server(emulator)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_REDSHIFT_DATA", server.url)
        client = boto3.client("redshift-data", region_name="us-east-1")
        submitted = client.execute_statement(Sql="SELECT 'hello' AS greeting", **TARGET, WaitTimeSeconds=30)
        assert_shape("ExecuteStatement", submitted)
        result = client.get_statement_result(Id=submitted["Id"])
        assert result["Records"] == [[{"stringValue": "hello"}]]
    finally:
        server.stop()


def test_http_endpoint_under_mock_aws(emulator: DataApiEmulator) -> None:
    server = start_server(emulator)
    try:
        with mock_aws():
            client = boto3.client("redshift-data", region_name="us-east-1", endpoint_url=server.url)
            listed = client.batch_execute_statement(Sqls=["SELECT 1"], **TARGET, WaitTimeSeconds=30)
            assert listed["Status"] == "FINISHED"
    finally:
        server.stop()


def test_http_unknown_operation_and_bad_json(emulator: DataApiEmulator) -> None:
    status, headers, body = emulator.handle_json("RedshiftData.DropEverything", b"{}")
    assert status == 400 and headers["x-amzn-ErrorType"] == "UnknownOperationException"
    status, headers, body = emulator.handle_json("RedshiftData.DescribeStatement", b"{not json")
    assert status == 400 and headers["x-amzn-ErrorType"] == "SerializationException"


def test_http_command_serves_the_emulator(tmp_path: Any) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shiftflow.dataapi.http", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = banner.split("AWS_ENDPOINT_URL_REDSHIFT_DATA=")[1].rstrip(")\n")
        client = boto3.client("redshift-data", region_name="us-east-1", endpoint_url=url)
        submitted = client.execute_statement(Sql="CREATE TABLE kept (a INT)", **TARGET, WaitTimeSeconds=30)
        assert submitted["Status"] == "FINISHED"
        assert (tmp_path / "dev.duckdb").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_step_functions_aws_sdk_tasks_reach_the_emulator(emulator: DataApiEmulator) -> None:
    import json

    from shiftflow.local.moto_gaps import activate, wait_for_execution

    definition = {"StartAt": "Run", "States": {
        "Run": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement",
                "Parameters": {**TARGET, "Sqls": ["CREATE TABLE x (a INT)", "INSERT INTO x VALUES (1)"],
                               "WaitTimeSeconds": 30},
                "Next": "Describe"},
        "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:redshiftdata:describeStatement",
                     "Parameters": {"Id.$": "$.Id", "WaitTimeSeconds": 30}, "End": True}}}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), activate(time_scale=0.001), \
            route_in_process(emulator):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(name="run-sql", definition=json.dumps(definition),
                                           roleArn="arn:aws:iam::123456789012:role/states")["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        wait_for_execution(execution, timeout=60)
        described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["Status"] == "FINISHED" and [s["ResultRows"] for s in output["SubStatements"]] == [0, 1]
