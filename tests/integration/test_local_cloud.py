"""The local cloud: one process per state folder serves the offline stack; commands and plain boto3 clients use it.

Every cloud here is started by the test (on a free port, over a state folder of its own) and stopped at teardown;
commands run as separate processes, as a user's terminals would.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from shiftflow.cli.common import EXIT_SKIPPED as SKIPPED_EXIT_CODE
from shiftflow.guard import plain
from shiftflow.local.cloud import client
from shiftflow.local.cloud.durable_executions import ExecutionFiles
from shiftflow.local.cloud.durable_tables import TableFiles
from tests.conftest import ROOT, SLOW_SQL, aws_cli

RUN_DATE = "2026-11-21"
SETUP = json.dumps({"run_date": RUN_DATE, "setup_demo_data": True})


def _environment(state_dir: Path) -> dict[str, str]:
    environment = {**os.environ, "SHIFTFLOW_STATE_DIR": str(state_dir), "COLUMNS": "200"}
    environment.pop("SHIFTFLOW_LOCAL_MODE", None)  # commands here are clients of the local cloud
    return environment


class Cloud:
    """A state folder, its cloud, and `shiftflow` commands run as processes against it."""

    def __init__(self, state_dir: Path, project: Path = ROOT) -> None:
        self.state_dir = state_dir
        self.project = project
        self.environment = _environment(state_dir)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "shiftflow.cli.app", *args, "--project", str(self.project)]

    def shiftflow(self, *args: str, timeout: float = 300) -> tuple[int, str]:
        done = subprocess.run(self.command(*args), capture_output=True, text=True, env=self.environment,
                              timeout=timeout)
        return done.returncode, re.sub(r"\s+", " ", done.stdout + done.stderr)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=self.environment)

    def endpoint(self) -> client.Endpoint:
        endpoint = client.running(self.state_dir)
        assert endpoint is not None, "no local cloud answers"
        return endpoint

    def boto3_client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint().url)

    def outputs(self) -> dict[str, str]:
        stack = self.boto3_client("cloudformation").describe_stacks(StackName="shiftflow-local")["Stacks"][0]
        return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def _stop_every_cloud(state_dir: Path) -> None:
    endpoint = client.read_endpoint(state_dir)
    client.stop(state_dir)
    if endpoint is not None and client.process_alive(endpoint.pid):  # a cloud that ignored SIGTERM: still ours
        os.kill(endpoint.pid, signal.SIGKILL)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    """A state folder whose cloud (started by a command, or by `up`) is stopped at teardown."""
    state_dir = (tmp_path / "state").resolve()
    state_dir.mkdir()
    cloud = Cloud(state_dir)
    try:
        yield cloud
    finally:
        _stop_every_cloud(state_dir)


def copy_of_the_project(folder: Path) -> Path:
    """The project's deployable parts, to change a script without touching the repository's."""
    for part in ("statemachine", "functions", "scripts", "workflows"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "template.yaml", folder / "template.yaml")
    return folder


def test_commands_start_one_cloud_and_reuse_it(cloud: Cloud):
    assert client.read_endpoint(cloud.state_dir) is None
    code, output = cloud.shiftflow("status")
    assert code == 0 and "no job has run yet" in output, output
    first = cloud.endpoint()
    assert first.url.startswith("http://127.0.0.1:") and first.pid != os.getpid()

    code, output = cloud.shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 0 and "SUCCEEDED" in output, output
    assert cloud.endpoint() == first  # the same process served both commands
    code, output = cloud.shiftflow("endpoint")
    assert code == 0 and output.strip() == first.url
    code, output = cloud.shiftflow("history", "sales_data_pipeline")
    assert code == 0 and "│ SUCCEEDED │ 2026-11-21 │" in output


def test_a_stale_aws_endpoint_url_does_not_reach_the_cloud_and_the_aws_cli_is_served(cloud: Cloud):
    """README: `export AWS_ENDPOINT_URL=$(shiftflow endpoint)`; after `shiftflow down` that port answers nothing, and
    the next command starts a cloud with it still set: the cloud's own clients (and the handlers') are in-process
    and must not follow it. Then the AWS CLI, pointed at the new endpoint, reaches every service."""
    cloud.environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # the discard port: nothing listens there
    code, output = cloud.shiftflow("endpoint")
    assert code == 0, output
    url = cloud.endpoint().url
    machines = aws_cli(url, "stepfunctions", "list-state-machines", "--query", "stateMachines[].name",
                       "--output", "text")
    assert machines.returncode == 0 and "shiftflow-local-SalesDataPipelineStateMachine" in machines.stdout.split()
    bucket = cloud.outputs()["ScriptsBucketName"]
    scripts = aws_cli(url, "s3", "ls", f"s3://{bucket}/sales/")
    assert scripts.returncode == 0 and "load_item_dimension.sql" in scripts.stdout, scripts.stderr
    answer = aws_cli(url, "redshift-data", "execute-statement", "--cluster-identifier", "shiftflow-local",
                     "--database", "dev", "--db-user", "shiftflow", "--sql", "select 6 * 7 as answer",
                     "--wait-time-seconds", "10", "--query", "Status", "--output", "text")
    assert (answer.returncode, answer.stdout.strip()) == (0, "FINISHED"), answer.stderr


def test_boto3_clients_with_only_an_endpoint_reach_every_service(cloud: Cloud):
    """S3, DynamoDB, EventBridge, SQS, the Data API, SNS, Kinesis and Step Functions on the one endpoint."""
    cloud.shiftflow("endpoint")
    outputs = cloud.outputs()

    s3 = cloud.boto3_client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=outputs["ScriptsBucketName"])["Contents"]]
    assert "sales/load_item_dimension.sql" in keys  # scripts/ staged as `aws s3 sync` would

    dynamodb = cloud.boto3_client("dynamodb")
    dynamodb.put_item(TableName=outputs["JobGuardTableName"],
                      Item={"JobID": {"S": "by_hand"}, "JobState": {"S": "Ready"}})
    saved = TableFiles(cloud.state_dir).load()["JobGuardTable"]
    assert {"JobID": {"S": "by_hand"}, "JobState": {"S": "Ready"}} in saved  # on disk when put_item returned

    events, sqs = cloud.boto3_client("events"), cloud.boto3_client("sqs")
    queue = sqs.create_queue(QueueName="statement-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="statements", EventPattern=json.dumps({
        "source": ["aws.redshift-data"], "detail-type": ["Redshift Data Statement Status Change"]}))
    events.put_targets(Rule="statements", Targets=[{"Id": "queue", "Arn": queue_arn}])

    data_api = cloud.boto3_client("redshift-data")
    target = {"ClusterIdentifier": "shiftflow-local", "DbUser": "shiftflow", "Database": "dev"}
    statement = data_api.execute_statement(Sql="select 6 * 7 as answer", WaitTimeSeconds=10, WithEvent=True, **target)
    assert data_api.describe_statement(Id=statement["Id"])["Status"] == "FINISHED"
    assert data_api.get_statement_result(Id=statement["Id"])["Records"] == [[{"longValue": 42}]]
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)["Messages"]  # routed by the rule
    detail = json.loads(message["Body"])["detail"]
    assert (detail["statementId"], detail["state"], detail["rows"]) == (statement["Id"], "FINISHED", 1)

    sns = cloud.boto3_client("sns")
    sns.publish(TopicArn=outputs["NotificationTopicArn"], Subject="by hand", Message="hello")
    code, output = cloud.shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 0, output
    assert sqs.get_queue_url(QueueName="shiftflow-local-notifications")["QueueUrl"]

    kinesis = cloud.boto3_client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    kinesis.put_record(StreamName="clicks", Data=b'{"page": "/"}', PartitionKey="p")
    shard = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="clicks", ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [record["Data"] for record in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b'{"page": "/"}']

    sfn = cloud.boto3_client("stepfunctions")
    machine = outputs["SalesDataPipelineStateMachineArn"]
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [execution["status"] for execution in executions] == ["SUCCEEDED"]
    history = sfn.get_execution_history(executionArn=executions[0]["executionArn"], maxResults=5)["events"]
    assert history[0]["type"] == "ExecutionStarted"


def test_a_long_run_in_one_process_status_in_another_then_kill_9(cloud: Cloud, tmp_path: Path):
    """A run whose item dimension load never ends; `status` and `history` (RUNNING, since its start) answer beside
    it. kill -9 of the cloud, then any command: the guard is Failed naming the interrupted execution, the history
    says ABORTED (over its RUNNING item), reset re-arms it."""
    cloud.project = copy_of_the_project(tmp_path / "project")
    assert cloud.shiftflow("run", "sales_data_pipeline", "--input", SETUP)[0] == 0
    outputs = cloud.outputs()
    # The project's script changed after the cloud started: the next command stages it.
    (cloud.project / "scripts" / "sales" / "load_item_dimension.sql").write_text(SLOW_SQL)
    run = cloud.start("run", "sales_data_pipeline", "--input", json.dumps({"run_date": RUN_DATE}))
    try:
        started = run.stdout.readline()
        owner = re.search(r"started: (arn:aws:states:\S+)", started)
        assert owner is not None, started

        def running() -> bool:
            code, output = cloud.shiftflow("status", "sales_data_pipeline")
            assert code == 0, output
            return "│ Running │" in output

        assert client.wait_until(running, timeout=120, interval=0.2)
        # The history shows it too, live, from its start (through the same client path as --stack).
        listed = subprocess.run(cloud.command("history", "sales_data_pipeline", "--json"), capture_output=True,
                                text=True, env=cloud.environment, timeout=120)
        assert listed.returncode == 0, listed.stderr
        live = [entry for entry in json.loads(listed.stdout)["runs"] if entry["execution_arn"] == owner.group(1)]
        assert [(entry["status"], entry["ended"], entry["run_date"]) for entry in live] == [("RUNNING", "", RUN_DATE)]
        assert live[0]["started"] == plain(cloud.boto3_client("dynamodb").get_item(
            TableName=outputs["JobGuardTableName"], Key={"JobID": {"S": "sales_data_pipeline"}})["Item"])["JobStart"]
        cloud.boto3_client("sns").publish(TopicArn=outputs["NotificationTopicArn"], Subject="before the kill",
                                          Message="unread")
        killed = cloud.endpoint()
        os.kill(killed.pid, signal.SIGKILL)
        assert client.wait_until(lambda: not client.process_alive(killed.pid), timeout=30)
        # The run's own command lost its cloud: it starts the new one, as the next command would, and reports how
        # the run ended there (exit 1: the work failed), not a connection error.
        followed, _ = run.communicate(timeout=180)
        assert run.returncode == 1, followed
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    followed = re.sub(r"\s+", " ", followed)
    assert f"the local cloud (pid {killed.pid}) stopped; continuing on a new one" in followed
    assert "ABORTED LocalCloudStopped: the local cloud stopped; jobs whose SQL had committed:" in followed
    # The notifications it read on the new cloud: the one published before the kill, and the run's own.
    assert "notification before the kill: \"unread\"" in followed
    assert "notification Shiftflow: sales_data_pipeline ABORTED:" in followed

    code, output = cloud.shiftflow("status", "sales_data_pipeline")  # the cloud the run's command started
    assert code == 0 and "│ Failed │" in output, output
    assert cloud.endpoint().pid != killed.pid
    dynamodb, sfn = cloud.boto3_client("dynamodb"), cloud.boto3_client("stepfunctions")
    # The interrupted execution, with its history up to the kill: started, then the states it went through, aborted.
    interrupted = sfn.describe_execution(executionArn=owner.group(1))
    assert (interrupted["status"], interrupted["error"]) == ("ABORTED", "LocalCloudStopped")
    # The item dimension never ended; the customer address dimension (beside it) had committed, or was still running.
    causes = [f"the local cloud stopped; jobs whose SQL had committed: {jobs}"
              for jobs in ("load_customer_address_dimension", "none")]
    assert interrupted["cause"] in causes
    events = sfn.get_execution_history(executionArn=owner.group(1), maxResults=1000)["events"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionAborted"
    entered = [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]
    assert entered[:3] == ["ApplyRunDefaults", "MergeRunInput", "AcquireJobGuard"] and "LoadDimensions" in entered

    # Its status change went through the template's heal rule: the guard Failed, the run recorded, a notification.
    guard = plain(dynamodb.get_item(TableName=outputs["JobGuardTableName"],
                                    Key={"JobID": {"S": "sales_data_pipeline"}})["Item"])
    assert guard["JobState"] == "Failed" and guard["LastStatus"] == "ABORTED"
    assert guard["LastExecution"] == owner.group(1) and guard["FailedStep"] == entered[-1]
    assert guard["LastError"] == ("LocalCloudStopped: the execution was stopped outside its own failure path: "
                                  + interrupted["cause"])
    history = {item["ExecutionArn"]: item for item in (plain(item) for item in dynamodb.scan(
        TableName=outputs["RunHistoryTableName"])["Items"])}
    assert history[owner.group(1)]["Status"] == "ABORTED" and history[owner.group(1)]["RunDate"] == "2026-11-21"
    assert sorted(item["Status"] for item in history.values()) == ["ABORTED", "SUCCEEDED"]  # the earlier run kept
    assert not list((cloud.state_dir / "tables").glob(".*.tmp"))
    assert set(TableFiles(cloud.state_dir).load()) >= {"JobGuardTable", "RunHistoryTable"}  # every table file whole

    earlier = sfn.list_executions(stateMachineArn=outputs["SalesDataPipelineStateMachineArn"])["executions"]
    assert sorted(execution["status"] for execution in earlier) == ["ABORTED", "SUCCEEDED"]
    finished = next(execution for execution in earlier if execution["status"] == "SUCCEEDED")
    kept = sfn.get_execution_history(executionArn=finished["executionArn"], maxResults=1000)["events"]
    assert kept[-1]["type"] == "ExecutionSucceeded" and len(kept) > 20  # kept whole across the kill

    sqs = cloud.boto3_client("sqs")
    inbox = sqs.get_queue_url(QueueName="shiftflow-local-notifications")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", []) == []  # read by the run

    code, output = cloud.shiftflow("reset", "sales_data_pipeline")
    assert code == 0 and "guard reset from Failed to Ready" in output


def test_up_in_the_foreground_stops_on_ctrl_c_and_down_stops_a_detached_one(cloud: Cloud):
    up = cloud.start("up")
    try:
        assert client.wait_until(lambda: client.running(cloud.state_dir) is not None, timeout=120), up
        endpoint = cloud.endpoint()
        assert endpoint.pid == up.pid
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    log = up.stdout.read()
    assert "local cloud stopped" in log, log
    assert client.read_endpoint(cloud.state_dir) is None

    code, output = cloud.shiftflow("up", "--detach")
    assert code == 0 and "export AWS_ENDPOINT_URL=http://127.0.0.1:" in output, output
    detached = cloud.endpoint()
    code, output = cloud.shiftflow("down")
    assert code == 0 and f"stopped the local cloud on {detached.url}" in output
    assert not client.process_alive(detached.pid) and client.read_endpoint(cloud.state_dir) is None
    code, output = cloud.shiftflow("down")
    assert code == 0 and "no local cloud runs" in output


def test_ten_runs_started_at_once_from_ten_processes_never_overlap(cloud: Cloud):
    """From a cold start: one cloud starts (the others wait for it); a run takes the guard and the runs started while
    it holds it are skipped. Usually one runs and nine are skipped; on a busy machine a command may start its run
    only after an earlier one ended, and runs too: never beside it."""
    runs = [cloud.start("run", "sales_data_pipeline", "--input", SETUP) for _ in range(10)]
    outputs = []
    for run in runs:
        try:
            outputs.append((run.wait(timeout=300), re.sub(r"\s+", " ", run.stdout.read())))
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    ran = [output for code, output in outputs if code == 0 and "✓ LoadStoreSalesFact" in output]
    skipped = [output for code, output in outputs
               if code == SKIPPED_EXIT_CODE and "SUCCEEDED: skipped: already running" in output]
    assert ran and len(ran) + len(skipped) == 10, outputs
    assert (cloud.state_dir / "cloud.log").read_text().count("local cloud of") == 1  # one cloud started
    history = [plain(item) for item in cloud.boto3_client("dynamodb").query(
        TableName=cloud.outputs()["RunHistoryTableName"], KeyConditionExpression="JobID = :job",
        ExpressionAttributeValues={":job": {"S": "sales_data_pipeline"}})["Items"]]
    assert [item["Status"] for item in history] == ["SUCCEEDED"] * len(ran)
    spans = sorted((item["RunStart"], item["RunEnd"]) for item in history)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), spans  # one after another


def test_a_stopped_sql_job_is_cancelled_through_the_routed_status_change_event(cloud: Cloud):
    """StopExecution of a RunSqlJob execution: Step Functions' status change event, the template's rule (pattern
    ABORTED/TIMED_OUT of RunSqlJob) and its Lambda target cancel_abandoned_statement, which cancels the statement."""
    cloud.shiftflow("endpoint")
    outputs = cloud.outputs()
    rules = cloud.boto3_client("events").list_rules()["Rules"]
    assert sorted(rule["Name"] for rule in rules) == ["shiftflow-local-CancelAbandonedStatementFunction-RunSqlJobStopped",
                                                      "shiftflow-local-HealEndedRunFunction-RunEnded",
                                                      "shiftflow-local-ResumeSqlJobFunction-StatementEnded"]
    cloud.boto3_client("s3").put_object(Bucket=outputs["ScriptsBucketName"], Key="tests/slow.sql",
                                        Body=SLOW_SQL.encode())
    sfn, data_api = cloud.boto3_client("stepfunctions"), cloud.boto3_client("redshift-data")
    arn = sfn.start_execution(stateMachineArn=outputs["RunSqlJobStateMachineArn"], input=json.dumps(
        {"workflow": "tests", "job": "slow", "script": "tests/slow.sql", "parameters": {}}))["executionArn"]

    def statement() -> dict[str, Any] | None:
        found = data_api.list_statements(StatementName="tests.slow", Status="ALL")["Statements"]
        return found[0] if found else None

    assert client.wait_until(lambda: (statement() or {}).get("Status") == "STARTED", timeout=60)
    sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by the test")
    assert client.wait_until(lambda: statement()["Status"] == "ABORTED", timeout=60), (
        (cloud.state_dir / "cloud.log").read_text()[-6000:])
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert "Stopped SQL job" not in (cloud.state_dir / "cloud.log").read_text()  # it had a statement to cancel


def test_an_event_mode_sql_job_is_resumed_by_its_statements_routed_event(cloud: Cloud):
    """completion event through the local cloud: the emulator's WithEvent status change, the template's rule on this
    stack's statements and resume_sql_job, which completes the job's task token: no status poll at all."""
    cloud.shiftflow("endpoint")
    outputs = cloud.outputs()
    cloud.boto3_client("s3").put_object(Bucket=outputs["ScriptsBucketName"], Key="tests/one.sql", Body=b"select 1;")
    sfn = cloud.boto3_client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=outputs["RunSqlJobStateMachineArn"], input=json.dumps(
        {"workflow": "tests", "job": "one", "script": "tests/one.sql", "parameters": {}, "completion": "event",
         "heartbeat_seconds": 120}))["executionArn"]
    assert client.wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=60)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]
    assert entered == ["SubmitSqlScript", "RouteOnCompletionMode", "WaitForStatementEvent", "RouteOnSqlStatus",
                       "SqlJobFinished"]


def test_kill_9_at_random_moments_of_runs_loses_nothing_recorded(cloud: Cloud):
    """Three trials: a run, the cloud killed once it has recorded a random number of execution starts and ends,
    then a command. No guard is left Running, the guard's run has its history item, every file is whole; in the
    end a reset re-arms the guard and a run succeeds."""
    import random

    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    for trial in range(3):
        run = cloud.start("run", "sales_data_pipeline", "--input", SETUP)
        try:
            moment = chance.randint(1, 12)
            assert client.wait_until(lambda: client.running(cloud.state_dir) is not None, timeout=120)
            baseline = recorded(cloud)
            client.wait_until(lambda: recorded(cloud) >= baseline + moment, timeout=60)  # or the run ended first
            killed = cloud.endpoint()
            os.kill(killed.pid, signal.SIGKILL)
            assert client.wait_until(lambda: not client.process_alive(killed.pid), timeout=30)
        finally:
            run.kill()
            run.wait()
        code, output = cloud.shiftflow("status", "sales_data_pipeline")
        assert code == 0 and "│ Running │" not in output, (seed, trial, output)
        outputs = cloud.outputs()
        dynamodb = cloud.boto3_client("dynamodb")
        guard = dynamodb.get_item(TableName=outputs["JobGuardTableName"], Key={"JobID": {"S": "sales_data_pipeline"}}).get("Item")
        if guard is not None:
            owner = plain(guard)["OwnerExecution"]
            history = [plain(item) for item in dynamodb.scan(TableName=outputs["RunHistoryTableName"])["Items"]]
            assert owner in [item["ExecutionArn"] for item in history], (seed, trial, guard, history)
        for path in [*(cloud.state_dir / "tables").glob("*"), *(cloud.state_dir / "executions").glob("*")]:
            assert not path.name.startswith("."), (seed, trial, path)  # no snapshot left half written
        TableFiles(cloud.state_dir).load()
        ExecutionFiles(cloud.state_dir).load()
        cloud.shiftflow("reset", "sales_data_pipeline")
    code, output = cloud.shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 0 and "✓ LoadStoreSalesFact" in output, (seed, output)


def recorded(cloud: Cloud) -> int:
    """How many execution starts and ends the cloud has recorded on disk so far."""
    records = [json.loads(path.read_text()) for path in (cloud.state_dir / "executions").glob("*.json")]
    return len(records) + sum(record["status"] != "RUNNING" for record in records)


def test_watch_follows_a_run_started_elsewhere_and_reports_it_as_run_would(cloud: Cloud):
    cloud.shiftflow("endpoint")
    sfn = cloud.boto3_client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=cloud.outputs()["SalesDataPipelineStateMachineArn"],
                              input=SETUP)["executionArn"]  # as a schedule or another terminal would
    done = subprocess.run(cloud.command("watch", arn, "--json"), capture_output=True, text=True,
                          env=cloud.environment, timeout=300)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["execution_arn"], document["outcome"]) == (arn, "succeeded")
    assert document["name"] == "sales_data_pipeline"
    assert {job["job"]: job["status"] for job in document["jobs"]}["load_store_sales_fact"] == "succeeded"
    assert "SalesLoadSucceeded" in done.stderr  # the progress, on stderr beside the document

    name = arn.rsplit(":", 1)[-1]  # by its name alone, once it has ended: the summary at once
    code, output = cloud.shiftflow("watch", name)
    assert code == 0 and "SUCCEEDED" in output and "load_store_sales_fact │ succeeded" in output
    code, output = cloud.shiftflow("watch", "no-such-execution")
    assert code == 2 and "no execution 'no-such-execution'" in output


def test_statements_outlive_a_kill_9_of_the_cloud(cloud: Cloud):
    """A finished statement answers as before the kill (status, result, listing); one that was running ends FAILED,
    as a statement whose session a Redshift cluster restart ended. The load error a failed COPY left in
    stl_load_errors is still there; a kept session is not (CLOSED, as after a cluster restart)."""
    from shiftflow.dataapi.store import INTERRUPTED_ERROR

    cloud.shiftflow("endpoint")
    data_api = cloud.boto3_client("redshift-data")
    target = {"ClusterIdentifier": "shiftflow-local", "DbUser": "shiftflow", "Database": "dev"}
    bucket = cloud.outputs()["ScriptsBucketName"]
    cloud.boto3_client("s3").put_object(Bucket=bucket, Key="bad/venue.txt", Body=b"1|a\n2\n")
    copy = data_api.batch_execute_statement(Sqls=["create table venue (id int, name varchar(10))",
                                                  f"copy venue from 's3://{bucket}/bad/' iam_role default"],
                                            WaitTimeSeconds=10, SessionKeepAliveSeconds=600, **target)
    assert data_api.describe_statement(Id=copy["Id"])["Status"] == "FAILED"
    load_errors = "select line_number, trim(err_reason) from stl_load_errors"
    finished = data_api.execute_statement(Sql="select 6 * 7 as answer", WaitTimeSeconds=10, **target)["Id"]
    before = {key: value for key, value in data_api.describe_statement(Id=finished).items()
              if key != "ResponseMetadata"}
    running = data_api.batch_execute_statement(Sqls=["select 1", SLOW_SQL], StatementName="slow", WithEvent=True,
                                               **target)["Id"]
    assert client.wait_until(lambda: data_api.describe_statement(Id=f"{running}:2")["Status"] == "STARTED",
                             timeout=60)
    killed = cloud.endpoint()
    os.kill(killed.pid, signal.SIGKILL)
    assert client.wait_until(lambda: not client.process_alive(killed.pid), timeout=30)

    cloud.shiftflow("endpoint")  # a new cloud
    assert cloud.endpoint().pid != killed.pid
    data_api = cloud.boto3_client("redshift-data")
    after = {key: value for key, value in data_api.describe_statement(Id=finished).items()
             if key != "ResponseMetadata"}
    assert after == before
    assert data_api.get_statement_result(Id=finished)["Records"] == [[{"longValue": 42}]]
    described = data_api.describe_statement(Id=running)
    assert (described["Status"], described["Error"]) == ("FAILED", INTERRUPTED_ERROR)
    assert [sub["Status"] for sub in described["SubStatements"]] == ["FINISHED", "FAILED"]
    listed = data_api.list_statements(Status="ALL")["Statements"]
    assert [(statement["Id"], statement["Status"]) for statement in listed] == [
        (running, "FAILED"), (finished, "FINISHED"), (copy["Id"], "FAILED")]
    assert f"statements recorded as failed (the local cloud stopped while they ran): {running}" in (
        cloud.state_dir / "cloud.log").read_text()
    errors = data_api.execute_statement(Sql=load_errors, WaitTimeSeconds=10, **target)["Id"]
    assert data_api.get_statement_result(Id=errors)["Records"] == [[{"longValue": 2},
                                                                    {"stringValue": "Delimiter not found"}]]
    with pytest.raises(data_api.exceptions.ValidationException, match="Session is not available$"):
        data_api.execute_statement(Sql="select 1", SessionId=copy["SessionId"])
    [session] = data_api.list_sessions(SessionId=copy["SessionId"])["Sessions"]
    assert session["Status"] == "CLOSED"


def test_serve_data_api_and_the_cloud_never_both_open_the_warehouse(cloud: Cloud):
    """Beside a running cloud, serve-data-api opens nothing and gives the cloud's endpoint (which answers the Data
    API); beside a serve-data-api serving alone, a command cannot start a cloud and says why; once it stopped, the
    next command starts one over the same warehouse."""
    cloud.shiftflow("endpoint")
    running = cloud.endpoint()
    code, output = cloud.shiftflow("serve-data-api", "--port", "0")
    assert code == 0, output
    assert f"serves the Redshift Data API on {running.url}" in output
    assert f"export AWS_ENDPOINT_URL_REDSHIFT_DATA={running.url}" in output
    code, output = cloud.shiftflow("serve-data-api", "--engine", "postgres")
    assert code == 2 and "runs the duckdb engine, not postgres" in output
    target = {"ClusterIdentifier": "shiftflow-local", "DbUser": "shiftflow", "Database": "dev"}
    data_api = boto3.client("redshift-data", endpoint_url=running.url)
    data_api.execute_statement(Sql="create table kept (v int)", WaitTimeSeconds=10, **target)
    data_api.execute_statement(Sql="insert into kept values (7)", WaitTimeSeconds=10, **target)
    assert cloud.shiftflow("down")[0] == 0

    alone = cloud.start("serve-data-api", "--port", "0")
    try:
        banner = alone.stdout.readline() + alone.stdout.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", banner)
        assert url is not None and "export AWS_ENDPOINT_URL_REDSHIFT_DATA=" in banner, banner
        query = boto3.client("redshift-data", endpoint_url=url.group(1)).execute_statement(
            Sql="select v from kept", WaitTimeSeconds=10, **target)
        assert boto3.client("redshift-data", endpoint_url=url.group(1)).get_statement_result(
            Id=query["Id"])["Records"] == [[{"longValue": 7}]]  # the same warehouse
        code, output = cloud.shiftflow("status")
        assert code == 2, output
        assert f"`shiftflow serve-data-api` (pid {alone.pid}) holds the warehouse of {cloud.state_dir}" in output
        assert client.read_endpoint(cloud.state_dir) is None  # no cloud started
    finally:
        alone.terminate()
        assert alone.wait(timeout=60) == 0
    code, output = cloud.shiftflow("query", "select v from kept")
    assert code == 0 and "│ 7 │" in output, output


def test_a_delivery_waiting_for_its_retry_outlives_a_kill_9_and_ends_in_the_failure_queue(cloud: Cloud,
                                                                                           tmp_path: Path):
    """The heal function fails every time. Its first run failed and Lambda's retry waits (a minute, compressed 60x):
    kill -9 of the cloud. The pending delivery is on disk; the next cloud resumes it, and after the last retry the
    invocation record is in the heal's failure queue, which outlives the next kill -9 too."""
    from shiftflow.local.cloud.deliveries import DeliveryFiles

    cloud.project = copy_of_the_project(tmp_path / "project")
    (cloud.project / "functions" / "heal_ended_run" / "app.py").write_text(
        "def lambda_handler(event, context):\n    raise RuntimeError('the heal is broken')\n")
    assert cloud.shiftflow("up", "--detach", "--time-compression", "60")[0] == 0
    pipeline = cloud.outputs()["SalesDataPipelineStateMachineArn"]
    cloud.boto3_client("events").put_events(Entries=[{  # as Step Functions sends it for a failed run
        "Source": "aws.states", "DetailType": "Step Functions Execution Status Change", "Detail": json.dumps({
            "executionArn": pipeline.replace(":stateMachine:", ":execution:") + ":broken", "stateMachineArn": pipeline,
            "name": "broken", "status": "FAILED", "input": "{}", "error": "Boom", "cause": "by hand"})}])
    files = DeliveryFiles(cloud.state_dir)
    assert client.wait_until(lambda: [d.invocations for d in files.pending()] == [1], timeout=60, interval=0.01), (
        (cloud.state_dir / "cloud.log").read_text()[-4000:])
    kill_9(cloud)
    [pending] = files.pending()  # its first run failed; the retries are still to come
    assert pending.event["detail"]["name"] == "broken"

    assert cloud.shiftflow("up", "--detach", "--time-compression", "60")[0] == 0

    def failure_records() -> list[dict[str, Any]]:
        sqs = cloud.boto3_client("sqs")
        queue = sqs.get_queue_url(QueueName="shiftflow-local-HealEndedRunFailureQueue")["QueueUrl"]
        return [json.loads(message["Body"]) for message in sqs.receive_message(
            QueueUrl=queue, WaitTimeSeconds=20, VisibilityTimeout=0).get("Messages", [])]

    [record] = failure_records()
    assert (record["requestContext"]["condition"], record["requestContext"]["approximateInvokeCount"]) == (
        "RetriesExhausted", 3)
    assert record["requestPayload"]["detail"]["name"] == "broken"
    assert record["responsePayload"]["errorMessage"] == "the heal is broken"
    assert files.pending() == []
    assert "deliveries resumed (pending when the local cloud stopped): 1" in (cloud.state_dir / "cloud.log").read_text()

    kill_9(cloud)
    cloud.shiftflow("endpoint")  # a new cloud: the unread failure record is still there
    assert failure_records() == [record]


def test_a_schedule_firing_waiting_for_its_retry_outlives_a_kill_9_and_the_next_cloud_starts_it(cloud: Cloud,
                                                                                                   tmp_path: Path):
    """The pipeline's schedule at rate(1 minute), compressed 60x (a firing a second), its state machine deleted: each
    later firing's start fails and its retry waits. kill -9 of the cloud: the firings are on disk. The next cloud (without
    --schedules: no new firing) deploys the state machine again and starts each of them once."""
    from shiftflow.local.cloud.schedules import firing_records

    cloud.project = copy_of_the_project(tmp_path / "project")
    template = cloud.project / "template.yaml"
    declared = "  ScheduleExpression:\n    Type: String\n    Default: rate(1 day)\n"
    assert declared in template.read_text()
    template.write_text(template.read_text().replace(declared, declared.replace("rate(1 day)", "rate(1 minute)")))
    assert cloud.shiftflow("up", "--detach", "--schedules", "--time-compression", "60")[0] == 0
    pipeline = cloud.outputs()["SalesDataPipelineStateMachineArn"]
    cloud.boto3_client("stepfunctions").delete_state_machine(stateMachineArn=pipeline)
    records = firing_records(cloud.state_dir)
    assert client.wait_until(lambda: any(record["failures"] for record in records.records()), timeout=60,
                             interval=0.01), (cloud.state_dir / "cloud.log").read_text()[-4000:]
    kill_9(cloud)
    left = records.records()
    assert left and {record["error_code"] for record in left} <= {"StateMachineDoesNotExist"}

    restarted = datetime.datetime.now(datetime.timezone.utc)
    assert cloud.shiftflow("up", "--detach", "--time-compression", "60")[0] == 0
    assert client.wait_until(lambda: records.records() == [], timeout=60)
    executions = cloud.boto3_client("stepfunctions").list_executions(stateMachineArn=pipeline)["executions"]
    # Each waiting firing once, and no other (those before the state machine was deleted are the earlier cloud's).
    assert len([execution for execution in executions if execution["startDate"] >= restarted]) == len(left)
    assert "schedule firings carried on (pending when the local cloud stopped)" in (
        cloud.state_dir / "cloud.log").read_text()


def kill_9(cloud: Cloud) -> None:
    killed = cloud.endpoint()
    os.kill(killed.pid, signal.SIGKILL)
    assert client.wait_until(lambda: not client.process_alive(killed.pid), timeout=30)
