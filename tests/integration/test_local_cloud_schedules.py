"""The template's schedules in the local cloud, time compressed: a firing while the previous run still holds the
guard ends "skipped: already running", as it does on AWS. The cloud runs in the test's process here (the same
LocalCloud that `shiftflow up --schedules` serves), so that the test can slow a script down before the first firing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.schedules import ScheduleNotSupported, rate_seconds
from shiftflow.local.cloud.server import LocalCloud
from tests.conftest import ROOT, SLOW_SQL

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


def test_only_rate_expressions_run_locally_and_their_grammar_is_aws_s():
    assert rate_seconds("rate(5 minutes)") == 300 and rate_seconds("rate(1 day)") == DAY
    with pytest.raises(ScheduleNotSupported, match="not supported locally: schedule expression 'cron"):
        rate_seconds("cron(0 3 * * ? *)")
    for wrong in ("rate(1 minutes)", "rate(5 minute)", "rate(0 hours)"):
        with pytest.raises(ScheduleNotSupported, match="invalid schedule expression"):
            rate_seconds(wrong)
