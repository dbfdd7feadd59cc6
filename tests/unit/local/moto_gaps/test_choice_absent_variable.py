"""Gap 16 (shiftflow.local.moto_gaps.choice_absent_variable): a comparison on an absent Choice variable fails the
execution with States.Runtime; IsPresent tests presence."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines, output_of


def route(rule: dict) -> dict:
    return {
        "StartAt": "Route",
        "States": {
            "Route": {"Type": "Choice", "Choices": [{**rule, "Next": "Matched"}], "Default": "Default"},
            "Matched": {"Type": "Pass", "Result": "matched", "End": True},
            "Default": {"Type": "Pass", "Result": "default", "End": True},
        },
    }


def test_comparison_on_an_absent_variable_fails_with_states_runtime(machines: Machines) -> None:
    for rule in (
        {"Variable": "$.summary.result_statement_id", "IsNull": False},
        {"Variable": "$.status", "StringEquals": "FINISHED"},
        {"Not": {"Variable": "$.rows", "NumericGreaterThan": 0}},
    ):
        described = machines.run(route(rule), {"summary": {}})
        assert (described["status"], described["error"]) == ("FAILED", "States.Runtime"), rule
        assert "The choice state's condition path references an invalid value." in described["cause"]


def test_is_present_and_present_variables_route_as_before(machines: Machines) -> None:
    assert output_of(machines.run(route({"Variable": "$.id", "IsPresent": True}), {})) == "default"
    assert output_of(machines.run(route({"Variable": "$.id", "IsPresent": True}), {"id": None})) == "matched"
    assert output_of(machines.run(route({"Variable": "$.id", "IsNull": True}), {"id": None})) == "matched"
    guarded = {"And": [{"Variable": "$.id", "IsPresent": True}, {"Variable": "$.id", "StringEquals": "s-1"}]}
    assert output_of(machines.run(route(guarded), {})) == "default"
