"""The Data API contract through a real boto3 client, in-process and over HTTP: shapes, batches, options, errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shiftflow.local.cloud.client import wait_until
from tests.unit.dataapi.conftest import PAGE_ROWS, TARGET, assert_shape, rows, run, run_batch

ALL_TYPES = """
    SELECT 42::INTEGER AS i4, 9007199254740993::BIGINT AS i8, 7::SMALLINT AS i2, 1.5::DOUBLE AS f8,
           12.30::DECIMAL(10, 2) AS amount, 'x''y' AS text, TRUE AS flag, DATE '2024-02-29' AS day,
           TIMESTAMP '2024-02-29 13:14:15.25' AS at, NULL::VARCHAR AS nothing
"""


def test_typed_records_and_column_metadata(client: Any) -> None:
    described = run(client, ALL_TYPES)
    assert described["Status"] == "FINISHED" and described["HasResultSet"] is True
    assert described["ResultRows"] == 1 and described["Duration"] > 0 and described["RedshiftQueryId"] > 0

    result = client.get_statement_result(Id=described["Id"])
    assert_shape("GetStatementResult", result)
    assert result["TotalNumRows"] == 1 and "NextToken" not in result
    assert result["Records"] == [[
        {"longValue": 42}, {"longValue": 9007199254740993}, {"longValue": 7}, {"doubleValue": 1.5},
        {"stringValue": "12.30"}, {"stringValue": "x'y"}, {"booleanValue": True}, {"stringValue": "2024-02-29"},
        {"stringValue": "2024-02-29 13:14:15.25"}, {"isNull": True},
    ]]
    metadata = {column["name"]: column for column in result["ColumnMetadata"]}
    assert [c["typeName"] for c in result["ColumnMetadata"]] == [
        "int4", "int8", "int2", "float8", "numeric", "varchar", "bool", "date", "timestamp", "varchar"]
    assert (metadata["amount"]["precision"], metadata["amount"]["scale"]) == (10, 2)
    assert metadata["text"]["isCaseSensitive"] is True and metadata["i4"]["isSigned"] is True


def test_dml_reports_rows_affected_and_no_result_set(client: Any) -> None:
    run(client, "CREATE TABLE sale (id INT, amount DECIMAL(10, 2))")
    inserted = run(client, "INSERT INTO sale SELECT range, range * 1.5 FROM range(7)")
    assert inserted["ResultRows"] == 7 and inserted["HasResultSet"] is False
    with pytest.raises(client.exceptions.ValidationException, match="Query does not have result"):
        client.get_statement_result(Id=inserted["Id"])


def test_result_pages_with_next_token(client: Any) -> None:
    described = run(client, "SELECT range AS n FROM range(12) ORDER BY n")
    first = client.get_statement_result(Id=described["Id"])
    assert len(first["Records"]) == PAGE_ROWS and first["TotalNumRows"] == 12 and first["NextToken"]
    assert [row[0] for row in rows(client, described["Id"])] == list(range(12))
    with pytest.raises(client.exceptions.ValidationException, match="NextToken"):
        client.get_statement_result(Id=described["Id"], NextToken="not-a-token")


def test_csv_results_through_get_statement_result_v2(client: Any) -> None:
    described = run(client, "SELECT 1 AS a, 'x,y' AS b UNION ALL SELECT 2, NULL ORDER BY a", ResultFormat="CSV")
    assert described["ResultFormat"] == "CSV"
    result = client.get_statement_result_v2(Id=described["Id"])
    assert_shape("GetStatementResultV2", result)
    assert result["ResultFormat"] == "CSV"
    assert result["Records"] == [{"CSVRecords": 'a,b\n1,"x,y"\n2,\n'}]
    with pytest.raises(client.exceptions.ValidationException, match="GetStatementResultV2"):
        client.get_statement_result(Id=described["Id"])


def test_transaction_batch_rolls_back_everything_on_failure(client: Any) -> None:
    run(client, "CREATE TABLE account (id INT)")
    described = run_batch(client, ["INSERT INTO account VALUES (1)", "INSERT INTO account VALUES (2)",
                                   "INSERT INTO missing_table VALUES (3)", "INSERT INTO account VALUES (4)"])
    assert described["Status"] == "FAILED"
    subs = described["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{described['Id']}:{n}" for n in (1, 2, 3, 4)]
    assert [s["Status"] for s in subs] == ["FINISHED", "FINISHED", "FAILED", "ABORTED"]
    assert "missing_table" in subs[2]["Error"]
    # The batch's Error names the failing sub-statement, its SQL and the engine's own message.
    assert "Sub-statement 3 of 4" in described["Error"]
    assert "INSERT INTO missing_table VALUES (3)" in described["Error"]
    assert subs[2]["Error"] in described["Error"]
    counted = run(client, "SELECT count(*) AS n FROM account")
    assert rows(client, counted["Id"]) == [[0]]


def test_auto_commit_batch_keeps_statements_before_the_failure(client: Any) -> None:
    run(client, "CREATE TABLE account (id INT)")
    described = run_batch(client, ["INSERT INTO account VALUES (1)", "INSERT INTO account VALUES (2)",
                                   "INSERT INTO missing_table VALUES (3)", "INSERT INTO account VALUES (4)"],
                          ExecutionMode="AUTO_COMMIT")
    assert described["Status"] == "FAILED" and described["ExecutionMode"] == "AUTO_COMMIT"
    counted = run(client, "SELECT id FROM account ORDER BY id")
    assert rows(client, counted["Id"]) == [[1], [2]]


def test_commit_inside_a_transaction_batch_commits_what_came_before(client: Any) -> None:
    run(client, "CREATE TABLE account (id INT)")
    described = run_batch(client, ["INSERT INTO account VALUES (1)", "COMMIT", "BEGIN",
                                   "INSERT INTO account VALUES (2)", "INSERT INTO missing_table VALUES (3)"])
    assert described["Status"] == "FAILED"
    counted = run(client, "SELECT id FROM account ORDER BY id")
    assert rows(client, counted["Id"]) == [[1]]


def test_truncate_inside_a_transaction_batch_commits_what_came_before(client: Any) -> None:
    """Redshift: "TRUNCATE commits the transaction in which it is run"; what follows it is a new transaction."""
    run(client, "CREATE TABLE account (id INT)")
    run(client, "INSERT INTO account VALUES (0)")
    described = run_batch(client, ["INSERT INTO account VALUES (1)", "TRUNCATE account",
                                   "INSERT INTO account VALUES (2)", "INSERT INTO account VALUES (3)",
                                   "INSERT INTO missing_table VALUES (4)"])
    assert described["Status"] == "FAILED"
    assert [s["Status"] for s in described["SubStatements"]] == ["FINISHED"] * 4 + ["FAILED"]
    counted = run(client, "SELECT count(*) AS n FROM account")
    assert rows(client, counted["Id"]) == [[0]]  # the truncate stays; 2 and 3 are rolled back with the failure
    later = run_batch(client, ["INSERT INTO account VALUES (5)", "TRUNCATE TABLE account",
                               "INSERT INTO account VALUES (6)"])
    assert later["Status"] == "FINISHED"
    assert rows(client, run(client, "SELECT id FROM account")["Id"]) == [[6]]


def test_rollback_and_end_inside_a_batch(client: Any) -> None:
    run(client, "CREATE TABLE account (id INT)")
    described = run_batch(client, ["INSERT INTO account VALUES (1)", "ROLLBACK", "INSERT INTO account VALUES (2)",
                                   "BEGIN", "INSERT INTO account VALUES (3)", "END TRANSACTION"])
    assert described["Status"] == "FINISHED"
    counted = run(client, "SELECT id FROM account ORDER BY id")
    assert rows(client, counted["Id"]) == [[2], [3]]


def test_sub_statement_results_and_describe(client: Any) -> None:
    described = run_batch(client, ["CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1), (2)", "SELECT a FROM t"])
    assert described["Status"] == "FINISHED" and described["HasResultSet"] is True
    third = described["SubStatements"][2]
    assert third["HasResultSet"] is True and third["ResultRows"] == 2
    assert rows(client, third["Id"]) == [[1], [2]]
    sub = client.describe_statement(Id=described["SubStatements"][1]["Id"])
    assert_shape("DescribeStatement", sub)
    assert sub["QueryString"] == "INSERT INTO t VALUES (1), (2)" and sub["ResultRows"] == 2
    with pytest.raises(client.exceptions.ValidationException, match="sub-statement id"):
        client.get_statement_result(Id=described["Id"])


def test_parameters_are_bound_never_pasted(client: Any) -> None:
    hostile = "'); DROP TABLE victim; --"
    described = run_batch(client, ["CREATE TABLE victim (name VARCHAR)", "INSERT INTO victim VALUES (:name)",
                                   "SELECT name FROM victim WHERE name = :name"],
                          Parameters=[{"name": "name", "value": hostile}])
    assert described["Status"] == "FINISHED"
    assert described["QueryParameters"] == [{"name": "name", "value": hostile}]
    assert rows(client, described["SubStatements"][2]["Id"]) == [[hostile]]


def test_missing_parameter_fails_the_statement(client: Any) -> None:
    described = run(client, "SELECT :a AS a, :b AS b", Parameters=[{"name": "a", "value": "1"}])
    assert described["Status"] == "FAILED" and ":b" in described["Error"]


def test_execute_statement_refuses_several_statements(client: Any) -> None:
    described = run(client, "CREATE TABLE t (a INT); DROP TABLE t")
    assert described["Status"] == "FAILED" and "BatchExecuteStatement" in described["Error"]


def test_client_token_runs_once(client: Any) -> None:
    run(client, "CREATE TABLE once (a INT)")
    first = client.execute_statement(Sql="INSERT INTO once VALUES (1)", ClientToken="load-2024-01-01", **TARGET,
                                     WaitTimeSeconds=30)
    again = client.execute_statement(Sql="INSERT INTO once VALUES (1)", ClientToken="load-2024-01-01", **TARGET)
    assert again["Id"] == first["Id"]
    assert rows(client, run(client, "SELECT count(*) FROM once")["Id"]) == [[1]]
    with pytest.raises(client.exceptions.ValidationException, match="ClientToken"):
        client.execute_statement(Sql="INSERT INTO once VALUES (2)", ClientToken="load-2024-01-01", **TARGET)


def test_long_poll_returns_when_the_statement_ends(client: Any) -> None:
    slow = "SELECT count(*) FROM range(3000000) a, range(40) b WHERE (a.range + b.range) % 7 = 0"
    started = time.monotonic()
    submitted = client.execute_statement(Sql=slow, **TARGET, WaitTimeSeconds=30)
    waited = time.monotonic() - started
    # Returned because the statement ended (FINISHED), not because 30 s went by.
    assert submitted["Status"] == "FINISHED" and waited < 25
    described = client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
    assert described["Status"] == "FINISHED"


def test_submit_without_wait_returns_before_the_statement_ends(client: Any, emulator: Any) -> None:
    slow = "SELECT count(*) FROM range(100000000) a, range(1000) b"
    submitted = client.execute_statement(Sql=slow, **TARGET)
    assert_shape("ExecuteStatement", submitted)
    assert "Status" not in submitted
    described = client.describe_statement(Id=submitted["Id"])
    assert described["Status"] in {"SUBMITTED", "PICKED", "STARTED"} and described["Duration"] == -1
    assert client.cancel_statement(Id=submitted["Id"])["Status"] is True
    assert client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)["Status"] == "ABORTED"


def test_cancel_interrupts_a_running_statement(client: Any) -> None:
    endless = "SELECT count(*) FROM range(1000000000) a, range(100000) b"
    submitted = client.execute_statement(Sql=endless, **TARGET)
    while client.describe_statement(Id=submitted["Id"])["Status"] != "STARTED":
        pass  # the worker picks it up within milliseconds; cancelling a running statement is the point here
    cancelled = client.cancel_statement(Id=submitted["Id"])
    assert_shape("CancelStatement", cancelled)
    described = client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
    assert described["Status"] == "ABORTED" and "cancelled" in described["Error"]
    with pytest.raises(client.exceptions.ValidationException, match="already in ABORTED"):
        client.cancel_statement(Id=submitted["Id"])
    # The engine is usable afterwards.
    assert run(client, "SELECT 1")["Status"] == "FINISHED"


def test_list_statements_filters_and_pages(client: Any) -> None:
    for n in range(3):
        run(client, f"SELECT {n}", StatementName=f"nightly-{n}")
    run(client, "SELECT 9", StatementName="other")
    run(client, "SELECT nope FROM nowhere", StatementName="nightly-failed")
    listed = client.list_statements(StatementName="nightly", MaxResults=2)
    assert_shape("ListStatements", listed)
    names = [s["StatementName"] for s in listed["Statements"]]
    second = client.list_statements(StatementName="nightly", MaxResults=2, NextToken=listed["NextToken"])
    names += [s["StatementName"] for s in second["Statements"]]
    assert names == ["nightly-2", "nightly-1", "nightly-0"] and "NextToken" not in second
    everything = client.list_statements(Status="ALL", StatementName="nightly")
    assert {s["Status"] for s in everything["Statements"]} == {"FINISHED", "FAILED"}
    failed = client.list_statements(Status="FAILED")["Statements"]
    assert [s["QueryString"] for s in failed] == ["SELECT nope FROM nowhere"]


def test_databases_are_separate(client: Any) -> None:
    run(client, "CREATE TABLE only_here (a INT)")
    elsewhere = run(client, "SELECT * FROM only_here", Database="analytics")
    assert elsewhere["Status"] == "FAILED" and "only_here" in elsewhere["Error"]
    assert elsewhere["Database"] == "analytics"


def test_targets_are_recorded(client: Any) -> None:
    submitted = client.execute_statement(Sql="SELECT 1", Database="dev", WorkgroupName="local-wg", WaitTimeSeconds=30,
                                         SecretArn="arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-AbCdEf")
    serverless = client.describe_statement(Id=submitted["Id"])
    assert_shape("DescribeStatement", serverless)
    assert serverless["WorkgroupName"] == "local-wg" and "ClusterIdentifier" not in serverless
    assert serverless["SecretArn"].startswith("arn:aws:secretsmanager")
    by_secret = client.execute_statement(Sql="SELECT 1", Database="dev", WaitTimeSeconds=30,
                                         SecretArn="arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-AbCdEf")
    assert by_secret["Status"] == "FINISHED" and "ClusterIdentifier" not in by_secret


@pytest.mark.parametrize("request_members, message", [
    ({"Database": "dev"}, "ClusterIdentifier, WorkgroupName or SecretArn"),
    ({"Database": "dev", "WorkgroupName": "local-wg", "DbUser": "awsuser"}, "DbUser requires ClusterIdentifier"),
    ({**TARGET, "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"}, "DbUser and SecretArn"),
    ({"Database": "dev", "ClusterIdentifier": "c", "WorkgroupName": "local-wg"}, "cannot both"),
    ({"ClusterIdentifier": "c"}, "Database"),
    ({**TARGET, "WaitTimeSeconds": 31}, "less than or equal to 30"),
    ({**TARGET, "ClusterIdentifier": "Not_Valid"}, "regular expression"),
])
def test_invalid_requests_raise_validation_exception(client: Any, request_members: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(client.exceptions.ValidationException, match=message):
        client.execute_statement(Sql="SELECT 1", **request_members)


def test_batch_of_more_than_40_is_refused(client: Any) -> None:
    with pytest.raises(client.exceptions.ValidationException, match="less than or equal to 40"):
        client.batch_execute_statement(Sqls=["SELECT 1"] * 41, **TARGET)


def test_unknown_and_malformed_ids(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Query does not exist") as raised:
        client.describe_statement(Id="0d1c3c9e-0747-4bf4-b142-e8883122f766")
    assert raised.value.response["ResourceId"] == "0d1c3c9e-0747-4bf4-b142-e8883122f766"
    with pytest.raises(client.exceptions.ValidationException, match="id must satisfy regex pattern"):
        client.get_statement_result(Id="not-an-id")
    single = run(client, "SELECT 1")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_statement(Id=single["Id"] + ":1")


def test_catalog_operations(client: Any) -> None:
    run(client, "CREATE TABLE public.customer (id BIGINT NOT NULL, name VARCHAR, balance DECIMAL(12, 2))")
    databases = client.list_databases(**TARGET)
    assert_shape("ListDatabases", databases)
    assert "dev" in databases["Databases"]
    schemas = client.list_schemas(**TARGET, SchemaPattern="pub%")
    assert_shape("ListSchemas", schemas)
    assert schemas["Schemas"] == ["public"]
    tables = client.list_tables(**TARGET, SchemaPattern="public", TablePattern="cust%")
    assert_shape("ListTables", tables)
    assert tables["Tables"] == [{"name": "customer", "type": "TABLE", "schema": "public"}]
    described = client.describe_table(**TARGET, Schema="public", Table="customer")
    assert_shape("DescribeTable", described)
    columns = {c["name"]: c for c in described["ColumnList"]}
    assert columns["id"]["typeName"] == "int8" and columns["id"]["nullable"] == 0
    assert (columns["balance"]["precision"], columns["balance"]["scale"]) == (12, 2)


def test_sessions_keep_temp_tables_between_calls(client: Any) -> None:
    first = client.execute_statement(Sql="CREATE TEMP TABLE scratch (a INT)", **TARGET, SessionKeepAliveSeconds=60,
                                     WaitTimeSeconds=30)
    assert_shape("ExecuteStatement", first)
    session_id = first["SessionId"]
    second = client.batch_execute_statement(Sqls=["INSERT INTO scratch VALUES (1)", "SELECT a FROM scratch"],
                                            SessionId=session_id, WaitTimeSeconds=30)
    described = client.describe_statement(Id=second["Id"])
    assert described["Status"] == "FINISHED" and described["SessionId"] == session_id
    assert described["Database"] == "dev" and described["ClusterIdentifier"] == TARGET["ClusterIdentifier"]
    assert rows(client, described["SubStatements"][1]["Id"]) == [[1]]
    # Without the session, a call is a new database session: the temp table is not there.
    assert run(client, "SELECT * FROM scratch")["Status"] == "FAILED"
    with pytest.raises(client.exceptions.ValidationException,
                       match="Session with Id: 0d1c3c9e-0747-4bf4-b142-e8883122f766 is invalid"):
        client.execute_statement(Sql="SELECT 1", SessionId="0d1c3c9e-0747-4bf4-b142-e8883122f766")
    with pytest.raises(client.exceptions.ValidationException, match="SessionId cannot be specified together"):
        client.execute_statement(Sql="SELECT 1", SessionId=session_id, Database="dev")


def test_list_sessions(client: Any) -> None:
    kept = client.execute_statement(Sql="SELECT 1", **TARGET, SessionKeepAliveSeconds=120, WaitTimeSeconds=30)
    listed = client.list_sessions()
    assert_shape("ListSessions", listed)
    assert [(s["SessionId"], s["Status"], s["Database"]) for s in listed["Sessions"]] == [
        (kept["SessionId"], "AVAILABLE", "dev")]
    assert client.list_sessions(Status="BUSY")["Sessions"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_sessions(SessionId="0d1c3c9e-0747-4bf4-b142-e8883122f766")


def test_an_expired_session_is_closed_and_not_available(client: Any) -> None:
    kept = client.execute_statement(Sql="CREATE TEMP TABLE scratch (a INT)", **TARGET, SessionKeepAliveSeconds=1,
                                    WaitTimeSeconds=30)
    assert wait_until(lambda: client.list_sessions()["Sessions"] == [], timeout=10)  # AVAILABLE and BUSY only
    closed = client.list_sessions(Status="CLOSED")["Sessions"]
    assert [(s["SessionId"], s["Status"]) for s in closed] == [(kept["SessionId"], "CLOSED")]
    assert client.list_sessions(SessionId=kept["SessionId"])["Sessions"][0]["Status"] == "CLOSED"
    with pytest.raises(client.exceptions.ValidationException, match="^An error .*: Session is not available$"):
        client.execute_statement(Sql="SELECT * FROM scratch", SessionId=kept["SessionId"])


def test_statements_are_forgotten_after_24_hours(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from shiftflow.dataapi import statements as st

    old = run(client, "SELECT 1")
    kept = run(client, "SELECT 2")
    now = st.now
    monkeypatch.setattr(st, "now", lambda: now() + timedelta(hours=23, minutes=59))
    assert client.describe_statement(Id=old["Id"])["Status"] == "FINISHED"  # not yet 24 hours
    monkeypatch.setattr(st, "now", lambda: now() + timedelta(hours=24, seconds=1))
    with pytest.raises(client.exceptions.ResourceNotFoundException):  # no submit needed: asking is enough
        client.describe_statement(Id=old["Id"])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_statement_result(Id=kept["Id"])
    assert client.list_statements(Status="ALL")["Statements"] == []


def test_a_cancel_landing_on_the_batch_begin_aborts_it(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cancel's interrupt can reach the engine while the batch's transaction opens: nothing ran, so the batch
    is ABORTED (it was FAILED with an internal error)."""
    from shiftflow.dataapi.engines.base import EngineError
    from shiftflow.dataapi.engines.duckdb import DuckDBSession

    interrupted: set[int] = set()
    original_interrupt = DuckDBSession.interrupt

    def interrupt(self: Any) -> None:
        interrupted.add(id(self))
        original_interrupt(self)

    def begin(self: Any) -> None:  # a BEGIN the interrupt lands on
        wait_until(lambda: id(self) in interrupted, timeout=10)
        raise EngineError("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(DuckDBSession, "interrupt", interrupt)
    monkeypatch.setattr(DuckDBSession, "begin", begin)
    submitted = client.batch_execute_statement(Sqls=["SELECT 1", "SELECT 2"], **TARGET)
    assert wait_until(lambda: client.describe_statement(Id=submitted["Id"])["Status"] == "STARTED", timeout=10)
    client.cancel_statement(Id=submitted["Id"])
    described = client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
    assert described["Status"] == "ABORTED"
    assert {sub["Status"] for sub in described["SubStatements"]} == {"ABORTED"}
