"""A schedule firing whose start call fails (shiftflow.local.cloud.schedules): retried within the RetryPolicy, then
sent to the DeadLetterConfig queue with the service's attributes, on moto's Step Functions and SQS."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.schedules import RULE, SCHEDULER, Schedule, Scheduler

ROLE = "arn:aws:iam::123456789012:role/states"
PASSING = json.dumps({"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}})
MISSING = "arn:aws:states:us-east-1:123456789012:stateMachine:missing"
COMPRESSION = 20_000.0  # the backoff's seconds to milliseconds
INPUT = '{"job_id": "sales_data_pipeline"}'


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        yield {"queue": queue, "queue_arn": arn, "sqs": sqs,
               "client": lambda service: boto3.client(service, region_name="us-east-1")}


def _schedule(target: str, dead_letter: str | None, **policy: Any) -> Schedule:
    return Schedule("Pipeline-ScheduledRun", target, "rate(1 minute)", INPUT, kind=policy.pop("kind", SCHEDULER),
                    arn="arn:aws:scheduler:us-east-1:123456789012:schedule/default/Pipeline-ScheduledRun",
                    dead_letter_arn=dead_letter, **policy)


def _run_until(scheduler: Scheduler, done: Any) -> None:
    scheduler.start()
    try:
        assert wait_until(done, timeout=30)
    finally:
        scheduler.stop()


def _dead_letters(aws: dict[str, Any]) -> list[dict[str, Any]]:
    return aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10,
                                      MessageAttributeNames=["All"]).get("Messages", [])


def test_a_start_that_keeps_failing_goes_to_the_dead_letter_queue_after_its_retries(aws):
    """MaximumRetryAttempts 2: three tries, then the dead-letter event: the Input as the body, the error."""
    scheduler = Scheduler([_schedule(MISSING, aws["queue_arn"], retry_attempts=2)], 86400 / 0.5, aws["client"],
                          origin=datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc))
    _run_until(scheduler, lambda: scheduler.dead_lettered)
    [message] = _dead_letters(aws)[:1]
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert message["Body"] == INPUT and scheduler.fired == []
    assert attributes.pop("ERROR_MESSAGE").startswith("State Machine Does Not Exist")
    uuid.UUID(attributes.pop("EXECUTION_ID"))
    assert attributes == {"ERROR_CODE": "StateMachineDoesNotExist", "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
                          "RETRY_ATTEMPTS": "2", "TARGET_ARN": MISSING,
                          "SCHEDULE_ARN": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/Pipeline-ScheduledRun"}


def test_a_start_past_its_maximum_event_age_is_given_up_with_that_condition(aws):
    scheduler = Scheduler([_schedule(MISSING, aws["queue_arn"], event_age_seconds=60)], COMPRESSION, aws["client"])
    _run_until(scheduler, lambda: scheduler.dead_lettered)
    attributes = scheduler.dead_lettered[0][1]
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAge"
    # 2 + 4 + 8 + 16 + 32 s at most before 60 s have passed (jitter: 0.5-1 of each): 4 to 8 retries.
    assert 4 <= int(attributes["RETRY_ATTEMPTS"]) <= 8


def test_a_start_that_fails_then_succeeds_is_one_firing_and_no_dead_letter(aws):
    sfn = aws["client"]("stepfunctions")
    target = sfn.create_state_machine(name="passing", definition=PASSING, roleArn=ROLE)["stateMachineArn"]
    calls: list[str] = []

    class Throttled:
        """Step Functions throttling the first two starts."""

        def start_execution(self, **request: Any) -> dict[str, Any]:
            calls.append(request["input"])
            if len(calls) <= 2:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                                  "StartExecution")
            return sfn.start_execution(**request)

    make_client = lambda service: Throttled() if service == "stepfunctions" else aws["client"](service)  # noqa: E731
    scheduler = Scheduler([_schedule(target, aws["queue_arn"], retry_attempts=5)], COMPRESSION, make_client,
                          origin=datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc))
    _run_until(scheduler, lambda: scheduler.fired)
    # The first firing's two throttled tries and its start (later firings, a compressed minute apart, start at once).
    assert calls[:3] == [INPUT] * 3 and scheduler.dead_lettered == [] and _dead_letters(aws) == []
    assert scheduler.fired_at[0] == datetime.datetime(2026, 12, 2, 0, 1, tzinfo=datetime.timezone.utc)  # when due
    assert len(scheduler.fired) == len(calls) - 2
    assert json.loads(sfn.describe_execution(executionArn=scheduler.fired[0][1])["input"]) == json.loads(INPUT)


def test_a_rule_schedule_does_not_retry_a_missing_target_and_says_it_as_eventbridge_does(aws):
    """An EventBridge rule (SAM `Schedule`): a missing target or permission is not retried; RULE_ARN and NO_RESOURCE."""
    rule = Schedule("Nightly", "arn:aws:lambda:us-east-1:123456789012:function:missing", "rate(1 day)", "{}",
                    kind=RULE, arn="arn:aws:events:us-east-1:123456789012:rule/Nightly",
                    dead_letter_arn=aws["queue_arn"], retry_attempts=5)
    scheduler = Scheduler([rule], 86400 / 0.5, aws["client"])
    _run_until(scheduler, lambda: scheduler.dead_lettered)
    attributes = scheduler.dead_lettered[0][1]
    assert attributes["ERROR_CODE"] == "NO_RESOURCE" and attributes["RULE_ARN"].endswith(":rule/Nightly")
    assert "RETRY_ATTEMPTS" not in attributes and "SCHEDULE_ARN" not in attributes
