"""Streaming ingestion against a real local cloud process (started by the test, stopped at teardown): Kinesis records
put with boto3 and with the AWS CLI on the cloud's endpoint, then CREATE EXTERNAL SCHEMA ... FROM KINESIS, a streaming
view and REFRESH through redshift-data on the same endpoint; and `shiftflow demo stream` as a command of that cloud,
run twice (the rerun gives the same tables)."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from shiftflow.cli.stream_demo import change_records
from tests.conftest import aws_cli
from tests.integration.test_local_cloud import Cloud, cloud  # noqa: F401  (the fixture)

TARGET = {"ClusterIdentifier": "shiftflow-local", "Database": "dev", "DbUser": "shiftflow"}


def _statement(data_api: Any, sql: str, session: dict[str, str]) -> dict[str, Any]:
    """One statement in the test's Data API session (settings last it); the finished description."""
    submitted = data_api.execute_statement(Sql=sql, **(session or {**TARGET, "SessionKeepAliveSeconds": 300}))
    session.setdefault("SessionId", submitted["SessionId"])
    while True:
        described = data_api.describe_statement(Id=submitted["Id"], WaitTimeSeconds=20)
        if described["Status"] in {"FINISHED", "FAILED", "ABORTED"}:
            assert described["Status"] == "FINISHED", (sql, described.get("Error"))
            return described


def _rows(data_api: Any, sql: str, session: dict[str, str]) -> list[list[Any]]:
    described = _statement(data_api, sql, session)
    records = data_api.get_statement_result(Id=described["Id"])["Records"]
    return [[None if value.get("isNull") else next(iter(value.values())) for value in record] for record in records]


def _aws_cli(cloud: Cloud, *args: str) -> dict[str, Any]:
    """The AWS CLI on the cloud's endpoint; --data as the record's text."""
    done = aws_cli(cloud.endpoint().url, "--output", "json", *args, binary_as_text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_kinesis_records_put_with_boto3_and_the_aws_cli_load_through_redshift_data(cloud: Cloud):
    cloud.shiftflow("endpoint")  # starts the cloud
    kinesis, data_api = cloud.boto3_client("kinesis"), cloud.boto3_client("redshift-data")
    kinesis.create_stream(StreamName="Clicks-Stream", ShardCount=2)
    put = [kinesis.put_record(StreamName="Clicks-Stream", Data=json.dumps({"Page": f"/p{n}", "n": n}).encode(),
                              PartitionKey=f"user{n}") for n in range(3)]
    put.append(_aws_cli(cloud, "kinesis", "put-record", "--stream-name", "Clicks-Stream", "--partition-key", "cli",
                        "--data", '{"Page": "/cli", "n": 3}'))
    put.append(_aws_cli(cloud, "kinesis", "put-record", "--stream-name", "Clicks-Stream", "--partition-key", "bad",
                        "--data", '{"Page": '))  # invalid JSON

    session: dict[str, str] = {}
    _statement(data_api, "CREATE EXTERNAL SCHEMA clicks FROM KINESIS IAM_ROLE default", session)
    _statement(data_api, "SET enable_case_sensitive_identifier TO true", session)
    _statement(data_api, 'CREATE MATERIALIZED VIEW clicks_mv AS SELECT approximate_arrival_timestamp, partition_key,'
                         ' shard_id, sequence_number, JSON_PARSE(kinesis_data) AS payload'
                         ' FROM clicks."Clicks-Stream"', session)
    _statement(data_api, "REFRESH MATERIALIZED VIEW clicks_mv", session)
    loaded = _rows(data_api, 'SELECT partition_key, shard_id, sequence_number, payload."Page"::VARCHAR,'
                             ' payload.n::INT FROM clicks_mv ORDER BY 5', session)
    assert [row[3:] for row in loaded] == [["/p0", 0], ["/p1", 1], ["/p2", 2], ["/cli", 3]]
    assert sorted((row[1].strip(), row[2]) for row in loaded) == sorted(
        (p["ShardId"], p["SequenceNumber"]) for p in put[:4])
    # The invalid record is skipped and logged with its shard and sequence number; the rest loaded once.
    errors = _rows(data_api, 'SELECT stream_name, partition_id, "position", error_code FROM sys_stream_scan_errors',
                   session)
    assert errors == [["Clicks-Stream", put[4]["ShardId"], put[4]["SequenceNumber"], 2]]

    later = _aws_cli(cloud, "kinesis", "put-record", "--stream-name", "Clicks-Stream", "--partition-key", "late",
                     "--data", '{"Page": "/late", "n": 4}')
    _statement(data_api, "REFRESH MATERIALIZED VIEW clicks_mv", session)
    assert _rows(data_api, "SELECT count(*), max(sequence_number) FILTER (WHERE partition_key = 'late')"
                           " FROM clicks_mv", session) == [[5, later["SequenceNumber"]]]
    history = _rows(data_api, "SELECT status FROM sys_mv_refresh_history ORDER BY start_time", session)
    assert history == [["Some stream records were skipped"], ["Refresh successfully updated MV incrementally"]]


def _cycles(output: str) -> list[tuple[int, int, int, int]]:
    """(read, loaded, set aside, orders) of each cycle line the demo printed."""
    return [tuple(int(n) for n in match) for match in re.findall(
        r"cycle \d+: SUCCEEDED, read (\d+), loaded (\d+), set aside (\d+), orders (\d+)", output)]


def test_demo_stream_runs_against_the_local_cloud_and_a_rerun_gives_the_same_tables(cloud: Cloud):
    records = 60
    code, output = cloud.shiftflow("demo", "stream", "--cycles", "3", "--records", str(records), timeout=300)
    assert code == 0, output
    assert cloud.endpoint().pid != os.getpid()  # served by the cloud process, which stays up after the command
    first = _cycles(output)
    assert len(first) == 3, output
    produced = change_records(records)
    invalid = sum(1 for _, value in produced if isinstance(value, str))
    assert sum(c[0] for c in first) == records  # every record read once: loaded or set aside
    assert sum(c[1] for c in first) == records - invalid and sum(c[2] for c in first) == invalid
    assert "orders_stream cycles" in output and "freshness" in output

    data_api, session = cloud.boto3_client("redshift-data"), {}
    tables = "SELECT order_id, order_status, customer_id FROM orders_current ORDER BY 1"
    before = _rows(data_api, tables, session)
    expected_orders = _expected_orders(produced)
    assert [int(row[0]) for row in before] == sorted(expected_orders)

    code, output = cloud.shiftflow("demo", "stream", "--cycles", "3", "--records", str(records), timeout=300)
    assert code == 0, output
    assert sum(c[0] for c in _cycles(output)) == records
    assert _rows(data_api, tables, {}) == before


def _expected_orders(produced: list[tuple[str | None, object]]) -> set[int]:
    """The orders left after the changes in order: inserted, not removed since."""
    alive: set[int] = set()
    for _, value in produced:
        if isinstance(value, dict):
            order_id = int(value["dynamodb"]["Keys"]["OrderID"]["N"])
            if value["eventName"] == "REMOVE":
                alive.discard(order_id)
            else:
                alive.add(order_id)
    return alive


@pytest.fixture(autouse=True)
def _cloud_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests' commands are clients of the cloud (the integration conftest makes them in-process)."""
    monkeypatch.delenv("SHIFTFLOW_LOCAL_MODE", raising=False)


