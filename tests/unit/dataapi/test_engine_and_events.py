"""DuckDB engine (in memory, file-backed, concurrent), WithEvent subscribers, limits, and the real translator."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.unit.dataapi.conftest import SETUP, TARGET, make_emulator, rows, run

# The detail of AWS's "Redshift Data Statement Status Change" event, as the Redshift management guide shows it
# (data-api-monitoring-events): no more, no fewer.
AWS_DETAIL_KEYS = {"principal", "statementName", "statementId", "redshiftQueryId", "state", "rows", "expireAt"}


def test_file_backed_warehouse_survives_a_restart(tmp_path: Path) -> None:
    with make_emulator(engine=DuckDBEngine(tmp_path, setup=SETUP)) as first, route_in_process(first):
        client = boto3.client("redshift-data", region_name="us-east-1")
        run(client, "CREATE TABLE kept (a INT)")
        run(client, "INSERT INTO kept VALUES (7)")
    assert (tmp_path / "dev.duckdb").exists()
    with make_emulator(engine=DuckDBEngine(tmp_path, setup=SETUP)) as second, route_in_process(second):
        client = boto3.client("redshift-data", region_name="us-east-1")
        assert rows(client, run(client, "SELECT a FROM kept")["Id"]) == [[7]]


def test_engine_session_binds_parameters_and_reports_engine_errors() -> None:
    engine = DuckDBEngine(setup=SETUP)
    try:
        session = engine.session("dev")
        session.execute("CREATE TABLE t (a INT, b VARCHAR)", {})
        assert session.execute("INSERT INTO t VALUES ($a, $b)", {"a": "1", "b": "x'); --"}).rowcount == 1
        result = session.execute("SELECT b FROM t WHERE a = $a", {"a": "1"})
        assert result.rows == [("x'); --",)] and result.columns[0].type_name == "varchar"
        with pytest.raises(EngineError, match="does not exist"):
            session.execute("SELECT * FROM nowhere", {})
    finally:
        engine.close()


def test_concurrent_statements_from_many_threads(emulator: DataApiEmulator) -> None:
    with route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1")
        run(client, "CREATE TABLE hits (n INT)")

        def insert(n: int) -> str:
            return run(client, f"INSERT INTO hits VALUES ({n})")["Status"]

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(insert, range(40))) == {"FINISHED"}
        assert rows(client, run(client, "SELECT count(*), sum(n) FROM hits")["Id"]) == [[40, sum(range(40))]]


def test_with_event_notifies_subscribers(emulator: DataApiEmulator) -> None:
    events: list[dict[str, Any]] = []
    delivered = threading.Event()

    def subscriber(event: dict[str, Any]) -> None:
        events.append(event)
        delivered.set()

    unsubscribe = emulator.subscribe(subscriber)
    emulator.subscribe(lambda event: 1 / 0)  # a failing subscriber must not stop delivery to the others
    with route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1")
        run(client, "SELECT 1")  # no WithEvent: no event
        statement = client.batch_execute_statement(Sqls=["CREATE TABLE e (a INT)", "INSERT INTO e VALUES (1), (2)"],
                                                   **TARGET, WithEvent=True, StatementName="load.e")
        assert delivered.wait(30)
    assert len(events) == 1
    event = events[0]
    assert event["source"] == "aws.redshift-data"
    assert event["detail-type"] == "Redshift Data Statement Status Change"
    assert event["resources"] == ["arn:aws:redshift:us-east-1:123456789012:cluster:local-cluster"]
    detail = event["detail"]
    assert detail["statementId"] == statement["Id"] and detail["statementName"] == "load.e"
    assert detail["state"] == "FINISHED" and detail["rows"] == 2
    assert set(detail) == AWS_DETAIL_KEYS
    unsubscribe()


def test_a_failed_statement_event_has_aws_keys_only(emulator: DataApiEmulator) -> None:
    """AWS's event carries no error text (the reader describes the statement): neither does the emulator's."""
    events: list[dict[str, Any]] = []
    delivered = threading.Event()

    def subscriber(event: dict[str, Any]) -> None:
        events.append(event)
        delivered.set()

    unsubscribe = emulator.subscribe(subscriber)
    try:
        with route_in_process(emulator):
            client = boto3.client("redshift-data", region_name="us-east-1")
            statement = client.execute_statement(Sql="SELECT * FROM no_such_table_for_the_event", **TARGET,
                                                 WithEvent=True, StatementName="load.failing")
            assert delivered.wait(30)
            assert client.describe_statement(Id=statement["Id"])["Error"]
    finally:
        unsubscribe()
    (event,) = events
    assert event["detail"]["state"] == "FAILED" and set(event["detail"]) == AWS_DETAIL_KEYS


def test_active_statement_limit(emulator: DataApiEmulator) -> None:
    limited = make_emulator(max_active=1, workers=1)
    with limited, route_in_process(limited):
        client = boto3.client("redshift-data", region_name="us-east-1")
        long_one = client.execute_statement(Sql="SELECT count(*) FROM range(1000000000) a, range(100000) b",
                                            **TARGET)["Id"]
        with pytest.raises(client.exceptions.ActiveStatementsExceededException):
            client.execute_statement(Sql="SELECT 1", **TARGET)
        client.cancel_statement(Id=long_one)
        assert client.describe_statement(Id=long_one, WaitTimeSeconds=30)["Status"] == "ABORTED"


def test_temporary_tables_do_not_outlive_their_call(emulator: DataApiEmulator) -> None:
    # Each Data API call is its own database session: a temp table is gone for the next call.
    with route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1")
        made = run_batch_ok(client, ["CREATE TEMP TABLE scratch (a INT)", "INSERT INTO scratch VALUES (1)",
                                     "SELECT a FROM scratch"])
        assert rows(client, made["SubStatements"][2]["Id"]) == [[1]]
        assert run(client, "SELECT * FROM scratch")["Status"] == "FAILED"


def run_batch_ok(client: Any, sqls: list[str]) -> dict[str, Any]:
    submitted = client.batch_execute_statement(Sqls=sqls, **TARGET, WaitTimeSeconds=30)
    described = client.describe_statement(Id=submitted["Id"])
    assert described["Status"] == "FINISHED", described.get("Error")
    return described


def test_real_translator_runs_redshift_sql() -> None:
    with DataApiEmulator(page_rows=100) as emulator, route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1")
        made = run_batch_ok(client, [
            "CREATE TABLE public.sale (id INTEGER ENCODE az64, day DATE, amount DECIMAL(12, 2)) "
            "DISTKEY (id) SORTKEY (day)",
            "INSERT INTO sale VALUES (1, '2024-01-01', 10.50), (2, '2024-01-02', 4.50)",
            "SELECT nvl(sum(amount), 0) AS total FROM sale",
        ])
        assert made["SubStatements"][1]["ResultRows"] == 2
        assert rows(client, made["SubStatements"][2]["Id"]) == [["15.00"]]
        procedure = run(client, "CALL load_everything()")
        assert procedure["Status"] == "FAILED" and "procedure load_everything() does not exist" in procedure["Error"]
        # Stored procedures on DuckDB (shiftflow/dataapi/procedures/): OUT arguments are the call's result set.
        run_batch_ok(client, [
            "CREATE PROCEDURE total_of(since DATE, total OUT DECIMAL(12, 2)) AS $$ BEGIN "
            "SELECT INTO total sum(amount) FROM sale WHERE day >= since; RAISE INFO 'total %', total; END; $$ "
            "LANGUAGE plpgsql",
        ])
        called = client.execute_statement(Sql="CALL total_of(:since)", Parameters=[
            {"name": "since", "value": "2024-01-02"}], **TARGET, WaitTimeSeconds=30)
        assert rows(client, called["Id"]) == [["4.50"]]
        with_parameter = client.execute_statement(Sql="SELECT count(*) AS n FROM sale WHERE day <= :day",
                                                  Parameters=[{"name": "day", "value": "2024-01-01"}],
                                                  **TARGET, WaitTimeSeconds=30)
        assert rows(client, with_parameter["Id"]) == [[1]]


def test_first_sessions_opened_at_once_on_a_new_warehouse_all_start(tmp_path: Path) -> None:
    """Each session's setup creates schema public if missing; opened at once, those creates must not collide."""
    engine = DuckDBEngine(tmp_path / "warehouse")
    start = threading.Barrier(8)

    def open_and_query(_: int) -> Any:
        start.wait()
        return engine.session("dev").execute("select 1 as one", {}).rows

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(open_and_query, range(8))) == [[(1,)]] * 8
    finally:
        engine.close()
