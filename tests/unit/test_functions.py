"""The Lambda handlers against moto's S3 and a Data API stand-in (botocore's Stubber, which validates every
request against the service model)."""

import json
import time

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shiftflow.jobs import errors
from shiftflow.jobs.submit import client_token
from tests.conftest import load_function

BUCKET = "shiftflow-scripts-test"
STATEMENT_ID = "d9b6c0c9-0000-4000-8000-000000000001"
TARGET_ENV = {
    "SCRIPTS_BUCKET": BUCKET,
    "REDSHIFT_DATABASE": "dev",
    "REDSHIFT_CLUSTER_ID": "analytics-cluster",
    "REDSHIFT_DB_USER": "etl_user",
    "REDSHIFT_WORKGROUP": "",
    "REDSHIFT_SECRET_ARN": "",
    "SHIFTFLOW_STACK_NAME": "shiftflow-test",
}


@pytest.fixture
def aws(monkeypatch):
    for key, value in TARGET_ENV.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield


def stage(key: str, sql: str) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=sql.encode())


def submit_event(**overrides):
    """The submit task's payload: the run_sql_job input as `request`, and the execution id as token seed (poll mode
    unless told: the event mode's request has its own tests)."""
    request = {
        "workflow": "sales_data_pipeline",
        "job": "load_item_dimension",
        "script": "sales/load_item_dimension.sql",
        "parameters": {"run_date": "2026-11-21"},
        "completion": "poll",
    }
    return {"request": {**request, **overrides},
            "client_token_seed": "arn:aws:states:us-east-1:123456789012:execution:run-sql-job:abc"}


# --- submit_sql_job ---------------------------------------------------------------------------------------------


def test_submit_splits_binds_and_sends_one_idempotent_batch(aws, lambda_context):
    stage(
        "sales/load_item_dimension.sql",
        "-- SCD2 item load\nupdate item set note = 'a;b' where d = :run_date;\n\ninsert into item select * from stg_item;",
    )
    app = load_function("submit_sql_job")
    event = submit_event()
    expected = {
        "Database": "dev",
        "ClusterIdentifier": "analytics-cluster",
        "DbUser": "etl_user",
        "Sqls": [
            "-- SCD2 item load\nupdate item set note = 'a;b' where d = :run_date",
            "insert into item select * from stg_item",
        ],
        "StatementName": "sales_data_pipeline.load_item_dimension",
        "ClientToken": client_token(event["client_token_seed"], "load_item_dimension"),
        "Parameters": [{"name": "run_date", "value": "2026-11-21"}],
    }
    with Stubber(app.redshift_data) as stub:
        stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID}, expected)
        before = time.time()
        result = app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()
    deadline = result.pop("deadline")
    assert result == {
        "job": "load_item_dimension",
        "statement_id": STATEMENT_ID,
        "statement_name": "sales_data_pipeline.load_item_dimension",
        "statement_count": 2,
        "timeout_seconds": 86_400,  # no timeout asked: Redshift's own 24-hour limit
        "completion": "poll",
        "heartbeat_seconds": 0,
        "token_expires_at": int(deadline) + 86_400,
        # The first attempt; a transaction conflict is retried 3 times unless the job says otherwise.
        "conflict": {"attempt": 0, "retries": 3, "earlier_attempts": []},
    }
    assert before + 86_400 <= deadline <= time.time() + 86_400


@pytest.mark.parametrize(("request_fields", "heartbeat"), [
    ({}, 900),  # auto without past runs: events, the default first heartbeat
    ({"completion": "auto", "expected_seconds": 600}, 900),  # 1.5 x the expected duration
    ({"completion": "event", "expected_seconds": 5, "heartbeat_seconds": 2}, 2),
    ({"completion": "event", "timeout_seconds": 60}, 61),  # never past the deadline
])
def test_event_mode_submits_with_event_under_the_stacks_statement_name(aws, lambda_context, request_fields,
                                                                       heartbeat):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    event = submit_event(**request_fields)
    if "completion" not in request_fields:
        del event["request"]["completion"]  # the default: auto
    expected = {
        "Database": "dev", "ClusterIdentifier": "analytics-cluster", "DbUser": "etl_user",
        "Sqls": ["select 1 where :run_date is not null"],
        "StatementName": "sales_data_pipeline.load_item_dimension@shiftflow-test",
        "ClientToken": client_token(event["client_token_seed"], "load_item_dimension"),
        "Parameters": [{"name": "run_date", "value": "2026-11-21"}],
        "WithEvent": True,
    }
    with Stubber(app.redshift_data) as stub:
        stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID}, expected)
        result = app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()
    assert (result["completion"], result["heartbeat_seconds"]) == ("event", heartbeat)
    assert result["statement_name"] == "sales_data_pipeline.load_item_dimension@shiftflow-test"


def test_auto_polls_a_job_expected_to_end_within_one_long_poll(aws, lambda_context):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    event = submit_event(completion="auto", expected_seconds=12.5)
    expected = {
        "Database": "dev", "ClusterIdentifier": "analytics-cluster", "DbUser": "etl_user",
        "Sqls": ["select 1 where :run_date is not null"],
        "StatementName": "sales_data_pipeline.load_item_dimension",  # no WithEvent: no event, no suffix
        "ClientToken": client_token(event["client_token_seed"], "load_item_dimension"),
        "Parameters": [{"name": "run_date", "value": "2026-11-21"}],
    }
    with Stubber(app.redshift_data) as stub:
        stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID}, expected)
        result = app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()
    assert (result["completion"], result["heartbeat_seconds"]) == ("poll", 0)
    assert result["statement_name"] == "sales_data_pipeline.load_item_dimension"


@pytest.mark.parametrize(("fields", "message"), [
    ({"completion": "sometimes"}, r"completion is 'sometimes'; give one of event, poll, auto"),
    ({"completion": "auto", "expected_seconds": "long"}, r"expected_seconds is 'long'"),
    ({"completion": "event", "heartbeat_seconds": 0}, r"heartbeat_seconds is 0; give a whole number"),
    ({"completion": "event", "heartbeat_seconds": 2.5}, r"heartbeat_seconds is 2.5; give a whole number"),
])
def test_a_bad_completion_request_is_refused_before_anything_runs(aws, lambda_context, fields, message):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    with Stubber(app.redshift_data), pytest.raises(errors.InvalidJobRequest, match=message):
        app.lambda_handler(submit_event(**fields), lambda_context)


def test_the_starters_seed_wins_so_a_second_start_of_the_job_finds_the_same_statement(aws, lambda_context):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    starter = "arn:aws:states:us-east-1:123456789012:execution:sales:run-1/redrive-0"
    expected = {
        "Database": "dev", "ClusterIdentifier": "analytics-cluster", "DbUser": "etl_user",
        "Sqls": ["select 1 where :run_date is not null"],
        "StatementName": "sales_data_pipeline.load_item_dimension",
        "ClientToken": client_token(starter, "load_item_dimension"),
        "Parameters": [{"name": "run_date", "value": "2026-11-21"}],
    }
    for child in ("child-a", "child-b"):  # two child executions started for the same job of the same run
        event = {**submit_event(client_token_seed=starter),
                 "client_token_seed": f"arn:aws:states:us-east-1:123456789012:execution:run-sql-job:{child}"}
        with Stubber(app.redshift_data) as stub:
            stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID}, expected)
            app.lambda_handler(event, lambda_context)
            stub.assert_no_pending_responses()


@pytest.mark.parametrize("timeout", [0, -5, 86_401, 1.5, "60", True])
def test_a_bad_timeout_is_refused_before_anything_runs(aws, lambda_context, timeout):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    with Stubber(app.redshift_data), pytest.raises(errors.InvalidJobRequest, match=r"timeout_seconds is .* from 1 to 86400"):
        app.lambda_handler(submit_event(timeout_seconds=timeout), lambda_context)


def test_a_timeout_sets_the_deadline(aws, lambda_context):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    with Stubber(app.redshift_data) as stub:
        stub.add_response("batch_execute_statement", {"Id": STATEMENT_ID})
        result = app.lambda_handler(submit_event(timeout_seconds=90), lambda_context)
    assert result["timeout_seconds"] == 90 and 0 < result["deadline"] - time.time() <= 90


def test_client_token_is_stable_per_execution_and_job():
    seed = "arn:aws:states:us-east-1:1:execution:run-sql-job:one"
    assert client_token(seed, "load_item_dimension") == client_token(seed, "load_item_dimension")
    assert client_token(seed, "load_item_dimension") != client_token(seed, "load_store_sales_fact")
    assert client_token(seed + "-retry", "load_item_dimension") != client_token(seed, "load_item_dimension")
    assert 1 <= len(client_token(seed, "x")) <= 64


def test_hostile_parameter_values_travel_as_parameters_never_as_sql(aws, lambda_context):
    stage("sales/report.sql", "select * from store where city = :city")
    app = load_function("submit_sql_job")
    hostile = "'); drop table store_sales; --"
    event = submit_event(script="sales/report.sql", parameters={"city": hostile})
    with Stubber(app.redshift_data) as stub:
        stub.add_response(
            "batch_execute_statement",
            {"Id": STATEMENT_ID},
            {
                "Database": "dev",
                "ClusterIdentifier": "analytics-cluster",
                "DbUser": "etl_user",
                "Sqls": ["select * from store where city = :city"],
                "StatementName": "sales_data_pipeline.load_item_dimension",
                "ClientToken": client_token(event["client_token_seed"], "load_item_dimension"),
                "Parameters": [{"name": "city", "value": hostile}],
            },
        )
        app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()


def test_missing_script_names_the_bucket_key_and_what_to_do(aws, lambda_context):
    app = load_function("submit_sql_job")
    with pytest.raises(errors.ScriptNotFound, match=rf"job load_item_dimension: s3://{BUCKET}/sales/nope.sql does not exist"):
        app.lambda_handler(submit_event(script="sales/nope.sql"), lambda_context)


def test_script_over_forty_statements_is_refused_with_advice(aws, lambda_context):
    stage("sales/big.sql", ";\n".join(f"insert into t values ({n})" for n in range(41)))
    app = load_function("submit_sql_job")
    with pytest.raises(errors.ScriptTooLarge, match=r"41 statements; one Data API batch takes at most 40\. Split it"):
        app.lambda_handler(submit_event(script="sales/big.sql"), lambda_context)


def test_script_over_100_kb_is_refused_with_advice(aws, lambda_context):
    values = ",".join(f"({n}, '{'x' * 60}')" for n in range(2000))
    stage("sales/wide.sql", f"insert into t values {values}")
    app = load_function("submit_sql_job")
    with pytest.raises(errors.ScriptTooLarge, match=r"bytes of SQL; the Data API accepts at most 102400"):
        app.lambda_handler(submit_event(script="sales/wide.sql"), lambda_context)


def test_missing_parameter_value_is_named(aws, lambda_context):
    stage("sales/needs_city.sql", "select :city, :run_date")
    app = load_function("submit_sql_job")
    with pytest.raises(errors.InvalidJobRequest, match=r":city but the job gives no value"):
        app.lambda_handler(submit_event(script="sales/needs_city.sql"), lambda_context)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ThrottlingException", errors.TransientDataApiError), ("ValidationException", errors.SqlSubmitRejected)],
)
def test_data_api_errors_become_retryable_or_final(aws, lambda_context, code, expected):
    stage("sales/load_item_dimension.sql", "select 1 where :run_date is not null")
    app = load_function("submit_sql_job")
    with Stubber(app.redshift_data) as stub:
        stub.add_client_error("batch_execute_statement", service_error_code=code, service_message="nope")
        with pytest.raises(expected, match="nope"):
            app.lambda_handler(submit_event(), lambda_context)


def test_serverless_workgroup_with_secret(monkeypatch):
    from shiftflow.jobs.target import RedshiftTarget

    target = RedshiftTarget.from_environment(
        {"REDSHIFT_DATABASE": "dev", "REDSHIFT_WORKGROUP": "etl", "REDSHIFT_SECRET_ARN": "arn:aws:secretsmanager:x"}
    )
    assert target.request_fields() == {"Database": "dev", "WorkgroupName": "etl", "SecretArn": "arn:aws:secretsmanager:x"}
    with pytest.raises(ValueError, match="exactly one"):
        RedshiftTarget.from_environment({"REDSHIFT_DATABASE": "dev", "REDSHIFT_WORKGROUP": "a", "REDSHIFT_CLUSTER_ID": "b"})
    with pytest.raises(ValueError, match="REDSHIFT_DB_USER"):
        RedshiftTarget.from_environment({"REDSHIFT_DATABASE": "dev", "REDSHIFT_CLUSTER_ID": "b"})


# --- get_statement_status ---------------------------------------------------------------------------------------


def batch_description(status, subs, error=None):
    description = {
        "Id": STATEMENT_ID,
        "Status": status,
        "Duration": 2_500_000_000,
        "HasResultSet": False,
        "QueryString": "",
        "SubStatements": subs,
    }
    if error:
        description["Error"] = error
    return description


def sub(n, status, sql, rows=-1, error=None, result_set=False):
    entry = {"Id": f"{STATEMENT_ID}:{n}", "Status": status, "QueryString": sql, "ResultRows": rows,
             "Duration": 1_000_000, "HasResultSet": result_set}
    if error:
        entry["Error"] = error
    return entry


def test_status_long_polls_and_summarizes_a_finished_batch(lambda_context):
    app = load_function("get_statement_status")
    description = batch_description(
        "FINISHED",
        [sub(1, "FINISHED", "delete from f", rows=3), sub(2, "FINISHED", "insert into f", rows=10),
         sub(3, "FINISHED", "select check_name, passed, detail from checks", rows=2, result_set=True)],
    )
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", description, {"Id": STATEMENT_ID, "WaitTimeSeconds": 30})
        result = app.lambda_handler({"job": "load_store_sales_fact", "statement_id": STATEMENT_ID}, lambda_context)
    assert result == {
        "job": "load_store_sales_fact",
        "statement_id": STATEMENT_ID,
        "status": "FINISHED",
        "done": True,
        "duration_ms": 2500,
        "rows": 15,
        "statement_count": 3,
        "result_statement_id": f"{STATEMENT_ID}:3",
        "past_deadline": False,
        "heartbeat_seconds": 0,  # not an event-mode check
        "conflict_attempt": 0,
        "conflicted_statements": [],
        "conflict_retry": None,
    }


def test_an_event_mode_check_sets_the_next_longer_heartbeat_never_past_the_deadline(lambda_context):
    app = load_function("get_statement_status")
    running = batch_description("STARTED", [sub(1, "STARTED", "select 1")])
    checks = []
    with Stubber(app.redshift_data) as stub:
        for deadline in (time.time() + 86_000, time.time() + 3_000):
            stub.add_response("describe_statement", running)
            checks.append(app.lambda_handler({"job": "j", "statement_id": STATEMENT_ID, "wait_seconds": 1,
                                              "deadline": deadline, "heartbeat_seconds": 900}, lambda_context))
    assert [check["heartbeat_seconds"] for check in checks] == [7200, 3001]
    assert [check["past_deadline"] for check in checks] == [False, False]


def test_failed_batch_names_statement_sql_and_database_error(lambda_context):
    app = load_function("get_statement_status")
    db_error = 'ERROR: relation "stg_item" does not exist'
    description = batch_description(
        "FAILED",
        [sub(1, "FINISHED", "delete from item_tmp", rows=0), sub(2, "FAILED", "-- SCD2: new versions\ninsert into item\n select * from stg_item", error=db_error),
         sub(3, "ABORTED", "select 1")],
        error=db_error,
    )
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", description)
        result = app.lambda_handler({"job": "load_item_dimension", "statement_id": STATEMENT_ID}, lambda_context)
    assert result["status"] == "FAILED" and result["done"] is True
    assert result["error"] == "SqlStatementFailed"
    assert result["message"] == (
        f"job load_item_dimension: statement 2 of 3 ({STATEMENT_ID}:2) failed: {db_error} "
        "[SQL: insert into item select * from stg_item]"
    )


def test_aborted_statement_is_reported(lambda_context):
    app = load_function("get_statement_status")
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", batch_description("ABORTED", [sub(1, "ABORTED", "select 1")]))
        result = app.lambda_handler({"job": "j", "statement_id": STATEMENT_ID}, lambda_context)
    assert result["error"] == "SqlStatementAborted" and "aborted (cancelled)" in result["message"]


def test_running_statement_is_not_done(lambda_context):
    app = load_function("get_statement_status")
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", batch_description("STARTED", [sub(1, "STARTED", "select 1")]))
        result = app.lambda_handler({"job": "j", "statement_id": STATEMENT_ID, "wait_seconds": 5}, lambda_context)
    assert result["status"] == "STARTED" and result["done"] is False and "error" not in result


def test_a_second_long_poll_on_the_same_statement_is_transient(lambda_context):
    """ActiveWaitingRequestsExceededException: too many long polls wait on one statement (a retried poll beside one
    still waiting). The statement is healthy: the state machine retries the poll, it does not cancel the SQL."""
    app = load_function("get_statement_status")
    with Stubber(app.redshift_data) as stub:
        stub.add_client_error("describe_statement", service_error_code="ActiveWaitingRequestsExceededException",
                              service_message="too many waiting requests")
        with pytest.raises(errors.TransientDataApiError, match="too many waiting requests"):
            app.lambda_handler({"job": "j", "statement_id": STATEMENT_ID, "wait_seconds": 30}, lambda_context)


def test_a_summary_without_a_result_set_says_so(lambda_context):
    app = load_function("get_statement_status")
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", batch_description("FINISHED", [sub(1, "FINISHED", "delete from f")]))
        result = app.lambda_handler({"job": "j", "statement_id": STATEMENT_ID}, lambda_context)
    assert result["result_statement_id"] is None  # present: the state machines read it without States.Runtime


def test_at_the_deadline_a_running_statement_is_cancelled_and_reported_once_it_has_ended(lambda_context):
    app = load_function("get_statement_status")
    event = {"job": "slow_load", "statement_id": STATEMENT_ID, "deadline": time.time() - 1, "timeout_seconds": 60}
    running = batch_description("STARTED", [sub(1, "FINISHED", "delete from f", rows=3),
                                            sub(2, "STARTED", "insert into f select * from big")])
    aborted = batch_description("ABORTED", [sub(1, "FINISHED", "delete from f", rows=3),
                                            sub(2, "ABORTED", "insert into f select * from big")])
    with Stubber(app.redshift_data) as stub:
        # Past the deadline: no wait for the statement, a cancel, then a long poll until it has really ended.
        stub.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
        stub.add_response("describe_statement", running, {"Id": STATEMENT_ID, "WaitTimeSeconds": 30})
        still = app.lambda_handler(event, lambda_context)
        # The next poll cancels again (the service says it has ended) and reports the timeout.
        stub.add_client_error("cancel_statement", "ValidationException",
                              "Could not cancel a query that is already in ABORTED status")
        stub.add_response("describe_statement", aborted, {"Id": STATEMENT_ID, "WaitTimeSeconds": 30})
        ended = app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()
    assert still["status"] == "STARTED" and still["done"] is False and "error" not in still
    assert still["past_deadline"] is True  # event mode goes on polling: the wait for the event is over
    assert ended["status"] == "ABORTED" and ended["error"] == "SqlJobTimedOut"
    assert ended["message"] == (f"job slow_load: statement {STATEMENT_ID} ran longer than the job's timeout of 60 s "
                                "and was cancelled [SQL: insert into f select * from big]")


def test_a_cancelled_statement_still_running_long_after_the_deadline_fails_the_job(lambda_context):
    """The wait for a cancelled statement's end (its rollback) is bounded: ROLLBACK_WAIT_SECONDS after the deadline
    the job stops waiting (its history budget, shiftflow.jobs.history_budget) and fails with SqlJobTimedOut."""
    from shiftflow.jobs.status import ROLLBACK_WAIT_SECONDS

    app = load_function("get_statement_status")
    running = batch_description("STARTED", [sub(1, "STARTED", "insert into f select * from big")])
    for seconds_past, gives_up in ((ROLLBACK_WAIT_SECONDS - 60, False), (ROLLBACK_WAIT_SECONDS + 1, True)):
        event = {"job": "slow_load", "statement_id": STATEMENT_ID, "deadline": time.time() - seconds_past,
                 "timeout_seconds": 60}
        with Stubber(app.redshift_data) as stub:
            stub.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
            stub.add_response("describe_statement", running, {"Id": STATEMENT_ID, "WaitTimeSeconds": 30})
            if not gives_up:
                assert app.lambda_handler(event, lambda_context)["done"] is False  # still waited for
                continue
            with pytest.raises(errors.SqlJobTimedOut, match=f"had still not ended {ROLLBACK_WAIT_SECONDS} s later"):
                app.lambda_handler(event, lambda_context)


def test_a_stop_cancels_at_once_and_waits_until_the_rollback_bound(lambda_context):
    """StopStatementBeforeFailing: the statement is cancelled before the job's deadline, and its end waited for."""
    app = load_function("get_statement_status")
    event = {"job": "j", "statement_id": STATEMENT_ID, "deadline": time.time() + 3600, "timeout_seconds": 3600,
             "stop": True}
    with Stubber(app.redshift_data) as stub:
        stub.add_response("cancel_statement", {"Status": True}, {"Id": STATEMENT_ID})
        stub.add_response("describe_statement", batch_description("STARTED", [sub(1, "STARTED", "select 1")]),
                          {"Id": STATEMENT_ID, "WaitTimeSeconds": 30})
        result = app.lambda_handler(event, lambda_context)
        stub.assert_no_pending_responses()
    assert (result["done"], result["past_deadline"]) == (False, True)


def test_before_the_deadline_the_long_poll_is_cut_to_the_time_left(lambda_context):
    app = load_function("get_statement_status")
    event = {"job": "j", "statement_id": STATEMENT_ID, "deadline": time.time() + 4.2, "timeout_seconds": 60}
    with Stubber(app.redshift_data) as stub:
        stub.add_response("describe_statement", batch_description("FINISHED", [sub(1, "FINISHED", "select 1", rows=1)]),
                          {"Id": STATEMENT_ID, "WaitTimeSeconds": 5})
        result = app.lambda_handler(event, lambda_context)
    assert result["status"] == "FINISHED" and "error" not in result


def test_a_statement_that_finishes_as_it_is_cancelled_is_a_success(lambda_context):
    app = load_function("get_statement_status")
    event = {"job": "j", "statement_id": STATEMENT_ID, "deadline": time.time() - 1, "timeout_seconds": 60}
    with Stubber(app.redshift_data) as stub:
        stub.add_client_error("cancel_statement", "ValidationException",
                              "Could not cancel a query that is already in FINISHED status")
        stub.add_response("describe_statement", batch_description("FINISHED", [sub(1, "FINISHED", "select 1", rows=1)]))
        result = app.lambda_handler(event, lambda_context)
    assert result["status"] == "FINISHED" and "error" not in result


def test_old_sdk_without_long_polling_falls_back_to_plain_describes(tmp_path, monkeypatch):
    """A Lambda runtime's bundled boto3 may predate WaitTimeSeconds: build such a client from a trimmed model."""
    import botocore.session

    from shiftflow.jobs import status

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model("redshift-data", "service-2")
    for shape in ("DescribeStatementRequest", "ExecuteStatementInput", "BatchExecuteStatementInput", "GetStatementResultRequest"):
        model["shapes"][shape]["members"].pop("WaitTimeSeconds", None)
    version = loader.determine_latest_version("redshift-data", "service-2")
    target = tmp_path / "redshift-data" / version
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    old = botocore.session.get_session()
    old.set_config_variable("data_path", str(tmp_path))
    client = old.create_client("redshift-data", region_name="us-east-1")
    assert "WaitTimeSeconds" not in client.meta.service_model.operation_model("DescribeStatement").input_shape.members
    monkeypatch.setattr(status, "FALLBACK_POLL_SECONDS", 0.01)
    with Stubber(client) as stub:
        # No expected parameters: the trimmed model's own validation rejects WaitTimeSeconds before sending.
        stub.add_response("describe_statement", batch_description("STARTED", []))
        stub.add_response("describe_statement", batch_description("FINISHED", []))
        description = status.wait_for_end(client, STATEMENT_ID, wait_seconds=5)
        stub.assert_no_pending_responses()
    assert description["Status"] == "FINISHED"


# --- read_statement_result and check_validation_results ----------------------------------------------------------


def page(rows, token=None):
    columns = [{"name": "check_name", "typeName": "varchar"}, {"name": "passed", "typeName": "bool"},
               {"name": "detail", "typeName": "varchar"}]
    records = [[{"stringValue": name}, {"booleanValue": passed} if passed is not None else {"isNull": True},
                {"stringValue": detail}] for name, passed, detail in rows]
    response = {"Records": records, "ColumnMetadata": columns, "TotalNumRows": len(rows)}
    if token:
        response["NextToken"] = token
    return response


def test_read_result_follows_every_page(lambda_context):
    app = load_function("read_statement_result")
    with Stubber(app.redshift_data) as stub:
        stub.add_response("get_statement_result", page([("a", True, "1")], token="t1"), {"Id": STATEMENT_ID})
        stub.add_response("get_statement_result", page([("b", None, "2")]), {"Id": STATEMENT_ID, "NextToken": "t1"})
        result = app.lambda_handler({"statement_id": STATEMENT_ID}, lambda_context)
    assert result["rows"] == [{"check_name": "a", "passed": True, "detail": "1"},
                              {"check_name": "b", "passed": None, "detail": "2"}]
    assert result["total_rows"] == 2 and result["truncated"] is False


def test_validation_passes_when_every_check_passes(lambda_context):
    app = load_function("check_validation_results")
    with Stubber(app.redshift_data) as stub:
        stub.add_response("get_statement_result", page([("fact_rows_match_staging", True, "10 = 10")]))
        result = app.lambda_handler({"job": "validate_sales_load", "result_statement_id": f"{STATEMENT_ID}:2"}, lambda_context)
    assert result == {"job": "validate_sales_load", "checks": 1, "passed": 1}


def test_validation_fails_naming_each_failed_check(lambda_context):
    app = load_function("check_validation_results")
    rows = [("fact_rows_match_staging", False, "9 of 10"), ("one_current_item_version", True, "ok"),
            ("no_orphan_fact_rows", None, "unknown")]
    with Stubber(app.redshift_data) as stub:
        stub.add_response("get_statement_result", page(rows))
        with pytest.raises(errors.ValidationChecksFailed) as failure:
            app.lambda_handler({"job": "validate_sales_load", "result_statement_id": f"{STATEMENT_ID}:2"}, lambda_context)
    assert str(failure.value) == (
        "job validate_sales_load: 2 of 3 validation checks failed: fact_rows_match_staging (9 of 10); "
        "no_orphan_fact_rows (unknown)"
    )


# --- describe_failure ---------------------------------------------------------------------------------------------


def test_failure_of_a_child_sql_job_names_job_and_database_message(lambda_context):
    app = load_function("describe_failure")
    message = "job load_item_dimension: statement 2 of 3 (x:2) failed: ERROR: division by zero [SQL: select 1/0]"
    child = {"executionArn": "arn:aws:states:us-east-1:1:execution:run-sql-job:e1", "status": "FAILED",
             "input": json.dumps({"job": "load_item_dimension"}), "error": "SqlStatementFailed", "cause": message}
    result = app.lambda_handler({"Error": "States.TaskFailed", "Cause": json.dumps(child)}, lambda_context)
    assert result == {"failed_step": "load_item_dimension", "error": "SqlStatementFailed", "message": message}


def test_failure_of_a_child_sql_job_as_the_sync_integration_reports_it(lambda_context):
    """startExecution.sync:2 writes the child's DescribeExecution in PascalCase, with the input as JSON."""
    app = load_function("describe_failure")
    message = "job load_item_dimension: statement 1 of 3 (x:1) failed: relation stg_item does not exist [SQL: ...]"
    child = {"ExecutionArn": "arn:aws:states:us-east-1:1:execution:run-sql-job:e2", "Status": "FAILED",
             "Input": {"job": "load_item_dimension"}, "Error": "SqlStatementFailed", "Cause": message}
    result = app.lambda_handler({"Error": "States.TaskFailed", "Cause": json.dumps(child)}, lambda_context)
    assert result == {"failed_step": "load_item_dimension", "error": "SqlStatementFailed", "message": message}


def test_failure_of_a_child_whose_description_was_cut_never_passes_on_its_input(lambda_context):
    """A stage's description (its input: the plan of up to 500 jobs) passes the 32,768-character cause limit: the
    cut text is its input, not its error, so the summary names the child and keeps none of it."""
    app = load_function("describe_failure")
    arn = "arn:aws:states:us-east-1:1:execution:workflow-stage:s1"
    child = json.dumps({"ExecutionArn": arn, "Status": "FAILED", "Input": {"stage": {"jobs": ["x" * 100] * 500}},
                        "Error": "SqlStatementFailed", "Cause": "job a: failed"})[:32_768]
    result = app.lambda_handler({"Error": "States.TaskFailed", "Cause": child}, lambda_context)
    assert result["error"] == "States.TaskFailed"
    assert result["message"].startswith(f"child execution {arn} failed; its description was cut")
    assert "xxxx" not in result["message"]


def test_a_long_failure_message_is_bounded_for_records_and_notifications(lambda_context):
    app = load_function("describe_failure")
    cause = json.dumps({"errorType": "SqlSubmitRejected", "errorMessage": "job j: " + "refused " * 4_000})
    result = app.lambda_handler({"Error": "SqlSubmitRejected", "Cause": cause}, lambda_context)
    assert len(result["message"]) == 4_096 and result["message"].endswith(" ... (cut)")
    assert result["failed_step"] == "j"


def test_failure_of_a_lambda_and_of_a_plain_state(lambda_context):
    app = load_function("describe_failure")
    lambda_cause = json.dumps({"errorType": "ValidationChecksFailed",
                               "errorMessage": "job validate_sales_load: 1 of 5 validation checks failed: x (y)"})
    assert app.lambda_handler({"Error": "ValidationChecksFailed", "Cause": lambda_cause}, lambda_context) == {
        "failed_step": "validate_sales_load", "error": "ValidationChecksFailed",
        "message": "job validate_sales_load: 1 of 5 validation checks failed: x (y)"}
    assert app.lambda_handler({"Error": "States.Timeout", "Cause": "timed out"}, lambda_context) == {
        "failed_step": "unknown", "error": "States.Timeout", "message": "timed out"}
