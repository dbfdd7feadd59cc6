"""Configured workflows end to end on the local runtime: template.yaml's workflow, stage and run_sql_job state machines
in moto, the handlers in-process, the SQL on the Data API emulator (DuckDB).

One runtime serves the module; each test uses workflow ids of its own, so guards and audit items never mix.
Test-only scripts are written to the scripts bucket under `wftest/`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from shiftflow.jobs.results import read_result
from shiftflow.jobs.status import TERMINAL_STATUSES, wait_for_end
from shiftflow.local.moto_gaps import wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from shiftflow.workflows import parse_workflow, push, run_input, validate_file
from shiftflow.workflows.audit import FINAL, job_items
from tests.conftest import ROOT, SLOW_SQL, staged_stage_input

TIMEOUT = 120


class Harness:
    """The runtime plus what the tests do with it: stage scripts, push workflows, run them, read audit and inbox."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.outputs = runtime.deployment.outputs
        self.s3 = runtime.client("s3")
        self.dynamodb = runtime.client("dynamodb")
        self.sfn = runtime.client("stepfunctions")
        self.data_api = runtime.client("redshift-data")
        self.inbox = self._subscribe_queue()

    def _subscribe_queue(self) -> str:
        sqs = self.runtime.client("sqs")
        url = sqs.create_queue(QueueName=f"workflow-tests-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.runtime.client("sns").subscribe(
            TopicArn=self.outputs["NotificationTopicArn"], Protocol="sqs", Endpoint=arn
        )
        return url

    def script(self, key: str, sql: str) -> str:
        self.s3.put_object(Bucket=self.outputs["ScriptsBucketName"], Key=key, Body=sql.encode())
        return key

    def push(self, config: dict[str, Any]) -> None:
        push(self.dynamodb, self.outputs["WorkflowConfigTableName"], parse_workflow(config))

    def run(self, workflow_id: str, **options: Any) -> dict[str, Any]:
        """Start the workflow state machine and wait for it; DescribeExecution of the finished execution."""
        arn = self.sfn.start_execution(
            stateMachineArn=self.runtime.deployment.state_machine_arn("workflow"),
            input=json.dumps(run_input(workflow_id, **options)),
        )["executionArn"]
        wait_for_execution(arn, TIMEOUT)
        return self.sfn.describe_execution(executionArn=arn)

    def jobs(self, execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
        items = job_items(self.dynamodb, self.outputs["JobAuditTableName"], execution["name"])
        return {item["job_name"]: item for item in items}

    def statuses(self, execution: dict[str, Any]) -> dict[str, str]:
        return {name: item["execution_status"] for name, item in self.jobs(execution).items()}

    def workflow_item(self, execution: dict[str, Any]) -> dict[str, Any]:
        from shiftflow.workflows.store import from_item

        item = self.dynamodb.get_item(
            TableName=self.outputs["WorkflowAuditTableName"],
            Key={"workflow_execution_id": {"S": execution["name"]}},
        )["Item"]
        return from_item(item)

    def guard(self, workflow_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=self.outputs["JobGuardTableName"], Key={"JobID": {"S": workflow_id}}, ConsistentRead=True
        ).get("Item", {})
        return {key: next(iter(value.values())) for key, value in item.items()}

    def notifications(self) -> list[dict[str, str]]:
        sqs = self.runtime.client("sqs")
        received = []
        while batch := sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                envelope = json.loads(message["Body"])
                received.append({"subject": envelope.get("Subject", ""), "message": envelope["Message"]})
                sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])
        return received

    def query(self, sql: str) -> list[dict[str, Any]]:
        statement = self.data_api.execute_statement(
            ClusterIdentifier="shiftflow-local", Database="dev", DbUser="shiftflow", Sql=sql
        )["Id"]
        description = wait_for_end(self.data_api, statement)
        while description["Status"] not in TERMINAL_STATUSES:
            description = wait_for_end(self.data_api, statement)
        assert description["Status"] == "FINISHED", description.get("Error")
        return read_result(self.data_api, statement).rows if description.get("HasResultSet") else []


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    state = tmp_path_factory.mktemp("workflow-runtime")
    with LocalRuntime(ROOT, state_dir=state, time_scale=0.001, persist=False) as runtime:
        yield Harness(runtime)


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:6]}"


def stage(description: str, execution_type: str, scripts: list[Any], flag: str = "y", **extra: Any) -> dict[str, Any]:
    return {
        "stage_description": description,
        "execution_flag": flag,
        "execution_type": execution_type,
        "scripts": scripts,
        **extra,
    }


def logging_jobs(harness: Harness, table: str, names: list[str]) -> list[dict[str, str]]:
    """Jobs that each append their name to `table`: how many times a job really ran is in the table."""
    return [
        {"name": name, "script": harness.script(f"wftest/{table}/{name}.sql", f"insert into {table} (job) values ('{name}');")}
        for name in names
    ]


def create_table_job(harness: Harness, table: str) -> dict[str, str]:
    key = harness.script(f"wftest/{table}/create.sql", f"drop table if exists {table};\ncreate table {table} (job varchar(80));")
    return {"name": f"create_{table}", "script": key}


def runs_per_job(harness: Harness, table: str) -> dict[str, int]:
    rows = harness.query(f"select job, count(*) as n from {table} group by job")
    return {row["job"]: int(row["n"]) for row in rows}


def overlaps(items: list[dict[str, Any]]) -> bool:
    """Every job of the group had started before any of them ended: they ran at the same time."""
    return max(item["execution_start_ts"] for item in items) < min(item["execution_end_ts"] for item in items)


# ---------------------------------------------------------------- the shipped workflows


def test_tpch_yearly_sales_runs_end_to_end_with_dimensions_in_parallel(harness: Harness):
    harness.notifications()
    workflow = validate_file(ROOT / "workflows" / "tpch_yearly_sales.json", harness.s3, harness.outputs["ScriptsBucketName"])
    push(harness.dynamodb, harness.outputs["WorkflowConfigTableName"], workflow)

    execution = harness.run("tpch_yearly_sales")

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    jobs = harness.jobs(execution)
    assert {name: item["execution_status"] for name, item in jobs.items()} == {
        "setup_tpch_staging": "SUCCEEDED",
        "load_customer_dimension": "SUCCEEDED",
        "load_supplier_dimension": "SUCCEEDED",
        "load_fact_yearly_sale": "SUCCEEDED",
        "validate_tpch_load": "SUCCEEDED",
    }
    assert overlaps([jobs["load_customer_dimension"], jobs["load_supplier_dimension"]])
    assert jobs["load_fact_yearly_sale"]["execution_start_ts"] > max(
        jobs["load_customer_dimension"]["execution_end_ts"], jobs["load_supplier_dimension"]["execution_end_ts"]
    )
    assert jobs["load_customer_dimension"]["row_count"] == 1500  # scale factor 0.01
    assert all(item["statement_id"] for item in jobs.values())
    run = harness.workflow_item(execution)
    assert run["execution_status"] == "SUCCEEDED" and run["execution_end_ts"] >= run["execution_start_ts"]
    assert json.loads(run["jobs"]) == list(jobs_in_order := [job.name for job in workflow.jobs]) and jobs_in_order
    assert harness.guard("tpch_yearly_sales")["JobState"] == "Ready"
    (fact,) = harness.query("select count(*) as n, sum(line_count) as lines from tpch.fact_yearly_sale")
    (lineitem,) = harness.query("select count(*) as n from tpch.lineitem")
    assert fact["n"] > 0 and int(fact["lines"]) == int(lineitem["n"])
    (notice,) = harness.notifications()
    assert notice["subject"] == "Shiftflow: workflow tpch_yearly_sales succeeded" and "5 succeeded" in notice["message"]


def test_tpch_scale_factor_is_a_run_parameter(harness: Harness):
    config = json.loads((ROOT / "workflows" / "tpch_yearly_sales.json").read_text())
    config["workflow_id"] = unique("tpch_scaled")
    harness.push(config)

    execution = harness.run(config["workflow_id"], parameters={"scale_factor": "0.002"})

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    counts = harness.query(
        "select (select count(*) from tpch.customer) as customers, (select count(*) from tpch.supplier) as suppliers,"
        " (select count(*) from tpch.orders) as orders"
    )[0]
    assert {key: int(value) for key, value in counts.items()} == {"customers": 300, "suppliers": 20, "orders": 3000}


SALES_RESULT = """
select
    (select count(*) from store_sales) as sales,
    (select sum(ss_net_paid) from store_sales) as net_paid,
    (select count(*) from item) as item_versions,
    (select count(*) from item where i_is_current) as current_items,
    (select sum(i_current_price) from item where i_is_current) as current_prices,
    (select count(*) from customer_address) as addresses,
    (select count(*) from customer_address where ca_city = 'Riverside') as moved_addresses
"""


def test_sales_workflow_gives_the_same_result_as_the_explicit_state_machine(harness: Harness):
    explicit = harness.sfn.start_execution(
        stateMachineArn=harness.runtime.deployment.state_machine_arn("sales_data_pipeline"),
        input=json.dumps({"run_date": "2026-11-21", "setup_demo_data": True}),
    )["executionArn"]
    assert wait_for_execution(explicit, TIMEOUT) == "SUCCEEDED"
    expected = harness.query(SALES_RESULT)

    config = json.loads((ROOT / "workflows" / "sales_data_pipeline.json").read_text())
    assert config["workflow_stages"][0]["execution_flag"] == "n"  # setup is optional, off by default
    config["workflow_stages"][0]["execution_flag"] = "y"
    harness.push(config)
    execution = harness.run("sales_data_pipeline", parameters={"run_date": "2026-11-21"})

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert harness.query(SALES_RESULT) == expected
    assert expected[0]["sales"] > 5400  # the run date's sales were loaded on top of the history
    statuses = harness.statuses(execution)
    assert set(statuses.values()) == {"SUCCEEDED"} and len(statuses) == 5


# ---------------------------------------------------------------- stage semantics


def test_sequential_stage_keeps_its_order_and_parallel_stage_overlaps(harness: Harness):
    workflow_id, table = unique("ordering"), unique("ordering_log")
    sequential = logging_jobs(harness, table, ["first", "second", "third", "fourth"])
    parallel = logging_jobs(harness, table, ["side_a", "side_b", "side_c", "side_d"])
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [
                stage("Create the log", "sequential", [create_table_job(harness, table)]),
                stage("One after another", "sequential", sequential),
                stage("Side by side", "parallel", parallel, max_concurrency=4),
            ],
        }
    )

    execution = harness.run(workflow_id)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    jobs = harness.jobs(execution)
    ordered = [jobs[name] for name in ("first", "second", "third", "fourth")]
    for earlier, later in zip(ordered, ordered[1:]):
        assert earlier["execution_end_ts"] <= later["execution_start_ts"], (earlier["job_name"], later["job_name"])
    assert overlaps([jobs[name] for name in ("side_a", "side_b", "side_c", "side_d")])
    assert min(jobs[name]["execution_start_ts"] for name in ("side_a", "side_b")) >= jobs["fourth"]["execution_end_ts"]
    assert runs_per_job(harness, table) == {name: 1 for name in ("first", "second", "third", "fourth",
                                                                  "side_a", "side_b", "side_c", "side_d")}


def test_stage_flagged_n_is_skipped(harness: Harness):
    workflow_id, table = unique("skipping"), unique("skipping_log")
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [
                stage("Create the log", "sequential", [create_table_job(harness, table)]),
                stage("Not today", "parallel", logging_jobs(harness, table, ["skipped_a", "skipped_b"]), flag="n"),
                stage("Then this", "sequential", logging_jobs(harness, table, ["after_skip"])),
            ],
        }
    )

    execution = harness.run(workflow_id)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    jobs = harness.jobs(execution)
    assert {name: item["execution_status"] for name, item in jobs.items()} == {
        f"create_{table}": "SUCCEEDED",
        "skipped_a": "SKIPPED",
        "skipped_b": "SKIPPED",
        "after_skip": "SUCCEEDED",
    }
    assert "statement_id" not in jobs["skipped_a"] and "execution_flag n" in jobs["skipped_a"]["detail"]
    assert runs_per_job(harness, table) == {"after_skip": 1}


# ---------------------------------------------------------------- failure, audit, notification, restart


def test_failure_stops_later_stages_and_restart_finishes_only_what_was_left(harness: Harness):
    workflow_id, table = unique("failing"), unique("failing_log")
    broken = harness.script(f"wftest/{table}/broken.sql", f"insert into {table} (job) values ('broken');\n"
                                                           "insert into no_such_table_anywhere values (1);")
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [
                stage("Prepare", "sequential", [create_table_job(harness, table), *logging_jobs(harness, table, ["prepare"])]),
                stage("Load", "sequential", [*logging_jobs(harness, table, ["before_break"]),
                                             {"name": "broken", "script": broken},
                                             *logging_jobs(harness, table, ["after_break"])]),
                stage("Publish", "parallel", logging_jobs(harness, table, ["publish_a", "publish_b"])),
            ],
        }
    )
    harness.notifications()

    failed = harness.run(workflow_id)

    assert failed["status"] == "FAILED"
    assert failed["error"] == "SqlStatementFailed"
    cause = failed["cause"]
    for part in (f"workflow {workflow_id}", "stage 2 of 3 (Load)", "job broken", "statement 2 of 2",
                 "no_such_table_anywhere", "--restart"):
        assert part in cause, (part, cause)
    assert harness.statuses(failed) == {
        f"create_{table}": "SUCCEEDED",
        "prepare": "SUCCEEDED",
        "before_break": "SUCCEEDED",
        "broken": "FAILED",
        "after_break": "NOT_RUN",
        "publish_a": "NOT_RUN",
        "publish_b": "NOT_RUN",
    }
    broken_item = harness.jobs(failed)["broken"]
    assert broken_item["error_type"] == "SqlStatementFailed" and "no_such_table_anywhere" in broken_item["error_message"]
    run = harness.workflow_item(failed)
    assert (run["execution_status"], run["failed_stage"], run["failed_job"]) == ("FAILED", 2, "broken")
    assert json.loads(run["job_counts"]) == {"FAILED": 1, "NOT_RUN": 3, "SUCCEEDED": 3}
    guard = harness.guard(workflow_id)
    assert guard["JobState"] == "Failed" and guard["FailedStep"] == "broken"
    (notice,) = harness.notifications()
    assert notice["subject"] == f"Shiftflow: workflow {workflow_id} failed" and notice["message"] == cause
    # The failed transaction left nothing behind: the broken job's first insert was rolled back.
    assert runs_per_job(harness, table) == {"prepare": 1, "before_break": 1}

    blocked = harness.run(workflow_id)
    assert json.loads(blocked["output"])["status"] == "blocked until reset or restart"

    harness.script(broken, f"insert into {table} (job) values ('broken');")
    restarted = harness.run(workflow_id, restart_execution_id=failed["executionArn"])

    assert restarted["status"] == "SUCCEEDED", restarted.get("cause")
    assert harness.statuses(restarted) == {
        f"create_{table}": "ALREADY_SUCCEEDED",
        "prepare": "ALREADY_SUCCEEDED",
        "before_break": "ALREADY_SUCCEEDED",
        "broken": "SUCCEEDED",
        "after_break": "SUCCEEDED",
        "publish_a": "SUCCEEDED",
        "publish_b": "SUCCEEDED",
    }
    assert harness.jobs(restarted)["prepare"]["succeeded_in"] == failed["name"]
    assert harness.workflow_item(restarted)["restart_of"] == failed["name"]
    assert runs_per_job(harness, table) == {name: 1 for name in ("prepare", "before_break", "broken", "after_break",
                                                                  "publish_a", "publish_b")}
    assert harness.guard(workflow_id)["JobState"] == "Ready"
    assert [notice["subject"] for notice in harness.notifications()] == [f"Shiftflow: workflow {workflow_id} succeeded"]

    refused = harness.run(workflow_id, restart_execution_id=restarted["name"])
    assert refused["status"] == "FAILED" and refused["error"] == "RestartRefused"
    assert "only a FAILED, ABORTED or TIMED_OUT run can" in refused["cause"]


def test_failure_in_a_parallel_stage_lets_the_other_jobs_end_and_stops_later_stages(harness: Harness):
    workflow_id, table = unique("parallel_failure"), unique("parallel_failure_log")
    siblings = [
        {"name": f"sibling_{n}", "script": harness.script(
            f"wftest/{table}/sibling_{n}.sql",
            f"insert into {table} (job) values ('sibling_{n}');",
        )}
        for n in range(3)
    ]
    bad = {"name": "divides_by_zero", "script": harness.script(f"wftest/{table}/bad.sql", "select 1 / 0;")}
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [
                stage("Create the log", "sequential", [create_table_job(harness, table)]),
                stage("Together", "parallel", [bad, *siblings]),
                stage("Never", "sequential", logging_jobs(harness, table, ["never"])),
            ],
        }
    )

    failed = harness.run(workflow_id)

    assert failed["status"] == "FAILED" and "job divides_by_zero" in failed["cause"]
    statuses = harness.statuses(failed)
    assert set(statuses.values()) <= FINAL and "RUNNING" not in statuses.values()
    assert statuses["divides_by_zero"] == "FAILED" and statuses["never"] == "NOT_RUN"
    # The siblings were not stopped halfway (their SQL would have run on unseen): each ran to its end, once.
    assert {statuses[job["name"]] for job in siblings} == {"SUCCEEDED"}
    assert runs_per_job(harness, table) == {job["name"]: 1 for job in siblings}
    assert harness.workflow_item(failed)["execution_status"] == "FAILED"


def test_job_retries_run_the_script_again_as_a_new_statement(harness: Harness):
    workflow_id, table = unique("retrying"), unique("retrying_log")
    # Always fails: with retries 2 the job runs three times (attempts 0, 1, 2), each a new run_sql_job execution.
    flaky = harness.script(f"wftest/{table}/flaky.sql", f"insert into {table} (job) values ('flaky');\nselect 1 / 0;")
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [
                stage("Create the log", "sequential", [create_table_job(harness, table)]),
                stage("Flaky", "sequential", [{"name": "flaky", "script": flaky, "retries": 2}]),
            ],
        }
    )

    failed = harness.run(workflow_id)

    assert failed["status"] == "FAILED"
    flaky_item = harness.jobs(failed)["flaky"]
    assert flaky_item["execution_status"] == "FAILED" and flaky_item["attempt"] == 2  # 1 try + 2 retries


def test_a_job_past_its_timeout_is_cancelled_before_its_retry_starts(harness: Harness):
    workflow_id, table = unique("timing_out"), unique("timing_out_log")
    # The insert is rolled back with the cancelled batch; the cross join runs for minutes unless interrupted.
    slow = harness.script(f"wftest/{table}/slow.sql", f"insert into {table} (job) values ('slow');\n{SLOW_SQL}")
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [
                stage("Create the log", "sequential", [create_table_job(harness, table)]),
                stage("Slow", "sequential", [{"name": "slow", "script": slow, "timeout_seconds": 1, "retries": 1}]),
            ],
        }
    )

    failed = harness.run(workflow_id)

    assert failed["status"] == "FAILED"
    slow_item = harness.jobs(failed)["slow"]
    assert slow_item["execution_status"] == "FAILED" and slow_item["attempt"] == 1
    assert "SqlJobTimedOut" in json.dumps(slow_item) and "ran longer than the job's timeout of 1 s" in failed["cause"]
    # Each attempt's statement ended (ABORTED) before the next one was submitted: they never ran at the same time.
    listed = harness.data_api.list_statements(StatementName=f"{workflow_id}.slow", Status="ALL")["Statements"]
    attempts = sorted((harness.data_api.describe_statement(Id=item["Id"]) for item in listed),
                      key=lambda description: description["CreatedAt"])
    assert [attempt["Status"] for attempt in attempts] == ["ABORTED", "ABORTED"]
    assert attempts[0]["UpdatedAt"] <= attempts[1]["CreatedAt"]
    assert harness.query(f"select count(*) as n from {table}") == [{"n": 0}]


# ---------------------------------------------------------------- validation before anything runs


def test_invalid_configuration_fails_before_the_guard_with_a_notification(harness: Harness):
    workflow_id = unique("missing_script")
    harness.push(
        {
            "workflow_id": workflow_id,
            "workflow_stages": [stage("Load", "sequential", ["wftest/not/there.sql"])],
        }
    )
    harness.notifications()

    execution = harness.run(workflow_id)

    assert execution["status"] == "FAILED" and execution["error"] == "WorkflowInvalid"
    assert f"workflow {workflow_id}, stage 1 (Load), job there: script s3://" in execution["cause"]
    assert harness.guard(workflow_id) == {}
    assert harness.jobs(execution) == {}
    (notice,) = harness.notifications()
    assert notice["subject"] == "Shiftflow: a workflow could not start" and "wftest/not/there.sql" in notice["message"]


def test_unknown_workflow_is_refused(harness: Harness):
    execution = harness.run("never_pushed")
    assert execution["status"] == "FAILED" and execution["error"] == "WorkflowNotFound"
    assert "workflow never_pushed: no such workflow" in execution["cause"]


def test_decimal_parameters_survive_the_configuration_table(harness: Harness):
    workflow_id = unique("decimals")
    harness.push(
        {
            "workflow_id": workflow_id,
            "parameters": {"ratio": 0.25, "count": 3},
            "workflow_stages": [stage("Noop", "sequential", [harness.script("wftest/noop.sql", "select 1;")])],
        }
    )
    from shiftflow.workflows import show

    config = show(harness.dynamodb, harness.outputs["WorkflowConfigTableName"], workflow_id)
    assert config["parameters"] == {"ratio": 0.25, "count": 3}
    assert not any(isinstance(value, Decimal) for value in config["parameters"].values())


# ---------------------------------------------------------------- scale: history events per job


def history_events(harness: Harness, execution_arn: str) -> int:
    events, token = 0, None
    while True:
        page = harness.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                                 **({"nextToken": token} if token else {}))
        events += len(page["events"])
        if not (token := page.get("nextToken")):
            return events


def test_a_full_stage_stays_far_below_the_history_limit(harness: Harness):
    """The stage cap (MAX_JOBS_PER_STAGE) holds against measured events per job; benchmarks/workflow_scale.py runs
    the full 1,000 jobs in 20 stages (largest history 1,121 events)."""
    from shiftflow.workflows.model import MAX_JOBS_PER_STAGE

    workflow_id, jobs = unique("history"), 12
    noop = harness.script("wftest/noop.sql", "select 1;")
    harness.push({
        "workflow_id": workflow_id,
        "workflow_stages": [stage("Many", "parallel", [{"name": f"job_{n:02d}", "script": noop} for n in range(jobs)])],
    })

    execution = harness.run(workflow_id)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    stage_arns = [
        json.loads(event["taskSucceededEventDetails"]["output"])["ExecutionArn"]
        for event in harness.sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        if event["type"] == "TaskSucceeded" and "ExecutionArn" in event["taskSucceededEventDetails"].get("output", "")
    ]
    (stage_arn,) = stage_arns
    per_job = history_events(harness, stage_arn) / jobs
    assert per_job <= 25
    assert per_job * MAX_JOBS_PER_STAGE < 25_000 * 0.6
    assert history_events(harness, execution["executionArn"]) < 100


def test_a_stage_started_again_in_the_same_run_skips_the_jobs_that_succeeded(harness: Harness):
    """What a Step Functions redrive of a failed workflow does: the failed RunStage task starts a new stage
    execution for the same workflow execution; jobs whose audit item is SUCCEEDED are not run twice."""
    workflow_id, table, run = unique("redrive"), unique("redrive_log"), f"run-{uuid.uuid4().hex[:8]}"
    harness.query(f"create table {table} (job varchar(80))")
    done, flaky = logging_jobs(harness, table, ["done_once", "flaky"])
    harness.script(flaky["script"], "select 1 / 0;")
    stage_input = staged_stage_input(harness.runtime, workflow_id, run, {
        "number": 1, "description": "Redriven", "execution_type": "parallel", "max_concurrency": 0, "run": True,
        "jobs": [{**job, "parameters": {}, "timeout_seconds": 3600, "retries": 0, "conflict_retries": 3,
                  "validation": False, "completion": "auto", "expected_seconds": None}
                 for job in (done, flaky)],
    }, f"{run}/redrive-0/stage-1")

    def run_stage() -> str:
        arn = harness.sfn.start_execution(stateMachineArn=harness.runtime.deployment.state_machine_arn("workflow_stage"),
                                          input=json.dumps(stage_input))["executionArn"]
        return wait_for_execution(arn, TIMEOUT)

    assert run_stage() == "FAILED"
    harness.script(flaky["script"], f"insert into {table} (job) values ('flaky');")
    stage_input["stage_token_seed"] = f"{run}/redrive-1/stage-1"  # as the redriven workflow starts it
    assert run_stage() == "SUCCEEDED"

    items = {item["job_name"]: item for item in job_items(harness.dynamodb, harness.outputs["JobAuditTableName"], run)}
    assert {name: item["execution_status"] for name, item in items.items()} == {"done_once": "SUCCEEDED",
                                                                                "flaky": "SUCCEEDED"}
    assert runs_per_job(harness, table) == {"done_once": 1, "flaky": 1}


def test_a_workflow_whose_plan_is_over_256_kib_runs_and_restarts_with_every_job_audited(harness: Harness):
    """The plan (50 KB of parameter in each of 9 jobs) is far over what an execution carries: the workflow carries
    the run's state only, each stage reads its jobs from the run plan table, and the close settles the audit from the
    whole plan read back; so does the restart of its failure, whose own plan is over 256 KiB too."""
    from shiftflow.workflows import plan_table
    from shiftflow.workflows.plan import state_bytes

    workflow_id, table = unique("big_plan"), unique("big_plan_log")
    harness.query(f"create table {table} (job varchar(80))")
    names = ["first_a", "first_b", "breaks", "second_b", "third_a", "third_b", "third_c", "last_a", "last_b"]
    by_name = {name: {"name": name, "script": harness.script(
        f"wftest/{table}/{name}.sql", f"insert into {table} (job) select '{name}' where length(:pad) > 0;")}
        for name in names}
    harness.script(by_name["breaks"]["script"], "select 1 / 0 where length(:pad) > 0;")
    harness.push({
        "workflow_id": workflow_id,
        "parameters": {"pad": "p" * 50_000},
        "workflow_stages": [
            stage("First", "parallel", [by_name["first_a"], by_name["first_b"]]),
            stage("Second", "parallel", [by_name["breaks"], by_name["second_b"]]),
            stage("Third", "sequential", [by_name[name] for name in ("third_a", "third_b", "third_c")]),
            stage("Last", "parallel", [by_name["last_a"], by_name["last_b"]]),
        ],
    })
    plan_of = lambda execution: plan_table.load(  # noqa: E731
        harness.dynamodb, harness.runtime.table_names["RunPlanTable"], load_workflow_output(harness, execution))

    failed = harness.run(workflow_id)

    assert failed["status"] == "FAILED", failed.get("cause")
    assert state_bytes(plan_of(failed)) > 256 * 1024
    assert state_bytes(load_workflow_output(harness, failed)) < 2_000  # the run's state: no parameters of any job
    assert harness.statuses(failed) == {"first_a": "SUCCEEDED", "first_b": "SUCCEEDED", "breaks": "FAILED",
                                        "second_b": "SUCCEEDED", **dict.fromkeys(names[4:], "NOT_RUN")}
    assert harness.workflow_item(failed)["failed_stage"] == 2

    harness.script(by_name["breaks"]["script"], f"insert into {table} (job) select 'breaks' where length(:pad) > 0;")
    restarted = harness.run(workflow_id, restart_execution_id=failed["name"])

    assert restarted["status"] == "SUCCEEDED", restarted.get("cause")
    assert state_bytes(plan_of(restarted)) > 256 * 1024
    assert harness.statuses(restarted) == {**dict.fromkeys(["first_a", "first_b", "second_b"], "ALREADY_SUCCEEDED"),
                                           **dict.fromkeys(["breaks", *names[4:]], "SUCCEEDED")}
    assert json.loads(harness.workflow_item(restarted)["jobs"]) == names
    assert runs_per_job(harness, table) == dict.fromkeys(names, 1)


def load_workflow_output(harness: Harness, execution: dict[str, Any]) -> dict[str, Any]:
    """What the workflow execution carries of its plan: LoadWorkflow's output, from its history."""
    from shiftflow.jobs.executions import state_output

    return state_output(harness.sfn, execution["executionArn"], "LoadWorkflow")["run"]
