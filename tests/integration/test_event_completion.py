"""run_sql_job in event mode, end to end in the local runtime: the emulator's WithEvent status change events reach
resume_sql_job through the template's rule (shiftflow.local.cloud.events), and are dropped, delayed, duplicated or
made to arrive before the job's token on purpose (DataApiEventRoute.deliveries, a wrapped submit function)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.functions import load_handler
from shiftflow.local.iam.enforcement import acting_as
from shiftflow.local.moto_gaps import register_lambda_handler, wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from tests.conftest import ROOT, SLOW_SQL

SCRIPTS = {"tests/ok.sql": "select 1 as one;", "tests/bad.sql": "select nope from nowhere;", "tests/slow.sql": SLOW_SQL}


@pytest.fixture
def runtime(tmp_path) -> Iterator[LocalRuntime]:
    # Long polls scaled down (a 30-s safety-net check takes 1.5 s); heartbeats are real seconds, given per job.
    with LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, data_api_time_scale=0.05, persist=False) as local:
        bucket = local.deployment.output("ScriptsBucketName")
        for key, sql in SCRIPTS.items():
            local.client("s3").put_object(Bucket=bucket, Key=key, Body=sql.encode())
        yield local


@pytest.fixture
def routing_errors(caplog) -> Iterator[list[logging.LogRecord]]:
    """Errors of the routed functions (a failed invocation of a rule's target is logged, as Lambda would)."""
    caplog.set_level(logging.ERROR, logger="shiftflow.cloud.events")
    yield caplog.records


def start(runtime: LocalRuntime, script: str, **fields: Any) -> str:
    job = script.rsplit("/", 1)[-1].removesuffix(".sql")
    request = {"workflow": "tests", "job": job, "script": script, "parameters": {}, "completion": "event", **fields}
    return runtime.client("stepfunctions").start_execution(
        stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"), input=json.dumps(request))["executionArn"]


def states_entered(runtime: LocalRuntime, arn: str) -> list[str]:
    events = runtime.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]


def ended(runtime: LocalRuntime, arn: str) -> dict[str, Any]:
    assert wait_for_execution(arn, timeout=120) != "RUNNING"
    return runtime.client("stepfunctions").describe_execution(executionArn=arn)


def statement_of(runtime: LocalRuntime, job: str) -> dict[str, Any] | None:
    found = runtime.client("redshift-data").list_statements(StatementName=f"tests.{job}", Status="ALL")["Statements"]
    return found[0] if found else None


def events_of(runtime: LocalRuntime, statement_id: str) -> list[dict[str, Any]]:
    return [event for event in runtime.data_api_events.delivered if event["detail"]["statementId"] == statement_id]


EVENT_PATH = ["SubmitSqlScript", "RouteOnCompletionMode", "WaitForStatementEvent", "RouteOnSqlStatus"]
# A statement that did not finish is checked once more by the long poll, which decides a transaction conflict's
# retry and words the failure (the event's report cannot: it knows nothing of the job's conflict attempts).
FAILED_EVENT_PATH = [*EVENT_PATH, "WaitForSqlCompletion", "RouteOnSqlStatus", "SqlJobFailed"]


def test_a_finished_statement_resumes_its_job_through_the_event(runtime, routing_errors):
    execution = ended(runtime, start(runtime, "tests/ok.sql", heartbeat_seconds=60))
    output = json.loads(execution["output"])
    assert execution["status"] == "SUCCEEDED"
    assert (output["status"], output["rows"], output["statement_count"]) == ("FINISHED", 1, 1)
    assert output["result_statement_id"] == f"{output['statement_id']}:1"  # described once, sub-statements and all
    # Five transitions, no status poll: the event, within its first heartbeat interval, resumed the job.
    assert states_entered(runtime, execution["executionArn"]) == [*EVENT_PATH, "SqlJobFinished"]
    (event,) = events_of(runtime, output["statement_id"])
    assert event["detail"]["statementName"] == "tests.ok@shiftflow-local"
    assert routing_errors == []


def test_a_failed_statement_fails_its_job_with_the_database_error(runtime, routing_errors):
    execution = ended(runtime, start(runtime, "tests/bad.sql", heartbeat_seconds=60))
    assert execution["status"] == "FAILED"
    assert execution["error"] == "SqlStatementFailed"
    assert "statement 1 of 1" in execution["cause"] and "nowhere" in execution["cause"]  # not in the event: described
    assert states_entered(runtime, execution["executionArn"]) == FAILED_EVENT_PATH
    assert routing_errors == []


def test_an_aborted_statement_fails_its_job_as_aborted(runtime, routing_errors):
    arn = start(runtime, "tests/slow.sql", heartbeat_seconds=60)
    assert wait_until(lambda: (statement_of(runtime, "slow") or {}).get("Status") == "STARTED", timeout=60)
    runtime.client("redshift-data").cancel_statement(Id=statement_of(runtime, "slow")["Id"])
    execution = ended(runtime, arn)
    assert (execution["status"], execution["error"]) == ("FAILED", "SqlStatementAborted")
    assert states_entered(runtime, arn) == FAILED_EVENT_PATH
    assert routing_errors == []


def test_a_dropped_event_is_made_up_for_by_the_safety_net(runtime, routing_errors):
    runtime.data_api_events.deliveries = lambda event: []
    execution = ended(runtime, start(runtime, "tests/ok.sql", heartbeat_seconds=1))
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["status"] == "FINISHED"
    # The heartbeat ended the wait; the long poll found the statement finished.
    assert states_entered(runtime, execution["executionArn"]) == [
        *EVENT_PATH[:3], "WaitForSqlCompletion", "RouteOnSqlStatus", "SqlJobFinished"]
    assert runtime.data_api_events.delivered == []


def test_a_duplicate_event_resumes_the_job_once_and_changes_nothing(runtime, routing_errors):
    runtime.data_api_events.deliveries = lambda event: [0.0, 0.0]
    execution = ended(runtime, start(runtime, "tests/ok.sql", heartbeat_seconds=60))
    statement_id = json.loads(execution["output"])["statement_id"]
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(runtime, execution["executionArn"]) == [*EVENT_PATH, "SqlJobFinished"]
    # The second delivery is put right after the first, which may already have resumed and ended the job.
    assert wait_until(lambda: len(events_of(runtime, statement_id)) == 2, timeout=10)
    assert wait_until(lambda: completion_item(runtime, statement_id).get("final_state") == {"S": "FINISHED"},
                      timeout=10)
    assert routing_errors == []  # the second SendTaskSuccess found the token used: swallowed


def test_a_late_event_after_the_safety_net_is_harmless(runtime, routing_errors):
    runtime.data_api_events.deliveries = lambda event: [3.0]
    execution = ended(runtime, start(runtime, "tests/ok.sql", heartbeat_seconds=1))
    statement_id = json.loads(execution["output"])["statement_id"]
    assert execution["status"] == "SUCCEEDED"
    assert "WaitForSqlCompletion" in states_entered(runtime, execution["executionArn"])
    assert wait_until(lambda: "final_state" in completion_item(runtime, statement_id), timeout=30)
    assert runtime.client("stepfunctions").describe_execution(
        executionArn=execution["executionArn"])["status"] == "SUCCEEDED"
    assert routing_errors == []


def test_an_event_that_comes_before_the_token_is_found_by_the_job(runtime, routing_errors):
    """The statement ends and its event is handled before run_sql_job stores its token: the conditional put fails,
    and the job finds the final state with one status check instead of waiting for an event already gone."""
    submit = load_handler(ROOT / "functions" / "submit_sql_job", "app.lambda_handler")

    def submit_then_wait_for_the_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result = submit(event, context)
        assert wait_until(lambda: "final_state" in completion_item(runtime, result["statement_id"]), timeout=30)
        return result

    register_lambda_handler("shiftflow-local-SubmitSqlJobFunction", submit_then_wait_for_the_event)
    execution = ended(runtime, start(runtime, "tests/ok.sql", heartbeat_seconds=60))
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(runtime, execution["executionArn"]) == [
        *EVENT_PATH[:3], "WaitForSqlCompletion", "RouteOnSqlStatus", "SqlJobFinished"]
    assert routing_errors == []


def test_the_deadline_cancels_an_event_mode_statement_and_waits_for_its_end(runtime, routing_errors):
    # No heartbeat asked: the default (15 min) is cut to end right after the 2-s deadline.
    execution = ended(runtime, start(runtime, "tests/slow.sql", timeout_seconds=2))
    assert (execution["status"], execution["error"]) == ("FAILED", "SqlJobTimedOut")
    assert "ran longer than the job's timeout of 2 s" in execution["cause"]
    assert states_entered(runtime, execution["executionArn"])[:4] == [*EVENT_PATH[:3], "WaitForSqlCompletion"]
    assert statement_of(runtime, "slow")["Status"] == "ABORTED"


def test_a_stopped_event_mode_job_has_its_statement_cancelled(runtime, routing_errors):
    """StopExecution: the execution's status change event reaches cancel_abandoned_statement, which finds the
    statement in the history; the statement's own ABORTED event then finds the job's token dead: no error."""
    arn = start(runtime, "tests/slow.sql", heartbeat_seconds=60)
    assert wait_until(lambda: (statement_of(runtime, "slow") or {}).get("Status") == "STARTED", timeout=60)
    assert wait_until(lambda: "WaitForStatementEvent" in states_entered(runtime, arn), timeout=30)
    runtime.client("stepfunctions").stop_execution(executionArn=arn, error="Operator", cause="stopped by the test")
    assert wait_until(lambda: statement_of(runtime, "slow")["Status"] == "ABORTED", timeout=60)
    statement_id = statement_of(runtime, "slow")["Id"]
    assert wait_until(lambda: "final_state" in completion_item(runtime, statement_id), timeout=30)
    assert runtime.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert routing_errors == []


@pytest.mark.parametrize(("expected_seconds", "path"), [
    (5, ["SubmitSqlScript", "RouteOnCompletionMode", "WaitForSqlCompletion", "RouteOnSqlStatus", "SqlJobFinished"]),
    (600, [*EVENT_PATH, "SqlJobFinished"]),
])
def test_auto_polls_a_job_expected_to_be_short_and_waits_for_the_event_otherwise(runtime, expected_seconds, path):
    execution = ended(runtime, start(runtime, "tests/ok.sql", completion="auto", expected_seconds=expected_seconds))
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(runtime, execution["executionArn"]) == path


def completion_item(runtime: LocalRuntime, statement_id: str) -> dict[str, Any]:
    # The test's own read, as the administrator even when made inside a handler's invocation (its role's thread).
    with acting_as(None):
        return runtime.client("dynamodb").get_item(
            TableName=runtime.deployment.output("CompletionTableName"),
            Key={"statement_id": {"S": statement_id}}, ConsistentRead=True).get("Item", {})


def test_two_executions_of_one_job_and_seed_follow_one_statement_and_are_both_resumed(runtime, routing_errors):
    """A retried start of a job (same client token seed) follows the first start's statement: both tokens are kept
    with the statement, and its one event resumes both executions."""
    seed = "arn:aws:states:us-east-1:123456789012:execution:parent:run-1/redrive-0"
    first = start(runtime, "tests/slow.sql", heartbeat_seconds=60, client_token_seed=seed)
    second = start(runtime, "tests/slow.sql", heartbeat_seconds=60, client_token_seed=seed)
    assert wait_until(lambda: all("WaitForStatementEvent" in states_entered(runtime, arn) for arn in (first, second)),
                      timeout=60)
    (statement,) = runtime.client("redshift-data").list_statements(StatementName="tests.slow",
                                                                   Status="ALL")["Statements"]
    assert len(completion_item(runtime, statement["Id"])["task_tokens"]["SS"]) == 2
    runtime.client("redshift-data").cancel_statement(Id=statement["Id"])
    for arn in (first, second):
        execution = ended(runtime, arn)
        assert (execution["status"], execution["error"]) == ("FAILED", "SqlStatementAborted")
        assert states_entered(runtime, arn) == FAILED_EVENT_PATH
    assert routing_errors == []
