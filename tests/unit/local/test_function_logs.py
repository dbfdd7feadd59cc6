"""The handlers' logs in CloudWatch Logs (shiftflow.local.function_logs with moto_gaps.lambda_in_process), as Lambda
writes them: a log group per function, a log stream per execution environment, START / END / REPORT around each
invocation's own lines (Lambda developer guide, "Log and monitor Python Lambda functions"), PutLogEvents' limits
(botocore's logs model)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftflow.local import function_logs
from shiftflow.local.function_logs import FunctionLogs, batches, split_message
from shiftflow.local.moto_gaps import activate, register_lambda_handler, unregister_lambda_handler

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STREAM_NAME = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                    r"Memory Size: (?P<memory>\d+) MB\tMax Memory Used: \d+ MB\t(?P<status>Status: timeout\t)?\n$")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(), activate(time_scale=0.001):
        yield


@contextlib.contextmanager
def function_logs_running() -> Iterator[Any]:
    """Entered in the test itself: pytest sets sys.stdout anew between a test's set-up and its call. The logs client;
    its `flush_function_logs()` sends every queued line at once."""
    with FunctionLogs(ACCOUNT_ID, REGION, flush_seconds=0.05) as function_logs:
        client = boto3.client("logs", region_name=REGION)
        client.flush_function_logs = function_logs.flush
        yield client


def invoke(name: str, payload: Any = None, invocation_type: str = "RequestResponse") -> dict[str, Any]:
    answer = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=name, Payload=json.dumps(payload or {}).encode(), InvocationType=invocation_type)
    return {**answer, "Payload": answer["Payload"].read()}


def streams_of(logs: Any, group: str, count: int, timeout: float = 5.0) -> dict[str, list[str]]:
    """The group's streams -> their messages, once `count` streams each hold a REPORT (or past `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, list[str]] = {}
        groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if any(known["logGroupName"] == group for known in groups):
            for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
                events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                             startFromHead=True)["events"]
                found[stream["logStreamName"]] = [event["message"] for event in events]
        reports = sum(1 for messages in found.values() for message in messages if message.startswith("REPORT"))
        if reports >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def invocations(messages: list[str]) -> list[list[str]]:
    """A stream's messages cut into invocations, START to REPORT."""
    cut: list[list[str]] = []
    for message in messages:
        if message.startswith("START RequestId: "):
            cut.append([])
        cut[-1].append(message)
    return cut


def test_two_parallel_invocations_write_each_to_their_own_stream(aws: None) -> None:
    with function_logs_running() as logs:
        barrier = threading.Barrier(2)

        def handler(event: dict[str, Any], context: Any) -> str:
            for step in range(20):  # both write at once, line after line
                print(json.dumps({"job": event["job"], "step": step, "request_id": context.aws_request_id}))
                if step == 0:
                    barrier.wait(timeout=10)
            return context.log_stream_name

        register_lambda_handler("Parallel", handler)
        try:
            answers: dict[str, dict[str, Any]] = {}
            threads = [threading.Thread(target=lambda job=job: answers.__setitem__(job, invoke("Parallel", {"job": job})))
                       for job in ("a", "b")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            streams = streams_of(logs, "/aws/lambda/Parallel", 2)
        finally:
            unregister_lambda_handler("Parallel")

        assert len(streams) == 2
        assert sorted(json.loads(answer["Payload"]) for answer in answers.values()) == sorted(streams)
        for name, messages in streams.items():
            assert STREAM_NAME.match(name), name
            (invocation,) = invocations(messages)
            request_id = invocation[0].removeprefix("START RequestId: ").removesuffix(" Version: $LATEST\n")
            lines = [json.loads(message) for message in invocation[1:-2]]
            assert [line["step"] for line in lines] == list(range(20))
            assert {line["request_id"] for line in lines} == {request_id}
            assert len({line["job"] for line in lines}) == 1
            assert invocation[-2] == f"END RequestId: {request_id}\n"
            report = REPORT.match(invocation[-1])
            assert report and report["id"] == request_id and report["memory"] == "128" and not report["status"]


def test_one_invocation_after_another_stays_in_one_environment_and_its_stream(aws: None) -> None:
    with function_logs_running() as logs:
        register_lambda_handler("Sequential", lambda event, context: print("run", event["n"]) or context.log_stream_name,
                                log_group="shiftflow-local-SequentialLogGroup")
        try:
            names = {json.loads(invoke("Sequential", {"n": n})["Payload"]) for n in range(3)}
            streams = streams_of(logs, "shiftflow-local-SequentialLogGroup", 3)
        finally:
            unregister_lambda_handler("Sequential")
        assert list(streams) == list(names)  # the function's LoggingConfig group; one stream for the three
        runs = invocations(next(iter(streams.values())))
        assert [run[1] for run in runs] == ["run 0\n", "run 1\n", "run 2\n"]


def test_an_unhandled_error_and_a_timeout_are_logged_as_lambda_logs_them(aws: None) -> None:
    with function_logs_running() as logs:
        def failing(event: Any, context: Any) -> None:
            raise ValueError("no such job")

        release, finished = threading.Event(), threading.Event()

        def slow(event: Any, context: Any) -> None:
            print("before the timeout")
            release.wait(10)
            print("after the timeout: the sandbox is frozen on Lambda")
            finished.set()

        register_lambda_handler("Failing", failing)
        register_lambda_handler("Slow", slow, timeout_seconds=0.3)
        try:
            assert invoke("Failing")["FunctionError"] == "Unhandled"
            assert json.loads(invoke("Slow")["Payload"])["errorType"] == "Sandbox.Timedout"
            release.set()
            failed = streams_of(logs, "/aws/lambda/Failing", 1)
            timed_out = streams_of(logs, "/aws/lambda/Slow", 1)
            assert finished.wait(10)  # the slow handler's last line is written: it would be queued by now
            logs.flush_function_logs()
            timed_out = streams_of(logs, "/aws/lambda/Slow", 1)
        finally:
            unregister_lambda_handler("Failing")
            unregister_lambda_handler("Slow")

        (invocation,) = invocations(next(iter(failed.values())))
        error = invocation[1]
        assert error.startswith("[ERROR] ValueError: no such job\nTraceback (most recent call last):\n  File ")
        assert 'raise ValueError("no such job")' in error
        (invocation,) = invocations(next(iter(timed_out.values())))
        request_id = invocation[0].split()[2]
        assert invocation[1] == "before the timeout\n"
        assert re.match(rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {request_id} Task timed out after 0\.30 seconds\n$",
                        invocation[2])
        assert invocation[3] == f"END RequestId: {request_id}\n"
        report = REPORT.match(invocation[4])
        assert report and report["status"] and "Duration: 300.00 ms\tBilled Duration: 300 ms" in invocation[4]
        assert len(invocation) == 5  # nothing after its END


def test_what_aws_logs_while_serving_a_handlers_call_is_not_the_functions(aws: None) -> None:
    with function_logs_running() as logs:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="logs-test")
        # Stands in for moto or the Data API emulator printing while they serve the call on the handler's thread.
        s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: print("served by AWS"))

        def handler(event: Any, context: Any) -> None:
            print("before the call")
            s3.list_objects_v2(Bucket="logs-test")
            print("after the call")

        register_lambda_handler("Caller", handler)
        try:
            invoke("Caller")
            streams = streams_of(logs, "/aws/lambda/Caller", 1)
        finally:
            unregister_lambda_handler("Caller")
        (invocation,) = invocations(next(iter(streams.values())))
        assert invocation[1:3] == ["before the call\n", "after the call\n"]


def test_lines_arrive_while_the_handler_still_runs(aws: None) -> None:
    with function_logs_running() as logs:
        release = threading.Event()

        def handler(event: Any, context: Any) -> None:
            print("working")
            release.wait(10)

        register_lambda_handler("Live", handler, timeout_seconds=20)
        try:
            invoke("Live", invocation_type="Event")
            deadline = time.monotonic() + 1.0  # within about a second, as `aws logs tail --follow` shows them
            seen: list[str] = []
            while time.monotonic() < deadline and "working\n" not in seen:
                streams = streams_of(logs, "/aws/lambda/Live", 0, timeout=0)
                seen = [message for messages in streams.values() for message in messages]
                time.sleep(0.05)
            assert seen[-1] == "working\n" and seen[0].startswith("START RequestId: ")
        finally:
            release.set()
            unregister_lambda_handler("Live")


def test_a_line_over_the_event_size_is_split_never_cut_and_batches_keep_the_limits() -> None:
    line = "é" * 600_000  # 1,200,000 bytes of UTF-8
    parts = split_message(line)
    assert "".join(parts) == line and len(parts) == 2
    assert all(len(part.encode()) <= function_logs.MAX_MESSAGE_BYTES for part in parts)

    events = [(1_000 + n, "x" * 100) for n in range(25_000)] + [(40_000, line)]
    sent = batches(events)
    assert [event["message"] for batch in sent for event in batch] == ["x" * 100] * 25_000 + parts
    for batch in sent:
        assert len(batch) <= 10_000
        assert sum(len(event["message"].encode()) + 26 for event in batch) <= 1_048_576
        assert [event["timestamp"] for event in batch] == sorted(event["timestamp"] for event in batch)
    day = 24 * 3600 * 1000
    assert len(batches([(0, "a"), (day + 1, "b")])) == 2  # one batch spans 24 hours at most


def test_a_handlers_powertools_logger_made_before_the_runtime_writes_to_its_stream() -> None:
    from aws_lambda_powertools import Logger

    logger = Logger(service="function-logs-test")  # made on the stdout of before the runtime

    def handler(event: Any, context: Any) -> None:
        logger.info("from powertools")

    with mock_aws(), activate(time_scale=0.001), FunctionLogs(ACCOUNT_ID, REGION, flush_seconds=0.05):
        register_lambda_handler("Powertools", handler)
        try:
            invoke("Powertools")
            streams = streams_of(boto3.client("logs", region_name=REGION), "/aws/lambda/Powertools", 1)
        finally:
            unregister_lambda_handler("Powertools")
    (invocation,) = invocations(next(iter(streams.values())))
    assert json.loads(invocation[1])["message"] == "from powertools"


def test_the_events_kept_in_the_state_folder_come_back_within_their_groups_retention(tmp_path) -> None:
    """As the cloud's tables and executions, its logs outlive it: a new cloud (a new moto) puts them back, except
    those older than their group's RetentionInDays (CloudWatch Logs deletes them), which leave the file too."""
    with mock_aws(), activate(time_scale=0.001):
        with FunctionLogs(ACCOUNT_ID, REGION, flush_seconds=0.05, state_dir=tmp_path) as logs:
            register_lambda_handler("Kept", lambda event, context: print("kept line"))
            try:
                invoke("Kept")
            finally:
                unregister_lambda_handler("Kept")
        before = streams_of(boto3.client("logs", region_name=REGION), "/aws/lambda/Kept", 1)
    assert [message for messages in before.values() for message in messages][1] == "kept line\n"
    kept = tmp_path / function_logs.KEPT_FILE
    old = json.dumps({"g": "short-lived", "m": "two days old\n", "s": "2026/01/01/[$LATEST]" + "0" * 32,
                      "t": int(time.time() * 1000) - 2 * function_logs.DAY_MS})
    kept.write_text(kept.read_text() + old + "\n")

    with mock_aws():  # a new local cloud
        client = boto3.client("logs", region_name=REGION)
        client.create_log_group(logGroupName="short-lived")
        client.put_retention_policy(logGroupName="short-lived", retentionInDays=1)
        assert FunctionLogs(ACCOUNT_ID, REGION, state_dir=tmp_path).restore() == 4  # START, the line, END, REPORT
        assert streams_of(client, "/aws/lambda/Kept", 1) == before
        assert client.describe_log_streams(logGroupName="short-lived")["logStreams"] == []
    assert "two days old" not in kept.read_text()
