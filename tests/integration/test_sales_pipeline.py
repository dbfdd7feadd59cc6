"""The sales pipeline end to end on the local runtime: template.yaml, the ASL, the handlers and the SQL scripts,
on DuckDB and on PostgreSQL, with the job guard, run history and notifications read back from moto."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from shiftflow.guard import read_guards, read_history, reset_guard
from shiftflow.jobs.results import read_result
from shiftflow.jobs.status import TERMINAL_STATUSES, wait_for_end
from shiftflow.local.functions import load_handler
from shiftflow.local.moto_gaps import register_lambda_handler, wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from tests.conftest import ROOT, SLOW_SQL

RUN_DATE = "2026-11-21"
JOB_ID = "sales_data_pipeline"
TABLES = ("customer_address", "item", "store_sales", "date_dim", "customer", "store")


@pytest.fixture(params=["duckdb", "postgres"])
def runtime(request, tmp_path) -> Iterator[LocalRuntime]:
    with LocalRuntime(ROOT, state_dir=tmp_path, engine=request.param, time_scale=0.001, persist=False) as local:
        yield local


@pytest.fixture
def duckdb_runtime(tmp_path) -> Iterator[LocalRuntime]:
    with LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, persist=False) as local:
        yield local


def run(runtime: LocalRuntime, **execution_input: Any) -> dict[str, Any]:
    sfn = runtime.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=runtime.deployment.state_machine_arn("sales_data_pipeline"),
        input=json.dumps({"run_date": RUN_DATE, **execution_input}),
    )["executionArn"]
    wait_for_execution(arn, timeout=120)
    return sfn.describe_execution(executionArn=arn)


def sql(runtime: LocalRuntime, text: str, **parameters: str) -> list[dict[str, Any]]:
    """Ad hoc SQL through the Data API, as `shiftflow query` sends it."""
    client = runtime.client("redshift-data")
    request: dict[str, Any] = {"ClusterIdentifier": "shiftflow-local", "DbUser": "shiftflow", "Database": "dev",
                               "Sql": text}
    if parameters:
        request["Parameters"] = [{"name": name, "value": value} for name, value in parameters.items()]
    statement_id = client.execute_statement(**request)["Id"]
    description = wait_for_end(client, statement_id)
    while description["Status"] not in TERMINAL_STATUSES:
        description = wait_for_end(client, statement_id)
    assert description["Status"] == "FINISHED", description.get("Error")
    return read_result(client, statement_id).rows if description.get("HasResultSet") else []


def snapshot(runtime: LocalRuntime) -> dict[str, list[str]]:
    return {table: sorted(repr(sorted(row.items())) for row in sql(runtime, f"select * from {table}")) for table in TABLES}


def item_versions(runtime: LocalRuntime, item_id: str) -> list[tuple]:
    rows = sql(runtime, "select i_rec_start_date, i_rec_end_date, i_is_current, i_current_price from item"
                        " where i_item_id = :item_id order by i_rec_start_date", item_id=item_id)
    return [(r["i_rec_start_date"], r["i_rec_end_date"], r["i_is_current"], Decimal(str(r["i_current_price"])))
            for r in rows]


def guard(runtime: LocalRuntime) -> dict[str, Any]:
    (item,) = read_guards(runtime.client("dynamodb"), runtime.deployment.output("JobGuardTableName"), JOB_ID)
    return item


def history(runtime: LocalRuntime) -> list[dict[str, Any]]:
    return read_history(runtime.client("dynamodb"), runtime.deployment.output("RunHistoryTableName"), JOB_ID)


def test_pipeline_loads_dimensions_and_fact_row_by_row(runtime):
    execution = run(runtime, setup_demo_data=True)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    assert output["status"] == "SUCCEEDED" and output["results"]["validation_checks"]["passed"] == 11

    # SCD1: address 2 moved in place (same surrogate key), address 401 is new, 21 (resent unchanged) untouched.
    (moved,) = sql(runtime, "select * from customer_address where ca_address_id = 'ADDR000000000002'")
    assert (moved["ca_address_sk"], moved["ca_city"], moved["ca_state"], moved["last_updated"]) == (
        2, "Riverside", "CA", RUN_DATE)
    (new,) = sql(runtime, "select ca_address_sk, last_updated from customer_address where ca_address_id = 'ADDR000000000401'")
    assert (new["ca_address_sk"], new["last_updated"]) == (401, RUN_DATE)
    (same,) = sql(runtime, "select last_updated from customer_address where ca_address_id = 'ADDR000000000021'")
    assert same["last_updated"] == "2026-01-01"

    # SCD2: a price change closes the current row and opens a new version; other changes update in place.
    old, current = item_versions(runtime, "ITEM000000000011")
    assert old[:3] == ("2026-01-01", "2026-11-20", False) and current[:3] == (RUN_DATE, None, True)
    assert current[3] == old[3] + Decimal("2.50")
    (repackaged,) = sql(runtime, "select i_item_sk, i_item_desc, i_brand, i_is_current from item"
                                 " where i_item_id = 'ITEM000000000021'")
    assert (repackaged["i_item_sk"], repackaged["i_item_desc"], repackaged["i_is_current"]) == (
        21, "Demo item 21, new packaging", True)
    (counts,) = sql(runtime, "select count(*) as items, sum(case when i_is_current then 1 else 0 end) as current_items from item")
    assert (int(counts["items"]), int(counts["current_items"])) == (126, 106)

    # Fact: the run date's staged sales, keyed to the current item versions; history untouched.
    (fact,) = sql(runtime, "select count(*) as n from store_sales where ss_sold_date_sk = 20261121")
    assert int(fact["n"]) == 999
    (total,) = sql(runtime, "select count(*) as n from store_sales")
    assert int(total["n"]) == 5400 + 999
    keys = sql(runtime, "select distinct i_is_current from store_sales join item on i_item_sk = ss_item_sk"
                        " where ss_sold_date_sk = 20261121")
    assert keys == [{"i_is_current": True}]

    # Guard released, one SUCCEEDED history item naming every job's statement and rows.
    assert (guard(runtime)["JobState"], guard(runtime)["LastStatus"]) == ("Ready", "SUCCEEDED")
    (item,) = history(runtime)
    assert (item["Status"], item["RunDate"], item["ExecutionArn"]) == ("SUCCEEDED", RUN_DATE, execution["executionArn"])
    jobs = json.loads(item["Jobs"])
    fact_job = jobs["load_store_sales_fact"]["summary"]
    assert (fact_job["status"], fact_job["rows"], fact_job["statement_count"]) == ("FINISHED", 999, 2)
    assert set(jobs["dimensions"]) == {"load_customer_address_dimension", "load_item_dimension"}


def test_a_second_run_for_the_same_date_changes_no_data(runtime):
    assert run(runtime, setup_demo_data=True)["status"] == "SUCCEEDED"
    before = snapshot(runtime)
    second = run(runtime)
    assert second["status"] == "SUCCEEDED", second.get("cause")
    assert snapshot(runtime) == before
    assert [item["Status"] for item in history(runtime)] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_failing_job_blocks_the_guard_records_and_notifies_until_reset(duckdb_runtime):
    runtime = duckdb_runtime
    assert run(runtime, setup_demo_data=True)["status"] == "SUCCEEDED"
    runtime.notifications()  # only what the failing run publishes counts below
    sql(runtime, "drop table stg_item")

    failed = run(runtime)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "SqlStatementFailed"
    assert failed["cause"].startswith("job load_item_dimension: statement 1 of 3 (")
    assert "stg_item" in failed["cause"] and "[SQL: " in failed["cause"]

    state = guard(runtime)
    assert (state["JobState"], state["FailedStep"], state["LastStatus"]) == ("Failed", "load_item_dimension", "FAILED")
    assert state["LastError"] == f"SqlStatementFailed: {failed['cause']}"
    latest = history(runtime)[0]
    assert (latest["Status"], latest["FailedStep"], latest["Message"]) == ("FAILED", "load_item_dimension", failed["cause"])
    (notification,) = runtime.notifications()
    assert notification["subject"] == "Shiftflow: sales_data_pipeline failed"
    assert notification["message"] == {"failed_step": "load_item_dimension", "error": "SqlStatementFailed",
                                       "message": failed["cause"]}

    blocked = run(runtime, setup_demo_data=True)
    assert blocked["status"] == "SUCCEEDED" and json.loads(blocked["output"])["status"] == "blocked until reset"
    assert guard(runtime)["JobState"] == "Failed"

    said = reset_guard(runtime.client("dynamodb"), runtime.deployment.output("JobGuardTableName"), JOB_ID)
    assert said == "job sales_data_pipeline: guard reset from Failed to Ready (failed step load_item_dimension); the next run will start"
    repaired = run(runtime, setup_demo_data=True)  # the setup recreates the dropped staging table
    assert repaired["status"] == "SUCCEEDED", repaired.get("cause")
    assert guard(runtime)["JobState"] == "Ready"
    assert [item["Status"] for item in history(runtime)][:2] == ["SUCCEEDED", "FAILED"]


def test_fifty_concurrent_starts_run_the_sql_once(duckdb_runtime):
    runtime = duckdb_runtime
    assert run(runtime, setup_demo_data=True)["status"] == "SUCCEEDED"
    data_api = runtime.client("redshift-data")
    statements_before = len(data_api.list_statements(MaxResults=100, Status="ALL")["Statements"])

    # The winner's first submit waits until every other execution has ended, so all 50 overlap for sure.
    others_done = threading.Event()
    submit = load_handler(ROOT / "functions" / "submit_sql_job", "app.lambda_handler")
    submitted: list[str] = []

    def held_submit(event, context):
        submitted.append(event["request"]["job"])
        assert others_done.wait(timeout=60), "the other executions never ended"
        return submit(event, context)

    register_lambda_handler(runtime.deployment.output("SubmitSqlJobFunctionName"), held_submit)
    sfn = runtime.client("stepfunctions")
    arn = runtime.deployment.state_machine_arn("sales_data_pipeline")
    executions = [sfn.start_execution(stateMachineArn=arn, input=json.dumps({"run_date": RUN_DATE}))["executionArn"]
                  for _ in range(50)]

    pending, skipped = set(executions), []
    deadline = time.monotonic() + 60
    while len(skipped) < 49 and time.monotonic() < deadline:
        for execution in sorted(pending):
            try:
                wait_for_execution(execution, timeout=0.01)  # blocks on the completion event, no busy loop
            except TimeoutError:
                continue
            pending.discard(execution)
            skipped.append(json.loads(sfn.describe_execution(executionArn=execution)["output"])["status"])
    others_done.set()
    (last,) = pending
    assert wait_for_execution(last, timeout=120) == "SUCCEEDED"
    assert skipped == ["skipped: already running"] * 49
    assert json.loads(sfn.describe_execution(executionArn=last)["output"])["status"] == "SUCCEEDED"
    assert len(submitted) == 4  # the winner's four jobs, nothing from the 49 others
    statements = data_api.list_statements(MaxResults=100, Status="ALL")["Statements"]
    assert len(statements) - statements_before == 4


def test_a_job_that_can_no_longer_be_followed_stops_its_statement_before_it_fails(duckdb_runtime):
    """The status function fails for good while the SQL runs (a polling job: an event-mode job calls it only after a
    silent heartbeat interval): the job cancels the statement and waits for its end before failing with the original
    error, so that a retry of the job cannot run beside it."""
    runtime = duckdb_runtime
    runtime.client("s3").put_object(
        Bucket=runtime.deployment.output("ScriptsBucketName"), Key="tests/slow.sql",
        Body=SLOW_SQL.encode())
    status = load_handler(ROOT / "functions" / "get_statement_status", "app.lambda_handler")

    def status_lost_unless_stopping(event, context):
        if not event.get("stop"):  # StopStatementBeforeFailing's call stops the statement
            raise RuntimeError("the status function lost its connection")  # not retried: not a transient error
        return status(event, context)

    register_lambda_handler(runtime.deployment.output("GetStatementStatusFunctionName"), status_lost_unless_stopping)
    sfn = runtime.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"), input=json.dumps(
        {"workflow": "tests", "job": "slow", "script": "tests/slow.sql", "parameters": {},
         "completion": "poll"}))["executionArn"]

    assert wait_for_execution(arn, timeout=120) == "FAILED"
    failed = sfn.describe_execution(executionArn=arn)
    assert failed["error"] == "RuntimeError" and "lost its connection" in failed["cause"]
    data_api = runtime.client("redshift-data")
    (statement,) = data_api.list_statements(StatementName="tests.slow", Status="ALL")["Statements"]
    assert statement["Status"] == "ABORTED"


def test_a_job_started_twice_by_the_same_run_runs_its_sql_once(duckdb_runtime):
    """What a retried startExecution.sync:2 of a parent does after the first child had started: a second child of
    the same job with the same seed follows the first child's statement instead of running the SQL again."""
    runtime = duckdb_runtime
    sql(runtime, "create table starts (n int)")
    runtime.client("s3").put_object(Bucket=runtime.deployment.output("ScriptsBucketName"), Key="tests/insert.sql",
                                    Body=b"insert into starts values (1);")
    sfn = runtime.client("stepfunctions")
    job = {"workflow": "tests", "job": "insert_once", "script": "tests/insert.sql", "parameters": {},
           "client_token_seed": "arn:aws:states:us-east-1:123456789012:execution:parent:run-1/redrive-0"}
    arns = [sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"),
                                input=json.dumps(job))["executionArn"] for _ in range(2)]

    outputs = []
    for arn in arns:
        assert wait_for_execution(arn, timeout=120) == "SUCCEEDED"
        outputs.append(json.loads(sfn.describe_execution(executionArn=arn)["output"]))
    assert outputs[0]["statement_id"] == outputs[1]["statement_id"]
    assert sql(runtime, "select count(*) as n from starts") == [{"n": 1}]
    # A redrive (or a configured retry) brings another seed: the job runs again.
    rerun = sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"),
                                input=json.dumps({**job, "client_token_seed": job["client_token_seed"][:-1] + "1"}))
    assert wait_for_execution(rerun["executionArn"], timeout=120) == "SUCCEEDED"
    assert sql(runtime, "select count(*) as n from starts") == [{"n": 2}]
