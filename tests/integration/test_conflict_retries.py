"""Redshift-aware retries end to end on the local runtime: two parallel jobs of a workflow update the same table while
a third session holds a transaction on it, so that both fail with error 1023 (a serializable isolation violation,
the emulator's report of DuckDB's write-write conflict); run_sql_job submits each again as a new statement after a
wait, they succeed once the third session has ended, and the job audit records every attempt. A conflict that
outlasts the job's conflict_retries fails the job with the conflict error; any other SQL error fails it at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.jobs.history_budget import CHECK, CONFLICT_RETRY, SUBMIT, path_events
from shiftflow.local.functions import load_handler
from shiftflow.local.moto_gaps import wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from shiftflow.workflows import run_input
from tests.conftest import ROOT, SLOW_SQL
from tests.integration.test_cancel_abandoned_statement import status_change_event
from tests.integration.test_workflows import TIMEOUT, Harness, stage, unique

VIOLATION = "ERROR: 1023 DETAIL: Serializable isolation violation on table - local duckdb: "
RUN_SQL_JOB = json.loads((ROOT / "statemachine" / "run_sql_job.asl.json").read_text())


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    # Waits at a hundredth: the first retry comes 75-150 ms after a conflict, time enough to see it happen; long
    # polls of 1.5 s, so that a stop takes effect soon.
    state = tmp_path_factory.mktemp("conflict-runtime")
    with LocalRuntime(ROOT, state_dir=state, time_scale=0.01, data_api_time_scale=0.05, persist=False,
                      state_machines=["workflow", "workflow_stage", "run_sql_job"]) as runtime:
        yield Harness(runtime)


def counters(harness: Harness) -> str:
    table = unique("counters")
    harness.query(f"create table {table} (id int, v int)")
    harness.query(f"insert into {table} values (1, 0), (2, 0)")
    return table


def increment_job(harness: Harness, table: str, row: int, **options: Any) -> dict[str, Any]:
    name = f"bump_{row}"
    script = harness.script(f"wftest/{table}/{name}.sql", f"update {table} set v = v + 1 where id = {row};")
    return {"name": name, "script": script, **options}


def hold_rows(harness: Harness, table: str) -> Any:
    """A third session's open transaction that has written both rows: every job writing them conflicts with it."""
    session = harness.runtime.emulator.engine.session("dev")
    session.begin()
    session.execute(f"update {table} set v = v + 100", {})
    return session


def start(harness: Harness, workflow_id: str) -> str:
    return harness.sfn.start_execution(stateMachineArn=harness.runtime.deployment.state_machine_arn("workflow"),
                                       input=json.dumps(run_input(workflow_id)))["executionArn"]


def statements(harness: Harness, workflow_id: str, job: str) -> list[dict[str, Any]]:
    """Every statement the job submitted, oldest first, as DescribeStatement tells them."""
    listed = harness.data_api.list_statements(StatementName=f"{workflow_id}.{job}", Status="ALL")["Statements"]
    described = [harness.data_api.describe_statement(Id=item["Id"]) for item in listed]
    return sorted(described, key=lambda description: description["CreatedAt"])


def wait_until(condition: Any, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"


def history(harness: Harness, execution_arn: str) -> list[dict[str, Any]]:
    return harness.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def definition_events(events: list[dict[str, Any]]) -> int:
    """The events the definition gives the states of this history, in the order entered; an event wait that failed
    at once (the statement's event came before its token) has no TaskSubmitted."""
    path = [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]
    submitted = sum(1 for event in events if event["type"] == "TaskSubmitted")
    return path_events(RUN_SQL_JOB, path) - (path.count("WaitForStatementEvent") - submitted)


def submits(events: list[dict[str, Any]]) -> int:
    return sum(1 for event in events if event["type"] == "TaskStateEntered"
               and event["stateEnteredEventDetails"]["name"] == "SubmitSqlScript")


def test_two_parallel_jobs_that_conflict_succeed_on_retry_with_every_attempt_in_the_audit(harness: Harness):
    workflow_id, table = unique("conflicting"), counters(harness)
    jobs = [increment_job(harness, table, row, conflict_retries=10) for row in (1, 2)]
    harness.push({"workflow_id": workflow_id, "workflow_stages": [stage("Both counters", "parallel", jobs)]})
    holder = hold_rows(harness, table)

    arn = start(harness, workflow_id)
    # Both jobs' first statements fail on the third session's transaction; then it ends (rolled back) ...
    wait_until(lambda: all(any(s["Status"] == "FAILED" for s in statements(harness, workflow_id, job["name"]))
                           for job in jobs), "both jobs to fail on the conflict")
    holder.rollback()
    # ... and their next attempt passes.
    assert wait_for_execution(arn, TIMEOUT) == "SUCCEEDED"

    execution = harness.sfn.describe_execution(executionArn=arn)
    audit = harness.jobs(execution)
    for job in jobs:
        item, submitted = audit[job["name"]], statements(harness, workflow_id, job["name"])
        retried = json.loads(item["conflicted_statements"])
        assert item["execution_status"] == "SUCCEEDED" and item["attempt"] == 0  # no workflow-level retry
        assert item["conflict_attempt"] == len(retried) == len(submitted) - 1 >= 1
        # Each attempt in the audit: the failed statements with the database's error, then the one that passed.
        assert [attempt["statement_id"] for attempt in retried] == [s["Id"] for s in submitted[:-1]]
        assert all(attempt["error"] == f"{VIOLATION}TransactionContext Error: Conflict on update!"
                   for attempt in retried)
        assert [s["Status"] for s in submitted] == ["FAILED"] * len(retried) + ["FINISHED"]
        assert item["statement_id"] == submitted[-1]["Id"]
        # All in one run_sql_job execution: the retries are its own (a new statement each, never the failed one).
        events = history(harness, item["sql_execution_arn"])
        assert submits(events) == len(submitted)
        # The history: the events the definition gives the states the job visited, within the budget's allowance
        # per conflict retry (shiftflow.jobs.history_budget); the last attempt at its costliest (its event before
        # its token, then a check).
        assert len(events) == definition_events(events)
        assert len(events) <= path_events(RUN_SQL_JOB, [*SUBMIT, *CONFLICT_RETRY * len(retried),
                                                        "WaitForStatementEvent", *CHECK, "SqlJobFinished"])
    # Rolled back attempts left nothing: each job's update counts once, the third session's not at all.
    assert harness.query(f"select id, v from {table} order by id") == [{"id": 1, "v": 1}, {"id": 2, "v": 1}]


def test_a_conflict_past_the_jobs_conflict_retries_fails_the_job_with_the_conflict_error(harness: Harness):
    workflow_id, table = unique("still_conflicting"), counters(harness)
    job = increment_job(harness, table, 1, conflict_retries=2)
    harness.push({"workflow_id": workflow_id, "workflow_stages": [stage("One counter", "sequential", [job])]})
    holder = hold_rows(harness, table)
    try:
        arn = start(harness, workflow_id)
        assert wait_for_execution(arn, TIMEOUT) == "FAILED"
    finally:
        holder.rollback()

    submitted = statements(harness, workflow_id, job["name"])
    assert [s["Status"] for s in submitted] == ["FAILED"] * 3  # 1 try + 2 conflict retries
    item = harness.jobs(harness.sfn.describe_execution(executionArn=arn))[job["name"]]
    assert item["execution_status"] == "FAILED" and item["error_type"] == "SqlStatementFailed"
    earlier = ", ".join(s["Id"] for s in submitted[:2])
    assert item["error_message"] == (
        f"job bump_1: statement 1 of 1 ({submitted[2]['Id']}:1) failed: "
        f"{VIOLATION}TransactionContext Error: Conflict on update! [SQL: update {table} set v = v + 1 where id = 1] "
        f"(a transaction conflict on each of 3 attempts (conflict_retries 2); "
        f"earlier attempts failed on transaction conflicts: statements {earlier})"
    )
    assert harness.query(f"select v from {table} where id = 1") == [{"v": 0}]


def test_another_sql_error_fails_the_job_at_once_without_a_retry(harness: Harness):
    workflow_id = unique("broken")
    script = harness.script(f"wftest/{workflow_id}/broken.sql", "update no_such_table set v = 1;")
    harness.push({"workflow_id": workflow_id,
                  "workflow_stages": [stage("Broken", "sequential", [{"name": "broken", "script": script}])]})

    arn = start(harness, workflow_id)
    assert wait_for_execution(arn, TIMEOUT) == "FAILED"

    assert [s["Status"] for s in statements(harness, workflow_id, "broken")] == ["FAILED"]
    item = harness.jobs(harness.sfn.describe_execution(executionArn=arn))["broken"]
    assert item["execution_status"] == "FAILED" and "no_such_table" in item["error_message"]
    assert "conflict" not in item["error_message"]



def test_a_job_stopped_after_a_conflict_retry_has_the_new_statement_cancelled(harness: Harness, lambda_context):
    table = counters(harness)
    script = harness.script(f"wftest/{table}/slow.sql", f"update {table} set v = v + 1 where id = 1;\n{SLOW_SQL}")
    holder = hold_rows(harness, table)
    arn = harness.sfn.start_execution(
        stateMachineArn=harness.runtime.deployment.state_machine_arn("run_sql_job"),
        input=json.dumps({"workflow": table, "job": "slow", "script": script, "parameters": {}}))["executionArn"]
    wait_until(lambda: [s["Status"] for s in statements(harness, table, "slow")] == ["FAILED"], "the conflict")
    holder.rollback()
    # A retry's update done, its slow query running (a retry made before the rollback failed on it again, and the
    # next one ran: as many attempts as the rollback took).
    wait_until(lambda: [sub["Status"] for sub in statements(harness, table, "slow")[-1]["SubStatements"]]
               == ["FINISHED", "STARTED"], "a retry's statement to run")
    # Stopped while a status poll runs or the job waits for its statement's event (auto: event mode, no past runs):
    # moto fails an execution stopped as a task starts (States.Runtime).
    wait_until(lambda: harness.sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
               ["events"][0]["type"] in ("TaskStarted", "TaskSubmitted"), "a status poll or the event's wait")

    harness.sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped from the console")
    assert wait_for_execution(arn, TIMEOUT) == "ABORTED"
    cancel = load_handler(ROOT / "functions" / "cancel_abandoned_statement", "app.lambda_handler")
    result = cancel(status_change_event(harness.sfn.describe_execution(executionArn=arn)), lambda_context)

    *failed, retried = statements(harness, table, "slow")
    assert result == {"execution_arn": arn, "statement_id": retried["Id"], "status": "ABORTED"}
    assert failed and [s["Status"] for s in failed] == ["FAILED"] * len(failed) and retried["Status"] == "ABORTED"
