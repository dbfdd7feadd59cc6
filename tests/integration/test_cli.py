"""The shiftflow command line, locally (state kept between commands) and against a stack (found by its outputs)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import boto3
import pytest
from typer.testing import CliRunner

from shiftflow.cli.app import app
from shiftflow.local.runtime import LocalRuntime
from tests.conftest import ROOT

RUN_DATE = "2026-11-21"
SETUP = json.dumps({"run_date": RUN_DATE, "setup_demo_data": True})


@pytest.fixture
def shiftflow(tmp_path, monkeypatch):
    """Run `shiftflow ...` in-process on a state folder of the test's own."""
    monkeypatch.setenv("SHIFTFLOW_STATE_DIR", str(tmp_path / "state"))
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--project", str(ROOT)])
        return result.exit_code, re.sub(r"\s+", " ", result.output)

    return invoke


def test_run_shows_progress_and_state_survives_between_commands(shiftflow):
    code, output = shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 0, output
    for line in ("▶ AcquireJobGuard", "✓ LoadCustomerAddressDimension", "✓ LoadItemDimension",
                 "load_store_sales_fact › SubmitSqlScript", "(2 SQL statements)", "(1 SQL statement)", "SUCCEEDED"):
        assert line in output
    assert re.search(r"load_store_sales_fact │ succeeded │ [\d.]+ │ 999 │", output)

    code, output = shiftflow("status", "sales_data_pipeline")  # a new process: the guard came from the snapshot
    assert code == 0 and "│ sales_data_pipeline │ Ready │" in output
    code, output = shiftflow("history", "sales_data_pipeline")
    assert code == 0 and "│ SUCCEEDED │ 2026-11-21 │" in output
    code, output = shiftflow("query", "select count(*) as sales from store_sales where ss_sold_date_sk = :day",
                             "-p", "day=20261121")
    assert code == 0 and "│ 999 │" in output and "1 rows" in output


def test_a_failed_run_explains_itself_and_reset_rearms_the_guard(shiftflow):
    assert shiftflow("run", "sales_data_pipeline", "--input", SETUP)[0] == 0
    assert shiftflow("query", "drop table stg_item")[0] == 0

    code, output = shiftflow("run", "sales_data_pipeline", "--input", json.dumps({"run_date": RUN_DATE}))
    assert code == 1
    assert "FAILED" in output and "SqlStatementFailed: job load_item_dimension: statement 1 of 3" in output
    # The failed states are marked failed, the database's message is shown once per failure, no interpreter dumps.
    assert "✗ LoadItemDimension" in output and "✗ LoadDimensions" in output and "✓ LoadDimensions" not in output
    assert "FailureEventException" not in output and '"level":"ERROR"' not in output
    assert "notification Shiftflow: sales_data_pipeline failed" in output

    code, output = shiftflow("status")
    assert "│ Failed │" in output and "load_item_dimension" in output
    code, output = shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 1 and "blocked until reset" in output  # a scheduler sees that nothing ran
    code, output = shiftflow("reset", "sales_data_pipeline")
    assert code == 0 and "guard reset from Failed to Ready (failed step load_item_dimension)" in output
    code, output = shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 0 and "SUCCEEDED" in output


def test_errors_are_one_clear_line(shiftflow):
    code, output = shiftflow("run", "sales_data_pipeline", "--input", "{not json")
    assert code == 2 and "error: --input is not JSON" in output and "Traceback" not in output
    code, output = shiftflow("query", "select * from no_such_table")
    assert code == 2 and "error: SqlStatementFailed" in output and "no_such_table" in output
    assert "--verbose" in output and "Traceback" not in output
    code, output = shiftflow("reset", "sales_data_pipeline", "--force")
    assert code == 0 and "no guard yet" in output


def test_the_same_commands_drive_a_stack_found_by_its_outputs(tmp_path, monkeypatch):
    """A 'deployed' stack in moto: its outputs name the resources the local runtime created in the same account."""
    monkeypatch.setenv("COLUMNS", "200")
    with LocalRuntime(ROOT, state_dir=tmp_path, time_scale=0.001, persist=False) as runtime:
        outputs = runtime.deployment.outputs
        template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
                    "Parameters": {name: {"Type": "String", "Default": ""} for name in
                                   ("RedshiftClusterIdentifier", "RedshiftDbUser", "DatabaseName")},
                    "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
        boto3.client("cloudformation").create_stack(
            StackName="shiftflow-dev", TemplateBody=json.dumps(template),
            # The stack's cluster is the one this account has (a cluster that does not exist is refused).
            Parameters=[{"ParameterKey": "RedshiftClusterIdentifier",
                         "ParameterValue": runtime.parameters["RedshiftClusterIdentifier"]},
                        {"ParameterKey": "RedshiftDbUser", "ParameterValue": "etl"},
                        {"ParameterKey": "DatabaseName", "ParameterValue": "dev"}])
        runner = CliRunner()

        def shiftflow(*args: str) -> tuple[int, str]:
            result = runner.invoke(app, [*args, "--stack", "shiftflow-dev", "--project", str(ROOT)])
            return result.exit_code, re.sub(r"\s+", " ", result.output)

        code, output = shiftflow("run", "sales_data_pipeline", "--input", SETUP)
        assert code == 0, output
        assert "✓ LoadItemDimension" in output and "SUCCEEDED" in output
        assert shiftflow("status", "sales_data_pipeline")[1].count("│ Ready │") == 1
        assert "│ SUCCEEDED │" in shiftflow("history", "sales_data_pipeline")[1]
        code, output = shiftflow("query", "select count(*) as items from item where i_is_current")
        assert code == 0 and "│ 106 │" in output
        code, output = shiftflow("run", "sales_data_pipeline", "--local", "--input", SETUP)
        assert code == 2 and "choose one of --local and --stack" in output


def test_serve_data_api_answers_any_sdk_over_http(tmp_path):
    """`shiftflow serve-data-api` in its own process; a plain boto3 client reaches it by endpoint URL."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, "SHIFTFLOW_STATE_DIR": str(tmp_path), "COLUMNS": "200"}
    server = subprocess.Popen(
        [sys.executable, "-m", "shiftflow.cli.app", "serve-data-api", "--port", "0", "--project", str(ROOT)],
        stdout=subprocess.PIPE, text=True, env=environment)
    try:
        first_line = server.stdout.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", first_line).group(1)
        client = boto3.client("redshift-data", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        target = {"WorkgroupName": "local", "Database": "dev"}
        client.execute_statement(Sql="create table t (v int)", WaitTimeSeconds=5, **target)
        statement = client.execute_statement(Sql="insert into t values (:v)", WaitTimeSeconds=5,
                                             Parameters=[{"name": "v", "value": "42"}], **target)
        assert client.describe_statement(Id=statement["Id"])["ResultRows"] == 1
        query = client.execute_statement(Sql="select v from t", WaitTimeSeconds=5, **target)
        assert client.get_statement_result(Id=query["Id"])["Records"] == [[{"longValue": 42}]]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / "warehouse" / "duckdb" / "dev.duckdb").is_file()  # the local warehouse, kept on disk
