"""Fixtures for the Data API emulator: an emulator and real boto3 clients reaching it in-process and over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.config import Config

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.http import start_server
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.dataapi.validation import service_model
from shiftflow.sql.splitter import tokenize

TARGET = {"ClusterIdentifier": "local-cluster", "Database": "dev", "DbUser": "awsuser"}
PAGE_ROWS = 5


# ---- a minimal translator: the service's tests must not depend on the Redshift rewrite pass ----------------

@dataclass(frozen=True)
class _EngineSql:
    text: str
    parameter_names: tuple[str, ...] = ()
    commits: bool = False

    def execute(self, session: Any, parameters: Mapping[str, str]) -> Any:
        return session.execute(self.text, parameters)


@dataclass(frozen=True)
class _TransactionControl:
    action: str


@dataclass(frozen=True)
class _S3Command:
    url: str


class _NotSupportedLocally(Exception):
    pass


_CONTROL = {"BEGIN": "begin", "START TRANSACTION": "begin", "COMMIT": "commit", "END": "commit",
            "END TRANSACTION": "commit", "ROLLBACK": "rollback", "ABORT": "rollback"}


def _translate(statement: str, engine: str) -> Any:
    words = " ".join(statement.upper().split())
    if words in _CONTROL:
        return _TransactionControl(_CONTROL[words])
    if words.startswith("CALL "):
        raise _NotSupportedLocally("not supported locally: stored procedures on the DuckDB engine")
    pieces, names, position = [], [], 0
    tokens = tokenize(statement)
    for colon, name in zip(tokens, tokens[1:]):
        if colon.text == ":" and name.start == colon.end + 1 and name.text.isidentifier():
            pieces.append(statement[position:colon.start] + f"${name.text}")
            position = name.end + 1
            names.append(name.text)
    pieces.append(statement[position:])
    return _EngineSql("".join(pieces), tuple(dict.fromkeys(names)), commits=words.startswith("TRUNCATE"))


def _run_s3_command(command: Any, session: Any, parameters: Mapping[str, str], s3_client: Any) -> Any:
    raise _NotSupportedLocally("not supported locally: COPY in the service tests")


SHIM = SimpleNamespace(EngineSql=_EngineSql, TransactionControl=_TransactionControl, S3Command=_S3Command,
                       NotSupportedLocally=_NotSupportedLocally, translate=_translate,
                       run_s3_command=_run_s3_command)
SETUP = ("CREATE SCHEMA IF NOT EXISTS public", "SET schema = 'public'")


def make_emulator(**options: Any) -> DataApiEmulator:
    engine = options.pop("engine", None) or DuckDBEngine(setup=SETUP)
    options.setdefault("translator", SHIM)
    options.setdefault("page_rows", PAGE_ROWS)
    return DataApiEmulator(engine, **options)


# ---- fixtures ------------------------------------------------------------------------------------------------

@pytest.fixture
def emulator() -> Iterator[DataApiEmulator]:
    with make_emulator() as emulator:
        yield emulator


_NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(params=["in-process", "http"])
def client(request: pytest.FixtureRequest, emulator: DataApiEmulator) -> Iterator[Any]:
    """A real boto3 redshift-data client answered by `emulator`, both ways in."""
    if request.param == "in-process":
        with route_in_process(emulator):
            yield boto3.client("redshift-data", region_name="us-east-1", config=_NO_RETRY)
    else:
        server = start_server(emulator)
        try:
            yield boto3.client("redshift-data", region_name="us-east-1", endpoint_url=server.url, config=_NO_RETRY)
        finally:
            server.stop()


# ---- helpers -------------------------------------------------------------------------------------------------

def assert_shape(operation: str, response: Mapping[str, Any]) -> None:
    """`response` (as boto3 returns it) has exactly the types and required members of the operation's output."""
    body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    _check(service_model().operation_model(operation).output_shape, body, operation)


def _check(shape: Any, value: Any, path: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected a structure, got {value!r}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members not in the model: {sorted(unknown)}"
        for name in shape.required_members:
            assert name in value, f"{path}: required member {name} missing"
        for name, item in value.items():
            _check(shape.members[name], item, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]")
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected an integer, got {value!r}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: expected a boolean, got {value!r}"
    elif kind == "double":
        assert isinstance(value, float), f"{path}: expected a double, got {value!r}"
    elif kind == "timestamp":
        assert isinstance(value, datetime), f"{path}: expected a timestamp, got {value!r}"
    elif kind == "blob":
        assert isinstance(value, bytes), f"{path}: expected bytes, got {value!r}"
    else:
        assert isinstance(value, str), f"{path}: expected a string, got {value!r}"
        if shape.metadata.get("enum"):
            assert value in shape.metadata["enum"], f"{path}: {value!r} not in {shape.metadata['enum']}"
        if shape.metadata.get("pattern"):
            assert re.fullmatch(shape.metadata["pattern"], value), f"{path}: {value!r} does not match the pattern"


def run(client: Any, sql: str, **options: Any) -> dict[str, Any]:
    """ExecuteStatement, long-polled to its end; returns DescribeStatement (shape-checked)."""
    submitted = client.execute_statement(Sql=sql, **{**TARGET, **options}, WaitTimeSeconds=30)
    assert_shape("ExecuteStatement", submitted)
    described = client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
    assert_shape("DescribeStatement", described)
    return described


def run_batch(client: Any, sqls: list[str], **options: Any) -> dict[str, Any]:
    submitted = client.batch_execute_statement(Sqls=sqls, **{**TARGET, **options}, WaitTimeSeconds=30)
    assert_shape("BatchExecuteStatement", submitted)
    described = client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
    assert_shape("DescribeStatement", described)
    return described


def rows(client: Any, statement_id: str) -> list[list[Any]]:
    """Every record of a result, page after page, each field as its one value."""
    records, token = [], None
    while True:
        page = client.get_statement_result(Id=statement_id, **({"NextToken": token} if token else {}))
        assert_shape("GetStatementResult", page)
        records += [[next(iter(field.values())) if "isNull" not in field else None for field in record]
                    for record in page["Records"]]
        token = page.get("NextToken")
        if not token:
            return records


def result_pages(emulator: DataApiEmulator, statement_id: str, operation: str = "GetStatementResult") -> list[dict]:
    """Every page of a result through the service layer, without their NextToken (it names the statement)."""
    pages, token = [], None
    while True:
        page = emulator.call(operation, {"Id": statement_id, **({"NextToken": token} if token else {})})
        token = page.pop("NextToken", None)
        pages.append(page)
        if not token:
            return pages
