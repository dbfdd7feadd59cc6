"""Redshift semantics through a real boto3 client, the real translator and both engines (DuckDB, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.unit.dataapi.conftest import rows, run, run_batch


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


_databases = iter(range(1_000_000))


@pytest.fixture(params=["duckdb", "postgres"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A boto3 client on an emulator with the real translator; a fresh database per test."""
    if request.param == "duckdb":
        emulator, shared = DataApiEmulator(DuckDBEngine()), False
    else:
        emulator, shared = DataApiEmulator(request.getfixturevalue("postgres_engine")), True
    database = f"sem_{next(_databases)}"
    with route_in_process(emulator):
        yield _Client(boto3.client("redshift-data", region_name="us-east-1"), database)
    emulator.close(close_engine=not shared)


class _Client:
    """The boto3 client with this test's Database filled in."""

    def __init__(self, client: Any, database: str) -> None:
        self._client, self.database = client, database
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in ("execute_statement", "batch_execute_statement"):
            return method
        return lambda **kw: method(**{**kw, "Database": self.database})


def ok(client: Any, sql: str, **options: Any) -> dict[str, Any]:
    described = run(client, sql, **options)
    assert described["Status"] == "FINISHED", described.get("Error")
    return described


def error(client: Any, sql: str) -> str:
    described = run(client, sql)
    assert described["Status"] == "FAILED", f"{sql!r} should fail"
    return described["Error"]


def values(client: Any, sql: str) -> list[list[Any]]:
    return rows(client, ok(client, sql)["Id"])


def test_truncate_commits_the_transaction_it_runs_in(client: Any) -> None:
    ok(client, "create table tgt (id int)")
    ok(client, "insert into tgt values (0)")
    ok(client, "create table log (id int)")
    failed = run_batch(client, ["insert into log values (1)", "truncate tgt", "insert into tgt values (2)",
                                "insert into missing_table values (3)"])
    assert failed["Status"] == "FAILED"
    assert values(client, "select count(*) from tgt") == [[0]]  # truncated, and the insert after it rolled back
    assert values(client, "select id from log") == [[1]]  # committed by the truncate

