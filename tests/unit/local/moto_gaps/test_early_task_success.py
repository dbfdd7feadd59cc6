"""Gap 22 (shiftflow.local.moto_gaps.early_task_success): a token completed before its task waits is not lost."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from shiftflow.local.moto_gaps import register_lambda_handler
from tests.unit.local.moto_gaps.conftest import REGION, Machines


def test_gap_22_a_token_completed_before_the_heartbeat_wait_begins_completes_the_task(machines: Machines) -> None:
    """The resource completes the token itself, before the task can wait: the task succeeds with that output at
    once, not after its heartbeat with States.HeartbeatTimeout."""

    def complete_at_once(event: dict[str, Any], context: Any) -> dict[str, str]:
        boto3.client("stepfunctions", region_name=REGION).send_task_success(
            taskToken=event["token"], output='{"resumed": true}')
        return {"sent": "yes"}

    register_lambda_handler("complete-at-once", complete_at_once)
    machine = machines.create({
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Parameters": {"FunctionName": "complete-at-once", "Payload": {"token.$": "$$.Task.Token"}},
                            "HeartbeatSeconds": 600, "TimeoutSeconds": 3600, "End": True}},
    })
    started = time.monotonic()
    described = machines.finish(machines.start(machine), timeout=30)
    assert (described["status"], json.loads(described.get("output") or "null")) == ("SUCCEEDED", {"resumed": True})
    assert time.monotonic() - started < 10  # not the 600-s heartbeat
