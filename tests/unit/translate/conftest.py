"""Engines for the translation tests: the emulator's DuckDB engine (in memory, one per test) and one PostgreSQL
server per test session, started with pgserver. If PostgreSQL cannot start, the tests fail with the reason."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from shiftflow.dataapi.engines.base import QueryResult
from shiftflow.dataapi.translate import (EngineSql, S3Command, SessionCommand, TransactionControl, run_s3_command,
                                         session_setup, translate)
from shiftflow.dataapi.translate.system import SessionFacts, SystemLog, system_parameters
from shiftflow.sql.splitter import split_statements

# r_FROM_clause-pivot-unpivot-examples.md's PART table (the PIVOT and AVG examples).
PART = """
    CREATE TABLE part (partname varchar, manufacturer varchar, quality int, price decimal(12, 2));
    INSERT INTO part VALUES ('prop', 'local parts co', 2, 10.00), ('prop', 'big parts co', NULL, 9.00),
      ('prop', 'small parts co', 1, 12.00), ('rudder', 'local parts co', 1, 2.50), ('rudder', 'big parts co', 2, 3.75),
      ('rudder', 'small parts co', NULL, 1.90), ('wing', 'local parts co', NULL, 7.50),
      ('wing', 'big parts co', 1, 15.20), ('wing', 'small parts co', NULL, 11.80)
"""


def run_script(session: Any, script: str, parameters: Mapping[str, str] | None = None,
               s3_client: Any = None) -> QueryResult:
    """Split, translate and run a Redshift script the way the emulator does; the last statement's result."""
    parameters = parameters or {}
    result = QueryResult()
    for statement in split_statements(script):
        translated = translate(statement.text, session.engine)
        if isinstance(translated, TransactionControl):
            getattr(session, translated.action)()
            session.in_transaction = translated.action == "begin"  # for SessionCommands, as the service tracks it
            result = QueryResult()
        elif isinstance(translated, S3Command):
            result = run_s3_command(translated, session, parameters, s3_client)
        elif isinstance(translated, SessionCommand):  # CALL on PostgreSQL, streaming ingestion's statements ...
            # the emulator's own placeholders (REFRESH's pg_backend_pid) as the service binds them, session id 1
            bound = {**system_parameters(translated.parameter_names, SessionFacts(), SystemLog(), 1), **parameters}
            result = translated.run(session, {n: bound[n] for n in translated.parameter_names},
                                    getattr(session, "in_transaction", False))
        else:
            assert isinstance(translated, EngineSql)
            result = translated.execute(session, {n: parameters[n] for n in translated.parameter_names})
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
def duckdb_session() -> Iterator[Any]:
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine()  # in memory, runs the translator's session set-up
    session = engine.session("dev")
    yield session
    session.close()
    engine.close()


@pytest.fixture(params=["duckdb", "postgres"])
def session(request: pytest.FixtureRequest) -> Any:
    """The same test on both engines."""
    return request.getfixturevalue(f"{request.param}_session")
