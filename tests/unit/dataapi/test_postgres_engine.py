"""The same service over the PostgreSQL engine (pgserver): batches, types, cancel, procedures, catalog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.unit.dataapi.conftest import TARGET, assert_shape, rows, run, run_batch


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


@pytest.fixture
def pg_client(postgres_engine: Any) -> Iterator[Any]:
    emulator = DataApiEmulator(postgres_engine, page_rows=5)
    with route_in_process(emulator):
        yield boto3.client("redshift-data", region_name="us-east-1")
    emulator.close(close_engine=False)  # the server is shared by the module's tests


def table() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


def test_transaction_batch_rollback_on_postgres(pg_client: Any) -> None:
    name = table()
    run(pg_client, f"CREATE TABLE {name} (id INT, amount DECIMAL(10, 2))")
    failed = run_batch(pg_client, [f"INSERT INTO {name} VALUES (1, 1.50)", f"INSERT INTO {name} VALUES ('x', 1)"])
    assert failed["Status"] == "FAILED" and "Sub-statement 2 of 2" in failed["Error"]
    kept = run_batch(pg_client, [f"INSERT INTO {name} VALUES (2, 2.25)", f"INSERT INTO {name} VALUES ('x', 1)"],
                     ExecutionMode="AUTO_COMMIT")
    assert kept["Status"] == "FAILED"
    result = pg_client.get_statement_result(Id=run(pg_client, f"SELECT id, amount FROM {name}")["Id"])
    assert_shape("GetStatementResult", result)
    assert result["Records"] == [[{"longValue": 2}, {"stringValue": "2.25"}]]


def test_procedures_run_on_postgres(pg_client: Any) -> None:
    name = table()
    made = run_batch(pg_client, [
        f"CREATE TABLE {name} (n INT)",
        f"CREATE OR REPLACE PROCEDURE fill_{name}(k INT) AS $$ BEGIN "
        f"INSERT INTO {name} SELECT generate_series(1, k); RAISE INFO 'filled %', k; END; $$ LANGUAGE plpgsql",
        f"CALL fill_{name}(3)",
    ])
    assert made["Status"] == "FINISHED", made.get("Error")
    assert rows(pg_client, run(pg_client, f"SELECT count(*) AS n FROM {name}")["Id"]) == [[3]]


def test_cancel_on_postgres(pg_client: Any) -> None:
    submitted = pg_client.execute_statement(Sql="SELECT pg_sleep(600)", **TARGET)
    while pg_client.describe_statement(Id=submitted["Id"])["Status"] != "STARTED":
        pass
    pg_client.cancel_statement(Id=submitted["Id"])
    assert pg_client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)["Status"] == "ABORTED"


def test_catalog_on_postgres(pg_client: Any) -> None:
    name = table()
    run(pg_client, f"CREATE TABLE public.{name} (id BIGINT NOT NULL, label VARCHAR(20), amount NUMERIC(12, 2))")
    tables = pg_client.list_tables(**TARGET, SchemaPattern="public", TablePattern=name)
    assert tables["Tables"] == [{"name": name, "type": "TABLE", "schema": "public"}]
    columns = {c["name"]: c for c in pg_client.describe_table(**TARGET, Schema="public", Table=name)["ColumnList"]}
    assert columns["id"]["typeName"] == "int8" and columns["id"]["nullable"] == 0
    assert columns["label"]["typeName"] == "varchar" and columns["label"]["precision"] == 20
    assert (columns["amount"]["precision"], columns["amount"]["scale"]) == (12, 2)
