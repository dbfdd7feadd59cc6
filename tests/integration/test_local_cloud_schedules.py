"""The template's schedules in the local cloud, time compressed: a firing while the previous run still holds the
guard ends "skipped: already running", as it does on AWS. The cloud runs in the test's process here (the same
LocalCloud that `shiftflow up --schedules` serves), so that the test can slow a script down before the first firing."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.cron import InvalidScheduleExpression
from shiftflow.local.cloud.schedules import Schedule, Scheduler, firing_records, rate_seconds, template_schedules
from shiftflow.local.cloud.server import LocalCloud
from tests.conftest import ROOT, SLOW_SQL
from tests.integration.test_local_cloud import copy_of_the_project

DAY = 86400.0


@pytest.fixture
def cloud(tmp_path) -> Iterator[LocalCloud]:
    with LocalCloud(ROOT, tmp_path / "state", log_level="WARNING") as local:
        yield local


def _described(sfn: Any, arn: str) -> dict[str, Any]:
    assert wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=120)
    return sfn.describe_execution(executionArn=arn)


def test_a_schedule_fires_compressed_and_an_overlapping_firing_is_skipped(cloud: LocalCloud):
    runtime = cloud.runtime
    sfn, pipeline = runtime.client("stepfunctions"), runtime.deployment.state_machine_arn("sales_data_pipeline")
    setup = sfn.start_execution(stateMachineArn=pipeline, input=json.dumps(
        {"run_date": "2026-11-21", "setup_demo_data": True}))["executionArn"]
    assert _described(sfn, setup)["status"] == "SUCCEEDED"
    runtime.client("s3").put_object(Bucket=runtime.deployment.output("ScriptsBucketName"),
                                    Key="sales/load_item_dimension.sql", Body=SLOW_SQL.encode())

    cloud.start_schedules(time_compression=DAY / 0.5,  # the template's rate(1 day): every half second
                          only=frozenset({"SalesDataPipelineStateMachine-ScheduledRun"}))
    assert wait_until(lambda: len(cloud.scheduler.fired) >= 3, timeout=60)
    cloud.scheduler.stop()
    first, *later = [arn for _, arn in cloud.scheduler.fired]
    assert {name for name, _ in cloud.scheduler.fired} == {"SalesDataPipelineStateMachine-ScheduledRun"}
    assert sfn.describe_execution(executionArn=first)["status"] == "RUNNING"  # the slow item load
    for arn in later:
        described = _described(sfn, arn)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"])["status"] == "skipped: already running"
    assert json.loads(sfn.describe_execution(executionArn=first)["input"]) == {"job_id": "sales_data_pipeline"}


def test_a_cron_schedule_fires_on_the_compressed_clock(cloud: LocalCloud):
    """cron(0 3 * * ? *), a day every half second: it fires at 03:00 UTC of each compressed day, each firing an
    execution of the pipeline with the schedule's input (the later ones skipped while an earlier one runs)."""
    runtime = cloud.runtime
    sfn, pipeline = runtime.client("stepfunctions"), runtime.deployment.state_machine_arn("sales_data_pipeline")
    run = {"job_id": "sales_data_pipeline", "run_date": "2026-11-21", "setup_demo_data": True}
    nightly = Schedule("Nightly", pipeline, "cron(0 3 * * ? *)", json.dumps(run))
    origin = datetime.datetime(2026, 12, 2, 2, 59, tzinfo=datetime.timezone.utc)
    scheduler = Scheduler([nightly], DAY / 0.5, runtime.client, origin=origin)
    scheduler.start()
    try:
        assert wait_until(lambda: len(scheduler.fired) >= 3, timeout=60)
    finally:
        scheduler.stop()
    assert [moment.isoformat() for moment in scheduler.fired_at[:3]] == [
        "2026-12-02T03:00:00+00:00", "2026-12-03T03:00:00+00:00", "2026-12-04T03:00:00+00:00"]
    for name, arn in scheduler.fired:
        described = _described(sfn, arn)
        assert name == "Nightly" and described["status"] == "SUCCEEDED"
        assert json.loads(described["input"]) == run


DECLARED = "  ScheduleExpression:\n    Type: String\n    Default: rate(1 day)\n"  # the sales pipeline's


def _project(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the project whose template.yaml has its first `old` replaced by `new`."""
    project = copy_of_the_project(tmp_path / "project")
    template = (project / "template.yaml").read_text()
    assert old in template
    (project / "template.yaml").write_text(template.replace(old, new, 1))
    return project


def test_an_invalid_cron_in_the_template_stops_the_cloud_with_eventbridges_message(tmp_path):
    project = _project(tmp_path, DECLARED, DECLARED.replace("rate(1 day)", "'cron(0 3 * * * *)'"))  # both day fields
    with pytest.raises(InvalidScheduleExpression, match=r"Parameter ScheduleExpression is not valid\. "
                                                        r"'cron\(0 3 \* \* \* \*\)': exactly one of"):
        with LocalCloud(project, tmp_path / "state", log_level="WARNING", schedules=True):
            pass


def test_rate_expressions_keep_aws_s_grammar():
    assert rate_seconds("rate(5 minutes)") == 300 and rate_seconds("rate(1 day)") == DAY
    for wrong in ("rate(1 minutes)", "rate(5 minute)", "rate(0 hours)"):
        with pytest.raises(InvalidScheduleExpression, match="Parameter ScheduleExpression is not valid"):
            rate_seconds(wrong)


def test_a_firing_that_cannot_start_its_target_is_retried_then_dead_lettered_as_the_template_says(cloud: LocalCloud):
    """The template's ScheduledRun: RetryPolicy (20 attempts, 3600 s) and DeadLetterConfig (ScheduledRunFailureQueue)
    as EventBridge Scheduler applies them: the pipeline's state machine gone, each firing is retried until its 20
    retries or its hour run out (2 + 4 + ... + 300 s of backoff times a jitter of 0.5-1: about 2,000 to 4,100 s for
    the 20), then kept in the queue with the error."""
    runtime = cloud.runtime
    sfn, pipeline = runtime.client("stepfunctions"), runtime.deployment.state_machine_arn("sales_data_pipeline")
    [schedule] = [s for s in template_schedules(runtime.template, runtime.resolver)
                  if s.name == "SalesDataPipelineStateMachine-ScheduledRun"]
    assert (schedule.retry_attempts, schedule.event_age_seconds) == (20, 3600)
    sqs = runtime.client("sqs")
    [queue] = [url for url in sqs.list_queues()["QueueUrls"] if "ScheduledRunFailureQueue" in url]
    assert schedule.dead_letter_arn == sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sfn.delete_state_machine(stateMachineArn=pipeline)

    cloud.start_schedules(time_compression=DAY / 0.5, only=frozenset({schedule.name}))
    assert wait_until(lambda: cloud.scheduler.dead_lettered, timeout=60)
    cloud.scheduler.stop()
    message = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert json.loads(message["Body"]) == {"job_id": "sales_data_pipeline"}
    assert attributes["ERROR_CODE"] == "StateMachineDoesNotExist" and pipeline in attributes["ERROR_MESSAGE"]
    assert (attributes["EXHAUSTED_RETRY_CONDITION"], attributes["RETRY_ATTEMPTS"] == "20") in (
        ("MaximumRetryAttempts", True), ("MaximumEventAgeInSeconds", False))
    assert int(attributes["RETRY_ATTEMPTS"]) >= 15  # 15 backoffs at most sum to 2 + ... + 256 + 7 x 300 < 3600 s
    assert attributes["TARGET_ARN"] == pipeline
    assert attributes["SCHEDULE_ARN"] == ("arn:aws:scheduler:us-east-1:123456789012:schedule/default/"
                                          "SalesDataPipelineStateMachine-ScheduledRun")
    assert cloud.scheduler.fired == []


def test_a_firing_waiting_for_its_retry_outlives_the_cloud_and_the_next_cloud_carries_it_on(tmp_path):
    """rate(1 minute) at 60x: a firing a second; the pipeline's state machine gone, each firing waits for its retry
    (2 s, 4 s, ... of the schedule's time; its hour of event age is a minute here) when the cloud stops. The next
    cloud, without --schedules, deploys the state machine again and starts the firings that were waiting, once
    each, with the schedule's input."""
    project = _project(tmp_path, DECLARED, DECLARED.replace("rate(1 day)", "rate(1 minute)"))
    state = tmp_path / "state"
    records = firing_records(state)
    with LocalCloud(project, state, log_level="WARNING", time_compression=60.0) as first:
        first.runtime.client("stepfunctions").delete_state_machine(
            stateMachineArn=first.runtime.deployment.state_machine_arn("sales_data_pipeline"))
        # Turned on once the state machine is gone: a rate schedule without a StartDate fires at once.
        first.start_schedules(60.0, only=frozenset({"SalesDataPipelineStateMachine-ScheduledRun"}))
        assert wait_until(lambda: any(record["failures"] for record in records.records()), timeout=30)
    left = {record["id"]: record for record in records.records()}
    assert left and first.scheduler.fired == []

    with LocalCloud(project, state, log_level="WARNING", time_compression=60.0) as second:
        assert second.scheduler.schedules == []  # no new firing: only those that were waiting
        assert wait_until(lambda: records.records() == [], timeout=60)
        assert sorted(second.scheduler.resumed) == sorted(left) and second.scheduler.dead_lettered == []
        assert len(second.scheduler.fired) == len(left)
        assert sorted(moment.isoformat() for moment in second.scheduler.fired_at) == sorted(
            record["scheduled_time"] for record in left.values())
        sfn = second.runtime.client("stepfunctions")
        for _, arn in second.scheduler.fired:
            assert json.loads(sfn.describe_execution(executionArn=arn)["input"]) == {"job_id": "sales_data_pipeline"}


def test_a_dead_letter_config_of_type_sqs_sends_to_the_queue_sam_generates(tmp_path):
    """ScheduledRun's DeadLetterConfig as `Type: SQS`: the local cloud creates the queue SAM would
    (SalesDataPipelineStateMachineScheduledRunQueue), kept on disk as the template's own queues, and a firing that
    cannot start its target ends there."""
    named = "DeadLetterConfig:\n              Arn: !GetAtt ScheduledRunFailureQueue.Arn\n"
    project = _project(tmp_path, named, "DeadLetterConfig:\n              Type: SQS\n")
    with LocalCloud(project, tmp_path / "state", log_level="WARNING") as cloud:
        runtime = cloud.runtime
        sqs, name = runtime.client("sqs"), "shiftflow-local-SalesDataPipelineStateMachineScheduledRunQueue"
        queue = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        runtime.client("stepfunctions").delete_state_machine(
            stateMachineArn=runtime.deployment.state_machine_arn("sales_data_pipeline"))
        cloud.start_schedules(time_compression=DAY / 0.5,
                              only=frozenset({"SalesDataPipelineStateMachine-ScheduledRun"}))
        assert wait_until(lambda: cloud.scheduler.dead_lettered, timeout=60)
        cloud.scheduler.stop()
        [message] = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][:1]
        assert json.loads(message["Body"]) == {"job_id": "sales_data_pipeline"}
        assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "StateMachineDoesNotExist"
        assert (cloud.state_dir / "queues" / f"{name}.json").is_file()
