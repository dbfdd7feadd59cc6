"""Gap 21 (shiftflow.local.moto_gaps.stop_error_and_cause): StopExecution's error and cause are kept."""

from __future__ import annotations

from shiftflow.local.cloud.client import wait_until
from tests.unit.local.moto_gaps.conftest import Machines


def test_gap_21_a_stopped_execution_keeps_the_error_and_cause_it_was_stopped_with(machines: Machines) -> None:
    machine = machines.create({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
    execution = machines.start(machine)
    assert wait_until(lambda: any(event["type"] == "WaitStateEntered" for event in
                                  machines.sfn.get_execution_history(executionArn=execution)["events"]), timeout=30)
    machines.sfn.stop_execution(executionArn=execution, error="OperatorStop", cause="stopped from the console")
    described = machines.finish(execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED", "OperatorStop", "stopped from the console")
    last = machines.sfn.get_execution_history(executionArn=execution)["events"][-1]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {"error": "OperatorStop", "cause": "stopped from the console"}
