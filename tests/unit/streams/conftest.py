"""An emulator on each engine with the local stream sources (a topic store in a temporary folder, moto's Kinesis),
and a Data API session to run statements in order as a SQL client would (settings last the session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.dataapi.streams import sources
from shiftflow.dataapi.streams.topics import Producer, TopicStore

TARGET = {"ClusterIdentifier": "local-cluster", "Database": "dev", "DbUser": "awsuser"}


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "duckdb":
        from shiftflow.dataapi.engines.duckdb import DuckDBEngine

        duck = DuckDBEngine()
        yield duck
        duck.close()
    else:
        yield request.getfixturevalue("postgres_engine")


class Warehouse:
    """The emulator through boto3, one database per test (PostgreSQL's server is shared)."""

    def __init__(self, client: Any, database: str) -> None:
        self.client, self.database, self.session_id = client, database, ""

    def _target(self) -> dict[str, Any]:
        if self.session_id:
            return {"SessionId": self.session_id}
        return {**TARGET, "Database": self.database, "SessionKeepAliveSeconds": 600}

    def run(self, sql: str) -> dict[str, Any]:
        """One statement in the test's Data API session; the finished description (FAILED included)."""
        submitted = self.client.execute_statement(Sql=sql, **self._target())
        self.session_id = submitted.get("SessionId", self.session_id)
        while True:  # a long poll returns when the statement ends
            described = self.client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
            if described["Status"] in {"FINISHED", "FAILED", "ABORTED"}:
                return described

    def ok(self, sql: str) -> dict[str, Any]:
        described = self.run(sql)
        assert described["Status"] == "FINISHED", (sql, described.get("Error"))
        return described

    def rows(self, sql: str) -> list[list[Any]]:
        described = self.ok(sql)
        result = self.client.get_statement_result(Id=described["Id"])
        return [[None if value.get("isNull") else next(iter(value.values())) for value in record]
                for record in result["Records"]]

    def fresh(self) -> Warehouse:
        """Another Data API session (a Redshift session of its own: its own settings)."""
        return Warehouse(self.client, self.database)


_databases = iter(range(1_000_000))


@pytest.fixture
def topics(tmp_path: Path) -> Iterator[TopicStore]:
    previous = sources.current()
    sources.use(sources.StreamSources(topic_root=tmp_path / "topics"))
    yield TopicStore(tmp_path / "topics")
    sources.use(previous)


@pytest.fixture
def producer(topics: TopicStore) -> Producer:
    return Producer(topics)


@pytest.fixture
def warehouse(engine: Any, topics: TopicStore) -> Iterator[Warehouse]:
    with mock_aws():
        emulator = DataApiEmulator(engine, page_rows=1000)
        with route_in_process(emulator):
            yield Warehouse(boto3.client("redshift-data", region_name="us-east-1"), f"stream_{next(_databases)}")
        emulator.close(close_engine=False)


def script_statements(path: str) -> list[str]:
    """A scripts/ file split as run_sql_job splits it (one batch)."""
    from shiftflow.sql.splitter import split_statements

    text = (Path(__file__).resolve().parents[3] / "scripts" / path).read_text()
    return [statement.text for statement in split_statements(text)]


def run_batch(warehouse: Warehouse, sqls: list[str]) -> dict[str, Any]:
    """One batch (one transaction), as a job runs a script; the finished description."""
    submitted = warehouse.client.batch_execute_statement(Sqls=sqls, **{**TARGET, "Database": warehouse.database})
    while True:
        described = warehouse.client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
        if described["Status"] in {"FINISHED", "FAILED", "ABORTED"}:
            return described
