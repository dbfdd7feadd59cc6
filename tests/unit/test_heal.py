"""shiftflow.heal and shiftflow.guard.with_owner_status: DynamoDB and SNS in moto, Step Functions through botocore's
Stubber (every request and response checked against the service model), so that each delivery, crash and race of
the heal can be set up exactly. The end-to-end runs (StopExecution on the local runtime) are in
tests/integration/test_heal_ended_run.py."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from shiftflow.guard import read_guards, read_history, reset_guard, with_owner_status
from shiftflow.heal import CAUSE_LIMIT, HEAL_MARK, EndedRun, HealTargets, heal
from shiftflow.local import moto_gaps
from shiftflow.workflows import parse_workflow
from shiftflow.workflows.audit import job_items
from shiftflow.workflows import plan_table
from shiftflow.workflows.plan import build_plan, run_state
from shiftflow.workflows.store import from_item
from tests.conftest import ROOT

ACCOUNT = "arn:aws:states:us-east-1:123456789012"
PIPELINE = f"{ACCOUNT}:stateMachine:SalesDataPipelineStateMachine-Ab12"
WORKFLOW = f"{ACCOUNT}:stateMachine:WorkflowStateMachine-Cd34"
STARTED, STOPPED = 1795230000123, 1795230765456  # 2026-11-21T03:00:00.123Z, 03:12:45.456Z
T0 = datetime.datetime(2026, 11, 21, 3, 0, tzinfo=datetime.timezone.utc)


def execution_of(machine: str, name: str) -> str:
    return machine.replace(":stateMachine:", ":execution:") + f":{name}"


def ended_event(machine: str, name: str, status: str = "ABORTED", error: str | None = "OperatorStop",
                cause: str | None = "stopped from the console") -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "heal_ended_run.json").read_text())
    event["detail"].update(stateMachineArn=machine, executionArn=execution_of(machine, name), name=name,
                           status=status, startDate=STARTED, stopDate=STOPPED, error=error, cause=cause)
    return event


class Stack:
    """The tables and topic the heal writes, in moto, with an inbox subscribed to the topic."""

    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.sns = boto3.client("sns", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        keys = {"guards": [("JobID", "HASH")], "history": [("JobID", "HASH"), ("RunStart", "RANGE")],
                "workflow_audit": [("workflow_execution_id", "HASH")],
                "job_audit": [("workflow_execution_id", "HASH"), ("job_name", "RANGE")]}
        for table, key in keys.items():
            self.dynamodb.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in key],
                AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _ in key])
        self.dynamodb.create_table(
            TableName="run_plans", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "workflow_execution_id", "KeyType": "HASH"},
                       {"AttributeName": "stage_number", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "workflow_execution_id", "AttributeType": "S"},
                                  {"AttributeName": "stage_number", "AttributeType": "N"}])
        topic = self.sns.create_topic(Name="notifications")["TopicArn"]
        self.inbox = self.sqs.create_queue(QueueName="inbox")["QueueUrl"]
        inbox_arn = self.sqs.get_queue_attributes(QueueUrl=self.inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
        self.targets = HealTargets("guards", "history", "workflow_audit", "job_audit", "run_plans", topic,
                                   frozenset([PIPELINE]), frozenset([WORKFLOW]))

    def take_guard(self, job: str, execution_arn: str) -> None:
        """As AcquireJobGuard leaves it."""
        self.dynamodb.put_item(TableName="guards", Item={
            "JobID": {"S": job}, "JobState": {"S": "Running"}, "OwnerExecution": {"S": execution_arn},
            "JobStart": {"S": "2026-11-21T03:00:00.123Z"}, "RunDate": {"S": "2026-11-21"}})

    def acquire(self, job: str, execution_arn: str, start: str, run_date: str) -> None:
        """As AcquireJobGuard takes a Ready guard (statemachine/sales_data_pipeline.asl.json)."""
        self.dynamodb.update_item(
            TableName="guards", Key={"JobID": {"S": job}},
            UpdateExpression="SET JobState = :running, JobStart = :start, OwnerExecution = :execution, "
                             "RunDate = :run_date REMOVE JobEnd, FailedStep, LastError",
            ConditionExpression="attribute_not_exists(JobID) OR JobState = :ready",
            ExpressionAttributeValues={":running": {"S": "Running"}, ":ready": {"S": "Ready"}, ":start": {"S": start},
                                       ":execution": {"S": execution_arn}, ":run_date": {"S": run_date}})

    def guard(self, job: str) -> dict[str, Any]:
        (guard,) = read_guards(self.dynamodb, "guards", job)
        return guard

    def notifications(self) -> list[dict[str, Any]]:
        received = []
        while batch := self.sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                envelope = json.loads(message["Body"])
                received.append({"subject": envelope["Subject"], "message": envelope["Message"],
                                 "attributes": {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}})
                self.sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])
        return received


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        yield Stack()


@pytest.fixture
def sfn() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def history_event(number: int, kind: str, **details: Any) -> dict[str, Any]:
    return {"timestamp": T0 + datetime.timedelta(seconds=number), "type": kind, "id": number,
            "previousEventId": number - 1, **details}


def expect_last_state(stub: Stubber, execution_arn: str, state: str) -> None:
    """GetExecutionHistory newest first: the stop, then the state the run was in."""
    events = [history_event(9, "ExecutionAborted", executionAbortedEventDetails={}),
              history_event(8, "TaskScheduled", taskScheduledEventDetails={
                  "resourceType": "states", "resource": "startExecution.sync:2", "region": "us-east-1",
                  "parameters": "{}"}),
              history_event(7, "TaskStateEntered", stateEnteredEventDetails={"name": state, "input": "{}"})]
    stub.add_response("get_execution_history", {"events": events},
                      {"executionArn": execution_arn, "maxResults": 1000, "reverseOrder": True})


def expect_exit(stub: Stubber, execution_arn: str, state: str, output: dict[str, Any]) -> None:
    """GetExecutionHistory oldest first, up to the state's exit."""
    events = [history_event(1, "ExecutionStarted", executionStartedEventDetails={"input": "{}"}),
              history_event(2, "TaskStateEntered", stateEnteredEventDetails={"name": state, "input": "{}"}),
              history_event(3, "TaskStateExited", stateExitedEventDetails={"name": state,
                                                                          "output": json.dumps(output)})]
    stub.add_response("get_execution_history", {"events": events}, {"executionArn": execution_arn, "maxResults": 1000})


def expect_plan(stub: Stubber, stack: Stack, execution_arn: str, plan: dict[str, Any]) -> None:
    """As LoadWorkflow leaves a run: its plan staged in the run plan table, its state in its output."""
    plan_table.stage(stack.dynamodb, "run_plans", plan, "2026-11-21T03:00:00.123Z")
    expect_exit(stub, execution_arn, "LoadWorkflow", {"run": run_state(plan)})


def expect_run_settings(stub: Stubber, execution_arn: str, run_date: str) -> None:
    expect_exit(stub, execution_arn, "MergeRunInput", {"run": {"job_id": "sales", "run_date": run_date}, "results": {}})


class FailingOnce:
    """An SNS client whose first publish fails as a throttled call would: the invocation dies after its claim."""

    def __init__(self, sns: Any) -> None:
        self._sns, self.calls = sns, 0

    def publish(self, **request: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise ClientError({"Error": {"Code": "Throttled", "Message": "Rate exceeded"}}, "Publish")
        return self._sns.publish(**request)


class HeldAtTheNotificationClaim:
    """A DynamoDB client for two deliveries of one event: `claimed` is set once the first has failed the guard, and
    each delivery's notification claim (the removal of the heal mark) waits until both have reached it."""

    def __init__(self, dynamodb: Any) -> None:
        self._dynamodb = dynamodb
        self.claimed = threading.Event()
        self.both_at_the_claim = threading.Barrier(2)

    def update_item(self, **request: Any) -> Any:
        if request.get("UpdateExpression") == "DELETE #mark :marks":
            self.both_at_the_claim.wait(timeout=30)
        response = self._dynamodb.update_item(**request)
        if "SET JobState = :failed" in request.get("UpdateExpression", ""):
            self.claimed.set()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dynamodb, name)


# ---------------------------------------------------------------- the event


def test_the_event_gives_the_dates_as_step_functions_writes_them_and_an_error_name_when_it_has_none():
    run = EndedRun.from_event(ended_event(PIPELINE, "run-1", status="TIMED_OUT", error=None, cause=None))
    assert (run.started_at, run.ended_at) == ("2026-11-21T03:00:00.123Z", "2026-11-21T03:12:45.456Z")
    assert (run.error, run.cause) == ("ExecutionTimedOut", "")
    assert run.message() == "the execution timed out outside its own failure path"


def test_a_cause_is_cut_to_a_readable_summary():
    run = EndedRun.from_event(ended_event(PIPELINE, "run-1", status="FAILED", error="States.Runtime",
                                          cause="x" * 32768))
    assert len(run.cause) == CAUSE_LIMIT + len(" [cut]") and run.cause.endswith(" [cut]")


def test_a_status_the_rule_does_not_send_is_refused():
    with pytest.raises(ValueError, match="status 'SUCCEEDED' is not one the heal handles"):
        EndedRun.from_event(ended_event(PIPELINE, "run-1", status="SUCCEEDED"))


# ---------------------------------------------------------------- pipelines


def test_a_heal_that_died_after_its_claim_is_finished_by_the_retry_and_notifies_once(stack, sfn):
    client, stub = sfn
    event = ended_event(PIPELINE, "run-1")
    arn = event["detail"]["executionArn"]
    stack.take_guard("sales", arn)
    expect_last_state(stub, arn, "LoadStoreSalesFact")
    flaky = FailingOnce(stack.sns)

    with pytest.raises(ClientError, match="Rate exceeded"):
        heal(stack.dynamodb, client, flaky, stack.targets, EndedRun.from_event(event))
    guard = stack.guard("sales")
    assert (guard["JobState"], guard["HealPendingFor"], guard["FailedStep"]) == ("Failed", {arn}, "LoadStoreSalesFact")

    # Lambda's retry: the mark says the heal is this execution's and unfinished; the history is not read again.
    outcome = heal(stack.dynamodb, client, flaky, stack.targets, EndedRun.from_event(event))
    assert outcome.as_dict() == {"execution_arn": arn, "job": "sales", "healed": True, "notified": True}
    assert "HealPendingFor" not in stack.guard("sales")
    (run,) = read_history(stack.dynamodb, "history", "sales")
    assert (run["RunStart"], run["RunEnd"], run["Status"], run["FailedStep"]) == (
        "2026-11-21T03:00:00.123Z", "2026-11-21T03:12:45.456Z", "ABORTED", "LoadStoreSalesFact")
    (notice,) = stack.notifications()
    assert notice["subject"] == "Shiftflow: sales ABORTED"
    assert notice["attributes"] == {"job_id": "sales", "status": "ABORTED"}
    assert json.loads(notice["message"])["failed_step"] == "LoadStoreSalesFact"

    again = heal(stack.dynamodb, client, flaky, stack.targets, EndedRun.from_event(event))
    assert (again.healed, again.notified) == (False, False) and stack.notifications() == []


def test_two_deliveries_at_once_record_the_run_once_and_notify_once(stack, sfn):
    """EventBridge may deliver one event twice at the same time: the second delivery finds the first one's heal mark
    and writes the (idempotent) records too; both then claim the notification at once and one of them wins."""
    client, stub = sfn
    event = ended_event(PIPELINE, "run-1")
    arn = event["detail"]["executionArn"]
    stack.take_guard("sales", arn)
    expect_last_state(stub, arn, "LoadStoreSalesFact")  # read once: by the delivery that failed the guard
    dynamodb = HeldAtTheNotificationClaim(stack.dynamodb)
    outcomes: list[dict[str, Any]] = []

    def deliver() -> None:
        outcomes.append(heal(dynamodb, client, stack.sns, stack.targets, EndedRun.from_event(event)).as_dict())

    with moto_gaps.activate():  # DynamoDB's conditional writes atomic, as they are on AWS (moto's are not)
        first, second = threading.Thread(target=deliver), threading.Thread(target=deliver)
        first.start()
        assert dynamodb.claimed.wait(timeout=30)
        second.start()
        first.join(timeout=60)
        second.join(timeout=60)

    assert sorted(outcome["notified"] for outcome in outcomes) == [False, True]
    assert all(outcome["healed"] for outcome in outcomes)  # both found the heal under way and recorded the run
    guard = stack.guard("sales")
    assert (guard["JobState"], guard["FailedStep"]) == ("Failed", "LoadStoreSalesFact") and HEAL_MARK not in guard
    assert [run["ExecutionArn"] for run in read_history(stack.dynamodb, "history", "sales")] == [arn]
    (notice,) = stack.notifications()
    assert notice["subject"] == "Shiftflow: sales ABORTED"


def test_an_unfinished_heal_finishes_without_touching_the_guard_a_later_run_took(stack, sfn):
    client, stub = sfn
    event = ended_event(PIPELINE, "run-1")
    arn = event["detail"]["executionArn"]
    stack.take_guard("sales", arn)
    expect_last_state(stub, arn, "LoadDimensions")
    with pytest.raises(ClientError):
        heal(stack.dynamodb, client, FailingOnce(stack.sns), stack.targets, EndedRun.from_event(event))
    # Meanwhile an operator reset the guard and the next run took it.
    reset_guard(stack.dynamodb, "guards", "sales")
    next_run = execution_of(PIPELINE, "run-2")
    stack.acquire("sales", next_run, "2026-11-22T03:00:00.000Z", "2026-11-22")

    # The retry reads the run's own step and run date from its history (the guard's are the next run's now): its
    # history item is the one the first delivery wrote, not a second one under the next run's start.
    expect_last_state(stub, arn, "LoadDimensions")
    expect_run_settings(stub, arn, "2026-11-21")
    outcome = heal(stack.dynamodb, client, stack.sns, stack.targets, EndedRun.from_event(event))
    assert (outcome.healed, outcome.notified) == (True, True)
    guard = stack.guard("sales")
    assert (guard["JobState"], guard["OwnerExecution"], guard["JobStart"]) == (
        "Running", next_run, "2026-11-22T03:00:00.000Z") and "HealPendingFor" not in guard
    (run,) = read_history(stack.dynamodb, "history", "sales")
    assert (run["ExecutionArn"], run["RunStart"], run["RunDate"], run["FailedStep"]) == (
        arn, "2026-11-21T03:00:00.123Z", "2026-11-21", "LoadDimensions")
    assert len(stack.notifications()) == 1


def test_the_heal_of_a_later_run_keeps_the_pending_heal_of_an_earlier_one_on_the_same_guard(stack, sfn):
    """run-1's heal died before it notified; the guard was reset and run-2, which took it, was stopped too: run-2's
    heal claims the guard and notifies without erasing run-1's pending mark, and run-1's retry still notifies."""
    client, stub = sfn
    first, second = ended_event(PIPELINE, "run-1"), ended_event(PIPELINE, "run-2", cause="stopped again")
    first_arn, second_arn = first["detail"]["executionArn"], second["detail"]["executionArn"]
    stack.take_guard("sales", first_arn)
    expect_last_state(stub, first_arn, "LoadDimensions")
    with pytest.raises(ClientError):
        heal(stack.dynamodb, client, FailingOnce(stack.sns), stack.targets, EndedRun.from_event(first))
    reset_guard(stack.dynamodb, "guards", "sales")
    stack.acquire("sales", second_arn, "2026-11-22T03:00:00.000Z", "2026-11-22")
    expect_last_state(stub, second_arn, "LoadStoreSalesFact")

    later = heal(stack.dynamodb, client, stack.sns, stack.targets, EndedRun.from_event(second))
    assert (later.healed, later.notified) == (True, True)
    guard = stack.guard("sales")
    assert (guard["JobState"], guard["LastExecution"], guard["FailedStep"]) == (
        "Failed", second_arn, "LoadStoreSalesFact")
    assert guard[HEAL_MARK] == {first_arn}  # run-1's heal is still pending
    (notice,) = stack.notifications()
    assert "stopped again" in json.loads(notice["message"])["message"]

    expect_last_state(stub, first_arn, "LoadDimensions")
    expect_run_settings(stub, first_arn, "2026-11-21")
    earlier = heal(stack.dynamodb, client, stack.sns, stack.targets, EndedRun.from_event(first))
    assert (earlier.healed, earlier.notified) == (True, True)
    guard = stack.guard("sales")
    assert (guard["LastExecution"], guard["FailedStep"]) == (second_arn, "LoadStoreSalesFact")
    assert HEAL_MARK not in guard
    (notice,) = stack.notifications()
    assert "stopped from the console" in json.loads(notice["message"])["message"]
    assert sorted((run["ExecutionArn"], run["RunDate"], run["FailedStep"]) for run in
                  read_history(stack.dynamodb, "history", "sales")) == [
        (first_arn, "2026-11-21", "LoadDimensions"), (second_arn, "2026-11-22", "LoadStoreSalesFact")]


def test_an_execution_that_owns_no_guard_is_a_no_op(stack, sfn):
    """It never took one (the guard was busy, its configuration invalid) or a later run holds it: no history is read
    (the Stubber has no response), nothing is written."""
    client, _ = sfn
    stack.take_guard("sales", execution_of(PIPELINE, "someone-else"))
    outcome = heal(stack.dynamodb, client, stack.sns, stack.targets,
                   EndedRun.from_event(ended_event(PIPELINE, "run-1", status="FAILED")))
    assert outcome.as_dict()["job"] is None and not outcome.healed
    assert stack.guard("sales")["JobState"] == "Running"
    assert read_history(stack.dynamodb, "history", "sales") == [] and stack.notifications() == []


def test_an_execution_of_another_state_machine_is_refused(stack, sfn):
    client, _ = sfn
    other = f"{ACCOUNT}:stateMachine:SomeoneElsesMachine"
    with pytest.raises(ValueError, match="neither a pipeline nor a workflow state machine of this stack"):
        heal(stack.dynamodb, client, stack.sns, stack.targets, EndedRun.from_event(ended_event(other, "run-1")))


# ---------------------------------------------------------------- workflows


def test_a_workflow_stopped_before_it_recorded_its_start_gets_an_audit_item_and_every_job_not_run(stack, sfn):
    client, stub = sfn
    workflow = parse_workflow({"workflow_id": "nightly", "workflow_stages": [
        {"stage_description": "Load", "execution_flag": "y", "execution_type": "sequential",
         "scripts": ["n/a.sql", "n/b.sql"]}]})
    plan = build_plan(workflow, "run-1", "2026-11-21")
    event = ended_event(WORKFLOW, "run-1", status="TIMED_OUT", error=None, cause=None)
    arn = event["detail"]["executionArn"]
    stack.take_guard("nightly", arn)
    expect_last_state(stub, arn, "RecordWorkflowStart")
    expect_plan(stub, stack, arn, plan)

    outcome = heal(stack.dynamodb, client, stack.sns, stack.targets, EndedRun.from_event(event))

    assert (outcome.job, outcome.healed) == ("nightly", True)
    run = from_item(stack.dynamodb.get_item(TableName="workflow_audit",
                                            Key={"workflow_execution_id": {"S": "run-1"}})["Item"])
    assert (run["workflow_id"], run["execution_arn"], run["execution_status"], run["error_type"]) == (
        "nightly", arn, "TIMED_OUT", "ExecutionTimedOut")
    assert (run["execution_start_ts"], run["execution_end_ts"]) == ("2026-11-21T03:00:00.123Z",
                                                                    "2026-11-21T03:12:45.456Z")
    assert {job["job_name"]: job["execution_status"] for job in job_items(stack.dynamodb, "job_audit", "run-1")} == {
        "a": "NOT_RUN", "b": "NOT_RUN"}
    (notice,) = stack.notifications()
    assert notice["attributes"] == {"workflow_id": "nightly", "status": "TIMED_OUT"}
    assert "timed out outside its own failure path" in notice["message"]
    assert stack.guard("nightly")["LastExecution"] == arn  # what lets a restart of this run take the guard over


# ---------------------------------------------------------------- `shiftflow status`


def test_status_marks_a_running_guard_whose_owner_has_ended_as_stale(stack, sfn):
    client, stub = sfn
    owners = {"live": "RUNNING", "stopped": "ABORTED", "gone": None}
    for job in (*owners, "failed"):
        stack.take_guard(job, execution_of(PIPELINE, job))
    stack.dynamodb.update_item(TableName="guards", Key={"JobID": {"S": "failed"}},
                               UpdateExpression="SET JobState = :failed", ExpressionAttributeValues={
                                   ":failed": {"S": "Failed"}})
    for job in sorted(owners):  # read_guards lists them by job
        request = {"executionArn": execution_of(PIPELINE, job)}
        if owners[job] is None:
            stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "Execution Does Not Exist",
                                  expected_params=request)
        else:
            stub.add_response("describe_execution", {
                "executionArn": request["executionArn"], "stateMachineArn": PIPELINE, "status": owners[job],
                "startDate": T0}, request)
    # The Failed guard is not a stale one: no DescribeExecution for it (the Stubber would refuse the call).
    guards = {guard["JobID"]: guard for guard in with_owner_status(client, read_guards(stack.dynamodb, "guards"))}
    assert {job: (guard["stale"], guard["owner_status"]) for job, guard in guards.items()} == {
        "failed": (False, ""), "gone": (True, "NOT_FOUND"), "live": (False, "RUNNING"), "stopped": (True, "ABORTED")}


def test_status_shows_the_stale_guard_and_its_owner_status(stack):
    from rich.console import Console

    from shiftflow.cli import render

    guard = {"JobID": "sales", "JobState": "Running", "OwnerExecution": execution_of(PIPELINE, "run-1"),
             "stale": True, "owner_status": "ABORTED"}
    document = render.guard_document(guard)
    assert (document["stale"], document["owner_status"]) == (True, "ABORTED")
    console = Console(record=True, width=300, color_system=None)
    render.guards(console, [guard, {"JobID": "other", "JobState": "Ready"}], None)
    lines = console.export_text().splitlines()
    assert "ABORTED: stale" in next(line for line in lines if "sales" in line)
    assert "stale" not in next(line for line in lines if "other" in line)
