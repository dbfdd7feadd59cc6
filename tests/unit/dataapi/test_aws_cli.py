"""The real AWS CLI against the emulator's endpoint, as an outsider drives it (AWS_ENDPOINT_URL, dummy credentials):
what it prints and its exit codes are the service's, and the emulator refuses what the service refuses.

Each check is one CLI process (about half a second each): they are grouped by what they need.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.http import DataApiServer, start_server
from tests.conftest import aws_cli
from tests.unit.dataapi.conftest import TARGET, make_emulator

CLI_TARGET = ("--cluster-identifier", TARGET["ClusterIdentifier"], "--database", TARGET["Database"],
              "--db-user", TARGET["DbUser"])
SERVICE_ERROR = 255  # the AWS CLI version 1's exit code for an error the service returned (version 2: 254)


@pytest.fixture(scope="module")
def server() -> Iterator[DataApiServer]:
    with make_emulator() as emulator:
        server = start_server(emulator)
        yield server
        server.stop()


@pytest.fixture(scope="module")
def data_api(server: DataApiServer) -> Any:
    return boto3.client("redshift-data", region_name="us-east-1", endpoint_url=server.url)


def cli(server: DataApiServer, *args: str) -> tuple[int, str]:
    done = aws_cli(server.url, "redshift-data", *args)
    return done.returncode, done.stdout + done.stderr


def test_unused_parameters_are_refused_before_anything_runs(server: DataApiServer, data_api: Any):
    """The service answers ValidationException "Parameters list contains unused parameters. Unused parameters:
    [id]" (aws-samples/getting-started-with-amazon-redshift-data-api issue 4): a placeholder inside a string or a
    comment is no placeholder, and a batch's parameters may be used by any of its statements."""
    code, output = cli(server, "execute-statement", *CLI_TARGET, "--sql", "select ':id' as x -- :other",
                       "--parameters", "name=id,value=1", "name=other,value=2")
    assert code == SERVICE_ERROR
    assert output.strip() == ("An error occurred (ValidationException) when calling the ExecuteStatement operation: "
                              "Parameters list contains unused parameters. Unused parameters: [id, other]")
    assert data_api.list_statements(Status="ALL")["Statements"] == []  # refused, not run

    code, output = cli(server, "batch-execute-statement", *CLI_TARGET, "--sqls", "select :a::int as a",
                       "select :b::int as b", "--parameters", "name=a,value=1", "name=b,value=2", "--query", "Id",
                       "--output", "text")
    assert code == 0, output
    described = data_api.describe_statement(Id=output.strip(), WaitTimeSeconds=30)
    assert described["Status"] == "FINISHED", described


def test_list_statements_refuses_a_cluster_and_a_workgroup_together(server: DataApiServer):
    """ListStatements' ClusterIdentifier: "When providing ClusterIdentifier, then WorkgroupName can't be specified"
    (Data API reference, ListStatements)."""
    code, output = cli(server, "list-statements", "--cluster-identifier", "local-cluster", "--workgroup-name",
                       "local-workgroup")
    assert code == SERVICE_ERROR
    assert "(ValidationException) when calling the ListStatements operation: ClusterIdentifier and WorkgroupName " \
           "cannot both be specified." in output


def test_timestamps_are_epoch_seconds_to_the_millisecond(server: DataApiServer):
    """The service sends its timestamps to the millisecond: the AWS CLI version 1 prints them as it got them
    (the management guide's examples: "CreatedAt": 1598306924.632)."""
    code, output = cli(server, "execute-statement", *CLI_TARGET, "--sql", "select 1", "--wait-time-seconds", "10")
    assert code == 0, output
    submitted = json.loads(output)
    code, output = cli(server, "describe-statement", "--id", submitted["Id"])
    assert code == 0, output
    described = json.loads(output)
    for value in (submitted["CreatedAt"], described["CreatedAt"], described["UpdatedAt"]):
        assert isinstance(value, float) and round(value, 3) == value, value
    assert re.search(r'"CreatedAt": \d+(\.\d{1,3})?,', output), output


def test_a_row_over_64_kb_fails_the_statement(server: DataApiServer, data_api: Any):
    """"The Data API size limit is 64 KB per row in the result set returned by the database" (management guide,
    Troubleshooting issues for Amazon Redshift Data API, "Packet for query is too large"); 64 KB exactly passes."""
    fits = data_api.execute_statement(Sql="select repeat('x', 65536) as x", **TARGET, WaitTimeSeconds=30)
    assert data_api.describe_statement(Id=fits["Id"])["Status"] == "FINISHED"
    over = data_api.execute_statement(Sql="select repeat('x', 65530) as x, 'seven b' as y", **TARGET,
                                      WaitTimeSeconds=30)
    code, output = cli(server, "describe-statement", "--id", over["Id"], "--query", "[Status, Error]",
                       "--output", "text")
    assert code == 0, output
    assert output.strip() == ("FAILED\tPacket for query is too large: row 1 of the result has 65537 bytes; the Data "
                              "API returns at most 65536 bytes per row")


def test_describe_table_without_schema_or_table_and_the_emulators_own_schemas_unlisted(
        server: DataApiServer, data_api: Any):
    """DescribeTable: without Schema "matching tables for all schemas are returned", without Table "all tables for
    all matching schemas" (Data API reference, DescribeTable). The emulator's own schemas (shiftflow_*) and DuckDB's
    main are not Redshift's: ListSchemas, ListTables and DescribeTable do not show them."""
    batch = data_api.batch_execute_statement(Sqls=[
        "create schema if not exists cli_a", "create schema if not exists cli_b", "create schema shiftflow_own",
        "create table cli_a.orders (id int)", "create table cli_b.orders (total int, note varchar)",
        "create table shiftflow_own.orders (hidden int)", "create table main.leaked (hidden int)"],
        **TARGET, WaitTimeSeconds=30)
    assert data_api.describe_statement(Id=batch["Id"])["Status"] == "FINISHED"

    code, output = cli(server, "describe-table", *CLI_TARGET, "--table", "orders", "--query",
                       "ColumnList[].[schemaName, tableName, name]", "--output", "text")
    assert code == 0, output
    assert output.split("\n")[:-1] == ["cli_a\torders\tid", "cli_b\torders\ttotal", "cli_b\torders\tnote"]
    code, output = cli(server, "describe-table", *CLI_TARGET, "--schema", "cli_b", "--output", "json")
    assert code == 0, output
    described = json.loads(output)
    assert [column["name"] for column in described["ColumnList"]] == ["total", "note"]
    assert described.get("TableName") is None  # no table named (the CLI's paginator prints it as null)

    schemas = data_api.list_schemas(**TARGET)["Schemas"]
    assert {"cli_a", "cli_b", "public"} <= set(schemas) and "main" not in schemas
    assert not [schema for schema in schemas if schema.startswith("shiftflow_")]
    tables = data_api.list_tables(**TARGET)["Tables"]
    assert not [table for table in tables if table["schema"] in ("main", "shiftflow_own")]


def test_a_result_over_500_mb_fails_the_statement(server: DataApiServer, data_api: Any,
                                                  monkeypatch: pytest.MonkeyPatch):
    """"The Data API limit is 500 MB in the result set returned by the database" (the same Troubleshooting page,
    "Database response exceeded size limit"): measured as the rows' text, here with the limit made 1,000 bytes."""
    monkeypatch.setattr(st, "MAX_RESULT_BYTES", 1000)
    fits = data_api.execute_statement(Sql="select 'xxxxxxxxxx' as x from range(100)", **TARGET, WaitTimeSeconds=30)
    assert data_api.describe_statement(Id=fits["Id"])["Status"] == "FINISHED"  # 1,000 bytes exactly
    over = data_api.execute_statement(Sql="select 'xxxxxxxxxx' as x from range(101)", **TARGET, WaitTimeSeconds=30)
    described = data_api.describe_statement(Id=over["Id"])
    assert (described["Status"], described["Error"]) == (
        "FAILED", "Database response exceeded size limit: the result has 1010 bytes; the Data API returns at most "
                  "1000 bytes")


def test_a_cluster_or_workgroup_that_does_not_exist_is_refused():
    """The local runtime's emulator knows the template's warehouse; the service answers a cluster it does not have
    with "Redshift endpoint doesn't exist in this region." (as reported in aws/aws-cdk issue 30536), before any
    statement exists."""
    with make_emulator(warehouses={"ClusterIdentifier": {"local-cluster"}, "WorkgroupName": set()}) as emulator:
        server = start_server(emulator)
        try:
            code, output = cli(server, "execute-statement", "--cluster-identifier", "other-cluster", "--database",
                               "dev", "--sql", "select 1")
            assert code == SERVICE_ERROR
            assert output.strip() == ("An error occurred (ValidationException) when calling the ExecuteStatement "
                                      "operation: Redshift endpoint doesn't exist in this region.")
            code, output = cli(server, "list-tables", "--workgroup-name", "some-workgroup", "--database", "dev")
            assert code == SERVICE_ERROR and "Redshift endpoint doesn't exist in this region." in output
            code, output = cli(server, "execute-statement", *CLI_TARGET, "--sql", "select 1", "--query", "Id")
            assert code == 0, output
            assert [s["Id"] for s in emulator.list_statements({"Status": "ALL"})["Statements"]] == [
                json.loads(output)]
        finally:
            server.stop()


def test_a_result_kept_on_disk_pages_through_the_cli_as_before_and_after_a_restart(tmp_path: Any):
    """With the statements kept in a folder (the local cloud's), a result's rows are read from disk page by page:
    the AWS CLI pages through GetStatementResult (its NextToken, or --max-items and --starting-token) to every row,
    also from a new emulator over the same folder (as after a restart of the cloud)."""
    folder = tmp_path / "statements"

    def read(server: DataApiServer, statement_id: str) -> tuple[list[int], list[int], list[int]]:
        code, output = cli(server, "get-statement-result", "--id", statement_id, "--output", "json")
        assert code == 0, output
        whole = [record[0]["longValue"] for record in json.loads(output)["Records"]]
        code, output = cli(server, "get-statement-result", "--id", statement_id, "--max-items", "7",
                           "--output", "json")
        assert code == 0, output
        first = json.loads(output)
        code, output = cli(server, "get-statement-result", "--id", statement_id, "--starting-token",
                           first["NextToken"], "--output", "json")
        assert code == 0, output
        return whole, [r[0]["longValue"] for r in first["Records"]], [r[0]["longValue"]
                                                                      for r in json.loads(output)["Records"]]

    answers = []
    for restarted in (False, True):
        emulator = make_emulator()
        emulator.keep_statements_on_disk(folder)
        server = start_server(emulator)
        try:
            if not restarted:
                batch = emulator.call("BatchExecuteStatement", {**TARGET, "WaitTimeSeconds": 30, "Sqls": [
                    "create table paged as select range as n from range(23)", "select n from paged order by n"]})
                statement_id = f"{batch['Id']}:2"
            answers.append(read(server, statement_id))
        finally:
            server.stop()
            emulator.close()
    assert answers[0] == (list(range(23)), list(range(7)), list(range(7, 23)))
    assert answers[1] == answers[0]
