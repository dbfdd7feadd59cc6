"""System tables, pg_last_* and session state through a real boto3 client, the real translator and both engines:
the system tables ELT scripts read to check themselves answer from what the emulator knows; the others fail as not
supported locally."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.unit.dataapi.conftest import TARGET, rows, run, run_batch

BUCKET = "loads"


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


_databases = iter(range(1_000_000))


@pytest.fixture(params=["duckdb", "postgres"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A boto3 client on an emulator with the real translator and a moto S3 bucket; a fresh database per test."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        if request.param == "duckdb":
            emulator, shared = DataApiEmulator(DuckDBEngine(), s3_client=s3), False
        else:
            emulator, shared = DataApiEmulator(request.getfixturevalue("postgres_engine"), s3_client=s3), True
        database = f"sys_{next(_databases)}"
        with route_in_process(emulator):
            client = boto3.client("redshift-data", region_name="us-east-1")
            yield _Client(client, s3, database, request.param)
        emulator.close(close_engine=not shared)


class _Client:
    def __init__(self, client: Any, s3: Any, database: str, engine: str = "duckdb") -> None:
        self._client, self.s3, self.database, self.engine = client, s3, database, engine

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in ("execute_statement", "batch_execute_statement"):
            return method
        return lambda **kw: method(**{**kw, "Database": self.database})

    def start_session(self, sql: str) -> dict[str, Any]:
        """A statement that keeps its session alive: DescribeStatement of it, with its SessionId."""
        submitted = self.execute_statement(Sql=sql, **TARGET, SessionKeepAliveSeconds=60, WaitTimeSeconds=30)
        return {**self.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30), "SessionId": submitted["SessionId"]}

    def in_session(self, session_id: str, sql: str) -> list[list[Any]]:
        """The rows of `sql` run in the session `session_id`."""
        submitted = self._client.execute_statement(Sql=sql, SessionId=session_id, WaitTimeSeconds=30)
        described = self.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
        assert described["Status"] == "FINISHED", described.get("Error")
        return rows(self, submitted["Id"])


def ok(client: Any, sql: str) -> dict[str, Any]:
    described = run(client, sql)
    assert described["Status"] == "FINISHED", described.get("Error")
    return described


def batch(client: Any, sqls: list[str]) -> dict[str, Any]:
    described = run_batch(client, sqls)
    assert described["Status"] == "FINISHED", described.get("Error")
    return described


def last_rows(client: Any, described: dict[str, Any]) -> list[list[Any]]:
    return rows(client, described["SubStatements"][-1]["Id"])


def test_pg_last_query_id_is_the_sessions_previous_query(client):
    # A lone call is a new session: "If no queries have been run in the current session ... returns -1".
    described = ok(client, "select pg_last_query_id()")
    assert rows(client, described["Id"]) == [[-1]]
    described = batch(client, ["select 1", "select pg_last_query_id()"])
    first = described["SubStatements"][0]["RedshiftQueryId"]
    assert first > 0 and last_rows(client, described) == [[first]]


def test_a_kept_session_remembers_its_last_query(client):
    first = client.start_session("select 1")
    assert client.in_session(first["SessionId"], "select pg_last_query_id()") == [[first["RedshiftQueryId"]]]


def test_pg_last_copy_count_and_id_after_a_copy(client):
    client.s3.put_object(Bucket=BUCKET, Key="good/part1.txt", Body=b"1|a\n2|b\n3|c\n")
    described = batch(client, [
        "create table loaded (id int, name varchar(10))",
        f"copy loaded from 's3://{BUCKET}/good/' iam_role default",
        "select pg_last_copy_count(), pg_last_copy_id()",
    ])
    copy_id = described["SubStatements"][1]["RedshiftQueryId"]
    assert last_rows(client, described) == [[3, copy_id]]
    assert rows(client, ok(client, "select pg_last_copy_count(), pg_last_copy_id()")["Id"]) == [[0, -1]]


def test_stl_load_errors_shows_the_record_a_copy_stopped_at(client):
    client.s3.put_object(Bucket=BUCKET, Key="bad/venue_pipe.txt", Body=b"1|a\n2\n")
    ok(client, "create table venue (id int, name varchar(10))")
    failed = client.start_session(f"copy venue from 's3://{BUCKET}/bad/' iam_role default")
    assert failed["Status"] == "FAILED"
    # The query the reference shows for the last load of the session (r_STL_LOAD_ERRORS.md).
    found = client.in_session(failed["SessionId"], "select query, trim(filename) as filename, line_number, "
                              "trim(err_reason) as reason from stl_load_errors where query = pg_last_copy_id()")
    assert found == [[failed["RedshiftQueryId"], f"s3://{BUCKET}/bad/venue_pipe.txt", 2, "Delimiter not found"]]
    # Other sessions see the error too (a system table), by the table's load history.
    other = ok(client, "select count(*) from stl_load_errors where err_reason = 'Delimiter not found'")
    assert rows(client, other["Id"]) == [[1]]


def test_a_value_the_engine_refuses_is_a_load_error_with_an_unknown_line(client):
    client.s3.put_object(Bucket=BUCKET, Key="types/part.txt", Body=b"1|a\nnot a number|b\n")
    ok(client, "create table typed (id int, name varchar(10))")
    assert run(client, f"copy typed from 's3://{BUCKET}/types/' iam_role default")["Status"] == "FAILED"
    found = ok(client, "select line_number, filename from stl_load_errors")
    assert rows(client, found["Id"]) == [[-1, f"s3://{BUCKET}/types/part.txt"]]


def test_sys_query_history_lists_the_emulators_statements(client):
    done = ok(client, "select 42 as answer")
    failed = run(client, "select * from no_such_table")
    history = ok(client, "select query_id, status, query_type, returned_rows, trim(query_text) as query_text, "
                         "error_message is not null as has_error, elapsed_time >= 0, end_time >= start_time "
                         "from sys_query_history where query_id in "
                         f"({done['RedshiftQueryId']}, {failed['RedshiftQueryId']}) order by query_id")
    assert rows(client, history["Id"]) == [
        [done["RedshiftQueryId"], "success", "SELECT", 1, "select 42 as answer", False, True, True],
        [failed["RedshiftQueryId"], "failed", "SELECT", 0, "select * from no_such_table", True, True, True],
    ]
    running = ok(client, "select status from sys_query_history where query_text like 'select status from%'")
    assert rows(client, running["Id"]) == [["running"]]  # the query reading the view is running


def test_svv_table_info_lists_non_empty_user_tables_with_their_rows(client):
    batch(client, ["create table sales (id int)", "insert into sales values (1), (2), (3)",
                   "create table empty_one (id int)"])
    described = ok(client, 'select "schema", "table", tbl_rows, estimated_visible_rows, table_id > 0 '
                           "from svv_table_info order by 1")
    assert rows(client, described["Id"]) == [["public", "sales", 3, 3, True]]


def test_pg_table_def_through_the_data_api(client):
    # r_PG_TABLE_DEF.md's columns the emulator keeps, for a table a batch made (DbUser awsuser)
    batch(client, ["create table lineorder (lo_orderkey integer not null, lo_note varchar(30), lo_price numeric(8,2))"])
    described = ok(client, 'select "column", type, "notnull" from pg_table_def where tablename = \'lineorder\'')
    assert rows(client, described["Id"]) == [
        ["lo_orderkey", "integer", True], ["lo_note", "character varying(30)", False],
        ["lo_price", "numeric(8,2)", False]]


def test_pg_user_names_the_requests_db_user_on_duckdb(client):
    described = run(client, "select usename, usesysid from pg_user order by usesysid")
    if client.engine == "postgres":
        assert described["Status"] == "FAILED" and "system table pg_user on the postgres engine" in described["Error"]
    else:
        assert rows(client, described["Id"]) == [["rdsdb", 1], [TARGET["DbUser"], 100]]


@pytest.mark.parametrize(("sql", "message"), [
    ("select * from stl_query", "not supported locally: system table stl_query"),
    ("select count(*) from pg_catalog.stv_recents", "not supported locally: system table stv_recents"),
    ("select tbl, count(*) from stv_blocklist group by tbl", "not supported locally: system table stv_blocklist"),
    ("select query, elapsed, substring from svl_qlog order by query desc limit 5",
     "not supported locally: system table svl_qlog"),
    ("select * from pg_class_info", "not supported locally: system table pg_class_info"),
    ("select distinct tablename from pg_table_def where distkey",
     "not supported locally: pg_table_def without a filter on a user table"),
    ("select slice from stl_load_errors", "not supported locally: stl_load_errors.slice"),
    ("select * from stl_load_errors", "not supported locally: SELECT * from stl_load_errors"),
    ("select skew_rows from svv_table_info", "not supported locally: svv_table_info.skew_rows"),
])
def test_other_system_tables_are_not_supported_locally(client, sql, message):
    described = run(client, sql)
    assert described["Status"] == "FAILED" and described["Error"].startswith(message)


def test_a_user_table_named_like_a_system_prefix_is_the_users(client):
    batch(client, ["create table sys_config (k varchar(10))", "insert into sys_config values ('x')"])
    assert rows(client, ok(client, "select k from sys_config")["Id"]) == [["x"]]


# ---- session state and statements the emulator runs itself, through the Data API ------------------------------

def test_a_setting_lasts_for_its_session_only(client):
    # Each call without a SessionId is its own Redshift session: a SET does not reach the next call.
    described = batch(client, ["set query_group to 'nightly'", "show query_group"])
    assert last_rows(client, described) == [["nightly"]]
    assert rows(client, ok(client, "show query_group")["Id"]) == [["unset"]]
    session = client.start_session("set wlm_query_slot_count to 3")
    assert client.in_session(session["SessionId"], "show wlm_query_slot_count") == [["3"]]


def test_a_syntax_error_is_reported_with_its_position(client):
    described = run(client, "selec 1")
    assert described["Status"] == "FAILED"
    assert described["Error"] == 'syntax error at or near "selec"\n  Position: 1'


def test_alter_table_append_runs_alone_and_not_in_a_transaction_block(client):
    batch(client, ["create table sales (id int)", "create table sales_monthly (id int)",
                   "insert into sales_monthly values (1), (2)"])
    ok(client, "alter table sales append from sales_monthly")
    assert rows(client, ok(client, "select (select count(*) from sales_monthly), count(*) from sales")["Id"]) == [
        [0, 2]]
    failed = run_batch(client, ["insert into sales_monthly values (3)",
                                "alter table sales append from sales_monthly"])
    assert failed["Status"] == "FAILED" and "cannot run inside a transaction block" in failed["Error"]


def test_pg_backend_pid_is_the_sessions_redshift_pid(client):
    # PG_BACKEND_PID.md: "correlate PG_BACKEND_PID with log tables to retrieve information for the current session".
    described = ok(client, "select pg_backend_pid()")
    assert rows(client, described["Id"]) == [[described["RedshiftPid"]]]
    history = ok(client, "select count(*) from sys_query_history where session_id = pg_backend_pid()"
                         " and query_text like 'select count(*) from sys_query_history%'")
    assert rows(client, history["Id"]) == [[1]]
    result = client.get_statement_result(Id=described["Id"])
    assert [c["name"] for c in result["ColumnMetadata"]] == ["pg_backend_pid"]
    assert result["ColumnMetadata"][0]["typeName"] == "int4"
