"""Each gap of moto's Step Functions interpreter, closed by shiftflow.local.moto_patches, run as a real ASL execution."""

from __future__ import annotations

import datetime
import json
import re
import time
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from shiftflow.local import moto_patches
from shiftflow.local.moto_patches import (
    LambdaContext,
    MotoVersionError,
    activate,
    check_moto_version,
    register_lambda_handler,
    time_scale,
    unregister_lambda_handler,
    wait_for_execution,
)
from tests.unit.local.conftest import REGION, ROLE_ARN, TIME_SCALE, Machines, output_of

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class SqlStatementFailed(Exception):
    """Stands in for the handlers' own error types: Step Functions must see this class name as Error."""


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


# --------------------------------------------------------------------------------------------------------------------
# Version pin and reversibility


def test_version_check_fails_loudly_on_any_other_moto() -> None:
    check_moto_version()  # the pinned one passes
    with pytest.raises(MotoVersionError, match="5.2.5"):
        check_moto_version("5.2.6")


def test_deactivation_restores_every_original() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    before = (
        LambdaBackend.invoke,
        string_expression.extract_json,
        string_expression.eval_jsonata_expression,
        StepFunctionResponse.get_execution_history,
        StateTaskServiceSfn._normalise_response,
        "_normalise_response" in StateTaskServiceSfn.__dict__,
    )
    with activate(time_scale=0.5):
        with activate(time_scale=0.25):
            assert time_scale() == 0.25
            assert LambdaBackend.invoke is not before[0]
        assert time_scale() == 0.5
        assert string_expression.extract_json is moto_patches.extract_json
    assert time_scale() == 1.0
    after = (
        LambdaBackend.invoke,
        string_expression.extract_json,
        string_expression.eval_jsonata_expression,
        StepFunctionResponse.get_execution_history,
        StateTaskServiceSfn._normalise_response,
        "_normalise_response" in StateTaskServiceSfn.__dict__,
    )
    assert after == before


def test_handlers_registered_inside_an_activation_are_forgotten_after_it() -> None:
    with activate():
        register_lambda_handler("Temporary", lambda event, context: None)
        assert moto_patches._handlers.get("Temporary") is not None
    assert "Temporary" not in moto_patches._handlers


# --------------------------------------------------------------------------------------------------------------------
# Gap 1: Lambda handlers in-process


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


# --------------------------------------------------------------------------------------------------------------------
# Gap 2: aws-sdk:redshiftdata


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


# --------------------------------------------------------------------------------------------------------------------
# Gap 3: states:startExecution (.sync:2, .sync, plain)

CHILD = {
    "StartAt": "Route",
    "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
                  "Default": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"rows.$": "$.rows"}, "End": True},
        "Fail": {"Type": "Fail", "Error": "ChildFailed", "Cause": "statement s-9 failed"},
    },
}


def parent(resource: str, child_arn: str) -> dict:
    return {
        "StartAt": "Child",
        "States": {
            "Child": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::{resource}",
                "Parameters": {"StateMachineArn": child_arn, "Input.$": "$"},
                "End": True,
            }
        },
    }


def test_start_execution_sync2_waits_and_returns_the_parsed_output(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    result = output_of(machines.run(parent("states:startExecution.sync:2", child_arn), {"fail": False, "rows": 7}))
    assert result["Status"] == "SUCCEEDED"
    assert result["Output"] == {"rows": 7}
    assert result["Input"] == {"fail": False, "rows": 7}
    assert result["StateMachineArn"] == child_arn
    assert ISO_MS.match(result["StartDate"]) and ISO_MS.match(result["StopDate"])
    child = machines.sfn.describe_execution(executionArn=result["ExecutionArn"])
    assert child["status"] == "SUCCEEDED"


def test_parent_resumes_as_soon_as_the_child_ends(machines: Machines) -> None:
    # moto polled the child every 0.5 s; the parent must now see the end at once (the child waits 60 ms).
    child_arn = machines.create(CHILD, name="child")
    parent_arn = machines.start(machines.create(parent("states:startExecution.sync:2", child_arn)), {"rows": 1})
    description = machines.finish(parent_arn)
    child_stop = datetime.datetime.fromisoformat(output_of(description)["StopDate"].replace("Z", "+00:00"))
    events = machines.sfn.get_execution_history(executionArn=parent_arn, reverseOrder=True)["events"]
    task_succeeded = next(e for e in events if e["type"] == "TaskSucceeded")
    assert (task_succeeded["timestamp"] - child_stop).total_seconds() < 0.2


def test_start_execution_sync_returns_the_output_as_a_string(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    result = output_of(machines.run(parent("states:startExecution.sync", child_arn), {"fail": False, "rows": 3}))
    assert result["Status"] == "SUCCEEDED"
    assert json.loads(result["Output"]) == {"rows": 3}


def test_failed_child_fails_the_parent_task_with_states_task_failed(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    for resource in ("states:startExecution.sync:2", "states:startExecution.sync"):
        failed = machines.run(parent(resource, child_arn), {"fail": True})
        assert failed["status"] == "FAILED"
        assert failed["error"] == "States.TaskFailed"
        cause = json.loads(failed["cause"])
        assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "ChildFailed", "statement s-9 failed")
        assert ISO_MS.match(cause["StopDate"])


def test_plain_start_execution_returns_at_once(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    result = output_of(machines.run(parent("states:startExecution", child_arn), {"fail": False, "rows": 1}))
    assert set(result) == {"ExecutionArn", "StartDate"}
    assert wait_for_execution(result["ExecutionArn"]) == "SUCCEEDED"


# --------------------------------------------------------------------------------------------------------------------
# Gap 4: definite JSONPath


def test_definite_paths_return_the_value_and_indefinite_paths_a_list(machines: Machines) -> None:
    definition = {
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Pass",
                "Parameters": {
                    "first.$": "$[0].v",
                    "second.$": "$[1]",
                    "nested.$": "$[0].list[0]",
                    "deep.$": "$[0].rows[0].x",
                    "all.$": "$[*].v",
                    "one_match.$": "$[0].rows[*].x",
                    "filtered.$": "$[0].rows[?(@.x == 5)].x",
                },
                "End": True,
            }
        },
    }
    payload = [{"v": 1, "list": [5, 6], "rows": [{"x": 5}]}, {"v": 2}]
    assert output_of(machines.run(definition, payload)) == {
        "first": 1,
        "second": {"v": 2},
        "nested": 5,
        "deep": 5,
        "all": [1, 2],
        "one_match": [5],
        "filtered": [5],
    }


def test_result_selector_over_parallel_and_map_results(machines: Machines) -> None:
    definition = {
        "StartAt": "Loads",
        "States": {
            "Loads": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"rows": 10}, "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": {"rows": 20}, "End": True}}},
                ],
                "ResultSelector": {"customer.$": "$[0].rows", "item.$": "$[1].rows"},
                "ResultPath": "$.dimensions",
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.jobs",
                "ItemSelector": {"job.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Echo",
                    "States": {"Echo": {"Type": "Pass", "End": True}},
                },
                "ResultSelector": {"count.$": "States.ArrayLength($)", "first.$": "$[0].job"},
                "ResultPath": "$.mapped",
                "End": True,
            },
        },
    }
    result = output_of(machines.run(definition, {"jobs": ["fact", "validate"]}))
    assert result["dimensions"] == {"customer": 10, "item": 20}
    assert result["mapped"] == {"count": 2, "first": "fact"}


# --------------------------------------------------------------------------------------------------------------------
# Gap 5: names, context, datetimes, history paging


def test_unnamed_executions_get_unique_names_and_the_context_is_as_on_aws(machines: Machines) -> None:
    machine = machines.create(
        {
            "StartAt": "Context",
            "States": {
                "Context": {
                    "Type": "Pass",
                    "Parameters": {
                        "id.$": "$$.Execution.Id",
                        "name.$": "$$.Execution.Name",
                        "started.$": "$$.Execution.StartTime",
                        "entered.$": "$$.State.EnteredTime",
                        "state.$": "$$.State.Name",
                    },
                    "End": True,
                }
            },
        }
    )
    arns = [machines.start(machine) for _ in range(3)]
    assert len(set(arns)) == 3
    for arn in arns:
        result = output_of(machines.finish(arn))
        assert result["id"] == arn
        assert result["name"] == arn.rsplit(":", 1)[1]
        assert ISO_MS.match(result["started"])
        assert ISO_MS.match(result["entered"]) and result["entered"] >= result["started"]
        assert result["state"] == "Context"


def test_execution_history_honours_max_results_next_token_and_reverse_order(machines: Machines) -> None:
    chain = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(5)}
    chain["S5"] = {"Type": "Succeed"}
    arn = machines.start(machines.create({"StartAt": "S0", "States": chain}))
    machines.finish(arn)
    sfn = machines.sfn
    everything = sfn.get_execution_history(executionArn=arn)["events"]
    assert len(everything) == 2 + 2 * 6  # started, succeeded, entered+exited per state

    pages: list[list[dict]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 4}
    while True:
        page = sfn.get_execution_history(**kwargs)
        pages.append(page["events"])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert [len(p) for p in pages] == [4, 4, 4, 2]
    assert [e["id"] for p in pages for e in p] == [e["id"] for e in everything]

    newest = sfn.get_execution_history(executionArn=arn, maxResults=1, reverseOrder=True)
    assert newest["events"][0]["type"] == "ExecutionSucceeded"
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidToken"):
        sfn.get_execution_history(executionArn=arn, nextToken="not-a-token")


# --------------------------------------------------------------------------------------------------------------------
# Gap 6: JSONata


def test_jsonata_output_and_choice_condition(machines: Machines) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {
            "Shape": {
                "Type": "Pass",
                "Output": "{% {'total': $sum($states.input.rows), 'note': $states.input.note} %}",
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.total > 10 %}", "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Output": "{% $merge([$states.input, {'size': 'big'}]) %}", "End": True},
            "Small": {"Type": "Pass", "Output": "{% $merge([$states.input, {'size': 'small'}]) %}", "End": True},
        },
    }
    note = 'it\'s "quoted"\nand multi-line'
    assert output_of(machines.run(definition, {"rows": [4, 8], "note": note})) == {
        "total": 12,
        "note": note,
        "size": "big",
    }
    assert output_of(machines.run(definition, {"rows": [1], "note": ""}))["size"] == "small"


def test_jsonata_task_arguments_assign_output_and_a_catchable_evaluation_error(machines: Machines) -> None:
    register_lambda_handler("Count", lambda event, context: {"rows": len(event["tables"])})
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Count",
        "States": {
            "Count": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "Count", "Payload": {"tables": "{% $split($states.input.csv, ',') %}"}},
                "Assign": {"counted": "{% $states.result.Payload.rows %}"},
                "Output": "{% {'rows': $states.result.Payload.rows} %}",
                "Catch": [
                    {
                        "ErrorEquals": ["States.QueryEvaluationError"],
                        "Output": "{% {'error': $states.errorOutput.Error} %}",
                        "Next": "Rejected",
                    }
                ],
                "Next": "Report",
            },
            "Report": {"Type": "Pass", "Output": "{% {'rows': $states.input.rows, 'counted': $counted} %}",
                       "End": True},
            "Rejected": {"Type": "Pass", "End": True},
        },
    }
    assert output_of(machines.run(definition, {"csv": "a,b,c"})) == {"rows": 3, "counted": 3}
    # $split of a number throws: AWS reports the catchable States.QueryEvaluationError.
    assert output_of(machines.run(definition, {"csv": 7})) == {"error": "States.QueryEvaluationError"}


# --------------------------------------------------------------------------------------------------------------------
# Gap 7: time scale


def test_wait_and_retry_backoff_are_scaled(machines: Machines) -> None:
    attempts: list[float] = []

    def flaky(event: Any, context: LambdaContext) -> str:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise SqlStatementFailed("not yet")
        return "done"

    register_lambda_handler("Flaky", flaky)
    definition = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 600, "Next": "Call"},
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Flaky"},
                "OutputPath": "$.Payload",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 200, "BackoffRate": 2, "MaxAttempts": 3}],
                "End": True,
            },
        },
    }
    started = time.monotonic()
    assert output_of(machines.run(definition)) == "done"
    elapsed = time.monotonic() - started
    # Unscaled this is 600 + 200 + 400 s; scaled by 0.001 it is 1.2 s of waiting.
    assert 1.2 * 0.9 <= elapsed < 20, elapsed
    assert attempts[2] - attempts[1] >= 400 * TIME_SCALE * 0.9  # the backoff rate is kept


def test_time_scale_is_one_outside_activation_and_nested_activations_stack() -> None:
    assert time_scale() == 1.0
    with activate(time_scale=0.5):
        with activate(time_scale=TIME_SCALE):
            with activate(time_scale=0.5):
                assert time_scale() == 0.5
            assert time_scale() == TIME_SCALE
        assert time_scale() == 0.5
    assert time_scale() == 1.0


# --------------------------------------------------------------------------------------------------------------------
# Behaviour moto already has: verified so that a moto upgrade cannot silently lose it


def test_dynamodb_guard_conditional_update_is_catchable_and_put_and_sns_work(machines: Machines) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="guard",
        KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    definition = {
        "StartAt": "Arm",
        "States": {
            "Arm": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "guard", "Item": {"JobID": {"S": "sales"}, "JobState": {"S": "Running"}}},
                "ResultPath": None,
                "Next": "Acquire",
            },
            "Acquire": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": "guard",
                    "Key": {"JobID": {"S": "sales"}},
                    "UpdateExpression": "SET JobState = :running",
                    "ConditionExpression": "JobState = :ready",
                    "ExpressionAttributeValues": {":running": {"S": "Running"}, ":ready": {"S": "Ready"}},
                },
                "Catch": [
                    {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.guard",
                     "Next": "Notify"}
                ],
                "Next": "Unexpected",
            },
            "Unexpected": {"Type": "Fail", "Error": "GuardNotHeld"},
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic, "Message.$": "States.Format('job {} skipped', $.job)"},
                "ResultSelector": {"id.$": "$.MessageId"},
                "ResultPath": "$.published",
                "End": True,
            },
        },
    }
    result = output_of(machines.run(definition, {"job": "sales"}))
    assert result["guard"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "conditional request failed" in result["guard"]["Cause"]
    assert result["published"]["id"]
    item = ddb.get_item(TableName="guard", Key={"JobID": {"S": "sales"}})["Item"]
    assert item["JobState"] == {"S": "Running"}
    messages = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert [m["Body"] for m in messages] == ["job sales skipped"]


def test_fail_state_error_path_and_cause_path_with_intrinsics(machines: Machines) -> None:
    definition = {
        "StartAt": "Build",
        "States": {
            "Build": {
                "Type": "Pass",
                "Parameters": {
                    "error.$": "States.Format('Job{}Failed', $.job)",
                    "cause.$": "States.JsonToString($.detail)",
                    "parsed.$": "States.StringToJson($.raw)",
                    "second.$": "States.ArrayGetItem($.items, 1)",
                    "parts.$": "States.StringSplit($.csv, ',')",
                },
                "ResultPath": "$.built",
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.built.parsed.k", "NumericEquals": 1},
                            {"Variable": "$.built.second", "StringEquals": "b"},
                            {"Variable": "$.built.parts[2]", "StringEquals": "z"},
                        ],
                        "Next": "Stop",
                    }
                ],
                "Default": "Wrong",
            },
            "Wrong": {"Type": "Succeed"},
            "Stop": {"Type": "Fail", "ErrorPath": "$.built.error", "CausePath": "$.built.cause"},
        },
    }
    payload = {"job": "Sales", "detail": {"statement": "s-1"}, "raw": '{"k": 1}', "items": ["a", "b"], "csv": "x,y,z"}
    failed = machines.run(definition, payload)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "JobSalesFailed"
    assert json.loads(failed["cause"]) == {"statement": "s-1"}


def test_wait_for_execution_times_out_and_rejects_unknown_arns(machines: Machines) -> None:
    arn = machines.start(machines.create({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100_000,
                                                                              "End": True}}}))
    with pytest.raises(TimeoutError):
        wait_for_execution(arn, timeout=0.05)
    machines.sfn.stop_execution(executionArn=arn)
    assert wait_for_execution(arn, timeout=5) == "ABORTED"
    with pytest.raises(LookupError):
        wait_for_execution(arn.replace(arn.rsplit(":", 1)[1], "missing"))


def test_patches_need_the_stepfunctions_execution_config() -> None:
    # Without execute_state_machine moto keeps its no-op backend; the patches must not break it.
    with mock_aws(), activate():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="noop", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=ROLE_ARN,
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        assert sfn.get_execution_history(executionArn=arn, maxResults=1)["events"]


def test_states_errors_from_parallel_and_map_branches_are_catchable(machines: Machines) -> None:
    """A branch failing with a reserved States.* error (a child execution's States.TaskFailed) reaches the Catch."""
    fail_with_path = {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.cause"}
    definition = {
        "StartAt": "RunBranches",
        "States": {
            "RunBranches": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "FailBranch", "States": {"FailBranch": fail_with_path}}],
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught", "Next": "RunItems"}],
                "Next": "RunItems",
            },
            "RunItems": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"error.$": "$.error", "cause.$": "$.cause"},
                "ItemProcessor": {"StartAt": "FailItem", "States": {"FailItem": fail_with_path}},
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught_item", "Next": "Reraise"}],
                "Next": "Reraise",
            },
            "Reraise": {"Type": "Fail", "ErrorPath": "$.caught.Error", "CausePath": "$.caught_item.Cause"},
        },
    }
    described = machines.run(definition, {"error": "States.TaskFailed", "cause": "child failed", "items": [1]})
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "States.TaskFailed", "child failed")


def test_a_definition_is_parsed_once_and_its_program_serves_concurrent_executions(machines: Machines) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 3,
                "ItemProcessor": {"StartAt": "Double", "States": {"Double": {
                    "Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": True}}},
                "ResultSelector": {"values.$": "$[*].v"},
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}}],
                "OutputPath": "$[0].values",
                "End": True,
            },
        },
    }
    text = json.dumps(definition)
    assert AmazonStateLanguageParser.parse(text) is AmazonStateLanguageParser.parse(text)
    arn = machines.create(definition)
    executions = [machines.start(arn, {"items": list(range(n, n + 5))}) for n in range(8)]
    outputs = [output_of(machines.finish(execution)) for execution in executions]
    assert outputs == [[2 * value for value in range(n, n + 5)] for n in range(8)]


def test_gap_11_the_interpreter_loads_without_ec2_and_a_mocked_batch_still_works():
    """In a fresh interpreter: importing the patches (and the ASL interpreter) leaves EC2's models unloaded,
    and moto's Batch backend, asked for afterwards, still loads and answers."""
    import subprocess
    import sys

    code = (
        "import sys, boto3\n"
        "import shiftflow.local.moto_patches\n"
        "import moto.stepfunctions.parser.backend.execution\n"
        "assert 'moto.ec2.models' not in sys.modules, 'EC2 models imported'\n"
        "import moto.batch\n"
        "assert moto.batch.batch_backends is not None\n"
        "from moto import mock_aws\n"
        "with mock_aws():\n"
        "    queues = boto3.client('batch', region_name='us-east-1').describe_job_queues()['jobQueues']\n"
        "assert queues == [] and 'moto.ec2.models' in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_gap_12_the_context_has_a_redrive_count_in_every_frame(machines: Machines) -> None:
    machine = machines.create(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "StartAt": "Seed",
                        "States": {"Seed": {"Type": "Pass", "Parameters": {
                            "seed.$": "States.Format('{}/redrive-{}', $$.Execution.Name, $$.Execution.RedriveCount)"},
                            "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    arn = machines.start(machine, {"items": [1, 2]})
    name = arn.rsplit(":", 1)[1]
    assert output_of(machines.finish(arn)) == [{"seed": f"{name}/redrive-0"}] * 2


def test_gap_13_a_conditional_write_is_atomic_under_concurrent_threads(monkeypatch) -> None:
    """Eight threads take one guard at once: exactly one write passes its condition. moto reads, checks and writes
    in separate steps; a slow condition check (20 ms) makes the interleaving that broke the guard certain."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import moto.dynamodb.models as dynamodb_models

    original_parser = dynamodb_models.create_condition_expression_parser

    def slow_parser(*args: Any, **kwargs: Any) -> Any:
        parser = original_parser(*args, **kwargs)
        parse = parser.parse

        def parse_slowly() -> Any:
            condition = parse()
            check = condition.expr

            def expr(item: Any) -> bool:
                time.sleep(0.02)
                return check(item)

            condition.expr = expr
            return condition

        parser.parse = parse_slowly
        return parser

    monkeypatch.setattr(dynamodb_models, "create_condition_expression_parser", slow_parser)
    with mock_aws(), moto_patches.activate():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName="guard", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}])
        start = threading.Barrier(8)

        def acquire(owner: int) -> bool:
            start.wait()
            try:
                dynamodb.update_item(
                    TableName="guard", Key={"JobID": {"S": "sales"}},
                    UpdateExpression="SET JobState = :running, OwnerId = :owner",
                    ConditionExpression="attribute_not_exists(JobID) OR JobState = :ready",
                    ExpressionAttributeValues={":running": {"S": "Running"}, ":ready": {"S": "Ready"},
                                               ":owner": {"N": str(owner)}})
            except dynamodb.exceptions.ConditionalCheckFailedException:
                return False
            return True

        with ThreadPoolExecutor(max_workers=8) as pool:
            taken = list(pool.map(acquire, range(8)))
    assert taken.count(True) == 1
