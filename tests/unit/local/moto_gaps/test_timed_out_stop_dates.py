"""Gap 32 (shiftflow.local.moto_gaps.timed_out_stop_dates): a TIMED_OUT execution has ended, so DescribeExecution and
ListExecutions give its stopDate, as for SUCCEEDED, FAILED and ABORTED ones (API model: "If the execution ended, the
date the execution stopped")."""

from __future__ import annotations

import json
from typing import Any

from shiftflow.local.cloud.client import wait_until


def test_a_timed_out_execution_has_its_stop_date(sfn: Any):
    arn = sfn.create_state_machine(name="slow", roleArn="arn:aws:iam::123456789012:role/r", definition=json.dumps(
        {"TimeoutSeconds": 1, "StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    ))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_until(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", timeout=30,
                      interval=0.05)
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "TIMED_OUT"
    assert described["startDate"] < described["stopDate"]
    [listed] = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert (listed["status"], listed["stopDate"]) == ("TIMED_OUT", described["stopDate"])
    assert [event["type"] for event in sfn.get_execution_history(executionArn=execution)["events"]][-1] == \
        "ExecutionTimedOut"
