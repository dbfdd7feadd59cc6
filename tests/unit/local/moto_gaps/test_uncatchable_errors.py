"""Gap 14 (shiftflow.local.moto_gaps.uncatchable_errors): States.ALL catches neither States.Runtime nor
States.DataLimitExceeded; States.Runtime is never retried or caught."""

from __future__ import annotations

from typing import Any

from shiftflow.local.moto_gaps import register_lambda_handler
from tests.unit.local.moto_gaps.conftest import Machines, output_of

CAUGHT = {"Caught": {"Type": "Pass", "Result": "caught", "End": True}}
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
RETRY_ALL = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}]


def guarded_task(extra: dict[str, Any]) -> dict:
    """A Parallel (a state with Retry and Catch) of one Pass branch, plus the fields under test."""
    branch = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    state = {"Type": "Parallel", "Branches": [branch], "Retry": RETRY_ALL, "Catch": CATCH_ALL, "End": True, **extra}
    return {"StartAt": "Guarded", "States": {"Guarded": state, **CAUGHT}}


def assert_failed_at_once(described: dict, cause_part: str) -> None:
    assert described["status"] == "FAILED", described.get("output")
    assert described["error"] == "States.Runtime"
    assert cause_part in described["cause"]


def test_missing_path_in_parameters_fails_the_execution_despite_retry_and_catch(machines: Machines) -> None:
    described = machines.run(guarded_task({"Parameters": {"id.$": "$.summary.result_statement_id"}}), {"summary": {}})
    assert_failed_at_once(
        described, "The JSONPath '$.summary.result_statement_id' specified for the field 'id.$' could not be found"
    )
    events = machines.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    assert [e["type"] for e in events].count("ParallelStateEntered") == 1  # not retried


def test_missing_path_in_result_selector_fails_the_execution(machines: Machines) -> None:
    described = machines.run(guarded_task({"ResultSelector": {"rows.$": "$[0].rows"}}), {"other": 1})
    assert_failed_at_once(described, "'$[0].rows'")


def test_result_path_that_cannot_be_applied_fails_the_execution(machines: Machines) -> None:
    described = machines.run(guarded_task({"ResultPath": "$.summary.result"}), {"summary": "not an object"})
    assert_failed_at_once(described, "Unable to apply ResultPath '$.summary.result'")


def test_missing_input_and_output_paths_fail_the_execution(machines: Machines) -> None:
    assert_failed_at_once(machines.run(guarded_task({"InputPath": "$.absent"}), {}), "$.absent")
    assert_failed_at_once(machines.run(guarded_task({"OutputPath": "$.absent"}), {}), "$.absent")


def test_states_runtime_from_a_branch_is_not_caught_by_the_parallel(machines: Machines) -> None:
    branch = {"StartAt": "Pick", "States": {"Pick": {"Type": "Pass", "InputPath": "$.absent", "End": True}}}
    definition = {
        "StartAt": "Stage",
        "States": {
            "Stage": {"Type": "Parallel", "Branches": [branch], "Catch": CATCH_ALL, "End": True},
            **CAUGHT,
        },
    }
    assert_failed_at_once(machines.run(definition, {}), "$.absent")


def test_a_catcher_naming_states_runtime_does_not_catch_it_either(machines: Machines) -> None:
    definition = guarded_task({"InputPath": "$.absent"})
    definition["States"]["Guarded"]["Catch"] = [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}]
    definition["States"]["Guarded"]["InputPath"] = "$"
    definition["States"]["Guarded"]["Parameters"] = {"x.$": "$.absent"}
    assert_failed_at_once(machines.run(definition, {}), "$.absent")


def test_data_limit_exceeded_is_caught_only_by_a_catcher_naming_it(machines: Machines) -> None:
    register_lambda_handler("Big", lambda event, context: "x" * (256 * 1024 + 1))
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "Big", "Payload": {}},
        "Catch": CATCH_ALL,
        "End": True,
    }
    failed = machines.run({"StartAt": "Call", "States": {"Call": task, **CAUGHT}}, {})
    assert (failed["status"], failed["error"]) == ("FAILED", "States.DataLimitExceeded")

    named = {**task, "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "ResultPath": None, "Next": "Caught"}]}
    assert output_of(machines.run({"StartAt": "Call", "States": {"Call": named, **CAUGHT}}, {})) == "caught"


def test_task_errors_are_still_caught_by_states_all(machines: Machines) -> None:
    failing = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "SqlStatementFailed", "Cause": "x"}}}
    definition = {
        "StartAt": "Stage",
        "States": {"Stage": {"Type": "Parallel", "Branches": [failing], "Catch": CATCH_ALL, "End": True}, **CAUGHT},
    }
    assert output_of(machines.run(definition, {})) == "caught"
