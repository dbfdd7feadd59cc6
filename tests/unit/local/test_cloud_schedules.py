"""A schedule firing whose start call fails (shiftflow.local.cloud.schedules): retried within the RetryPolicy, then
sent to the DeadLetterConfig queue with the service's attributes, on moto's Step Functions and SQS."""

from __future__ import annotations

import dataclasses
import datetime
import json
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.durable_files import RecordFolder
from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.schedules import RULE, SCHEDULER, InvalidSchedule, Schedule, Scheduler, template_schedules
from shiftflow.local.template import PhysicalResource, Resolver, Template, TemplateError

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
    assert re.fullmatch(r"[0-9a-f]{16}", attributes.pop("EXECUTION_ID"))  # as the guide's examples show it
    assert attributes == {"ERROR_CODE": "StateMachineDoesNotExist", "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
                          "IS_PAYLOAD_TRUNCATED": "false", "RETRY_ATTEMPTS": "2",
                          "SCHEDULED_TIME": "2026-12-02T00:00:00Z", "TARGET_ARN": MISSING,
                          "SCHEDULE_ARN": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/Pipeline-ScheduledRun"}


def test_a_start_past_its_maximum_event_age_is_given_up_with_that_condition(aws):
    scheduler = Scheduler([_schedule(MISSING, aws["queue_arn"], event_age_seconds=60)], COMPRESSION, aws["client"])
    _run_until(scheduler, lambda: scheduler.dead_lettered)
    attributes = scheduler.dead_lettered[0][1]
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
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
    assert scheduler.fired_at[0] == datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)  # when due: at once
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


# --- pending firings on disk ------------------------------------------------------------------------------------

LATER = "arn:aws:states:us-east-1:123456789012:stateMachine:later"  # created once the first scheduler has stopped
ORIGIN = datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)


def _failing_once_then_stopped(aws: dict[str, Any], records: RecordFolder, **policy: Any) -> dict[str, Any]:
    """A scheduler whose firing (at once: StartDate is its clock's start) fails, stopped while its retry waits (a
    second or two: no compression); the firing's record as it left it."""
    schedule = dataclasses.replace(_schedule(LATER, aws["queue_arn"], **policy), start_date=ORIGIN)
    first = Scheduler([schedule], 1.0, aws["client"], origin=ORIGIN, firings=records)
    first.start()
    try:
        assert wait_until(lambda: [record["failures"] for record in records.records()] == [1], timeout=30)
    finally:
        first.stop()
    [record] = records.records()
    assert (record["schedule"], record["scheduled_time"], record["error_code"]) == (
        schedule.name, "2026-12-02T00:00:00+00:00", "StateMachineDoesNotExist")
    return {"schedule": schedule, "record": record}


def test_a_pending_retry_is_on_disk_and_the_next_scheduler_carries_it_on(aws, tmp_path):
    records = RecordFolder(tmp_path / "schedule-firings")
    left = _failing_once_then_stopped(aws, records)
    sfn = aws["client"]("stepfunctions")
    assert sfn.create_state_machine(name="later", definition=PASSING, roleArn=ROLE)["stateMachineArn"] == LATER

    # The next cloud runs no schedule (no --schedules): the firing that happened still goes on.
    resumed = Scheduler([], 1000.0, aws["client"], firings=records, known=[left["schedule"]])
    _run_until(resumed, lambda: resumed.fired)
    assert resumed.resumed == [left["record"]["id"]] and records.records() == []
    assert resumed.fired_at == [ORIGIN] and resumed.dead_lettered == []  # as it was scheduled, not when resumed
    assert json.loads(sfn.describe_execution(executionArn=resumed.fired[0][1])["input"]) == json.loads(INPUT)


def test_a_firing_older_than_its_event_age_when_resumed_is_dead_lettered_without_an_attempt(aws, tmp_path):
    """The time the cloud was down counts in the event's age: a tenth of a second at 1000x is 100 s, past 60."""
    records = RecordFolder(tmp_path / "schedule-firings")
    left = _failing_once_then_stopped(aws, records, event_age_seconds=60)
    # Down for a tenth of a second of the wall clock since the firing was due: past 60 s at 1000x.
    assert wait_until(lambda: time.time() - left["record"]["due_wall"] > 0.1, timeout=5)
    calls: list[str] = []
    counting = lambda service: calls.append(service) or aws["client"](service)  # noqa: E731
    resumed = Scheduler([], 1000.0, counting, firings=records, known=[left["schedule"]])
    _run_until(resumed, lambda: resumed.dead_lettered)
    assert "stepfunctions" not in calls and resumed.fired == [] and records.records() == []
    [message] = _dead_letters(aws)
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert message["Body"] == INPUT
    assert (attributes["EXHAUSTED_RETRY_CONDITION"], attributes["RETRY_ATTEMPTS"]) == ("MaximumEventAgeInSeconds", "0")
    assert (attributes["EXECUTION_ID"], attributes["SCHEDULED_TIME"]) == (left["record"]["id"], "2026-12-02T00:00:00Z")
    assert attributes["ERROR_CODE"] == "StateMachineDoesNotExist"


def test_a_firing_of_a_schedule_the_template_no_longer_has_is_dropped(aws, tmp_path):
    records = RecordFolder(tmp_path / "schedule-firings")
    _failing_once_then_stopped(aws, records)
    resumed = Scheduler([], 1000.0, aws["client"], firings=records, known=[])
    resumed.start()
    assert resumed.join(timeout=30)  # nothing to fire, nothing left
    assert records.records() == [] and resumed.fired == [] and _dead_letters(aws) == []


# --- StartDate, EndDate, FlexibleTimeWindow ---------------------------------------------------------------------

def _passing(aws: dict[str, Any]) -> str:
    return aws["client"]("stepfunctions").create_state_machine(name="passing", definition=PASSING,
                                                               roleArn=ROLE)["stateMachineArn"]


def _at(hour: int, minute: int = 0) -> datetime.datetime:
    return ORIGIN.replace(hour=hour, minute=minute)


def test_a_cron_schedule_fires_only_from_its_start_date_and_before_its_end_date(aws):
    hourly = dataclasses.replace(_schedule(_passing(aws), None), expression="cron(0 * * * ? *)",
                                 start_date=_at(3, 30), end_date=_at(6))
    scheduler = Scheduler([hourly], 3600 / 0.02, aws["client"], origin=ORIGIN)  # an hour every 20 ms
    scheduler.start()
    assert scheduler.join(timeout=30)  # past its EndDate: it ends by itself
    assert scheduler.fired_at == [_at(4), _at(5)]


def test_a_rate_schedule_first_fires_at_its_start_date_then_a_period_apart(aws):
    hourly = dataclasses.replace(_schedule(_passing(aws), None), expression="rate(1 hour)",
                                 start_date=_at(2, 30), end_date=_at(5))
    scheduler = Scheduler([hourly], 3600 / 0.02, aws["client"], origin=ORIGIN)
    scheduler.start()
    assert scheduler.join(timeout=30)
    assert scheduler.fired_at == [_at(2, 30), _at(3, 30), _at(4, 30)]
    # A StartDate just past (CreateSchedule takes one up to 5 minutes old): the occurrences keep its phase.
    assert dataclasses.replace(hourly, start_date=ORIGIN - datetime.timedelta(minutes=4)).first_firing(
        ORIGIN) == _at(0, 56)


def test_a_rate_schedule_without_a_start_date_fires_at_once_and_a_rate_rule_one_period_after(aws):
    """EventBridge Scheduler ("Schedule types"): a rate-based schedule without a StartDate starts invoking its target
    immediately; an EventBridge rule's rate counts from its creation."""
    hourly = dataclasses.replace(_schedule(_passing(aws), None), expression="rate(1 hour)", end_date=_at(3))
    scheduler = Scheduler([hourly], 3600 / 0.02, aws["client"], origin=ORIGIN)
    scheduler.start()
    assert scheduler.join(timeout=30)
    assert scheduler.fired_at == [_at(0), _at(1), _at(2)]
    assert dataclasses.replace(hourly, kind=RULE).first_firing(ORIGIN) == _at(1)


def test_a_flexible_time_window_delays_each_firing_within_it_the_same_way_every_run(aws):
    target = _passing(aws)
    hourly = dataclasses.replace(_schedule(target, None), expression="rate(1 hour)", start_date=ORIGIN,
                                 end_date=_at(4), flexible_window_seconds=15 * 60.0)
    runs = []
    for _ in range(2):
        scheduler = Scheduler([hourly], 3600 / 0.02, aws["client"], origin=ORIGIN)
        scheduler.start()
        assert scheduler.join(timeout=30)
        runs.append([(invoked - fired).total_seconds() for fired, invoked in zip(scheduler.fired_at,
                                                                                   scheduler.invoked_at)])
        assert scheduler.fired_at == [_at(0), _at(1), _at(2), _at(3)]
    generator = random.Random(hourly.arn)  # seeded by the schedule: the delays are the schedule's own
    assert runs[0] == runs[1] == pytest.approx([generator.uniform(0, 900) for _ in range(4)])
    assert all(0 <= delay < 900 for delay in runs[0]) and len(set(runs[0])) == 4


# --- the template's schedule properties, refused as SAM and CreateSchedule refuse them ------------------------------

NOW = datetime.datetime(2026, 12, 2, 12, tzinfo=datetime.timezone.utc)
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:Machine"


def _template(kind: str = "ScheduleV2", **properties: Any) -> tuple[Template, Resolver]:
    expression = {"ScheduleV2": "ScheduleExpression", "Schedule": "Schedule"}[kind]
    body = {"Resources": {"Machine": {"Type": "AWS::Serverless::StateMachine", "Properties": {"Events": {
        "Nightly": {"Type": kind, "Properties": {expression: "rate(1 day)", **properties}}}}}}}
    template = Template(Path("template.yaml"), body)
    physical = {"Machine": PhysicalResource(MACHINE_ARN, {"Arn": MACHINE_ARN}),
                **{queue: PhysicalResource(queue, {"Arn": f"arn:aws:sqs:us-east-1:123456789012:{queue}"})
                   for queue in template.generated_dead_letter_queues()}}
    return template, Resolver(template, {}, physical, {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"})


def _one(**properties: Any) -> Schedule:
    [schedule] = template_schedules(*_template(properties.pop("kind", "ScheduleV2"), **properties), now=NOW)
    return schedule


def test_the_window_properties_are_read_from_the_template():
    schedule = _one(StartDate="2026-12-03T01:00:00Z", EndDate="2027-01-01T00:00:00+01:00",
                    FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
    assert schedule.start_date == datetime.datetime(2026, 12, 3, 1, tzinfo=datetime.timezone.utc)
    assert schedule.end_date == datetime.datetime(2026, 12, 31, 23, tzinfo=datetime.timezone.utc)
    assert schedule.flexible_window_seconds == 900
    assert _one(StartDate="2026-12-03T01:00:00").start_date.tzinfo == datetime.timezone.utc  # "in UTC"
    assert _one(FlexibleTimeWindow={"Mode": "OFF"}).flexible_window_seconds == 0


@pytest.mark.parametrize(("properties", "message"), [
    ({"StartDate": "2026-12-02T11:54:00Z"}, "The StartDate you specify cannot be earlier than 5 minutes ago"),
    ({"StartDate": "tomorrow"}, "is not a date and time"),
    ({"StartDate": "2026-12-03T00:00:00Z", "EndDate": "2026-12-03T00:00:00Z"}, "is not after StartDate"),
    ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}}, "needs MaximumWindowInMinutes 1-1440"),
    ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441}}, "1-1440, not 1441"),
    ({"FlexibleTimeWindow": {"Mode": "SOMETIMES"}}, "Mode OFF"),
    ({"kind": "Schedule", "StartDate": "2026-12-03T00:00:00Z"},
     r"property StartDate not defined for resource of type Schedule"),
])
def test_window_properties_aws_or_sam_refuse_are_refused(properties, message):
    with pytest.raises(InvalidSchedule, match=message):
        _one(**properties)


def test_a_rule_schedule_reads_sams_schedule_property():
    schedule = _one(kind="Schedule")
    assert (schedule.kind, schedule.expression, schedule.arn) == (
        RULE, "rate(1 day)", "arn:aws:events:us-east-1:123456789012:rule/Machine-Nightly")


def test_a_dead_letter_config_of_type_sqs_is_the_queue_sam_generates():
    """SAM (samtranslator SchedulerEventSource): `Type: SQS` makes a queue named <resource><event>Queue, or
    QueueLogicalId; the schedule's target then names that queue's ARN."""
    assert _template(DeadLetterConfig={"Type": "SQS"})[0].generated_dead_letter_queues() == ["MachineNightlyQueue"]
    assert _one(DeadLetterConfig={"Type": "SQS"}).dead_letter_arn == (
        "arn:aws:sqs:us-east-1:123456789012:MachineNightlyQueue")
    assert _one(DeadLetterConfig={"Type": "SQS", "QueueLogicalId": "Failures"}).dead_letter_arn.endswith(":Failures")
    assert _one(kind="Schedule", DeadLetterConfig={"Type": "SQS"}).dead_letter_arn.endswith(":MachineNightlyQueue")
    named = _one(DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:123456789012:mine"})
    assert named.dead_letter_arn.endswith(":mine")
    assert _template(DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:123456789012:mine"})[
        0].generated_dead_letter_queues() == []


@pytest.mark.parametrize(("config", "message"), [
    ({"Type": "SQS", "Arn": "arn:aws:sqs:us-east-1:123456789012:mine"}, "You can either define 'Arn' or 'Type'"),
    ({"Type": "SNS"}, "The only valid value for 'Type' property of DeadLetterConfig is 'SQS'"),
    ({}, "No 'Arn' or 'Type' property provided for DeadLetterConfig"),
])
def test_dead_letter_configs_sam_refuses_are_refused(config, message):
    with pytest.raises(TemplateError, match=rf"Event with id \[MachineNightly\] is invalid\. {message}"):
        _template(DeadLetterConfig=config)
