"""Gap 9 (shiftflow.local.moto_gaps.states_errors_in_branches): States.* errors out of Parallel and Map branches."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines


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
