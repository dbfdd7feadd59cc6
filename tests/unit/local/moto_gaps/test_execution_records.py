"""Gap 5 (shiftflow.local.moto_gaps.execution_records): names, context, datetimes, history paging."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from tests.unit.local.moto_gaps.conftest import ISO_MS, Machines, output_of


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


def test_an_execution_name_and_input_are_checked_as_aws_checks_them(machines: Machines) -> None:
    """StartExecution's `name`: no white space, brackets, wildcards, special characters (" # % \\ ^ | ~ ` $ & , ; : /)
    nor control characters (InvalidName), 1-80 characters (the model's length: ValidationException) (Step Functions API
    reference, StartExecution); `input` is JSON, at most 262,144 bytes (the model's SensitiveData)."""
    machine = machines.create({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    for name, error in (("bad name", "InvalidName"), ("a/b", "InvalidName"), ("x" * 81, "ValidationException")):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            machines.sfn.start_execution(stateMachineArn=machine, name=name, input="{}")
        assert refused.value.response["Error"]["Code"] == error, name
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        machines.sfn.start_execution(stateMachineArn=machine, input="not json")
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidExecutionInput"
    assert error["Message"].startswith("Invalid State Machine Execution Input: '")
    big = '"' + "é" * (131_072 - 1) + '"'  # 262,144 bytes of UTF-8 with its quotes: the most StartExecution takes
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        machines.sfn.start_execution(stateMachineArn=machine, input=big[:-1] + 'a"')
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert output_of(machines.finish(machines.sfn.start_execution(
        stateMachineArn=machine, name="x" * 80, input="{}")["executionArn"])) == {}
    assert output_of(machines.finish(machines.sfn.start_execution(stateMachineArn=machine, input=big)[
        "executionArn"])) == json.loads(big)
