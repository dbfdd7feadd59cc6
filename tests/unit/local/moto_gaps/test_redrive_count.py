"""Gap 12 (shiftflow.local.moto_gaps.redrive_count): $$.Execution.RedriveCount in every frame."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines, output_of


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
