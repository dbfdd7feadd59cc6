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


@pytest.mark.parametrize("engine_name", ["duckdb", "postgres"])
def test_execute_on_one_overload_of_a_procedure_and_the_iam_user(engine_name: str):
    """What a user runs with the AWS CLI, no DbUser: the SQL runs as the caller's IAM identity's user (ExecuteStatement:
    "The database user name is derived from the IAM identity"; the local endpoint's callers are the administrator,
    IAM:local); GRANT EXECUTE ON PROCEDURE name(argument types) grants that overload only (r_GRANT.md: "Because stored
    procedure names can be overloaded, you must include the argument list")."""
    from shiftflow.dataapi import translate
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = DuckDBEngine() if engine_name == "duckdb" else PostgresEngine()
    target = ("--workgroup-name", "local-wg", "--database", "dev")
    with make_emulator(engine=engine, translator=translate) as emulator:
        server = start_server(emulator)
        try:
            def batch(*sqls: str) -> dict[str, Any]:
                code, output = cli(server, "batch-execute-statement", *target, "--sqls", *sqls, "--query", "Id",
                                   "--output", "text")
                assert code == 0, output
                code, output = cli(server, "describe-statement", "--id", output.strip())
                assert code == 0, output
                described = json.loads(output)
                while described["Status"] not in ("FINISHED", "FAILED", "ABORTED"):
                    described = emulator.describe_statement({"Id": described["Id"], "WaitTimeSeconds": 10})
                return described

            created = batch("create user h16_user2 password 'Abcd1234'",
                            "create procedure sp_overloaded(a int, b varchar) as $$ begin raise info 'two'; end; $$"
                            " language plpgsql",
                            "create procedure sp_overloaded(a varchar) as $$ begin raise info 'one'; end; $$"
                            " language plpgsql",
                            "grant execute on procedure sp_overloaded(int, varchar) to h16_user2")
            assert created["Status"] == "FINISHED", created.get("Error")
            called = batch("set session authorization h16_user2", "call sp_overloaded(1, 'x')",
                           "call sp_overloaded('x')")
            assert called["Status"] == "FAILED"
            assert [sub["Status"] for sub in called["SubStatements"]] == ["FINISHED", "FINISHED", "FAILED"]
            assert "permission denied for procedure sp_overloaded" in called["Error"]
            refused = batch("grant execute on procedure sp_overloaded to h16_user2")
            assert refused["Status"] == "FAILED" and 'syntax error at or near "to"' in refused["Error"]

            code, output = cli(server, "execute-statement", *target, "--sql", "select current_user, session_user",
                               "--wait-time-seconds", "10", "--query", "Id", "--output", "text")
            assert code == 0, output
            code, output = cli(server, "get-statement-result", "--id", output.strip(), "--query",
                               "Records[][].stringValue", "--output", "text")
            assert code == 0, output
            assert output.split() == ["IAM:local", "IAM:local"]
        finally:
            server.stop()


def test_a_procedures_dynamic_sql_runs_no_program_on_postgres(tmp_path):
    """What a user runs with the AWS CLI: a procedure whose EXECUTE asks PostgreSQL to run a program (dynamic SQL,
    c_PLpgSQL-statements.md "Executing dynamic commands", reaches the engine untranslated) fails with PostgreSQL's
    permission error and the program does not run: the PostgreSQL engine's sessions are no superuser's
    (engines/postgres.py)."""
    from shiftflow.dataapi import translate
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    marker = tmp_path / "h17_ran"
    with make_emulator(engine=PostgresEngine(), translator=translate) as emulator:
        server = start_server(emulator)
        try:
            code, output = cli(server, "batch-execute-statement", *CLI_TARGET, "--query", "Id", "--output", "text",
                               "--sqls", "create table h17_t (a int)",
                               "create procedure sp_h17_program() as $$ begin"
                               f" execute 'copy h17_t from program ''touch {marker}'''; end; $$ language plpgsql",
                               "call sp_h17_program()")
            assert code == 0, output
            described = emulator.describe_statement({"Id": output.strip(), "WaitTimeSeconds": 20})
            assert described["Status"] == "FAILED"
            assert [sub["Status"] for sub in described["SubStatements"]] == ["FINISHED", "FINISHED", "FAILED"]
            code, output = cli(server, "describe-statement", "--id", described["Id"], "--query", "Error",
                               "--output", "text")
            assert code == 0, output
            assert "permission denied to COPY to or from an external program" in output
            assert not marker.exists()
        finally:
            server.stop()


def _cli_result(server: DataApiServer, sql: str) -> dict[str, Any]:
    """execute-statement (waiting for it), then get-statement-result, as printed."""
    code, output = cli(server, "execute-statement", *CLI_TARGET, "--wait-time-seconds", "20", "--sql", sql)
    assert code == 0, output
    code, output = cli(server, "get-statement-result", "--id", json.loads(output)["Id"])
    assert code == 0, output
    return json.loads(output)


def test_redshift_functions_and_the_refresh_history_as_the_aws_cli_prints_them():
    """What a user runs with the AWS CLI against a Data API endpoint of the emulator's own translator: the functions
    of crc32-function.md, MURMUR3_32_HASH.md, JSON_SERIALIZE.md, get_array_length.md and SOUNDEX.md print their
    pages' values, and SYS_MV_REFRESH_HISTORY.md's example query names its twelve columns in its order."""
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine

    history = ("user_id, session_id, transaction_id, database_name, schema_name, mv_id, mv_name, refresh_type,"
               " status, start_time, end_time, duration")
    with make_emulator(engine=DuckDBEngine(), translator=None) as emulator:
        server = start_server(emulator)
        try:
            result = _cli_result(server, "select crc32('Amazon Redshift'), murmur3_32_hash('Amazon Redshift'),"
                                         " json_serialize(json_parse('[10001,10002,\"abc\"]')),"
                                         " get_array_length(array(1,2,3,4,5,6,7,8,9,10)), soundex('Amazon')")
            assert [c["name"] for c in result["ColumnMetadata"]] == [
                "crc32", "murmur3_32_hash", "json_serialize", "get_array_length", "soundex"]
            assert result["Records"] == [[{"stringValue": "f2726906"}, {"longValue": -1563580564},
                                          {"stringValue": '[10001,10002,"abc"]'}, {"longValue": 10},
                                          {"stringValue": "A525"}]]

            code, output = cli(server, "batch-execute-statement", *CLI_TARGET, "--wait-time-seconds", "20", "--sqls",
                               "create table sales (amount int)", "insert into sales values (5)",
                               "create materialized view totals as select sum(amount) as total from sales",
                               "refresh materialized view totals")
            assert code == 0, output
            result = _cli_result(server, f"SELECT {history} from sys_mv_refresh_history")
            assert [c["name"] for c in result["ColumnMetadata"]] == history.split(", ")
            [row] = result["Records"]
            assert [next(iter(value.values())) for value in row[3:5] + row[6:9]] == [
                TARGET["Database"], "public", "totals", "Manual", "Refresh successfully recomputed MV from scratch"]
        finally:
            server.stop()


def test_intervals_and_an_engines_function_as_the_aws_cli_prints_them():
    """Intervals print as Redshift prints them (r_interval_data_types.md: '1 day 01:01:00'), not as Python's
    `1 day, 1:01:00`; DuckDB's list_value fails as on Redshift, and a PRAGMA is Redshift's syntax error."""
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine

    with make_emulator(engine=DuckDBEngine(), translator=None) as emulator:
        server = start_server(emulator)
        try:
            result = _cli_result(server, "select interval '1 day 1 hour 1 minute' as i,"
                                         " '2008-12-31 03:35:00'::timestamp - '2008-12-31'::timestamp as d")
            assert [c["typeName"] for c in result["ColumnMetadata"]] == ["interval", "interval"]
            assert result["Records"] == [[{"stringValue": "1 day 01:01:00"}, {"stringValue": "03:35:00"}]]
            for sql, message in (("select list_value(1, 2)", "function list_value(integer, integer) does not exist"),
                                 ("pragma version", 'syntax error at or near "pragma"')):
                code, output = cli(server, "execute-statement", *CLI_TARGET, "--wait-time-seconds", "20",
                                   "--sql", sql)
                assert code == 0, output
                code, output = cli(server, "describe-statement", "--id", json.loads(output)["Id"])
                described = json.loads(output)
                assert (described["Status"], described["Error"].splitlines()[0]) == ("FAILED", message)
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
