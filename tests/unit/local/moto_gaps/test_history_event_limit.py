"""Gap 19 (shiftflow.local.moto_gaps.history_event_limit): an execution fails when its history reaches 25,000
events, the ExecutionFailed event being the 25,000th; no Catch can stop it."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines


def test_an_endless_loop_fails_at_the_25000th_event(machines: Machines) -> None:
    # A counter that never reaches its end: 4 events a round (Choice and Pass, entered and exited).
    definition = {
        "StartAt": "Done?",
        "States": {
            "Done?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 1_000_000, "Next": "Done"}],
                "Default": "Count",
            },
            "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Done?"},
            "Done": {"Type": "Succeed"},
        },
    }
    described = machines.finish(machines.start(machines.create(definition), {"n": 0}), timeout=300)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert "The execution reached the maximum number of history events (25000)." in described["cause"]
    last = machines.sfn.get_execution_history(executionArn=described["executionArn"], reverseOrder=True,
                                              maxResults=2)["events"]
    assert [(e["id"], e["type"]) for e in last] == [(25_000, "ExecutionFailed"), (24_999, "ChoiceStateExited")]
