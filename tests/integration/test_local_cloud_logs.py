"""The handlers' logs in CloudWatch Logs on the local cloud's endpoint, read with the AWS CLI after the demo's
pipeline ran, as a user watches a run on AWS: each function's LoggingConfig group, a stream per execution
environment, START / END / REPORT around each invocation's Powertools lines (Lambda developer guide, "Log and
monitor Python Lambda functions"), and the cloud's log as before."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from shiftflow.local.cloud.client import LOG_FILE
from tests.conftest import aws_cli
from tests.integration.test_local_cloud import Cloud, _stop_every_cloud

SUBMIT_GROUP = "shiftflow-local-SubmitSqlJobLogGroup"
STREAM_NAME = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                    r"Memory Size: 256 MB\tMax Memory Used: \d+ MB\t\n$")


@pytest.fixture(scope="module")
def ran_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A local cloud (its own process, as `shiftflow demo` starts it) after the demo's sales pipeline ran."""
    state_dir = (tmp_path_factory.mktemp("logs") / "state").resolve()
    state_dir.mkdir()
    cloud = Cloud(state_dir)
    try:
        code, output = cloud.shiftflow("demo", timeout=300)
        assert code == 0, output
        yield cloud
    finally:
        _stop_every_cloud(state_dir)


def cli_json(cloud: Cloud, *args: str) -> dict:
    done = aws_cli(cloud.endpoint().url, *args, "--output", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_describe_log_groups_lists_the_templates_groups_with_their_retention(ran_demo: Cloud):
    groups = {group["logGroupName"]: group for group in cli_json(ran_demo, "logs", "describe-log-groups")["logGroups"]}
    for logical_id in ("SubmitSqlJob", "GetStatementStatus", "ResumeSqlJob", "CheckValidationResults",
                       "DescribeFailure", "HealEndedRun", "LoadWorkflow", "CloseWorkflowRun"):
        assert groups[f"shiftflow-local-{logical_id}LogGroup"]["retentionInDays"] == 30  # LogRetentionInDays
    assert "/aws/vendedlogs/states/shiftflow-local-SalesDataPipeline" in groups  # a LogGroupName of the template
    assert groups[SUBMIT_GROUP]["storedBytes"] > 0
    assert not [name for name in groups if name.startswith("/aws/lambda/")]  # every function names its group


def test_filter_log_events_shows_each_invocation_between_start_and_report_in_its_stream(ran_demo: Cloud):
    events = cli_json(ran_demo, "logs", "filter-log-events", "--log-group-name", SUBMIT_GROUP)["events"]
    by_stream: dict[str, list[str]] = {}
    for event in events:
        by_stream.setdefault(event["logStreamName"], []).append(event["message"])
    submitted: dict[str, dict] = {}
    for stream, messages in by_stream.items():
        assert STREAM_NAME.match(stream), stream
        request_id = None
        for message in messages:
            if message.startswith("START RequestId: "):
                assert request_id is None, "an invocation starts inside another one in the same stream"
                request_id = message.removeprefix("START RequestId: ").removesuffix(" Version: $LATEST\n")
            elif message.startswith("END RequestId: "):
                assert message == f"END RequestId: {request_id}\n"
            elif message.startswith("REPORT RequestId: "):
                report = REPORT.match(message)
                assert report and report["id"] == request_id, message
                request_id = None
            else:  # the handler's Powertools JSON line, as it wrote it, with its own invocation's request id
                line = json.loads(message)
                assert line["function_request_id"] == request_id
                assert line["function_name"] == "shiftflow-local-SubmitSqlJobFunction"
                if line["message"] == "SQL job submitted":
                    submitted[line["job"]] = line
        assert request_id is None, "an invocation without its REPORT"
    assert {"setup_sales_demo", "load_item_dimension", "load_store_sales_fact"} <= set(submitted)
    assert all(line["workflow"] == "sales_data_pipeline" for line in submitted.values())

    # The same lines, still in the cloud's log.
    cloud_log = (ran_demo.state_dir / LOG_FILE).read_text()
    for job in submitted:
        assert '"message":"SQL job submitted"' in cloud_log and f'"job":"{job}"' in cloud_log


def test_filter_log_events_finds_a_pattern_across_the_functions_streams(ran_demo: Cloud):
    found = cli_json(ran_demo, "logs", "filter-log-events", "--log-group-name", SUBMIT_GROUP,
                     "--filter-pattern", '"load_store_sales_fact"')["events"]
    assert found and all("load_store_sales_fact" in event["message"] for event in found)


def test_the_logs_outlive_the_cloud_as_its_other_state_does(ran_demo: Cloud):
    """Last (it restarts the module's cloud): `shiftflow down`, then a new cloud shows the same events."""
    before = cli_json(ran_demo, "logs", "filter-log-events", "--log-group-name", SUBMIT_GROUP)["events"]
    code, output = ran_demo.shiftflow("down")
    assert code == 0, output
    code, output = ran_demo.shiftflow("endpoint")  # starts the next cloud
    assert code == 0, output
    deadline = time.monotonic() + 30  # the kept events are put back while the cloud already serves
    while True:
        after = cli_json(ran_demo, "logs", "filter-log-events", "--log-group-name", SUBMIT_GROUP)["events"]
        if len(after) >= len(before) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(event["logStreamName"], event["timestamp"], event["message"]) for event in after] == [
        (event["logStreamName"], event["timestamp"], event["message"]) for event in before]
