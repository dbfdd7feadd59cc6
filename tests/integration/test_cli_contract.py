"""The `shiftflow` command's contract with schedulers and scripts: exit codes, --json documents, names checked before
anything starts, output that a CI log keeps whole. Through the real entry point (typer's runner)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import click.testing
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from shiftflow import __version__
from shiftflow.cli.app import app
from shiftflow.cli.progress import ENDED, SUCCEEDED, Progress
from shiftflow.cli.render import RunningJobs
from shiftflow.local.runtime import LocalRuntime
from tests.conftest import ROOT

RUN_DATE = "2026-11-21"
SETUP = json.dumps({"run_date": RUN_DATE, "setup_demo_data": True})


class Shiftflow:
    """`shiftflow ...` in-process, on a state folder of the test's own; stdout and stderr kept apart."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        # click's own runner: typer's cannot keep stderr apart, and a --json document must be stdout's only content.
        self.runner = click.testing.CliRunner(mix_stderr=False)
        self.command = typer.main.get_command(app)

    def invoke(self, *args: str, **env: str) -> click.testing.Result:
        return self.runner.invoke(self.command, [*args, "--project", str(ROOT)],
                                  env={"SHIFTFLOW_STATE_DIR": str(self.state_dir), **env})

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = self.invoke(*args)
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str) -> tuple[int, dict]:
        code, out, err = self(*args, "--json")
        return code, json.loads(out)


@pytest.fixture
def shiftflow(tmp_path) -> Shiftflow:
    return Shiftflow(tmp_path / "state")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Shiftflow:
    """A state folder where the sales pipeline has run once (demo data set up), shared by read-only tests."""
    command = Shiftflow(tmp_path_factory.mktemp("loaded") / "state")
    code, out, err = command("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 0, out + err
    return command


def test_version_as_an_option_and_as_a_command(shiftflow):
    for args in (["--version"], ["version"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0 and result.output.strip() == f"shiftflow {__version__}"


def test_help_documents_the_exit_codes():
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "300"})
    text = re.sub(r"[\s│]+", " ", result.output)
    assert result.exit_code == 0
    assert "0 the work succeeded; 1 the work failed; 2 the command could not run" in text and "99 the run was skipped" in text


def test_an_unknown_name_exits_2_lists_the_known_ones_and_starts_nothing(shiftflow):
    code, out, err = shiftflow("run", "no_such_pipeline")
    assert code == 2 and out == ""
    assert "no pipeline or workflow named 'no_such_pipeline'" in err
    assert "workflows: orders_stream, sales_data_pipeline, tpch_yearly_sales" in err and "sales_data_pipeline, workflow" in err
    # Nothing started, nobody notified: no execution, no audit, no guard taken.
    code, document = shiftflow.json("history")
    assert code == 0 and document == {"runs": []}
    assert shiftflow.json("status")[1] == {"guards": []}


def test_input_from_a_missing_file_is_one_line_and_exit_2(shiftflow):
    code, out, err = shiftflow("run", "sales_data_pipeline", "--input", "@no/such/input.json")
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == ["error: --input @no/such/input.json: cannot read no/such/input.json: "
                                        "No such file or directory (give an existing JSON file)"]


def test_run_json_is_one_document_with_every_job(loaded):
    code, document = loaded.json("run", "sales_data_pipeline", "--input", json.dumps({"run_date": "2026-11-22"}))
    assert code == 0
    assert set(document) == {"name", "execution_arn", "status", "outcome", "error", "cause", "output", "jobs", "guard",
                             "last_run", "notifications"}
    assert document["status"] == "SUCCEEDED" and document["outcome"] == "succeeded"
    jobs = {job["job"]: job for job in document["jobs"]}
    assert list(jobs) == ["setup_sales_demo", "load_customer_address_dimension", "load_item_dimension",
                          "load_store_sales_fact", "validate_sales_load"]  # the definition's order
    assert jobs["setup_sales_demo"]["status"] == "not run"  # setup_demo_data was not asked for
    fact = jobs["load_store_sales_fact"]
    assert fact["status"] == "succeeded" and fact["attempts"] == 1 and fact["statement_id"] and fact["error"] == ""
    assert isinstance(fact["seconds"], float) and isinstance(fact["rows"], int)
    assert document["guard"]["state"] == "Ready" and document["guard"]["job"] == "sales_data_pipeline"
    assert document["last_run"]["Status"] == "SUCCEEDED" and document["last_run"]["RunDate"] == "2026-11-22"


def test_status_history_and_query_json(loaded):
    code, document = loaded.json("status", "sales_data_pipeline")
    assert code == 0 and [guard["state"] for guard in document["guards"]] == ["Ready"]
    assert set(document["guards"][0]) == {"job", "state", "since", "ended", "execution_arn", "failed_step", "last_error",
                                          "stale", "owner_status"}

    code, document = loaded.json("history", "sales_data_pipeline")
    assert code == 0 and document["runs"] and all(run["kind"] == "pipeline" for run in document["runs"])
    assert set(document["runs"][0]) == {"kind", "name", "status", "started", "ended", "run_date", "failed_at", "message",
                                        "execution_arn", "jobs"}

    code, document = loaded.json("query", "select i_category as category, count(*) as items from item "
                                 "where i_category in ('Books', 'Music') group by 1 order by 1")
    assert code == 0 and document["columns"] == ["category", "items"] and document["row_count"] == 2
    assert [row[0] for row in document["rows"]] == ["Books", "Music"]
    assert all(isinstance(row[1], int) for row in document["rows"])


def test_a_failed_run_lists_the_failed_job_with_its_error_and_the_jobs_that_never_ran(shiftflow):
    assert shiftflow("run", "sales_data_pipeline", "--input", SETUP)[0] == 0
    assert shiftflow("query", "drop table stg_item")[0] == 0
    code, document = shiftflow.json("run", "sales_data_pipeline", "--input", json.dumps({"run_date": RUN_DATE}))
    assert code == 1 and document["outcome"] == "failed" and document["status"] == "FAILED"
    jobs = {job["job"]: job for job in document["jobs"]}
    assert jobs["load_item_dimension"]["status"] == "failed"
    assert jobs["load_item_dimension"]["error"].startswith("SqlStatementFailed: job load_item_dimension: statement 1 of 3")
    assert "stg_item" in jobs["load_item_dimension"]["error"]
    assert jobs["load_customer_address_dimension"]["status"] == "succeeded"  # its sibling ran to its end
    assert jobs["load_store_sales_fact"]["status"] == "not run" and jobs["validate_sales_load"]["status"] == "not run"
    assert [notice["subject"] for notice in document["notifications"]] == ["Shiftflow: sales_data_pipeline failed"]

    code, out, err = shiftflow("run", "sales_data_pipeline", "--input", SETUP)  # blocked by the Failed guard
    assert code == 1 and "blocked until reset" in out


def test_a_run_skipped_because_another_holds_the_guard_exits_99_or_the_code_asked_for(shiftflow):
    with LocalRuntime(ROOT, state_dir=shiftflow.state_dir) as runtime:  # another run holds the guard
        runtime.client("dynamodb").put_item(
            TableName=runtime.deployment.output("JobGuardTableName"),
            Item={"JobID": {"S": "sales_data_pipeline"}, "JobState": {"S": "Running"},
                  "OwnerExecution": {"S": "arn:aws:states:us-east-1:123456789012:execution:other:run-1"}})
    code, out, err = shiftflow("run", "sales_data_pipeline", "--input", SETUP)
    assert code == 99 and "skipped: already running" in out
    code, document = shiftflow.json("run", "sales_data_pipeline", "--input", SETUP, "--skip-exit-code", "0")
    assert code == 0 and document["outcome"] == "skipped"
    assert {job["status"] for job in document["jobs"]} == {"not run"}


def test_history_shows_workflow_runs_beside_pipeline_runs(shiftflow):
    # The README's example, as written: the workflows in workflows/ are known without a push.
    code, out, err = shiftflow("run", "tpch_yearly_sales", "-p", "scale_factor=0.001")
    assert code == 0, out + err
    assert "load_fact_yearly_sale │ succeeded" in re.sub(r" +", " ", out)
    code, document = shiftflow.json("history", "tpch_yearly_sales")
    assert code == 0 and [(run["kind"], run["status"]) for run in document["runs"]] == [("workflow", "SUCCEEDED")]
    assert document["runs"][0]["jobs"] == "5 succeeded"
    code, document = shiftflow.json("history")
    assert [run["name"] for run in document["runs"]] == ["tpch_yearly_sales"]

    code, document = shiftflow.json("workflow", "list")
    assert code == 0 and [item["workflow_id"] for item in document["workflows"]] == [
        "orders_stream", "sales_data_pipeline", "tpch_yearly_sales"]
    code, document = shiftflow.json("workflow", "show", "tpch_yearly_sales")
    assert code == 0 and document["workflow_id"] == "tpch_yearly_sales"
    code, document = shiftflow.json("workflow", "runs", "tpch_yearly_sales")
    assert code == 0 and document["runs"][0]["execution_status"] == "SUCCEEDED"
    code, jobs = shiftflow.json("workflow", "jobs", document["runs"][0]["workflow_execution_id"])
    assert code == 0 and [job["job_name"] for job in jobs["jobs"]][0] == "setup_tpch_staging"
    assert {job["execution_status"] for job in jobs["jobs"]} == {"SUCCEEDED"}


def test_without_a_terminal_wide_tables_are_printed_whole(loaded):
    result = loaded.invoke("history", "sales_data_pipeline", COLUMNS="80")
    arns = re.findall(r"arn:aws:states:\S+", result.stdout)
    assert arns and all(re.fullmatch(r"arn:aws:states:us-east-1:123456789012:execution:[\w-]+:[\w-]+", arn)
                        for arn in arns)
    assert "…" not in result.stdout and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", result.stdout)


def test_a_running_statement_is_announced_every_30_seconds_without_a_terminal():
    text = io.StringIO()
    now = [0.0]
    running = RunningJobs(Console(file=text, width=200), clock=lambda: now[0], pause=lambda seconds: None)
    with running:
        running.see(Progress(SUCCEEDED, "SubmitSqlScript", 1, "load_fact", detail="statement s-1 (2 SQL statements)"))
        for second in range(0, 95, 5):  # a follow loop polling every 5 s for 95 s
            now[0] = float(second)
            running.sleep(5)
        running.see(Progress(ENDED, "Execution", 1, "load_fact"))
        now[0] = 200.0
        running.sleep(5)
    assert text.getvalue().splitlines() == [
        "    … load_fact running 30s, statement s-1",
        "    … load_fact running 60s, statement s-1",
        "    … load_fact running 90s, statement s-1",
    ]
