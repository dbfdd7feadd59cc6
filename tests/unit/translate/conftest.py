"""Engines for the translation tests: a tiny DuckDB session (until the emulator's DuckDB engine lands) and one
PostgreSQL server per test session, started with pgserver. If PostgreSQL cannot start, tests fail with the reason."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
import pytest

from shiftflow.dataapi.engines.base import Column, EngineError, QueryResult
from shiftflow.dataapi.translate import (EngineSql, S3Command, TransactionControl, run_s3_command, session_setup,
                                         translate)
from shiftflow.sql.splitter import split_statements

_DUCKDB_TYPES = {"SMALLINT": "int2", "INTEGER": "int4", "BIGINT": "int8", "FLOAT": "float4", "DOUBLE": "float8",
                 "BOOLEAN": "bool", "VARCHAR": "varchar", "DATE": "date", "TIMESTAMP": "timestamp",
                 "TIMESTAMP WITH TIME ZONE": "timestamptz"}


class TinyDuckDBSession:
    """Just enough of EngineSession over an in-memory DuckDB connection for these tests."""

    engine = "duckdb"

    def __init__(self) -> None:
        self.connection = duckdb.connect()
        for statement in session_setup("duckdb"):
            self.connection.execute(statement)

    def execute(self, sql: str, parameters: Mapping[str, str]) -> QueryResult:
        try:
            cursor = self.connection.execute(sql, dict(parameters) if parameters else None)
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise EngineError(str(error)) from None
        description = cursor.description or []
        if [d[0] for d in description] == ["Count"] and not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            return QueryResult(rowcount=rows[0][0] if rows else -1)
        columns = [Column(d[0], _type_name(str(d[1]))) for d in description]
        return QueryResult(columns=columns, rows=rows, rowcount=len(rows))

    def begin(self) -> None:
        self.connection.execute("BEGIN")

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        self.connection.execute("ROLLBACK")

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()


def _type_name(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return "numeric"
    return _DUCKDB_TYPES.get(duckdb_type, "varchar")


def run_script(session: Any, script: str, parameters: Mapping[str, str] | None = None,
               s3_client: Any = None) -> QueryResult:
    """Split, translate and run a Redshift script the way the emulator does; the last statement's result."""
    parameters = parameters or {}
    result = QueryResult()
    for statement in split_statements(script):
        translated = translate(statement.text, session.engine)
        if isinstance(translated, TransactionControl):
            getattr(session, translated.action)()
            result = QueryResult()
        elif isinstance(translated, S3Command):
            result = run_s3_command(translated, session, parameters, s3_client)
        else:
            assert isinstance(translated, EngineSql)
            result = session.execute(translated.text, {n: parameters[n] for n in translated.parameter_names})
    return result


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    try:
        engine = PostgresEngine()
    except Exception as error:  # noqa: BLE001 - the reason must reach the test report
        pytest.fail(f"PostgreSQL (pgserver) could not start: {error}")
    yield engine
    engine.close()


_databases = itertools.count()


@pytest.fixture
def postgres_session(postgres_engine: Any) -> Iterator[Any]:
    session = postgres_engine.session(f"test_{next(_databases)}")  # a fresh database per test
    yield session
    session.close()


@pytest.fixture
def duckdb_session() -> Iterator[TinyDuckDBSession]:
    session = TinyDuckDBSession()
    yield session
    session.close()


@pytest.fixture(params=["duckdb", "postgres"])
def session(request: pytest.FixtureRequest) -> Any:
    """The same test on both engines."""
    return request.getfixturevalue(f"{request.param}_session")
