"""The orders_stream workflow on its template schedule, time compressed, fired by the local cloud's Scheduler over
the local runtime: records put in the state folder's topic store are loaded by the scheduled runs, and a firing
while a load still holds the workflow's guard ends "skipped: already running"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.schedules import Scheduler, template_schedules
from shiftflow.local.runtime import LocalRuntime
from shiftflow.dataapi.streams.topics import Producer, TopicStore
from shiftflow.sql.splitter import split_statements
from tests.conftest import ROOT, SLOW_SQL

STREAM_SCHEDULE = frozenset({"WorkflowStateMachine-ScheduledStreamLoad"})
FIVE_MINUTES = 300.0


@pytest.fixture
def runtime(tmp_path) -> Iterator[LocalRuntime]:
    with LocalRuntime(ROOT, state_dir=tmp_path / "state", time_scale=0.001, persist=False,
                      log_level="WARNING") as local:
        yield local


def _sql(runtime: LocalRuntime, sqls: list[str]) -> dict[str, Any]:
    data = runtime.client("redshift-data")
    submitted = data.batch_execute_statement(Sqls=sqls, ClusterIdentifier="shiftflow-local", Database="dev",
                                             DbUser="shiftflow")
    assert wait_until(lambda: data.describe_statement(Id=submitted["Id"])["Status"] in {"FINISHED", "FAILED"},
                      timeout=60)
    return data.describe_statement(Id=submitted["Id"])


def _rows(runtime: LocalRuntime, sql: str) -> list[list[Any]]:
    described = _sql(runtime, [sql])
    assert described["Status"] == "FINISHED", described.get("Error")
    result = runtime.client("redshift-data").get_statement_result(Id=described["SubStatements"][0]["Id"])
    return [[next(iter(value.values())) for value in record] for record in result["Records"]]


def test_scheduled_loads_take_the_new_records_and_never_overlap(runtime: LocalRuntime):
    topics = TopicStore(runtime.state_dir / "topics")
    topics.create("orders", 2)
    setup = (ROOT / "scripts" / "stream" / "setup_orders_stream.sql").read_text()
    assert _sql(runtime, [s.text for s in split_statements(setup)])["Status"] == "FINISHED"
    producer = Producer(topics)
    for order_id in range(4):
        producer.send("orders", {"eventName": "INSERT", "dynamodb": {"Keys": {"OrderID": {"N": str(order_id)}},
                                                                      "NewImage": {}}}, key=str(order_id))
    producer.send("orders", "{not json")

    schedules = [s for s in template_schedules(runtime.template, runtime.resolver) if s.name in STREAM_SCHEDULE]
    scheduler = Scheduler(schedules, FIVE_MINUTES / 0.5, runtime.client)  # the template's rate: every half second
    scheduler.start()
    try:
        _load_while_scheduled(runtime, scheduler)
    finally:
        scheduler.stop()


def _load_while_scheduled(runtime: LocalRuntime, scheduler: Scheduler) -> None:
    assert wait_until(lambda: _rows(runtime, "SELECT count(*) FROM orders_current") == [[4]], timeout=60)
    # Slow the next load down: the firings during it find the guard held.
    bucket = runtime.deployment.output("ScriptsBucketName")
    load = runtime.client("s3").get_object(Bucket=bucket, Key="stream/load_orders_stream.sql")["Body"].read()
    runtime.client("s3").put_object(Bucket=bucket, Key="stream/load_orders_stream.sql",
                                    Body=SLOW_SQL.encode() + b"\n" + load)
    fired_before = len(scheduler.fired)
    assert wait_until(lambda: len(scheduler.fired) >= fired_before + 4, timeout=60)
    scheduler.stop()
    sfn = runtime.client("stepfunctions")

    def running() -> list[str]:
        return [arn for _, arn in scheduler.fired if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"]

    # The last firings may still be reading the guard; then only the slow load runs (it would run for hours: a
    # second load beside it would still be RUNNING too).
    assert wait_until(lambda: len(running()) == 1, timeout=60)
    outcomes = []
    for _, arn in scheduler.fired[fired_before:]:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            outcomes.append(json.loads(described.get("output") or "{}").get("status"))
    assert "skipped: already running" in outcomes
    assert _rows(runtime, "SELECT count(*) FROM orders_stream_errors") == [[1]]


def test_auto_refresh_yes_views_refresh_as_records_arrive(runtime: LocalRuntime):
    topics = TopicStore(runtime.state_dir / "topics")
    topics.create("clicks", 1)
    assert _sql(runtime, ["CREATE EXTERNAL SCHEMA live FROM MSK IAM_ROLE default AUTHENTICATION none"
                          " CLUSTER_ARN 'arn:aws:kafka:us-east-1:123456789012:cluster/local/1'",
                          "CREATE MATERIALIZED VIEW clicks_mv AUTO REFRESH YES AS"
                          " SELECT kafka_offset, JSON_PARSE(kafka_value) AS data FROM live.clicks"])["Status"] == "FINISHED"
    producer = Producer(topics)
    for n in range(3):
        producer.send("clicks", {"n": n})
    assert wait_until(lambda: _rows(runtime, "SELECT count(*) FROM clicks_mv") == [[3]], timeout=30)
    producer.send("clicks", {"n": 3})
    assert wait_until(lambda: _rows(runtime, "SELECT max(kafka_offset) FROM clicks_mv") == [[3]], timeout=30)
    kinds = _rows(runtime, "SELECT DISTINCT refresh_type FROM sys_mv_refresh_history WHERE mv_name = 'clicks_mv'")
    assert kinds == [["Auto"]]
