"""Each Lambda invocation logs with its own keys, also when the local runtime runs two handlers at once in threads
of one process (two parallel jobs), and a thread's next invocation starts from none of the previous one's keys."""

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import ROOT, load_function

BUCKET = "shiftflow-scripts-logs"
STACK = "shiftflow-test"
JOBS = ("load_item_dimension", "load_store_sales_fact")


@dataclass
class Context:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 256

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"


class DataApiAtBarrier:
    """batch_execute_statement answers once both jobs are inside it: each has appended its keys and not yet logged."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    def batch_execute_statement(self, **request: Any) -> dict[str, str]:
        self.barrier.wait(timeout=30)
        return {"Id": f"statement-of-{request['StatementName']}"}


class FormattedLines(logging.Handler):
    """The JSON lines as Powertools formats them, formatted on the logging thread (where its keys live)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(self.format(record))
        with self._lock:
            self.lines.append(line)


@pytest.fixture
def scripts(monkeypatch):
    for key, value in {"SCRIPTS_BUCKET": BUCKET, "REDSHIFT_DATABASE": "dev", "REDSHIFT_CLUSTER_ID": "local",
                       "REDSHIFT_DB_USER": "etl", "REDSHIFT_WORKGROUP": "", "REDSHIFT_SECRET_ARN": "",
                       "SHIFTFLOW_STACK_NAME": STACK}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for job in JOBS:
            s3.put_object(Bucket=BUCKET, Key=f"sales/{job}.sql", Body=f"insert into {job} select 1;".encode())
        yield


@contextlib.contextmanager
def formatted_lines(app) -> Iterator[FormattedLines]:
    """Every line of the function's service (its Logger's logging.Logger), for the time of the block."""
    lines = FormattedLines(app.logger.registered_formatter)
    service_logger = logging.getLogger(app.logger.name)
    service_logger.addHandler(lines)
    try:
        yield lines
    finally:
        service_logger.removeHandler(lines)


def submit_event(job: str) -> dict[str, Any]:
    request = {"workflow": "sales_data_pipeline", "job": job, "script": f"sales/{job}.sql"}
    return {"request": request, "client_token_seed": f"arn:aws:states:us-east-1:123456789012:execution:run-sql-job:{job}"}


def test_two_parallel_jobs_log_each_their_own_keys(scripts, monkeypatch):
    app = load_function("submit_sql_job")
    monkeypatch.setattr(app, "redshift_data", DataApiAtBarrier(threading.Barrier(len(JOBS))))
    contexts = {job: Context("shiftflow-local-SubmitSqlJobFunction", f"request-{job}") for job in JOBS}
    results: dict[str, Any] = {}

    def invoke(job: str) -> None:
        results[job] = app.lambda_handler(submit_event(job), contexts[job])

    threads = [threading.Thread(target=invoke, args=(job,)) for job in JOBS]
    with formatted_lines(app) as lines:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results) == sorted(JOBS)

    submitted = {line["job"]: line for line in lines.lines if line["message"] == "SQL job submitted"}
    assert sorted(submitted) == sorted(JOBS)
    for job, line in submitted.items():
        assert line["workflow"] == "sales_data_pipeline"
        # Event completion (auto, no past runs): the statement's name carries the stack's suffix.
        assert line["statement_id"] == f"statement-of-sales_data_pipeline.{job}@{STACK}"
        assert line["function_request_id"] == f"request-{job}"
        assert line["function_name"] == "shiftflow-local-SubmitSqlJobFunction"
        assert line["function_arn"] == contexts[job].invoked_function_arn
        assert line["function_memory_size"] == 256
    # The handler's first invocation in this process is its cold start, however close the two came.
    assert sorted(line["cold_start"] for line in submitted.values()) == [False, True]


def test_a_threads_next_invocation_keeps_none_of_the_previous_ones_keys(scripts, monkeypatch):
    submit, describe = load_function("submit_sql_job"), load_function("describe_failure")
    monkeypatch.setattr(submit, "redshift_data", DataApiAtBarrier(threading.Barrier(1)))
    with formatted_lines(describe) as lines:
        submit.lambda_handler(submit_event(JOBS[0]), Context("submit", "request-submit"))
        describe.lambda_handler({"Error": "States.Timeout", "Cause": "late"}, Context("describe", "request-describe"))

    described = [line for line in lines.lines if line["message"] == "run failure"]
    assert len(described) == 1
    line = described[0]
    assert (line["function_name"], line["function_request_id"], line["cold_start"]) == ("describe", "request-describe", True)
    for key in ("job", "workflow", "statement_id"):
        assert key not in line, key


def test_no_handler_keeps_keys_in_the_shared_formatter():
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        source = app.read_text()
        assert "@invocation_logging(logger)" in source, app
        assert not re.search(r"(?<!thread_safe_)append_keys\(|inject_lambda_context|structure_logs", source), app
