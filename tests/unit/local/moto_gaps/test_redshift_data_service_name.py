"""Gap 2 (shiftflow.local.moto_gaps.redshift_data_service_name): aws-sdk:redshiftdata tasks reach redshift-data."""

from __future__ import annotations

import datetime
import json
from typing import Any

import boto3
import pytest

from tests.unit.local.moto_gaps.conftest import Machines, output_of


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


@pytest.fixture
def redshift_data_calls(aws: None) -> Any:
    """Answers redshift-data calls at botocore's before-call hook (where the emulator will sit) and records them."""
    calls: list[tuple[str, dict]] = []
    events = boto3._get_default_session().events

    def answer(model: Any, params: dict, **kwargs: Any) -> tuple[_Http, dict]:
        body = params["body"] if isinstance(params.get("body"), dict) else json.loads(params["body"] or b"{}")
        calls.append((model.name, body))
        metadata = {"RequestId": "req-1", "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
        if body.get("Sqls") == ["fail"]:
            error = {"Code": "ValidationException", "Message": "Sqls is invalid"}
            return _Http(400), {"Error": error, "ResponseMetadata": {**metadata, "HTTPStatusCode": 400}}
        created = datetime.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.timezone.utc)
        return _Http(200), {"Id": "stmt-1", "CreatedAt": created, "Database": "dev", "ResponseMetadata": metadata}

    events.register("before-call.redshift-data", answer)
    try:
        yield calls
    finally:
        events.unregister("before-call.redshift-data", answer)


def test_aws_sdk_redshiftdata_task_calls_the_redshift_data_client(
    machines: Machines, redshift_data_calls: list
) -> None:
    definition = {
        "StartAt": "Submit",
        "States": {
            "Submit": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement",
                "Parameters": {
                    "WorkgroupName": "wg",
                    "Database": "dev",
                    "Sqls.$": "$.sqls",
                    "ClientToken.$": "$$.Execution.Name",
                },
                "Catch": [{"ErrorEquals": ["RedshiftData.ValidationException"], "Next": "Rejected"}],
                "End": True,
            },
            "Rejected": {"Type": "Pass", "Result": "rejected", "End": True},
        },
    }
    execution_arn = machines.start(machines.create(definition), {"sqls": ["select 1", "select 2"]})
    result = output_of(machines.finish(execution_arn))
    operation, params = redshift_data_calls[0]
    assert operation == "BatchExecuteStatement"
    assert params == {
        "WorkgroupName": "wg",
        "Database": "dev",
        "Sqls": ["select 1", "select 2"],
        "ClientToken": execution_arn.rsplit(":", 1)[1],
    }
    assert result == {"Id": "stmt-1", "CreatedAt": "2026-03-04T05:06:07.890Z", "Database": "dev"}
    assert output_of(machines.run(definition, {"sqls": ["fail"]})) == "rejected"
