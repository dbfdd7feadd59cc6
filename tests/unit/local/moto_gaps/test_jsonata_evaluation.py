"""Gap 6 (shiftflow.local.moto_gaps.jsonata_evaluation): JSONata through jsonata-python."""

from __future__ import annotations

from shiftflow.local.moto_gaps import register_lambda_handler
from tests.unit.local.moto_gaps.conftest import Machines, output_of


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
