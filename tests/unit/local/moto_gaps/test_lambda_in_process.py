"""Gap 1 (shiftflow.local.moto_gaps.lambda_in_process): Lambda handlers run in-process, as Lambda reports them."""

from __future__ import annotations

import datetime
import json
import re
import threading
from typing import Any

import boto3
import pytest

from shiftflow.local.moto_gaps import LambdaContext, register_lambda_handler, unregister_lambda_handler
from tests.unit.local.moto_gaps.conftest import REGION, Machines, SqlStatementFailed, output_of


def create_function(name: str, memory: int = 256, timeout: int = 30) -> str:
    iam = boto3.client("iam", region_name=REGION)
    try:
        role = iam.get_role(RoleName="lambda-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    response = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": b"not used: the handler runs in-process"},
        MemorySize=memory,
        Timeout=timeout,
    )
    return response["FunctionArn"]


def test_lambda_invoke_integration_calls_the_handler_with_event_and_context(machines: Machines) -> None:
    arn = create_function("Submit", memory=512, timeout=60)
    seen: list[tuple[Any, LambdaContext]] = []

    def handler(event: Any, context: LambdaContext) -> dict:
        seen.append((event, context))
        return {"statement_id": "s-1", "remaining_ok": context.get_remaining_time_in_millis() > 50_000}

    register_lambda_handler(arn, handler)  # by ARN; the ASL names it by name
    result = output_of(
        machines.run(
            {
                "StartAt": "Submit",
                "States": {
                    "Submit": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "Submit", "Payload": {"job.$": "$.job"}},
                        "End": True,
                    }
                },
            },
            {"job": "sales"},
        )
    )
    assert result["Payload"] == {"statement_id": "s-1", "remaining_ok": True}
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert result["SdkResponseMetadata"]["RequestId"] == seen[0][1].aws_request_id
    event, context = seen[0]
    assert event == {"job": "sales"}
    assert context.function_name == "Submit"
    assert context.invoked_function_arn == arn
    assert context.memory_limit_in_mb == 512
    assert re.fullmatch(r"[0-9a-f-]{36}", context.aws_request_id)


def test_handler_exception_reaches_retry_and_catch_as_lambda_reports_it(machines: Machines) -> None:
    calls: list[int] = []

    def handler(event: Any, context: LambdaContext) -> None:
        calls.append(1)
        raise SqlStatementFailed("relation \"sales\" does not exist")

    register_lambda_handler("Run", handler)
    result = output_of(
        machines.run(
            {
                "StartAt": "Run",
                "States": {
                    "Run": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "Run", "Payload.$": "$"},
                        "Retry": [{"ErrorEquals": ["SqlStatementFailed"], "IntervalSeconds": 5, "MaxAttempts": 2}],
                        "Catch": [{"ErrorEquals": ["SqlStatementFailed"], "ResultPath": "$.error", "Next": "Caught"}],
                        "End": True,
                    },
                    "Caught": {"Type": "Pass", "End": True},
                },
            }
        )
    )
    assert len(calls) == 3  # first attempt + MaxAttempts retries
    assert result["error"]["Error"] == "SqlStatementFailed"
    cause = json.loads(result["error"]["Cause"])
    assert cause["errorType"] == "SqlStatementFailed"
    assert cause["errorMessage"] == 'relation "sales" does not exist'
    assert any("in handler" in frame for frame in cause["stackTrace"])


def test_plain_lambda_arn_resource_passes_the_payload_and_fails_with_the_class_name(machines: Machines) -> None:
    arn = create_function("Plain")
    register_lambda_handler("Plain", lambda event, context: {"doubled": event["n"] * 2})
    definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": arn, "End": True}}}
    assert output_of(machines.run(definition, {"n": 21})) == {"doubled": 42}

    def failing(event: Any, context: LambdaContext) -> None:
        raise SqlStatementFailed("boom")

    register_lambda_handler("Plain", failing)
    failed = machines.run(definition, {"n": 1})
    assert failed["status"] == "FAILED"
    assert failed["error"] == "SqlStatementFailed"
    assert json.loads(failed["cause"])["errorMessage"] == "boom"


def test_boto3_lambda_invoke_reaches_the_same_handler(aws: None) -> None:
    register_lambda_handler("Direct", lambda event, context: {"echo": event, "name": context.function_name})
    client = boto3.client("lambda", region_name=REGION)
    response = client.invoke(FunctionName="Direct", Payload=json.dumps({"a": 1}))
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"echo": {"a": 1}, "name": "Direct"}

    def failing(event: Any, context: LambdaContext) -> None:
        raise ValueError("bad input")

    register_lambda_handler("Direct", failing)
    response = client.invoke(FunctionName="Direct", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "bad input")


def test_unserialisable_result_is_a_marshal_error_and_unregistered_functions_fall_back_to_moto(aws: None) -> None:
    client = boto3.client("lambda", region_name=REGION)
    register_lambda_handler("Marshal", lambda event, context: {"when": datetime.datetime(2026, 1, 1)})
    response = client.invoke(FunctionName="Marshal", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.MarshalError"

    unregister_lambda_handler("Marshal")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="Marshal", Payload=b"{}")  # moto's own path: no such function


def test_a_handler_running_past_its_timeout_fails_the_task_with_sandbox_timedout(machines: Machines) -> None:
    released = threading.Event()
    contexts: list[LambdaContext] = []

    def stuck(event: Any, context: LambdaContext) -> dict:
        contexts.append(context)
        released.wait(10)  # stands in for SQL that outlives the function
        return {"late": True}

    register_lambda_handler("Stuck", stuck, timeout_seconds=0.2, memory_mb=512)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Stuck", "Payload": {}},
                "Catch": [{"ErrorEquals": ["Sandbox.Timedout"], "ResultPath": "$.failure", "Next": "TimedOut"}],
                "End": True,
            },
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }
    try:
        failure = output_of(machines.run(definition))["failure"]
    finally:
        released.set()
    assert failure["Error"] == "Sandbox.Timedout"
    cause = json.loads(failure["Cause"])
    assert cause["errorType"] == "Sandbox.Timedout"
    assert cause["errorMessage"] == f"RequestId: {contexts[0].aws_request_id} Error: Task timed out after 0.20 seconds"
    assert contexts[0].memory_limit_in_mb == 512


def test_a_new_handler_keeps_the_registered_limits_and_lambda_defaults_apply_otherwise(aws: None) -> None:
    seen: list[LambdaContext] = []
    register_lambda_handler("Limited", lambda event, context: seen.append(context), timeout_seconds=80, memory_mb=256)
    register_lambda_handler("Limited", lambda event, context: seen.append(context))  # a test swapping the handler
    register_lambda_handler("Plain", lambda event, context: seen.append(context))
    client = boto3.client("lambda", region_name=REGION)
    client.invoke(FunctionName="Limited", Payload=b"{}")
    client.invoke(FunctionName="Plain", Payload=b"{}")
    assert [(c.timeout_seconds, c.memory_limit_in_mb) for c in seen] == [(80.0, 256), (3.0, 128)]
