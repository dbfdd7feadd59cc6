"""Gap 20 (shiftflow.local.moto_gaps.stop_ends_callback_waits): StopExecution ends a waitForTaskToken wait at once."""

from __future__ import annotations

import time

import boto3

from shiftflow.local.moto_gaps import wait_for_execution
from tests.unit.local.moto_gaps.conftest import REGION, Machines


def test_gap_20_a_stopped_execution_ends_while_its_task_waits_for_a_token(machines: Machines) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    machine = machines.create({
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                            "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
                            "HeartbeatSeconds": 600, "TimeoutSeconds": 3600, "End": True}},
    })
    arn = machines.start(machine)
    deadline = time.monotonic() + 30
    while not sqs.receive_message(QueueUrl=queue).get("Messages"):  # the task is waiting for its token
        assert time.monotonic() < deadline
    stopped_at = time.monotonic()
    machines.sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped")
    assert wait_for_execution(arn, timeout=30) == "ABORTED"
    assert time.monotonic() - stopped_at < 10  # not the 600-s heartbeat
