"""Redshift-aware retries, unit by unit: which errors are transaction conflicts, the waits, the submit of a retry
(a new ClientToken, the job's first deadline) and the status function's decision to retry or to fail."""

import time

import pytest
from botocore.stub import Stubber

from shiftflow.jobs import errors
from shiftflow.jobs.conflicts import (
    DEFAULT_CONFLICT_RETRIES,
    FIRST_WAIT_SECONDS,
    MAX_WAIT_SECONDS,
    ConflictAttempt,
    conflict_retries,
    is_transaction_conflict,
    wait_seconds,
)
from shiftflow.jobs.submit import client_token
from tests.conftest import load_function
from tests.unit.test_functions import STATEMENT_ID, aws, batch_description, stage, sub, submit_event  # noqa: F401

# The errors as Redshift reports them (the AWS guide's 1023 text, and the shapes seen in STL_ERROR).
CONFLICTS = [
    "ERROR: 1023 DETAIL: Serializable isolation violation on table - 100234, transactions forming the cycle are: "
    "1876, 1928 (pid:8551)",
    "ERROR:1023 DETAIL: Serializable isolation violation on table in Redshift",
    "ERROR: could not complete because of conflict with concurrent transaction",
    "ERROR: could not open relation with OID 1234567",
    "ERROR: deadlock detected DETAIL: Process 7563 waits for AccessExclusiveLock on relation 2375047 of database "
    "100208; blocked by process 7604.",
]
NOT_CONFLICTS = [
    'ERROR: relation "stg_item" does not exist',
    "ERROR: division by zero",
    "ERROR: 1018 DETAIL: Relation does not exist.",  # snapshot isolation: the same transaction would fail again
    "Query cancelled on user's request",
]


@pytest.mark.parametrize("error", CONFLICTS)
def test_conflicts_are_recognized(error):
    assert is_transaction_conflict(error)


@pytest.mark.parametrize("error", NOT_CONFLICTS)
def test_other_errors_are_not_conflicts(error):
    assert not is_transaction_conflict(error)


def test_conflict_retries_default_off_and_range():
    assert conflict_retries("j", None) == DEFAULT_CONFLICT_RETRIES == 3
    assert conflict_retries("j", 0) == 0 and conflict_retries("j", 10) == 10
    for wrong in (-1, 11, 2.0, "3", True):
        with pytest.raises(errors.InvalidJobRequest, match=r"job j: conflict_retries is .* from 0 \(no retry\) to 10"):
            conflict_retries("j", wrong)


def test_waits_double_up_to_the_cap_and_jitter_over_their_upper_half():
    highest = [wait_seconds(attempt, lambda low, high: high) for attempt in range(1, 8)]
    lowest = [wait_seconds(attempt, lambda low, high: low) for attempt in range(1, 8)]
    assert highest == [FIRST_WAIT_SECONDS * 2 ** n for n in range(5)] + [MAX_WAIT_SECONDS] * 2 == [
        15, 30, 60, 120, 240, 300, 300]
    assert lowest == [round(value / 2) for value in highest]


def test_a_conflict_is_retried_with_the_failed_statement_recorded_until_the_retries_are_used():
    first = ConflictAttempt.first(retries=2)
    deadline = time.time() + 3600
    retry, why_not = first.next_retry("stmt-0", CONFLICTS[0], deadline, uniform=lambda low, high: high)
    assert why_not == "" and retry == {
        "attempt": 1, "wait_seconds": 15, "deadline": deadline,
        "earlier_attempts": [{"statement_id": "stmt-0", "error": CONFLICTS[0]}],
    }
    second = ConflictAttempt.submitted(2, retry)
    retry, _ = second.next_retry("stmt-1", CONFLICTS[2], deadline, uniform=lambda low, high: high)
    assert retry["attempt"] == 2 and retry["wait_seconds"] == 30
    assert [earlier["statement_id"] for earlier in retry["earlier_attempts"]] == ["stmt-0", "stmt-1"]
    last = ConflictAttempt.submitted(2, retry)
    assert last.next_retry("stmt-2", CONFLICTS[0], deadline) == (
        None, "a transaction conflict on each of 3 attempts (conflict_retries 2)")
    assert last.failure_note("") == " (earlier attempts failed on transaction conflicts: statements stmt-0, stmt-1)"


def test_no_retry_for_other_errors_when_off_or_past_the_deadline():
    deadline = time.time() + 3600
    assert ConflictAttempt.first(3).next_retry("s", NOT_CONFLICTS[1], deadline) == (None, "")
    assert ConflictAttempt.first(0).next_retry("s", CONFLICTS[0], deadline) == (
        None, "a transaction conflict, not retried: conflict_retries is 0")
    soon = time.time() + 10  # the first wait is at least 8 s: it would end past the deadline
    retry, why_not = ConflictAttempt.first(3).next_retry("s", CONFLICTS[0], soon, uniform=lambda low, high: high)
    assert retry is None and why_not == "a transaction conflict, not retried: a wait of 15 s would pass the job's timeout"


# --- submit_sql_job: a retry is a new statement within the job's first deadline ------------------------------------


def test_a_conflict_retry_is_submitted_within_the_jobs_first_deadline(aws, lambda_context):
    stage("sales/load_item_dimension.sql", "update item set d = :run_date")
    app = load_function("submit_sql_job")
    earlier = [{"statement_id": "stmt-0", "error": CONFLICTS[0]}]
    deadline = time.time() + 500
    retry = {"attempt": 1, "wait_seconds": 15, "deadline": deadline, "earlier_attempts": earlier}
    results = []
    for event in (submit_event(timeout_seconds=900), submit_event(timeout_seconds=900, conflict_retries=5,
                                                                 conflict_retry=retry)):
        with Stubber(app.redshift_data) as stub:
            stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID})
            results.append(app.lambda_handler(event, lambda_context))
    first, retried = results
    assert first["conflict"] == {"attempt": 0, "retries": 3, "earlier_attempts": []}
    assert first["deadline"] > deadline  # its own: now + 900 s
    assert retried["conflict"] == {"attempt": 1, "retries": 5, "earlier_attempts": earlier}
    assert retried["deadline"] == deadline


def test_the_retrys_client_token_differs_from_the_failed_statements(aws, lambda_context):
    stage("sales/load_item_dimension.sql", "update item set d = :run_date")
    app = load_function("submit_sql_job")
    event = submit_event(conflict_retry={"attempt": 2, "wait_seconds": 30, "deadline": time.time() + 500,
                                         "earlier_attempts": []})
    seed = event["client_token_seed"]
    expected = {
        "Database": "dev", "ClusterIdentifier": "analytics-cluster", "DbUser": "etl_user",
        "Sqls": ["update item set d = :run_date"],
        "StatementName": "sales_data_pipeline.load_item_dimension",
        "ClientToken": client_token(f"{seed}/conflict-retry-2", "load_item_dimension"),
        "Parameters": [{"name": "run_date", "value": "2026-11-21"}],
    }
    with Stubber(app.redshift_data) as stub:
        stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID}, expected)
        app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()
    assert expected["ClientToken"] != client_token(seed, "load_item_dimension")
    assert expected["ClientToken"] != client_token(f"{seed}/conflict-retry-1", "load_item_dimension")


def test_a_bad_conflict_retries_is_refused_before_anything_runs(aws, lambda_context):
    stage("sales/load_item_dimension.sql", "update item set d = :run_date")
    app = load_function("submit_sql_job")
    with Stubber(app.redshift_data), pytest.raises(errors.InvalidJobRequest, match=r"conflict_retries is 11"):
        app.lambda_handler(submit_event(conflict_retries=11), lambda_context)


# --- get_statement_status: retry a conflict, fail anything else ---------------------------------------------------


def status(app, lambda_context, description, conflict, deadline):
    event = {"job": "load_item_dimension", "statement_id": STATEMENT_ID, "deadline": deadline,
             "timeout_seconds": 3600, "conflict": conflict}
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", description)
        return app.lambda_handler(event, lambda_context)


def failed(error):
    return batch_description("FAILED", [sub(1, "FAILED", "update item set d = 1", error=error)], error=error)


def test_a_batch_failed_on_a_conflict_comes_back_with_its_retry(lambda_context):
    app = load_function("get_statement_status")
    deadline = time.time() + 3600
    result = status(app, lambda_context, failed(CONFLICTS[0]), {"attempt": 0, "retries": 3, "earlier_attempts": []},
                    deadline)
    retry = result["conflict_retry"]
    assert retry["attempt"] == 1 and FIRST_WAIT_SECONDS / 2 <= retry["wait_seconds"] <= FIRST_WAIT_SECONDS
    assert retry["deadline"] == deadline
    assert retry["earlier_attempts"] == [{"statement_id": STATEMENT_ID, "error": CONFLICTS[0]}]
    assert result["conflict_attempt"] == 0 and result["conflicted_statements"] == []


def test_other_sql_errors_and_aborted_statements_are_not_retried(lambda_context):
    app = load_function("get_statement_status")
    conflict = {"attempt": 0, "retries": 3, "earlier_attempts": []}
    result = status(app, lambda_context, failed(NOT_CONFLICTS[1]), conflict, time.time() + 3600)
    assert result["conflict_retry"] is None and result["error"] == "SqlStatementFailed"
    assert result["message"].endswith("[SQL: update item set d = 1]")  # nothing said about retries
    aborted = batch_description("ABORTED", [sub(1, "ABORTED", "update item set d = 1", error=CONFLICTS[0])])
    result = status(app, lambda_context, aborted, conflict, time.time() + 3600)
    assert result["conflict_retry"] is None and result["error"] == "SqlStatementAborted"


def test_the_last_attempts_failure_names_every_attempt(lambda_context):
    app = load_function("get_statement_status")
    earlier = [{"statement_id": "stmt-0", "error": CONFLICTS[0]}, {"statement_id": "stmt-1", "error": CONFLICTS[0]}]
    result = status(app, lambda_context, failed(CONFLICTS[0]), {"attempt": 2, "retries": 2, "earlier_attempts": earlier},
                    time.time() + 3600)
    assert result["conflict_retry"] is None and result["error"] == "SqlStatementFailed"
    assert result["conflict_attempt"] == 2 and result["conflicted_statements"] == earlier
    assert result["message"] == (
        f"job load_item_dimension: statement 1 of 1 ({STATEMENT_ID}:1) failed: {CONFLICTS[0]} "
        "[SQL: update item set d = 1] (a transaction conflict on each of 3 attempts (conflict_retries 2); "
        "earlier attempts failed on transaction conflicts: statements stmt-0, stmt-1)"
    )


def test_a_caller_without_conflict_state_never_retries(lambda_context):
    """StopStatementBeforeFailing polls without the submit's conflict attempt: the job is failing anyway."""
    app = load_function("get_statement_status")
    event = {"job": "load_item_dimension", "statement_id": STATEMENT_ID, "deadline": time.time() + 3600}
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", failed(CONFLICTS[0]))
        result = app.lambda_handler(event, lambda_context)
    assert result["conflict_retry"] is None
    assert result["message"].endswith("(a transaction conflict, not retried: conflict_retries is 0)")
