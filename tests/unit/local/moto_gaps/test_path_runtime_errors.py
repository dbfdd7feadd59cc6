"""Gap 15 (shiftflow.local.moto_gaps.path_runtime_errors): ResultPath, ItemsPath, ErrorPath and CausePath that
cannot be applied fail the execution with States.Runtime."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines, output_of

CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
CAUGHT = {"Caught": {"Type": "Pass", "Result": "caught", "End": True}}


def map_over(items_path: str) -> dict:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": items_path,
                "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}},
                "Catch": CATCH_ALL,
                "End": True,
            },
            **CAUGHT,
        },
    }


def test_pass_result_path_into_a_string_fails_with_states_runtime(machines: Machines) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": True}}}
    described = machines.run(definition, {"a": "text"})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert "Unable to apply ResultPath '$.a.b'" in described["cause"]


def test_items_path_absent_or_not_an_array_fails_despite_catch(machines: Machines) -> None:
    absent = machines.run(map_over("$.jobs"), {})
    assert (absent["status"], absent["error"]) == ("FAILED", "States.Runtime")
    assert "specified for the field 'ItemsPath'" in absent["cause"]
    scalar = machines.run(map_over("$.jobs"), {"jobs": "fact"})
    assert (scalar["status"], scalar["error"]) == ("FAILED", "States.Runtime")
    assert "must select an array" in scalar["cause"]
    assert output_of(machines.run(map_over("$.jobs"), {"jobs": [1, 2]})) == [1, 2]


def test_fail_state_error_and_cause_paths_must_select_strings(machines: Machines) -> None:
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.cause"}}}
    numeric_error = machines.run(definition, {"error": 1, "cause": "text"})
    assert (numeric_error["error"], "The ErrorPath '$.error' must select a string") == (
        "States.Runtime", numeric_error["cause"].split(". ", 1)[1].split(", it")[0]
    )
    object_cause = machines.run(definition, {"error": "JobFailed", "cause": {"rows": 1}})
    assert object_cause["error"] == "States.Runtime"
    assert "The CausePath '$.cause' must select a string" in object_cause["cause"]
    strings = machines.run(definition, {"error": "JobFailed", "cause": "statement failed"})
    assert (strings["error"], strings["cause"]) == ("JobFailed", "statement failed")
