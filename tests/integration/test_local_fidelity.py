"""The shipped state machines on the strict local runtime (docs/local-fidelity.md): paths that may be absent, the
size of a parallel stage's result at 500 jobs, bounded failure summaries, and the template's Lambda limits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.local.moto_gaps import LambdaContext, register_lambda_handler, wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from shiftflow.workflows import parse_workflow
from shiftflow.workflows.model import MAX_JOBS_PER_STAGE
from shiftflow.workflows.plan import build_plan
from tests.conftest import ROOT, staged_stage_input


class SqlSubmitRejected(Exception):
    """Stands in for the submit function's own error: Step Functions sees the class name."""


@pytest.fixture
def stage_runtime(tmp_path) -> Iterator[LocalRuntime]:
    with LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, persist=False,
                      state_machines=["workflow_stage"], log_level="ERROR") as runtime:
        yield runtime


def stub_sql_functions(runtime: LocalRuntime, failing: set[str], message_characters: int) -> None:
    """Submit and status functions that answer at once: jobs in `failing` are refused with a long message."""

    def submit(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        job = event["request"]["job"]
        if job in failing:
            raise SqlSubmitRejected(f"job {job}: " + "refused " * (message_characters // 8))
        deadline = time.time() + 60  # the submit's whole answer: run_sql_job's ResultSelector reads each field
        return {"statement_id": f"s-{job}", "statement_count": 1, "timeout_seconds": 60, "deadline": deadline,
                "completion": "poll", "heartbeat_seconds": 0, "token_expires_at": int(deadline) + 86_400,
                "conflict": {"attempt": 0, "retries": 0, "earlier_attempts": []}}

    def status(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return {"job": event["job"], "statement_id": event["statement_id"], "status": "FINISHED", "done": True,
                "duration_ms": 1, "rows": 0, "statement_count": 1, "result_statement_id": None,
                "conflict_attempt": 0, "conflicted_statements": [], "conflict_retry": None, "past_deadline": False,
                "heartbeat_seconds": 0}

    register_lambda_handler(runtime.deployment.output("SubmitSqlJobFunctionName"), submit)
    register_lambda_handler(runtime.deployment.output("GetStatementStatusFunctionName"), status)


def test_a_parallel_stage_of_500_jobs_most_failing_stays_under_the_payload_limit(stage_runtime: LocalRuntime) -> None:
    names = [f"job_{n:03d}_{'x' * 70}"[:80] for n in range(MAX_JOBS_PER_STAGE)]  # 80 characters: the longest name
    failing = set(names[:450])
    stub_sql_functions(stage_runtime, failing, message_characters=10_000)
    workflow = parse_workflow({
        "workflow_id": "fidelity_500",
        "workflow_stages": [{"stage_description": "Everything at once", "execution_flag": "y",
                             "execution_type": "parallel",
                             "scripts": [{"name": name, "script": "wftest/noop.sql"} for name in names]}],
    })
    plan = build_plan(workflow, "run-500", "2026-12-01")
    sfn = stage_runtime.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stage_runtime.deployment.state_machine_arn("workflow_stage"),
        input=json.dumps(staged_stage_input(stage_runtime, "fidelity_500", "run-500", plan["stages"][0],
                                            "run-500/stage-1")),
    )["executionArn"]
    wait_for_execution(arn, timeout=600)
    described = sfn.describe_execution(executionArn=arn)

    # The stage ends through its own failure path (not States.DataLimitExceeded), with the first failed job's
    # error and its message as audited (bounded), every job accounted for.
    assert (described["status"], described["error"]) == ("FAILED", "SqlSubmitRejected"), described.get("cause")
    assert described["cause"].startswith(f"job {names[0]}: refused")
    assert len(described["cause"]) <= 4_096
    pages = stage_runtime.client("dynamodb").get_paginator("scan").paginate(
        TableName=stage_runtime.deployment.output("JobAuditTableName"))
    statuses = [item["execution_status"]["S"] for page in pages for item in page["Items"]]
    assert (statuses.count("FAILED"), statuses.count("SUCCEEDED")) == (450, 50)
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=100)["events"]
    map_exited = next(e for e in events if e["type"] == "MapStateExited")["stateExitedEventDetails"]
    assert len(map_exited["output"].encode()) <= 256 * 1024


@pytest.fixture
def sales_runtime(tmp_path) -> Iterator[LocalRuntime]:
    with LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, persist=False, log_level="ERROR") as runtime:
        yield runtime


def test_the_template_gives_each_handler_its_timeout_and_memory(sales_runtime: LocalRuntime) -> None:
    seen: dict[str, LambdaContext] = {}
    client = sales_runtime.client("lambda")
    for output in ("SubmitSqlJobFunctionName", "GetStatementStatusFunctionName", "DescribeFailureFunctionName"):
        name = sales_runtime.deployment.output(output)
        register_lambda_handler(name, lambda event, context, output=output: seen.setdefault(output, context))
        client.invoke(FunctionName=name, Payload=b"{}")
    limits = {output: (context.timeout_seconds, context.memory_limit_in_mb) for output, context in seen.items()}
    assert limits == {
        "SubmitSqlJobFunctionName": (30.0, 256),  # Globals
        "GetStatementStatusFunctionName": (80.0, 256),  # its own Timeout, the Globals' MemorySize
        "DescribeFailureFunctionName": (10.0, 128),
    }


def test_a_validation_script_without_a_result_set_fails_the_run_through_its_failure_path(
    sales_runtime: LocalRuntime,
) -> None:
    """CheckValidationResults reads the job summary's result_statement_id: absent, AWS would end the run with
    States.Runtime before the guard, history and notification are written; present as null, the check fails."""
    from shiftflow.guard import read_guards, read_history

    sales_runtime.client("s3").put_object(
        Bucket=sales_runtime.deployment.output("ScriptsBucketName"), Key="sales/validate_sales_load.sql",
        Body=b"create temp table checks_done (n int);\ndrop table checks_done;\n",
    )
    sfn = sales_runtime.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=sales_runtime.deployment.state_machine_arn("sales_data_pipeline"),
        input=json.dumps({"run_date": "2026-11-21", "setup_demo_data": True}),
    )["executionArn"]
    wait_for_execution(arn, timeout=300)
    described = sfn.describe_execution(executionArn=arn)

    assert (described["status"], described["error"]) == ("FAILED", "InvalidJobRequest"), described.get("cause")
    assert "the validation script returned no result set" in described["cause"]
    dynamodb = sales_runtime.client("dynamodb")
    (guard,) = read_guards(dynamodb, sales_runtime.deployment.output("JobGuardTableName"), "sales_data_pipeline")
    assert (guard["JobState"], guard["FailedStep"]) == ("Failed", "validate_sales_load")
    (record,) = read_history(dynamodb, sales_runtime.deployment.output("RunHistoryTableName"), "sales_data_pipeline")
    assert (record["Status"], record["Error"]) == ("FAILED", "InvalidJobRequest")
    (notice,) = sales_runtime.notifications()
    assert notice["message"]["error"] == "InvalidJobRequest"


def test_a_reserved_error_caught_by_run_sql_job_is_raised_under_a_name_of_its_own(
    sales_runtime: LocalRuntime,
) -> None:
    """The shipped run_sql_job with its submit's TimeoutSeconds cut to 1 s and no retry of States.Timeout (locally
    a timeout is real time): the caught States.Timeout ends the job as SqlJobInterrupted, the original name kept."""
    released = threading.Event()
    register_lambda_handler(sales_runtime.deployment.output("SubmitSqlJobFunctionName"),
                            lambda event, context: released.wait(10))
    sfn = sales_runtime.client("stepfunctions")
    shipped = sfn.describe_state_machine(stateMachineArn=sales_runtime.deployment.state_machine_arn("run_sql_job"))
    definition = json.loads(shipped["definition"])
    submit = definition["States"]["SubmitSqlScript"]
    submit["TimeoutSeconds"] = 1
    submit["Retry"][0]["ErrorEquals"].remove("States.Timeout")
    machine = sfn.create_state_machine(name="run-sql-job-short-submit", definition=json.dumps(definition),
                                       roleArn=shipped["roleArn"])["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine,
        input=json.dumps({"workflow": "fidelity", "job": "reserved", "script": "sales/validate_sales_load.sql",
                          "parameters": {}}),
    )["executionArn"]
    try:
        wait_for_execution(arn, timeout=60)
    finally:
        released.set()
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "SqlJobInterrupted"), described.get("cause")
    assert described["cause"].startswith("States.Timeout: ")


def test_the_failure_path_of_a_plan_near_its_limit_records_and_notifies_within_256_kib(
    sales_runtime: LocalRuntime,
) -> None:
    """A 190 KiB parameter in every job's plan (a stage's plan gets 200 KiB, MAX_STATE_BYTES): the failed job's
    description is past a cause's 32,768 characters, the failure path still records, notifies and fails the run, with
    bounded summaries that carry none of the plan."""
    from shiftflow.workflows import push, run_input
    from shiftflow.workflows.audit import job_items

    outputs = sales_runtime.deployment.outputs
    sales_runtime.client("s3").put_object(Bucket=outputs["ScriptsBucketName"], Key="wftest/divides.sql",
                                          Body=b"select 1 / 0 where :pad is not null;")
    push(sales_runtime.client("dynamodb"), outputs["WorkflowConfigTableName"], parse_workflow({
        "workflow_id": "fidelity_big_plan", "parameters": {"pad": "p" * (190 * 1024)},
        "workflow_stages": [{"stage_description": "one", "execution_flag": "y", "execution_type": "sequential",
                             "scripts": [{"name": "divides", "script": "wftest/divides.sql"}]}],
    }))
    sfn = sales_runtime.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=sales_runtime.deployment.state_machine_arn("workflow"),
                              input=json.dumps(run_input("fidelity_big_plan")))["executionArn"]
    wait_for_execution(arn, timeout=300)
    described = sfn.describe_execution(executionArn=arn)

    # The stage's input is its number only (its plan is in the run plan table): its failure reaches the workflow
    # whole, and only the job's description, whose input has the parameter, is cut.
    assert (described["status"], described["error"]) == ("FAILED", "SqlJobInterrupted"), described.get("cause")
    assert "job divides failed" in described["cause"] and "ppppp" not in described["cause"]
    (notice,) = [n for n in sales_runtime.notifications() if "fidelity_big_plan" in n["subject"]]
    assert "ppppp" not in json.dumps(notice)
    (job,) = job_items(sales_runtime.client("dynamodb"), outputs["JobAuditTableName"], described["name"])
    assert job["execution_status"] == "FAILED" and "ppppp" not in job["error_message"]
