"""Fixtures shared by the tests of every moto gap: an in-process AWS, Step Functions execution on, patches active."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftflow.local.moto_gaps import activate, wait_for_execution

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/shiftflow-states"
TIME_SCALE = 0.001
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class SqlStatementFailed(Exception):
    """Stands in for the handlers' own error types: Step Functions must see this class name as Error."""


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), activate(time_scale=TIME_SCALE):
        yield


@pytest.fixture
def sfn(aws: None) -> Any:
    return boto3.client("stepfunctions", region_name=REGION)


class Machines:
    """Creates state machines from dict definitions and runs them to completion."""

    def __init__(self, sfn: Any) -> None:
        self.sfn = sfn

    def create(self, definition: dict, name: str | None = None) -> str:
        response = self.sfn.create_state_machine(
            name=name or f"sm-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN
        )
        return response["stateMachineArn"]

    def start(self, machine_arn: str, payload: Any = None) -> str:
        return self.sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload or {}))["executionArn"]

    def finish(self, execution_arn: str, timeout: float = 30.0) -> dict:
        wait_for_execution(execution_arn, timeout=timeout)
        return self.sfn.describe_execution(executionArn=execution_arn)

    def run(self, definition: dict, payload: Any = None) -> dict:
        return self.finish(self.start(self.create(definition), payload))


@pytest.fixture
def machines(sfn: Any) -> Machines:
    return Machines(sfn)


def output_of(description: dict) -> Any:
    assert description["status"] == "SUCCEEDED", (description.get("error"), description.get("cause"))
    return json.loads(description["output"])
