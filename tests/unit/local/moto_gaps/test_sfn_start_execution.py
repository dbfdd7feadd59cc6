"""Gap 3 (shiftflow.local.moto_gaps.sfn_start_execution): states:startExecution (.sync:2, .sync, plain)."""

from __future__ import annotations

import datetime
import json

from shiftflow.local.moto_gaps import wait_for_execution
from tests.unit.local.moto_gaps.conftest import ISO_MS, Machines, output_of


CHILD = {
    "StartAt": "Route",
    "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
                  "Default": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"rows.$": "$.rows"}, "End": True},
        "Fail": {"Type": "Fail", "Error": "ChildFailed", "Cause": "statement s-9 failed"},
    },
}


def parent(resource: str, child_arn: str) -> dict:
    return {
        "StartAt": "Child",
        "States": {
            "Child": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::{resource}",
                "Parameters": {"StateMachineArn": child_arn, "Input.$": "$"},
                "End": True,
            }
        },
    }


def test_start_execution_sync2_waits_and_returns_the_parsed_output(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    result = output_of(machines.run(parent("states:startExecution.sync:2", child_arn), {"fail": False, "rows": 7}))
    assert result["Status"] == "SUCCEEDED"
    assert result["Output"] == {"rows": 7}
    assert result["Input"] == {"fail": False, "rows": 7}
    assert result["StateMachineArn"] == child_arn
    assert ISO_MS.match(result["StartDate"]) and ISO_MS.match(result["StopDate"])
    child = machines.sfn.describe_execution(executionArn=result["ExecutionArn"])
    assert child["status"] == "SUCCEEDED"


def test_parent_resumes_as_soon_as_the_child_ends(machines: Machines) -> None:
    # moto polled the child every 0.5 s; the parent must now see the end at once (the child waits 60 ms).
    child_arn = machines.create(CHILD, name="child")
    parent_arn = machines.start(machines.create(parent("states:startExecution.sync:2", child_arn)), {"fail": False, "rows": 1})
    description = machines.finish(parent_arn)
    child_stop = datetime.datetime.fromisoformat(output_of(description)["StopDate"].replace("Z", "+00:00"))
    events = machines.sfn.get_execution_history(executionArn=parent_arn, reverseOrder=True)["events"]
    task_succeeded = next(e for e in events if e["type"] == "TaskSucceeded")
    assert (task_succeeded["timestamp"] - child_stop).total_seconds() < 0.2


def test_start_execution_sync_returns_the_output_as_a_string(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    result = output_of(machines.run(parent("states:startExecution.sync", child_arn), {"fail": False, "rows": 3}))
    assert result["Status"] == "SUCCEEDED"
    assert json.loads(result["Output"]) == {"rows": 3}


def test_failed_child_fails_the_parent_task_with_states_task_failed(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    for resource in ("states:startExecution.sync:2", "states:startExecution.sync"):
        failed = machines.run(parent(resource, child_arn), {"fail": True})
        assert failed["status"] == "FAILED"
        assert failed["error"] == "States.TaskFailed"
        cause = json.loads(failed["cause"])
        assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "ChildFailed", "statement s-9 failed")
        assert ISO_MS.match(cause["StopDate"])


def test_plain_start_execution_returns_at_once(machines: Machines) -> None:
    child_arn = machines.create(CHILD, name="child")
    result = output_of(machines.run(parent("states:startExecution", child_arn), {"fail": False, "rows": 1}))
    assert set(result) == {"ExecutionArn", "StartDate"}
    assert wait_for_execution(result["ExecutionArn"]) == "SUCCEEDED"
