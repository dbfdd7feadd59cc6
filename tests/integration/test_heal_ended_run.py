"""A pipeline or workflow run stopped from outside (StopExecution) leaves its guard Running with a dead owner, its
records absent or RUNNING and nobody notified, until heal_ended_run, which the EventBridge rule invokes on the
execution's status change, fails the guard, records the run as it ended and notifies, once.

The local runtime routes the execution's "Step Functions Execution Status Change" event to the heal as the template's
rule does (shiftflow.local.cloud.events). A duplicate, a late and two concurrent deliveries are made by hand: the event
built from the stopped execution (DescribeExecution), the handler invoked in-process as the rule's target would be
(tests/unit/test_template.py checks that the rule's pattern matches such an event).
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shiftflow.guard import read_guards, read_history, reset_guard, with_owner_status
from shiftflow.heal import HEAL_MARK
from shiftflow.local.cloud.client import wait_until
from shiftflow.local.functions import load_handler
from shiftflow.local.moto_gaps import wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from shiftflow.workflows import run_input
from tests.conftest import ROOT, SLOW_SQL
from tests.integration.test_cancel_abandoned_statement import status_change_event
from tests.integration.test_workflows import Harness

TIMEOUT = 120
OPERATOR = {"error": "OperatorStop", "cause": "stopped from the console"}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    state = tmp_path_factory.mktemp("heal-runtime")
    with LocalRuntime(ROOT, state_dir=state, time_scale=0.001, data_api_time_scale=0.05, persist=False) as runtime:
        yield Harness(runtime)


@pytest.fixture(scope="module")
def heal(harness: Harness) -> Callable[[dict[str, Any]], dict[str, Any]]:
    handler = load_handler(ROOT / "functions" / "heal_ended_run", "app.lambda_handler")

    class Context:
        function_name = "heal-ended-run"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:heal-ended-run"
        aws_request_id = "00000000-0000-0000-0000-000000000011"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 120_000

    return lambda event: handler(event, Context())


def started_statement(harness: Harness, name: str) -> dict[str, Any] | None:
    statements = harness.data_api.list_statements(StatementName=name, Status="ALL")["Statements"]
    return next((statement for statement in statements if statement["Status"] == "STARTED"), None)


def once_started(harness: Harness, name: str) -> dict[str, Any]:
    """The statement `name` once it runs (SLOW_SQL: it stays STARTED for minutes, so the second read finds it too)."""
    assert wait_until(lambda: started_statement(harness, name) is not None, TIMEOUT), f"{name} never started"
    statement = started_statement(harness, name)
    assert statement is not None
    return statement


def stop(harness: Harness, arn: str) -> dict[str, Any]:
    """StopExecution, and the execution's DescribeExecution once it and its children have ended.

    AWS stops the startExecution.sync:2 children of a stopped execution; moto does not always (see the workflow
    test), so they are stopped here, before a child could record anything."""
    harness.sfn.stop_execution(executionArn=arn, **OPERATOR)
    wait_for_execution(arn, timeout=TIMEOUT)
    for machine in ("workflow_stage", "run_sql_job"):
        running = harness.sfn.list_executions(stateMachineArn=harness.runtime.deployment.state_machine_arn(machine),
                                              statusFilter="RUNNING")["executions"]
        for child in running:
            harness.sfn.stop_execution(executionArn=child["executionArn"])
            wait_for_execution(child["executionArn"], timeout=TIMEOUT)
    return harness.sfn.describe_execution(executionArn=arn)


def stopped_event(description: dict[str, Any]) -> dict[str, Any]:
    """The event AWS sends for an execution StopExecution ended: ABORTED, with StopExecution's error and cause."""
    event = status_change_event(description)
    event["detail"].update(status="ABORTED", **OPERATOR)
    return event


def owner_status(harness: Harness, job: str) -> tuple[bool, str]:
    (guard,) = with_owner_status(harness.sfn, read_guards(harness.dynamodb, harness.outputs["JobGuardTableName"], job))
    return guard["stale"], guard["owner_status"]


@contextlib.contextmanager
def heal_rule_disabled(harness: Harness) -> Iterator[None]:
    """The heal's rule disabled for the block: an execution that ends in it is not healed until the test says."""
    client = harness.runtime.client("events")
    (rule,) = [rule["Name"] for rule in client.list_rules()["Rules"] if "HealEndedRun" in rule["Name"]]
    client.disable_rule(Name=rule)
    try:
        yield
    finally:
        client.enable_rule(Name=rule)


def notifications_once_delivered(harness: Harness) -> list[dict[str, str]]:
    """The notifications, once the heal has sent one and every delivery of the rules' targets has ended."""
    received: list[dict[str, str]] = []

    def notified() -> bool:
        received.extend(harness.notifications())  # each read takes the messages off the inbox
        return bool(received)

    assert wait_until(notified, TIMEOUT), "the heal never notified"
    assert harness.runtime.deliverer.wait(timeout=TIMEOUT)
    return received + harness.notifications()


def cancel(harness: Harness, statement: dict[str, Any]) -> None:
    """The stopped run's statement would run for minutes: cancel_abandoned_statement's job, done here directly
    (its routed event may have cancelled it first: then the Data API says it is already ABORTED)."""
    try:
        harness.data_api.cancel_statement(Id=statement["Id"])
    except harness.data_api.exceptions.ValidationException as error:
        if "already in ABORTED status" not in str(error):
            raise


def test_a_stopped_pipeline_has_its_guard_failed_its_run_recorded_and_one_notification(harness, heal):
    # The demo set-up job made slow: the run is stopped while its first job's statement runs.
    harness.script("sales/setup_sales_demo.sql", SLOW_SQL)
    job, guard_table = "sales_data_pipeline", harness.outputs["JobGuardTableName"]
    harness.notifications()
    arn = harness.sfn.start_execution(
        stateMachineArn=harness.runtime.deployment.state_machine_arn("sales_data_pipeline"),
        input=json.dumps({"setup_demo_data": True, "run_date": "2026-11-21"}),
    )["executionArn"]
    statement = once_started(harness, f"{job}.setup_sales_demo")
    try:
        stopped = stop(harness, arn)
    finally:
        cancel(harness, statement)
    assert stopped["status"] == "ABORTED"

    # The execution's status change, routed to the heal as the rule sends it, fails the guard, records, notifies.
    (notice,) = notifications_once_delivered(harness)
    guard = harness.guard(job)
    assert (guard["JobState"], guard["LastStatus"], guard["LastExecution"]) == ("Failed", "ABORTED", arn)
    assert guard["FailedStep"] == "SetUpSalesDemoData" and HEAL_MARK not in guard
    assert guard["LastError"] == "OperatorStop: the execution was stopped outside its own failure path: " \
                                 "stopped from the console"
    assert owner_status(harness, job) == (False, "")  # Failed: no longer a stale Running guard
    (run,) = read_history(harness.dynamodb, harness.outputs["RunHistoryTableName"], job)
    assert (run["Status"], run["ExecutionArn"], run["RunDate"], run["FailedStep"], run["Error"]) == (
        "ABORTED", arn, "2026-11-21", "SetUpSalesDemoData", "OperatorStop")
    assert run["RunStart"] == guard["JobStart"]  # the run's own start, the sort key its own records use
    assert notice["subject"] == f"Shiftflow: {job} ABORTED"
    assert json.loads(notice["message"]) == {"failed_step": "SetUpSalesDemoData", "error": "OperatorStop",
                                             "message": guard["LastError"].removeprefix("OperatorStop: ")}

    # EventBridge delivers at least once: the same event again changes nothing and notifies nobody.
    event = stopped_event(stopped)
    assert heal(event) == {"execution_arn": arn, "job": job, "healed": False, "notified": False}
    assert harness.guard(job) == guard
    assert len(read_history(harness.dynamodb, harness.outputs["RunHistoryTableName"], job)) == 1
    assert harness.notifications() == []

    # Late, after an operator reset the guard: the Ready guard is left as it is.
    reset_guard(harness.dynamodb, guard_table, job)
    assert heal(event)["healed"] is False
    assert harness.guard(job)["JobState"] == "Ready"
    assert harness.notifications() == []


def test_a_stopped_workflow_has_its_audit_closed_and_can_be_restarted(harness, heal):
    workflow_id, folder = f"heal_{uuid.uuid4().hex[:6]}", f"wftest/heal_{uuid.uuid4().hex[:6]}"
    slow = harness.script(f"{folder}/slow.sql", SLOW_SQL)
    quick = harness.script(f"{folder}/quick.sql", "select 1;")
    after = harness.script(f"{folder}/after.sql", "select 2;")
    harness.push({
        "workflow_id": workflow_id,
        "workflow_stages": [
            {"stage_description": "Load", "execution_flag": "y", "execution_type": "parallel",
             "scripts": [{"name": "slow", "script": slow}, {"name": "quick", "script": quick}]},
            {"stage_description": "Publish", "execution_flag": "y", "execution_type": "sequential",
             "scripts": [{"name": "after", "script": after}]},
        ],
    })
    harness.notifications()
    arn = harness.sfn.start_execution(stateMachineArn=harness.runtime.deployment.state_machine_arn("workflow"),
                                      input=json.dumps(run_input(workflow_id)))["executionArn"]
    execution = {"name": arn.rsplit(":", 1)[-1]}
    statement = once_started(harness, f"{workflow_id}.slow")
    assert wait_until(lambda: harness.statuses(execution).get("quick") == "SUCCEEDED", TIMEOUT), "quick never succeeded"
    with heal_rule_disabled(harness):  # its event not delivered yet: the run as the stop left it
        try:
            stopped = stop(harness, arn)
        finally:
            cancel(harness, statement)

    # moto 5.2.5 ends an execution stopped inside an inline Map iteration FAILED (States.Runtime, an AttributeError
    # of its own) where AWS ends it ABORTED: the event is built as AWS sends it, and the guard reads as moto left it.
    assert harness.guard(workflow_id)["JobState"] == "Running"
    assert owner_status(harness, workflow_id) == (True, stopped["status"])
    assert harness.workflow_item(execution)["execution_status"] == "RUNNING"
    assert harness.statuses(execution) == {"slow": "RUNNING", "quick": "SUCCEEDED"}

    # Delivered twice at the same moment: both may settle the records, one notifies.
    event = stopped_event(stopped)
    outcomes: list[dict[str, Any]] = []
    deliveries = [threading.Thread(target=lambda: outcomes.append(heal(event))) for _ in range(2)]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join(timeout=TIMEOUT)
    assert sorted(outcome["notified"] for outcome in outcomes) == [False, True]
    assert {(outcome["execution_arn"], outcome["job"]) for outcome in outcomes} == {(arn, workflow_id)}

    guard = harness.guard(workflow_id)
    assert (guard["JobState"], guard["LastStatus"], guard["LastExecution"]) == ("Failed", "ABORTED", arn)
    assert harness.statuses(execution) == {"slow": "STOPPED", "quick": "SUCCEEDED", "after": "NOT_RUN"}
    run = harness.workflow_item(execution)
    assert (run["execution_status"], run["error_type"], run["execution_end_ts"]) == (
        "ABORTED", "OperatorStop", guard["JobEnd"])
    assert json.loads(run["job_counts"]) == {"NOT_RUN": 1, "STOPPED": 1, "SUCCEEDED": 1}
    assert (run["failed_stage"], run["failed_job"]) == (1, "slow")  # the job that was running when it stopped
    (notice,) = harness.notifications()
    assert notice["subject"] == f"Shiftflow: workflow {workflow_id} was stopped"
    assert notice["message"].startswith(f"workflow {workflow_id}, run {execution['name']}, stage 1 of 2 (Load), "
                                        "job slow was stopped: OperatorStop: the execution was stopped outside")
    assert "stopped from the console" in notice["message"] and "--restart" in notice["message"]

    assert heal(event)["notified"] is False  # a third, late delivery: still notified once
    assert harness.notifications() == []

    # The healed run restarts where it stopped: the stopped job and the stage after it, the guard taken over.
    harness.script(slow, "select 3;")
    restarted = harness.run(workflow_id, restart_execution_id=stopped["name"])
    assert restarted["status"] == "SUCCEEDED", restarted.get("cause")
    assert harness.statuses(restarted) == {"slow": "SUCCEEDED", "quick": "ALREADY_SUCCEEDED", "after": "SUCCEEDED"}
    assert harness.guard(workflow_id)["JobState"] == "Ready"


def test_a_run_that_failed_through_its_own_failure_path_is_left_as_it_is(harness, heal):
    """Its FAILED event reaches the heal too: the guard it failed itself, its records and its notification stand."""
    workflow_id = f"heal_{uuid.uuid4().hex[:6]}"
    broken = harness.script(f"wftest/{workflow_id}/broken.sql", "insert into no_such_table_anywhere values (1);")
    harness.push({"workflow_id": workflow_id, "workflow_stages": [
        {"stage_description": "Load", "execution_flag": "y", "execution_type": "sequential",
         "scripts": [{"name": "broken", "script": broken}]}]})
    harness.notifications()
    failed = harness.run(workflow_id)
    assert failed["status"] == "FAILED"
    guard, run = harness.guard(workflow_id), harness.workflow_item(failed)
    assert len(harness.notifications()) == 1

    event = status_change_event(failed)
    event["detail"].update(error=failed["error"], cause=failed["cause"])
    assert heal(event) == {"execution_arn": failed["executionArn"], "job": workflow_id, "healed": False,
                           "notified": False}
    assert harness.guard(workflow_id) == guard and harness.workflow_item(failed) == run
    assert harness.notifications() == []
