"""Gap 4 (shiftflow.local.moto_gaps.definite_jsonpath): definite JSONPath yields the value, as on AWS."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines, output_of


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
