"""A run_sql_job execution stopped from outside: its statement keeps running until cancel_abandoned_statement, which
the EventBridge rule invokes on the execution's ABORTED status change, cancels it and waits for its end.

The local runtime sends the status change and routes it to the function (shiftflow.local.cloud.events), in poll and
in event mode alike; the tests also build the event from the stopped execution (DescribeExecution) and invoke the
handler directly, as a second delivery of the rule would.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.functions import load_handler
from shiftflow.local.moto_gaps import wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from tests.conftest import ROOT, SLOW_SQL


@pytest.fixture
def runtime(tmp_path) -> Iterator[LocalRuntime]:
    # Long polls scaled down: the stop takes effect once the running status poll returns.
    with LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, data_api_time_scale=0.05, persist=False) as local:
        yield local


def status_change_event(description: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event Step Functions sends for an execution's status change (epoch-millisecond dates)."""
    millis = lambda value: int(value.timestamp() * 1000) if value else None  # noqa: E731
    arn = description["executionArn"]
    return {
        "version": "0", "id": "6c1f4e2a-8d3b-4f7e-a1c2-3b4d5e6f7a8b",
        "detail-type": "Step Functions Execution Status Change", "source": "aws.states",
        "account": "123456789012", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": "us-east-1",
        "resources": [arn],
        "detail": {
            "executionArn": arn, "stateMachineArn": description["stateMachineArn"], "name": description["name"],
            "status": description["status"], "startDate": millis(description["startDate"]),
            "stopDate": millis(description.get("stopDate")), "input": description["input"],
            "output": None, "inputDetails": {"included": True}, "outputDetails": None, "error": None, "cause": None,
        },
    }


@pytest.mark.parametrize("completion", ["poll", "event"])
def test_a_stopped_sql_job_has_its_statement_cancelled(runtime, lambda_context, completion):
    runtime.client("s3").put_object(Bucket=runtime.deployment.output("ScriptsBucketName"), Key="tests/slow.sql",
                                    Body=SLOW_SQL.encode())
    sfn, data_api = runtime.client("stepfunctions"), runtime.client("redshift-data")
    arn = sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"), input=json.dumps(
        {"workflow": "tests", "job": "slow", "script": "tests/slow.sql", "parameters": {},
         "completion": completion}))["executionArn"]

    deadline = time.monotonic() + 60
    statements: list[dict[str, Any]] = []
    while not (statements and statements[0]["Status"] == "STARTED"):
        assert time.monotonic() < deadline, f"the statement never started: {statements}"
        time.sleep(0.05)
        statements = data_api.list_statements(StatementName="tests.slow", Status="ALL")["Statements"]
    (statement,) = statements

    sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped from the console")
    assert wait_for_execution(arn, timeout=60) == "ABORTED"
    # Nothing in the execution cancels its SQL any more: the routed status change does.
    assert wait_until(lambda: data_api.describe_statement(Id=statement["Id"])["Status"] == "ABORTED", timeout=60), (
        "the stopped job's statement was never cancelled")

    # A second delivery of the same event (EventBridge delivers at least once) finds it ended and leaves it so.
    cancel = load_handler(ROOT / "functions" / "cancel_abandoned_statement", "app.lambda_handler")
    again = cancel(status_change_event(sfn.describe_execution(executionArn=arn)), lambda_context)
    assert again == {"execution_arn": arn, "statement_id": statement["Id"], "status": "ABORTED"}


def test_an_execution_stopped_before_it_submitted_anything_is_a_no_op(runtime, lambda_context):
    sfn = runtime.client("stepfunctions")
    machine = runtime.deployment.state_machine_arn("run_sql_job")
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(
        {"workflow": "tests", "job": "missing", "script": "tests/missing.sql", "parameters": {}}))["executionArn"]
    assert wait_for_execution(arn, timeout=60) == "FAILED"  # the script is missing: no statement was submitted
    event = status_change_event(sfn.describe_execution(executionArn=arn))
    event["detail"]["status"] = "ABORTED"  # as if stopped while submitting: the history holds no submission either
    cancel = load_handler(ROOT / "functions" / "cancel_abandoned_statement", "app.lambda_handler")
    assert cancel(event, lambda_context) == {"execution_arn": arn, "statement_id": None, "status": None}
    assert runtime.client("redshift-data").list_statements(StatementName="tests.missing", Status="ALL")["Statements"] == []


def test_a_job_that_failed_on_its_sql_has_its_ended_statement_left_as_it_is(runtime):
    """The rule routes FAILED executions too (a failure no Catch sees leaves a statement running); a job that failed
    on its own SQL meets the cancel with its statement already FAILED: the function reports it and changes nothing."""
    answers: list[tuple[dict[str, Any], dict[str, Any]]] = []
    invoke = runtime.deliverer.invoke

    def recording(function_arn: str, region: str, payload: bytes) -> dict[str, Any]:
        response = invoke(function_arn, region, payload)
        if function_arn.endswith("CancelAbandonedStatementFunction"):
            body = response["Payload"].read()
            answers.append((json.loads(payload), json.loads(body)))
            response = {**response, "Payload": io.BytesIO(body)}
        return response

    runtime.deliverer.invoke = recording
    runtime.client("s3").put_object(Bucket=runtime.deployment.output("ScriptsBucketName"), Key="tests/bad.sql",
                                    Body=b"select nope from nowhere;")
    sfn, data_api = runtime.client("stepfunctions"), runtime.client("redshift-data")
    arn = sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"), input=json.dumps(
        {"workflow": "tests", "job": "bad", "script": "tests/bad.sql", "parameters": {},
         "completion": "poll"}))["executionArn"]
    assert wait_for_execution(arn, timeout=60) == "FAILED"
    assert wait_until(lambda: answers, timeout=60), "the FAILED execution's status change never reached the function"
    ((event, answer),) = answers
    (statement,) = data_api.list_statements(StatementName="tests.bad", Status="ALL")["Statements"]
    assert event["detail"]["status"] == "FAILED"
    assert answer == {"execution_arn": arn, "statement_id": statement["Id"], "status": "FAILED"}
    assert data_api.describe_statement(Id=statement["Id"])["Status"] == "FAILED"
