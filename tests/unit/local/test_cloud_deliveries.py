"""Deliveries to Lambda targets (shiftflow.local.cloud.deliveries), with stand-ins for Lambda and SQS: EventBridge's
retry policy and dead-letter queue for a call that cannot be made, Lambda's retries and failure destination for a
function that fails, every pending delivery on disk until it is done, resumed by a new deliverer."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.deliveries import Deliverer, Delivery, DeliveryFiles, FunctionAsyncConfig

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:heal"
RULE = "arn:aws:events:us-east-1:123456789012:rule/run-ended"
DLQ = "arn:aws:sqs:us-east-1:123456789012:rule-dlq"
ON_FAILURE = "arn:aws:sqs:us-east-1:123456789012:on-failure"
EVENT = {"id": "event-1", "detail-type": "Step Functions Execution Status Change", "detail": {"status": "FAILED"}}


class FakeAws:
    """Lambda answering from a script of outcomes ("ok", "error", or an error code the call raises), and SQS."""

    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes
        self.calls = 0
        self.sent: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        return self

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        assert (FunctionName, json.loads(Payload)) == (FUNCTION, EVENT)
        with self.lock:
            outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
            self.calls += 1
        if outcome == "ok":
            return {"StatusCode": 200, "Payload": io.BytesIO(b"null")}
        if outcome == "error":
            return {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                    "Payload": io.BytesIO(b'{"errorMessage": "boom", "errorType": "RuntimeError"}'),
                    "ResponseMetadata": {"HTTPHeaders": {"x-amzn-requestid": "request-1"}}}
        raise ClientError({"Error": {"Code": outcome, "Message": f"{outcome} from Lambda"}}, "Invoke")

    def get_queue_url(self, QueueName: str, QueueOwnerAWSAccountId: str) -> dict[str, str]:  # noqa: N803
        return {"QueueUrl": f"https://sqs.local/{QueueOwnerAWSAccountId}/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: dict[str, Any]) -> None:  # noqa: N803
        with self.lock:
            self.sent.append((QueueUrl.rsplit("/", 1)[-1], json.loads(MessageBody),
                              {key: value["StringValue"] for key, value in MessageAttributes.items()}))


def _delivery(**policy: Any) -> Delivery:
    rule = type("Rule", (), {"arn": RULE, "region_name": "us-east-1"})()
    target = {"Id": "heal", "Arn": FUNCTION, "DeadLetterConfig": {"Arn": DLQ}, "RetryPolicy": policy}
    return Delivery.for_target(rule, target, EVENT)


def _deliverer(tmp_path: Path, aws: FakeAws, retries: int = 2) -> Deliverer:
    functions = {FUNCTION: FunctionAsyncConfig(maximum_retry_attempts=retries, on_failure_queue_arn=ON_FAILURE)}
    return Deliverer(DeliveryFiles(tmp_path), functions, time_compression=10_000.0, make_client=aws.client)


def test_a_function_failing_every_time_runs_three_times_then_its_record_goes_to_the_failure_destination(tmp_path):
    aws = FakeAws(["error"])
    deliverer = _deliverer(tmp_path, aws)
    deliverer.accept(_delivery())
    assert deliverer.wait(timeout=30)
    assert aws.calls == 3  # the first run and Lambda's two retries
    [(queue, record, attributes)] = aws.sent
    assert queue == "on-failure" and attributes == {}
    assert record["requestContext"] == {"requestId": "request-1", "functionArn": f"{FUNCTION}:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == EVENT and record["responsePayload"]["errorMessage"] == "boom"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert DeliveryFiles(tmp_path).pending() == []  # done: its record is gone


def test_a_function_that_fails_twice_then_succeeds_sends_nothing_to_the_failure_queues(tmp_path):
    aws = FakeAws(["error", "error", "ok"])
    deliverer = _deliverer(tmp_path, aws)
    deliverer.accept(_delivery())
    assert deliverer.wait(timeout=30)
    assert (aws.calls, aws.sent) == (3, [])


def test_a_function_without_retries_fails_once(tmp_path):
    aws = FakeAws(["error"])
    deliverer = _deliverer(tmp_path, aws, retries=0)
    deliverer.accept(_delivery())
    assert deliverer.wait(timeout=30)
    assert aws.calls == 1 and [queue for queue, _, _ in aws.sent] == ["on-failure"]


def test_a_throttled_call_is_retried_by_the_rule_targets_policy_then_dead_lettered(tmp_path):
    aws = FakeAws(["TooManyRequestsException"])
    deliverer = _deliverer(tmp_path, aws)
    deliverer.accept(_delivery(MaximumRetryAttempts=4, MaximumEventAgeInSeconds=3600))
    assert deliverer.wait(timeout=60)
    assert aws.calls == 5  # the first call and four retries
    [(queue, body, attributes)] = aws.sent
    assert (queue, body) == ("rule-dlq", EVENT)
    assert attributes == {"RULE_ARN": RULE, "TARGET_ARN": FUNCTION, "ERROR_CODE": "THROTTLING",
                          "ERROR_MESSAGE": "TooManyRequestsException from Lambda",
                          "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts", "RETRY_ATTEMPTS": "4"}


def test_a_missing_function_is_not_retried_and_goes_to_the_dead_letter_queue_at_once(tmp_path):
    aws = FakeAws(["ResourceNotFoundException"])
    deliverer = _deliverer(tmp_path, aws)
    deliverer.accept(_delivery(MaximumRetryAttempts=20))
    assert deliverer.wait(timeout=30)
    assert aws.calls == 1
    [(_, body, attributes)] = aws.sent
    assert body == EVENT and attributes["ERROR_CODE"] == "NO_RESOURCE" and "RETRY_ATTEMPTS" not in attributes


def test_a_pending_delivery_is_on_disk_and_a_new_deliverer_resumes_it(tmp_path):
    """A stop (or a kill) while a retry waits: the record stays, with the attempts made; the next cloud's deliverer
    carries on from there."""
    aws = FakeAws(["error", "error", "ok"])
    slow = Deliverer(DeliveryFiles(tmp_path), {FUNCTION: FunctionAsyncConfig()}, time_compression=1.0,
                     make_client=aws.client)  # the first retry waits a real minute
    slow.accept(_delivery())
    assert wait_until(lambda: [d.invocations for d in DeliveryFiles(tmp_path).pending()] == [1], timeout=30)
    slow.stop()
    assert slow.wait(timeout=10)
    [pending] = DeliveryFiles(tmp_path).pending()
    assert (pending.event, pending.invocations, pending.function_arn) == (EVENT, 1, FUNCTION)

    pending.due_at = 0.0  # the retry's time has come (the next cloud starts later)
    DeliveryFiles(tmp_path).save(pending)
    resumed = _deliverer(tmp_path, aws)
    assert [delivery.id for delivery in resumed.resume()] == [pending.id]
    assert resumed.wait(timeout=30)
    assert aws.calls == 3 and aws.sent == [] and DeliveryFiles(tmp_path).pending() == []


class BlockingAws(FakeAws):
    """Lambda whose handler runs until `release` is set (an attempt under way when the deliverer stops)."""

    def __init__(self) -> None:
        super().__init__(["ok"])
        self.started, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.started.set()
        self.release.wait(30)
        answer = super().invoke(FunctionName, InvocationType, Payload)
        self.finished.set()
        return answer


def test_a_stop_waits_for_the_attempt_under_way_and_starts_no_other(tmp_path):
    """An in-process handler left running past its runtime's stop goes on calling whatever stack the process serves
    next (the next runtime's emulator knows none of its statements): the stop returns once it has ended."""
    aws = BlockingAws()
    deliverer = _deliverer(tmp_path, aws)
    deliverer.accept(_delivery())
    assert aws.started.wait(30)
    threading.Timer(0.3, aws.release.set).start()
    assert deliverer.stop() is True
    assert aws.finished.is_set() and DeliveryFiles(tmp_path).pending() == []
    deliverer.accept(_delivery())  # accepted after the stop: on disk for the next cloud, not attempted
    assert deliverer.wait(timeout=10)
    assert aws.calls == 1 and len(DeliveryFiles(tmp_path).pending()) == 1


def test_a_stop_gives_up_on_an_attempt_that_outlasts_its_grace(tmp_path):
    aws = BlockingAws()
    deliverer = _deliverer(tmp_path, aws)
    deliverer.accept(_delivery())
    assert aws.started.wait(30)
    assert deliverer.stop(grace_seconds=0.1) is False
    aws.release.set()
    assert deliverer.wait(timeout=30) and aws.calls == 1
