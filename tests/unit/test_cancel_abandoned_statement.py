"""Cancelling the statement of a stopped run_sql_job execution: the history reader (shiftflow.jobs.executions) and
the cancel_abandoned_statement handler, with botocore's Stubber (which validates every request and response against
the service models) for Step Functions and the Data API, inside moto so that nothing can reach AWS."""

from __future__ import annotations

import datetime
import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shiftflow.jobs import errors
from shiftflow.jobs.executions import submitted_statement_id
from tests.conftest import ROOT, load_function

STATEMENT_ID = "d9b6c0c9-0000-4000-8000-000000000001"
MACHINE = "RunSqlJobStateMachine-Xy12AbCdEf34"
EXECUTION_ARN = f"arn:aws:states:us-east-1:123456789012:execution:{MACHINE}:0f6e3c1a-5b7d-4c2e-9a8b-7c6d5e4f3a21"
JOB_INPUT = {"workflow": "sales_data_pipeline", "job": "load_store_sales_fact", "script": "sales/f.sql",
             "parameters": {"run_date": "1999-12-31"}}
SUBMISSION = {"statement_id": STATEMENT_ID, "statement_count": 2, "timeout_seconds": 86400, "deadline": 1795316400.0}
_T0 = datetime.datetime(2026, 11, 21, 3, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def no_aws():
    with mock_aws():
        yield


# --- a run_sql_job history, oldest first, as GetExecutionHistory returns it ---------------------------------------


def history(*events: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    built = []
    for number, (kind, details) in enumerate(events, start=1):
        event = {"timestamp": _T0 + datetime.timedelta(seconds=number), "type": kind, "id": number,
                 "previousEventId": number - 1}
        event.update(details)
        built.append(event)
    return built


def entered(name, data):
    return "TaskStateEntered", {"stateEnteredEventDetails": {"name": name, "input": json.dumps(data)}}


def exited(name, data):
    return "TaskStateExited", {"stateExitedEventDetails": {"name": name, "output": json.dumps(data)}}


def task(kind, output=None):
    key = {"TaskScheduled": "taskScheduledEventDetails", "TaskStarted": "taskStartedEventDetails",
           "TaskSucceeded": "taskSucceededEventDetails"}[kind]
    details: dict[str, Any] = {"resourceType": "lambda", "resource": "invoke"}
    if kind == "TaskScheduled":
        details.update(region="us-east-1", parameters="{}")
    if output is not None:
        details["output"] = json.dumps({"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": output})
    return kind, {key: details}


def started():
    return "ExecutionStarted", {"executionStartedEventDetails": {"input": json.dumps(JOB_INPUT)}}


def aborted():
    return "ExecutionAborted", {"executionAbortedEventDetails": {}}


def submit_events(*, exit_state=True):
    events = [entered("SubmitSqlScript", JOB_INPUT), task("TaskScheduled"), task("TaskStarted"),
              task("TaskSucceeded", {"job": "load_store_sales_fact", "statement_id": STATEMENT_ID,
                                     "statement_name": "sales_data_pipeline.load_store_sales_fact", **SUBMISSION})]
    if exit_state:
        events.append(exited("SubmitSqlScript", {**JOB_INPUT, "submission": SUBMISSION}))
    return events


def polls(count):
    """WaitForSqlCompletion rounds: each one's Lambda output also names the statement (it is not a submit)."""
    events = []
    for _ in range(count):
        state = {**JOB_INPUT, "submission": SUBMISSION}
        events += [entered("WaitForSqlCompletion", state), task("TaskScheduled"), task("TaskStarted"),
                   task("TaskSucceeded", {"job": "load_store_sales_fact", "statement_id": STATEMENT_ID,
                                          "status": "STARTED", "done": False}),
                   exited("WaitForSqlCompletion", {**state, "progress": {"status": "STARTED"}}),
                   ("ChoiceStateEntered", {"stateEnteredEventDetails": {"name": "RouteOnSqlStatus", "input": "{}"}}),
                   ("ChoiceStateExited", {"stateExitedEventDetails": {"name": "RouteOnSqlStatus", "output": "{}"}})]
    return events


def stub_history(stub: Stubber, events: list[dict[str, Any]], page_size: int = 1000,
                 pages_read: int | None = None) -> None:
    """GetExecutionHistory newest first (reverseOrder), in pages of page_size; only the first `pages_read` pages
    are expected."""
    newest_first = events[::-1]
    pages = [newest_first[i:i + page_size] for i in range(0, len(events), page_size)] or [[]]
    for number, page in enumerate(pages[:pages_read]):
        request: dict[str, Any] = {"executionArn": EXECUTION_ARN, "maxResults": 1000, "reverseOrder": True}
        if number:
            request["nextToken"] = f"page-{number}"
        response: dict[str, Any] = {"events": page}
        if number + 1 < len(pages):
            response["nextToken"] = f"page-{number + 1}"
        stub.add_response("get_execution_history", response, request)


# --- shiftflow.jobs.executions.submitted_statement_id --------------------------------------------------------------


def sfn_client():
    return boto3.client("stepfunctions", region_name="us-east-1")


def test_the_statement_is_read_from_the_submit_state_output_not_from_later_polls():
    client = sfn_client()
    with Stubber(client) as stub:
        stub_history(stub, history(started(), *submit_events(), *polls(3), aborted()))
        assert submitted_statement_id(client, EXECUTION_ARN) == STATEMENT_ID
        stub.assert_no_pending_responses()


def test_a_long_history_is_read_only_back_to_the_last_poll():
    client = sfn_client()
    events = history(started(), *submit_events(), *polls(400), aborted())
    assert len(events) > 2000
    with Stubber(client) as stub:
        stub_history(stub, events, pages_read=1)  # the last poll names the statement: older pages are not read
        assert submitted_statement_id(client, EXECUTION_ARN) == STATEMENT_ID
        stub.assert_no_pending_responses()


def conflict_retry_events(failed_id: str, *, retry_succeeded: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """The first statement failed on a transaction conflict; run_sql_job waits, then submits a new one."""
    failed = {**SUBMISSION, "statement_id": failed_id}
    state = {**JOB_INPUT, "submission": failed, "conflict_retry": {"attempt": 1, "wait_seconds": 15}}
    events = [entered("SubmitSqlScript", JOB_INPUT), task("TaskScheduled"), task("TaskStarted"),
              task("TaskSucceeded", {"statement_id": failed_id, **failed}),
              exited("SubmitSqlScript", {**JOB_INPUT, "submission": failed}),
              ("WaitStateEntered", {"stateEnteredEventDetails": {"name": "WaitBeforeConflictRetry",
                                                                 "input": json.dumps(state)}}),
              ("WaitStateExited", {"stateExitedEventDetails": {"name": "WaitBeforeConflictRetry",
                                                               "output": json.dumps(state)}}),
              entered("SubmitSqlScript", state), task("TaskScheduled"), task("TaskStarted")]
    if retry_succeeded:
        events.append(task("TaskSucceeded", {"statement_id": STATEMENT_ID, **SUBMISSION}))
    return events


def test_after_a_conflict_retry_the_new_statement_is_found_not_the_failed_one():
    client = sfn_client()
    failed_id = "d9b6c0c9-0000-4000-8000-00000000000f"
    for events in (history(started(), *conflict_retry_events(failed_id), aborted()),  # stopped right after the submit
                   history(started(), *conflict_retry_events(failed_id),
                           exited("SubmitSqlScript", {**JOB_INPUT, "submission": SUBMISSION}), *polls(2), aborted())):
        with Stubber(client) as stub:
            stub_history(stub, events)
            assert submitted_statement_id(client, EXECUTION_ARN) == STATEMENT_ID
    # Stopped while the retry's submit function ran: the statement before it had failed, nothing is known to run.
    with Stubber(client) as stub:
        stub_history(stub, history(started(), *conflict_retry_events(failed_id, retry_succeeded=False), aborted()))
        assert submitted_statement_id(client, EXECUTION_ARN) is None


def test_a_submit_that_succeeded_but_never_exited_its_state_is_found_in_its_task_output():
    client = sfn_client()
    with Stubber(client) as stub:
        stub_history(stub, history(started(), *submit_events(exit_state=False), aborted()))
        assert submitted_statement_id(client, EXECUTION_ARN) == STATEMENT_ID


@pytest.mark.parametrize(
    "events",
    [
        [started(), aborted()],
        # Stopped while the submit function ran: no statement id was ever recorded.
        [started(), entered("SubmitSqlScript", JOB_INPUT), task("TaskScheduled"), task("TaskStarted"), aborted()],
        # The submit failed for good (caught): the state exits with the failure, not a submission.
        [started(), entered("SubmitSqlScript", JOB_INPUT), task("TaskScheduled"), task("TaskStarted"),
         ("TaskFailed", {"taskFailedEventDetails": {"resourceType": "lambda", "resource": "invoke",
                                                    "error": "ScriptNotFound", "cause": "{}"}}),
         exited("SubmitSqlScript", {**JOB_INPUT, "failure": {"Error": "ScriptNotFound", "Cause": "{}"}}),
         ("FailStateEntered", {"stateEnteredEventDetails": {"name": "SqlJobCouldNotRun", "input": "{}"}}),
         aborted()],
    ],
    ids=["nothing-ran", "stopped-during-submit", "submit-failed"],
)
def test_an_execution_that_submitted_nothing_has_no_statement(events):
    client = sfn_client()
    with Stubber(client) as stub:
        stub_history(stub, history(*events))
        assert submitted_statement_id(client, EXECUTION_ARN) is None


# --- the cancel_abandoned_statement handler -------------------------------------------------------------------------


def stopped_event(status="ABORTED"):
    event = json.loads((ROOT / "events" / "cancel_abandoned_statement.json").read_text())
    event["detail"].update(executionArn=EXECUTION_ARN, status=status, input=json.dumps(JOB_INPUT))
    return event


def description(status):
    return {"Id": STATEMENT_ID, "Status": status, "QueryString": "insert into f select * from big",
            "HasResultSet": False, "Duration": -1}


@pytest.fixture
def app():
    return load_function("cancel_abandoned_statement")


def run_handler(app, lambda_context, history_events, data_api_calls, event=None):
    with Stubber(app.stepfunctions) as sfn, Stubber(app.redshift_data) as data_api:
        stub_history(sfn, history_events)
        data_api_calls(data_api)
        result = app.lambda_handler(event or stopped_event(), lambda_context)
        sfn.assert_no_pending_responses()
        data_api.assert_no_pending_responses()
    return result


def submitted_and_polling():
    return history(started(), *submit_events(), *polls(2), aborted())


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED"])  # FAILED: the history limit, States.Runtime
def test_a_running_statement_is_cancelled_and_waited_for(app, lambda_context, status, caplog):
    def calls(stub):
        stub.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
        stub.add_response("describe_statement", description("STARTED"), {"Id": STATEMENT_ID, "WaitTimeSeconds": 10})
        # Not ended within the first wait: cancelled again, then it has ended.
        stub.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
        stub.add_response("describe_statement", description("ABORTED"), {"Id": STATEMENT_ID, "WaitTimeSeconds": 10})

    with caplog.at_level("INFO"):
        result = run_handler(app, lambda_context, submitted_and_polling(), calls, stopped_event(status))
        # The structured lines as Powertools writes them (the appended keys live in its formatter).
        logs = [json.loads(app.logger.registered_formatter.format(record)) for record in caplog.records]
    assert result == {"execution_arn": EXECUTION_ARN, "statement_id": STATEMENT_ID, "status": "ABORTED"}
    final = logs[-1]
    assert final["message"] == "Statement of the stopped SQL job has ended" and final["status"] == "ABORTED"
    assert (final["statement_id"], final["execution_arn"], final["job"], final["execution_status"]) == (
        STATEMENT_ID, EXECUTION_ARN, "load_store_sales_fact", status)
    assert "1999-12-31" not in json.dumps(logs)  # the run parameters stay out of the logs


@pytest.mark.parametrize("ended", ["FINISHED", "FAILED"])
def test_a_statement_that_has_already_ended_is_left_as_it_is(app, lambda_context, ended):
    """Also what a FAILED execution whose SQL failed (the job's own failure) meets: no cancel, its status."""
    def calls(stub):
        stub.add_client_error("cancel_statement", "ValidationException",
                              f"Could not cancel a query that is already in {ended} status")
        stub.add_response("describe_statement", description(ended), {"Id": STATEMENT_ID, "WaitTimeSeconds": 10})

    result = run_handler(app, lambda_context, submitted_and_polling(), calls, stopped_event("FAILED"))
    assert result == {"execution_arn": EXECUTION_ARN, "statement_id": STATEMENT_ID, "status": ended}


def test_an_execution_that_submitted_nothing_is_a_no_op(app, lambda_context):
    stopped_in_submit = history(started(), entered("SubmitSqlScript", JOB_INPUT), task("TaskScheduled"), aborted())
    # No Data API response is stubbed: any call would fail the test.
    result = run_handler(app, lambda_context, stopped_in_submit, lambda stub: None)
    assert result == {"execution_arn": EXECUTION_ARN, "statement_id": None, "status": None}


def test_a_statement_the_data_api_no_longer_knows_is_a_no_op(app, lambda_context):
    def calls(stub):
        stub.add_client_error("cancel_statement", "ResourceNotFoundException", "Query does not exist.")

    result = run_handler(app, lambda_context, submitted_and_polling(), calls)
    assert result == {"execution_arn": EXECUTION_ARN, "statement_id": STATEMENT_ID, "status": None}


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerException"])
def test_a_transient_data_api_error_raises_so_that_the_event_is_retried(app, lambda_context, code):
    def calls(stub):
        stub.add_client_error("cancel_statement", code, "Rate exceeded")

    with pytest.raises(errors.TransientDataApiError, match="job load_store_sales_fact: .*will retry: Rate exceeded"):
        run_handler(app, lambda_context, submitted_and_polling(), calls)


def test_a_statement_still_running_when_time_runs_out_raises_so_that_the_event_is_retried(app, lambda_context,
                                                                                         monkeypatch):
    monkeypatch.setattr(lambda_context, "get_remaining_time_in_millis", lambda: 5_000)

    def calls(stub):
        stub.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
        stub.add_response("describe_statement", description("STARTED"), {"Id": STATEMENT_ID, "WaitTimeSeconds": 10})

    with pytest.raises(errors.SqlStatementStillRunning, match=f"statement {STATEMENT_ID} was cancelled but is still"):
        run_handler(app, lambda_context, submitted_and_polling(), calls)


def test_a_step_functions_error_raises(app, lambda_context):
    with Stubber(app.stepfunctions) as sfn, Stubber(app.redshift_data):
        sfn.add_client_error("get_execution_history", "ThrottlingException", "Rate exceeded")
        with pytest.raises(Exception, match="ThrottlingException"):
            app.lambda_handler(stopped_event(), lambda_context)
