"""A SecretArn request on the local runtime: the secret must exist in the account's Secrets Manager and hold a
username and a password, as the Data API requires (data-api.md), and the SQL runs as the secret's username."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shiftflow.dataapi.validation import EMPTY_SECRET, NO_SECRET
from shiftflow.local.runtime import LocalRuntime
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with LocalRuntime(ROOT, state_dir=tmp_path_factory.mktemp("secrets"), time_scale=0.001, persist=False) as local:
        yield local


def _target(runtime: LocalRuntime, secret_arn: str) -> dict[str, Any]:
    cluster, workgroup = (runtime.parameters["RedshiftClusterIdentifier"], runtime.parameters["RedshiftWorkgroupName"])
    place = {"ClusterIdentifier": cluster} if cluster else {"WorkgroupName": workgroup}
    return {**place, "Database": runtime.parameters["DatabaseName"], "SecretArn": secret_arn}


def _rows(data_api: Any, statement_id: str) -> list[list[Any]]:
    described = data_api.describe_statement(Id=statement_id, WaitTimeSeconds=20)
    assert described["Status"] == "FINISHED", described
    return [[next(iter(value.values())) for value in record]
            for record in data_api.get_statement_result(Id=statement_id)["Records"]]


def test_the_sql_runs_as_the_secrets_user_also_in_a_kept_session(runtime: LocalRuntime) -> None:
    secrets, data_api = runtime.client("secretsmanager"), runtime.client("redshift-data")
    arn = secrets.create_secret(Name="shiftflow/etl", SecretString=json.dumps(
        {"username": "etl_loader", "password": "not-logged"}))["ARN"]
    first = data_api.execute_statement(Sql="SELECT current_user", SessionKeepAliveSeconds=60,
                                       **_target(runtime, arn))
    assert _rows(data_api, first["Id"]) == [["etl_loader"]]
    again = data_api.execute_statement(Sql="SELECT current_user", SessionId=first["SessionId"])
    assert _rows(data_api, again["Id"]) == [["etl_loader"]]
    described = data_api.describe_statement(Id=first["Id"])
    assert described["SecretArn"] == arn and "DbUser" not in described  # the user is the secret's, not a member
    by_name = data_api.execute_statement(Sql="SELECT current_user", **_target(runtime, "shiftflow/etl"))
    assert _rows(data_api, by_name["Id"]) == [["etl_loader"]]


@pytest.mark.parametrize(("secret", "message"), [
    (None, NO_SECRET),
    ({"username": "etl_loader"}, EMPTY_SECRET),
    ({"password": "x"}, EMPTY_SECRET),
    ("not json", EMPTY_SECRET),
])
def test_a_secret_that_is_missing_or_holds_no_user_is_refused(runtime: LocalRuntime, secret: Any,
                                                               message: str) -> None:
    secrets, data_api = runtime.client("secretsmanager"), runtime.client("redshift-data")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shiftflow/missing-AbCdEf"
    if secret is not None:
        text = secret if isinstance(secret, str) else json.dumps(secret)
        arn = secrets.create_secret(Name=f"shiftflow/bad-{len(text)}-{abs(hash(text)) % 1000}",
                                    SecretString=text)["ARN"]
    with pytest.raises(ClientError) as refused:
        data_api.execute_statement(Sql="SELECT 1", **_target(runtime, arn))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Error"]["Message"] == message
    with pytest.raises(ClientError):
        data_api.list_schemas(**_target(runtime, arn))
