"""Gap 18 (shiftflow.local.moto_gaps.error_cause_sizes): Error cut to 256 characters and Cause to 32,768, in the
history, the execution's description and what a Catcher passes on."""

from __future__ import annotations

from typing import Any

from shiftflow.local.moto_gaps import register_lambda_handler
from tests.unit.local.moto_gaps.conftest import Machines, output_of

MAX_ERROR, MAX_CAUSE = 256, 32_768


def test_fail_state_error_and_cause_are_cut_in_the_execution_and_its_history(machines: Machines) -> None:
    error, cause = "E" * 300, "c" * 40_000
    described = machines.run({"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": error, "Cause": cause}}})
    assert (described["error"], described["cause"]) == (error[:MAX_ERROR], cause[:MAX_CAUSE])
    events = machines.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert (len(failed["error"]), len(failed["cause"])) == (MAX_ERROR, MAX_CAUSE)


def test_a_catcher_receives_the_cut_error_and_cause(machines: Machines) -> None:
    class LongMessage(Exception):
        pass

    def handler(event: Any, context: Any) -> None:
        raise LongMessage("m" * 40_000)  # the Lambda error payload (with its stack trace) is past 32,768

    register_lambda_handler("Long", handler)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Long", "Payload": {}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    failure = output_of(machines.run(definition))["failure"]
    assert failure["Error"] == "LongMessage"
    assert len(failure["Cause"]) == MAX_CAUSE
    assert failure["Cause"].replace(" ", "").startswith('{"errorMessage":"mmm')
