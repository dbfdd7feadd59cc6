"""Gap 33 (shiftflow.local.moto_gaps.schedule_records): the template's schedules are EventBridge Scheduler schedules
to the Scheduler API, as CreateSchedule made them, recorded on the first Scheduler request."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.local.moto_gaps import activate, record_schedules

ACCOUNT, REGION = "123456789012", "us-east-1"
DEPLOYED = datetime.datetime(2026, 12, 3, 5, 52, 30, 123456, tzinfo=datetime.timezone.utc)
TARGET = {"Arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:stack-Pipeline",
          "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/stack-PipelineScheduledRunRole", "Input": '{"job_id": "p"}',
          "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 20},
          "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:stack-Failures"}}


def test_a_recorded_schedule_is_listed_and_described_as_create_schedule_makes_it():
    with mock_aws(), activate():
        record_schedules(ACCOUNT, REGION, [{"Name": "Pipeline-ScheduledRun", "ScheduleExpression": "rate(1 day)",
                                            "State": "DISABLED", "Description": "Runs it",
                                            "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": TARGET}], DEPLOYED)
        scheduler = boto3.client("scheduler", region_name=REGION)
        [listed] = scheduler.list_schedules()["Schedules"]
        assert (listed["Name"], listed["State"], listed["GroupName"]) == ("Pipeline-ScheduledRun", "DISABLED",
                                                                          "default")
        schedule = scheduler.get_schedule(Name="Pipeline-ScheduledRun")
        assert schedule["Arn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/Pipeline-ScheduledRun"
        assert schedule["Target"] == TARGET
        assert (schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"], schedule["Description"],
                schedule["FlexibleTimeWindow"]) == ("rate(1 day)", "UTC", "Runs it", {"Mode": "OFF"})
        assert schedule["CreationDate"] == schedule["LastModificationDate"] == DEPLOYED.replace(microsecond=123000)
        with pytest.raises(ClientError) as raised:
            scheduler.get_schedule(Name="Other")
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with mock_aws(), activate():  # a later mock does not receive them
        assert boto3.client("scheduler", region_name=REGION).list_schedules()["Schedules"] == []
