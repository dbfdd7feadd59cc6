"""The HTTP endpoint under load and bad input, through plain boto3 clients with retries off (a dropped call fails)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from shiftflow.dataapi.http import DataApiServer, start_server
from shiftflow.dataapi.protocol import MAX_REQUEST_BYTES
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.dataapi.validation import MAX_SQL_BYTES, service_model
from tests.unit.dataapi.conftest import TARGET, make_emulator

CLIENTS = 500
_NO_RETRY = {"max_attempts": 1, "mode": "standard"}


@pytest.fixture
def server(emulator: DataApiEmulator) -> Iterator[DataApiServer]:
    server = start_server(emulator)
    yield server
    server.stop()


def plain_client(url: str, **config: Any) -> Any:
    return boto3.client("redshift-data", region_name="us-east-1", endpoint_url=url,
                        config=Config(retries=_NO_RETRY, **config))


def test_500_concurrent_clients_on_a_busy_server_lose_no_call() -> None:
    """500 clients (a connection each) call at once; each submits a statement and long-polls it while 4 workers run
    them all, so the server holds hundreds of open calls while more connect. With the old listen backlog of 5,
    about 3% of these calls failed with "Connection was closed before we received a valid response"."""
    with make_emulator(workers=4) as emulator:
        server = start_server(emulator)
        try:
            clients = [plain_client(server.url, connect_timeout=60, read_timeout=90) for _ in range(CLIENTS)]
            start = threading.Barrier(CLIENTS)
            outcomes: dict[int, Any] = {}

            def caller(n: int) -> None:
                client = clients[n]
                try:
                    start.wait(timeout=60)
                    submitted = client.execute_statement(Sql=f"SELECT {n} AS n", **TARGET, WaitTimeSeconds=30)
                    described = client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
                    outcomes[n] = (described["Status"], client.get_statement_result(Id=submitted["Id"])["Records"])
                except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                    outcomes[n] = error

            threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 240
            for thread in threads:
                thread.join(max(deadline - time.monotonic(), 0))
            failures = {n: o for n, o in outcomes.items() if isinstance(o, Exception)}
            assert not failures, f"{len(failures)} of {CLIENTS} callers failed, e.g. {next(iter(failures.values()))!r}"
            assert len(outcomes) == CLIENTS, f"{CLIENTS - len(outcomes)} callers had no answer within the deadline"
            assert all(outcomes[n] == ("FINISHED", [[{"longValue": n}]]) for n in range(CLIENTS))
        finally:
            server.stop()


# ---- bodies a well-behaved client never sends, delivered through boto3 itself -----------------------------------

def _sending(client: Any, body: bytes) -> Any:
    """The client's next requests carry `body` instead of the one botocore serialised."""

    def replace(request: Any, **kwargs: Any) -> None:
        request.data = body

    client.meta.events.register("request-created.redshift-data.*", replace)
    return client


@pytest.mark.parametrize("body, message", [
    (b"[]", "must be a JSON object, not a JSON array"),
    (b'[{"Sql": "SELECT 1"}]', "must be a JSON object, not a JSON array"),
    (b'"SELECT 1"', "not a JSON string"),
    (b"null", "not a JSON null"),
    (b"{not json", "not valid JSON"),
    (b'{"Sql": "SELECT 1"', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
])
def test_a_body_that_is_not_a_json_object_is_the_protocols_400(server: DataApiServer, body: bytes,
                                                               message: str) -> None:
    client = _sending(plain_client(server.url), body)
    with pytest.raises(ClientError) as raised:
        client.execute_statement(Sql="SELECT 1", **TARGET)
    error = raised.value.response
    assert error["Error"]["Code"] == "SerializationException" and message in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("members, message", [
    ({"Sql": ["SELECT 1"]}, "at 'sql' failed to satisfy constraint: Member must be a string"),
    ({"Sql": "SELECT 1", "WaitTimeSeconds": "soon"}, "Member must be a number"),
    ({"Sql": "SELECT 1", "WaitTimeSeconds": 31}, "Member must have value less than or equal to 30"),
    ({"Sql": "SELECT 1", "WithEvent": "yes"}, "Member must be a boolean"),
    ({"Sql": "SELECT 1", "Parameters": {"name": "a", "value": "1"}}, "Member must be a list"),
    ({"Sql": "SELECT :a", "Parameters": ["a=1"]}, "at 'parameters.1.member' failed to satisfy constraint"),
    ({"Sql": "SELECT :a", "Parameters": [{"name": "a"}]}, "Value null at 'value'"),
    ({"Sql": "SELECT 1", "ClusterIdentifier": 7}, "Member must be a string"),
    ({"Sql": None}, "Value null at 'sql'"),
])
def test_members_of_the_wrong_type_are_validation_errors(server: DataApiServer, members: dict[str, Any],
                                                         message: str) -> None:
    target = {k: v for k, v in TARGET.items() if k not in members}
    client = _sending(plain_client(server.url), json.dumps({**target, **members}).encode())
    with pytest.raises(client.exceptions.ValidationException, match=message.replace("(", r"\(")):
        client.execute_statement(Sql="SELECT 1", **TARGET)


def test_batch_members_of_the_wrong_type(server: DataApiServer) -> None:
    client = plain_client(server.url, parameter_validation=False)
    with pytest.raises(client.exceptions.ValidationException, match="Member must have length less than or equal to 40"):
        client.batch_execute_statement(Sqls=["SELECT 1"] * 41, **TARGET)
    with pytest.raises(client.exceptions.ValidationException, match="Member must have length greater than or equal"):
        client.batch_execute_statement(Sqls=[], **TARGET)
    with pytest.raises(client.exceptions.ValidationException, match="Member must be a string"):
        client.batch_execute_statement(Sqls=["SELECT 1", 2], **TARGET)


# ---- every constraint of the model, operation by operation ---------------------------------------------------------

_VALID_REQUIRED = {"Sql": "SELECT 1", "Sqls": ["SELECT 1"], "Id": "0d1c3c9e-0747-4bf4-b142-e8883122f766",
                   "Database": "dev"}


def _violations(shape: Any) -> list[Any]:
    """Values that break one constraint of a member's shape each (min, max, enum, pattern)."""
    meta, kind = shape.metadata, shape.type_name
    values: list[Any] = []
    if kind == "string":
        values += ["a" * (meta["min"] - 1)] if meta.get("min") else []
        values += ["a" * (meta["max"] + 1)] if "max" in meta else []
        values += ["NOT_ONE_OF_THEM"] if "enum" in meta else []
        values += ["Not Valid!"] if "pattern" in meta else []
    elif kind == "integer":
        values += [meta["min"] - 1] if "min" in meta else []
        values += [meta["max"] + 1] if "max" in meta else []
    elif kind == "list":
        values += [[]] if meta.get("min") else []
        values += [["SELECT 1"] * (meta["max"] + 1)] if "max" in meta else []
    return values


def _model_cases() -> list[tuple[str, str, Any]]:
    model = service_model()
    cases = []
    for operation in model.operation_names:
        members = model.operation_model(operation).input_shape.members
        cases += [(operation, name, value) for name, shape in members.items() for value in _violations(shape)]
    return cases


def test_every_constraint_of_the_model_is_the_services_validation_error(server: DataApiServer) -> None:
    client = plain_client(server.url, parameter_validation=False)  # as Step Functions' aws-sdk tasks call
    cases = _model_cases()
    assert len(cases) > 60  # the model has constraints on every operation
    unchecked = []
    for operation, member, value in cases:
        required = client.meta.service_model.operation_model(operation).input_shape.required_members
        request = {**{m: _VALID_REQUIRED[m] for m in required}, member: value}
        try:
            getattr(client, xform_name(operation))(**request)
            unchecked.append((operation, member, value))
        except client.exceptions.ValidationException as error:
            camel = member[:1].lower() + member[1:]
            assert f"'{camel}'" in str(error) or f"{camel} must" in str(error), (operation, member, str(error))
    assert not unchecked, f"accepted though the model refuses them: {unchecked}"
    for operation in client.meta.service_model.operation_names:  # each required member missing
        for member in client.meta.service_model.operation_model(operation).input_shape.required_members:
            with pytest.raises(client.exceptions.ValidationException, match="Member must not be null"):
                getattr(client, xform_name(operation))()


# ---- the service's request limits, both ways in -------------------------------------------------------------------

def _sql_of_size(size: int) -> str:
    head = "SELECT 1 AS n -- "
    return head + "x" * (size - len(head))


def test_sql_text_over_100_kb_is_refused(client: Any) -> None:
    largest = client.execute_statement(Sql=_sql_of_size(MAX_SQL_BYTES), **TARGET, WaitTimeSeconds=30)
    assert largest["Status"] == "FINISHED"
    with pytest.raises(client.exceptions.ValidationException, match="Cannot process query string larger than 100kB"):
        client.execute_statement(Sql=_sql_of_size(MAX_SQL_BYTES + 1), **TARGET)
    halves = [_sql_of_size(MAX_SQL_BYTES // 2), _sql_of_size(MAX_SQL_BYTES // 2)]
    assert client.batch_execute_statement(Sqls=halves, **TARGET, WaitTimeSeconds=30)["Status"] == "FINISHED"
    with pytest.raises(client.exceptions.ValidationException, match="Cannot process query string larger than 100kB"):
        client.batch_execute_statement(Sqls=[*halves, "SELECT 1"], **TARGET)  # together over 100 KB
    multibyte = "SELECT '" + "é" * (MAX_SQL_BYTES // 2) + "'"  # under 100 K characters, over 100 KB
    with pytest.raises(client.exceptions.ValidationException, match="larger than 100kB"):
        client.execute_statement(Sql=multibyte, **TARGET)
    assert len(client.list_statements(Status="ALL")["Statements"]) == 2  # none of the refused ones was recorded


def test_a_body_over_10_mb_is_refused(client: Any) -> None:
    parameters = [{"name": "big", "value": "x" * MAX_REQUEST_BYTES}]
    with pytest.raises(ClientError) as raised:
        client.execute_statement(Sql="SELECT :big", **TARGET, Parameters=parameters)
    error = raised.value.response
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert client.execute_statement(Sql="SELECT 1", **TARGET, WaitTimeSeconds=30)["Status"] == "FINISHED"


# ---- HTTP framing ----------------------------------------------------------------------------------------------

def _connection(server: DataApiServer) -> http.client.HTTPConnection:
    address = urlparse(server.url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=30)


_HEADERS = {"X-Amz-Target": "RedshiftData.ListStatements", "Content-Type": "application/x-amz-json-1.1"}


def test_a_chunked_body_is_read(server: DataApiServer) -> None:
    connection = _connection(server)
    connection.request("POST", "/", body=iter([b'{"Status":', b' "ALL"}']), headers=_HEADERS, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"Statements": []}


@pytest.mark.parametrize("length", ["many", "-1", "1e3", "²"])
def test_a_content_length_that_is_not_a_size_is_a_bad_request(server: DataApiServer, length: str) -> None:
    connection = _connection(server)
    connection.putrequest("POST", "/")
    for name, value in {**_HEADERS, "Content-Length": length}.items():
        connection.putheader(name, value)
    connection.endheaders(b"{}")
    response = connection.getresponse()
    assert response.status == 400 and b"Content-Length" in response.read()
    assert response.getheader("Connection") == "close"
