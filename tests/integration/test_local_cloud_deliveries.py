"""The template's EventBridge rules deliver to their Lambda targets as AWS does asynchronously: a failing function
is retried as its EventInvokeConfig says (twice, a minute and then two apart: compressed here), then its invocation
record lands in its on-failure queue, read with a plain boto3 SQS client on the local cloud's endpoint."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shiftflow.local.cloud import events
from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.server import LocalCloud
from shiftflow.local.moto_gaps import register_lambda_handler
from shiftflow.local.runtime import ACCOUNT_ID, REGION
from tests.conftest import ROOT

COMPRESSION = 600.0  # Lambda's one- and two-minute waits before its retries: 0.1 s and 0.2 s


@pytest.fixture
def cloud(tmp_path) -> Iterator[LocalCloud]:
    with LocalCloud(ROOT, tmp_path / "state", log_level="WARNING", time_compression=COMPRESSION) as local:
        yield local


def _failing_heal(cloud: LocalCloud, failures: int) -> list[dict[str, Any]]:
    """HealEndedRunFunction replaced by a handler failing its first `failures` calls; the events it was called with."""
    calls: list[dict[str, Any]] = []
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            calls.append(event)
            if len(calls) <= failures:
                raise RuntimeError(f"heal failed on call {len(calls)}")
        return {"healed": True}

    register_lambda_handler(cloud.runtime.resolver.resolve({"Ref": "HealEndedRunFunction"}), handler)
    return calls


def _a_failed_pipeline_run(cloud: LocalCloud) -> dict[str, Any]:
    moment = datetime.datetime.now(datetime.timezone.utc)
    pipeline = cloud.runtime.deployment.state_machine_arn("sales_data_pipeline")
    record = {"executionArn": pipeline.replace(":stateMachine:", ":execution:") + ":failed-by-hand",
              "stateMachineArn": pipeline, "name": "failed-by-hand", "status": "FAILED", "startDate": moment,
              "stopDate": moment, "input": {}, "output": None, "error": "Boom", "cause": "by hand"}
    events.put_status_changes([record], ACCOUNT_ID, REGION)  # as Step Functions sends it
    return record


def _messages(cloud: LocalCloud, logical_id: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", endpoint_url=cloud.url, region_name=REGION)
    url = sqs.get_queue_url(QueueName=f"shiftflow-local-{logical_id}")["QueueUrl"]
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                               MessageAttributeNames=["All"]).get("Messages", [])


def test_a_target_failing_every_time_is_retried_twice_then_lands_in_its_failure_queue(cloud: LocalCloud):
    calls = _failing_heal(cloud, failures=100)
    record = _a_failed_pipeline_run(cloud)
    assert cloud.deliverer.wait(timeout=60)
    assert len(calls) == 3 and {call["detail"]["executionArn"] for call in calls} == {record["executionArn"]}
    [message] = _messages(cloud, "HealEndedRunFailureQueue")
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["requestContext"]["functionArn"].endswith(":function:shiftflow-local-HealEndedRunFunction:$LATEST")
    assert body["requestPayload"]["detail"]["executionArn"] == record["executionArn"]
    assert body["responsePayload"]["errorType"] == "RuntimeError"
    assert body["responsePayload"]["errorMessage"] == "heal failed on call 3"
    assert not list((cloud.state_dir / "deliveries").glob("*.json"))  # done: nothing pending on disk
    assert _messages(cloud, "CancelAbandonedStatementFailureQueue") == []  # the other rule did not match


def test_a_target_failing_twice_then_succeeding_leaves_its_failure_queue_empty(cloud: LocalCloud):
    calls = _failing_heal(cloud, failures=2)
    _a_failed_pipeline_run(cloud)
    assert wait_until(lambda: len(calls) == 3, timeout=60) and cloud.deliverer.wait(timeout=60)
    assert _messages(cloud, "HealEndedRunFailureQueue") == []
