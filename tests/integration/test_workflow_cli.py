"""`shiftflow workflow ...` on the local runtime: validate offline, push, list, show, run, runs and jobs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shiftflow.cli import render
from shiftflow.cli.app import app
from shiftflow.cli.connection import connect
from shiftflow.cli.workflow_commands import workflow_app
from shiftflow.jobs.submit import MAX_STATEMENTS
from tests.conftest import ROOT

runner = CliRunner()  # result.stdout and result.stderr apart, result.output both


@pytest.fixture(scope="module")
def shiftflow() -> typer.Typer:
    """The shiftflow command with the workflow sub-app, as app.py registers it."""
    command = typer.Typer()
    command.add_typer(workflow_app, name="workflow")
    return command


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for part in ("template.yaml", "statemachine", "functions", "scripts", "workflows", "layers"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / part)
    return tmp_path


def test_validate_reports_each_file_and_fails_on_a_missing_script(shiftflow, tmp_path):
    broken = json.loads((ROOT / "workflows" / "tpch_yearly_sales.json").read_text())
    broken["workflow_stages"][1]["scripts"][0] = "tpch/load_customer_dim.sql"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    result = runner.invoke(shiftflow, ["workflow", "validate", str(ROOT / "workflows" / "sales_data_pipeline.json"),
                                       str(tmp_path / "broken.json"), "--project", str(ROOT)],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert "workflow sales_data_pipeline is valid (4 stages, 5 jobs)" in result.output
    assert ("workflow tpch_yearly_sales, stage 2 (Load the customer and supplier dimensions), job "
            "load_customer_dim, script tpch/load_customer_dim.sql: does not exist in") in result.output


def test_push_list_show_run_runs_and_jobs_on_the_local_runtime(shiftflow, project):
    options = ["--project", str(project)]
    env = {"COLUMNS": "300"}
    pushed = runner.invoke(shiftflow, ["workflow", "push", str(project / "workflows" / "tpch_yearly_sales.json"), *options], env=env)
    assert pushed.exit_code == 0, pushed.output
    assert "pushed workflow tpch_yearly_sales (4 stages, 5 jobs)" in pushed.output

    listed = runner.invoke(shiftflow, ["workflow", "list", *options], env=env)
    # Locally, the project's workflows/*.json are known without a push.
    assert listed.exit_code == 0 and "tpch_yearly_sales" in listed.output and "sales_data_pipeline" in listed.output

    shown = runner.invoke(shiftflow, ["workflow", "show", "tpch_yearly_sales", *options], env=env)
    assert shown.exit_code == 0 and json.loads(shown.output)["parameters"] == {"scale_factor": "0.01"}

    ran = runner.invoke(shiftflow, ["workflow", "run", "tpch_yearly_sales", "-p", "scale_factor=0.001", *options], env=env)
    assert ran.exit_code == 0, ran.output
    runs = runner.invoke(shiftflow, ["workflow", "runs", "tpch_yearly_sales", *options], env=env)
    assert runs.exit_code == 0 and "SUCCEEDED" in runs.output
    execution = runs.output.split("│")[-2].strip()
    jobs = runner.invoke(shiftflow, ["workflow", "jobs", execution, *options], env=env)
    assert jobs.exit_code == 0 and jobs.output.count("SUCCEEDED") == 5 and "load_customer_dimension" in jobs.output
    assert " 150 " in jobs.output  # scale factor 0.001: 150 customers


def test_show_of_an_unknown_workflow_says_what_to_do(shiftflow, project):
    result = runner.invoke(shiftflow, ["workflow", "show", "nope", "--project", str(project)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "no pipeline or workflow named 'nope'" in result.output
    assert "workflows: orders_stream, sales_data_pipeline, tpch_yearly_sales" in result.output


# ---------------------------------------------------------------- everything a run would fail on, known before it


def _write(folder: Path, key: str, text: str | bytes) -> str:
    path = folder / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return key


def test_validate_reports_every_problem_of_every_job_one_line_each_and_exits_1(tmp_path):
    scripts = tmp_path / "scripts"
    jobs = [
        _write(scripts, "t/many.sql", ";\n".join(f"insert into t values ({n})" for n in range(45))),
        _write(scripts, "t/big.sql", "insert into t values " + ",".join(f"({n}, '{'x' * 70}')" for n in range(2000))),
        _write(scripts, "t/empty.sql", ""),
        _write(scripts, "t/comments.sql", "-- nothing to run\n/* at all */\n"),
        _write(scripts, "t/semicolons.sql", ";;\n;"),
        _write(scripts, "t/unsplittable.sql", "select 'never closed"),
        _write(scripts, "t/city.sql", "select :city where :run_date is not null"),
        "t/missing.sql",
    ]
    config = {"workflow_id": "broken", "workflow_stages": [
        {"stage_description": "all", "execution_type": "parallel", "scripts": jobs}]}
    (tmp_path / "broken.json").write_text(json.dumps(config))
    _write(scripts, "ok/select.sql", "select :run_date")
    (tmp_path / "good.json").write_text(json.dumps({"workflow_id": "good", "workflow_stages": [
        {"stage_description": "one", "execution_type": "sequential", "scripts": ["ok/select.sql"]}]}))

    # No COLUMNS: as in a CI log, where a console is 80 columns wide; problem lines are never wrapped.
    result = runner.invoke(app, ["workflow", "validate", str(tmp_path / "good.json"), str(tmp_path / "broken.json"),
                                       "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == f"{tmp_path / 'good.json'}: workflow good is valid (1 stages, 1 jobs)\n"
    lines = result.stderr.splitlines()
    assert all(line.startswith(f"{tmp_path / 'broken.json'}: workflow broken") for line in lines)
    assert lines[0].endswith("workflow broken is invalid (8 problems)")
    where = f"{tmp_path / 'broken.json'}: workflow broken, stage 1 (all), job"
    assert lines[1:] == [
        f"{where} many, script t/many.sql: the script has 45 statements; one Data API batch takes at most "
        f"{MAX_STATEMENTS}. Split it into several jobs, or move the logic into a stored procedure and CALL it.",
        f"{where} big, script t/big.sql: the script has 160910 bytes of SQL; the Data API accepts at most 102400. "
        "Split it into several jobs, or load the data with COPY instead of inline VALUES.",
        f"{where} empty, script t/empty.sql: the script contains no SQL statement (only whitespace, comments or ';')",
        f"{where} comments, script t/comments.sql: the script contains no SQL statement (only whitespace, comments "
        "or ';')",
        f"{where} semicolons, script t/semicolons.sql: the script contains no SQL statement (only whitespace, "
        "comments or ';')",
        f"{where} unsplittable, script t/unsplittable.sql: cannot split SQL script: Error tokenizing 'select 'never "
        "close'",
        f"{where} city, script t/city.sql: the script uses :city but the job gives no value for it: give it a value "
        "in the workflow's or the job's \"parameters\"",
        f"{where} missing, script t/missing.sql: does not exist in {scripts}/: add the file or fix the key",
    ]


def _push(project: Path, config_file: Path) -> None:
    pushed = runner.invoke(app, ["workflow", "push", str(config_file), "--project", str(project)])
    assert pushed.exit_code == 0, pushed.output


def _nothing_started(project: Path, workflow_id: str) -> None:
    """No run in the workflow audit, no guard taken for the workflow (the run would have taken it first)."""
    runs = runner.invoke(app, ["workflow", "runs", workflow_id, "--project", str(project)])
    assert runs.exit_code == 0 and f"workflow {workflow_id} has not run yet" in runs.output
    with connect(None, project) as connection:
        guard = connection.client("dynamodb").get_item(
            TableName=connection.deployment.output("JobGuardTableName"), Key={"JobID": {"S": workflow_id}})
    assert "Item" not in guard


@pytest.fixture
def no_start(monkeypatch) -> list[dict]:
    """The input of every workflow execution the CLI would start (and follow): a refusal must come before it."""
    started: list[dict] = []

    def run_and_follow(connection, name, execution_input, console, expected_jobs=None):
        assert name == "workflow"
        started.append(execution_input)
        return {"name": name, "status": "SUCCEEDED", "output": {}, "error": "", "cause": "",
                "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:workflow:not-started", "jobs": []}

    monkeypatch.setattr(render, "run_and_follow", run_and_follow)
    return started


@pytest.mark.parametrize("command", [["run"], ["workflow", "run"]], ids=["shiftflow run", "shiftflow workflow run"])
def test_a_run_parameter_no_script_uses_is_refused_before_anything_starts(project, no_start, command):
    _push(project, project / "workflows" / "tpch_yearly_sales.json")
    result = runner.invoke(app, [*command, "tpch_yearly_sales", "-p", "scale_facter=0.2", "-p", "scale_factor=0.2",
                                       "--project", str(project)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: workflow tpch_yearly_sales cannot start (1 problem)",
        "workflow tpch_yearly_sales: unknown parameter scale_facter: no script of the workflow uses it (known "
        "parameters: run_date, scale_factor)",
    ]
    assert no_start == [] and "started" not in result.stdout
    _nothing_started(project, "tpch_yearly_sales")


def test_a_missing_parameter_is_named_before_the_run_starts(project, no_start):
    config = {"workflow_id": "city_report", "workflow_stages": [
        {"stage_description": "report", "execution_type": "sequential",
         "scripts": ["sales/report_daily_sales_by_category.sql"]}]}
    (project / "workflows" / "city_report.json").write_text(json.dumps(config))
    _push(project, project / "workflows" / "city_report.json")
    refused = runner.invoke(app, ["run", "city_report", "--project", str(project)])
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[1:] == [
        "workflow city_report, stage 1 (report), job report_daily_sales_by_category, script "
        "sales/report_daily_sales_by_category.sql: the script uses :city but the job gives no value for it: give it "
        "with -p NAME=VALUE or in the workflow's \"parameters\"",
    ]
    empty = runner.invoke(app, ["run", "city_report", "-p", "city=", "--project", str(project)])
    assert empty.exit_code == 2 and "the value of :city is empty" in empty.stderr
    assert no_start == []
    _nothing_started(project, "city_report")
    given = runner.invoke(app, ["run", "city_report", "-p", "city=Fairview", "--project", str(project)])
    assert given.exit_code == 0 and no_start == [{"workflow_id": "city_report", "parameters": {"city": "Fairview"}}]


def test_a_script_changed_after_the_push_is_refused_before_the_run_starts(project, no_start):
    _push(project, project / "workflows" / "tpch_yearly_sales.json")
    (project / "scripts" / "tpch" / "load_fact_yearly_sale.sql").write_text("-- emptied by mistake\n")
    result = runner.invoke(app, ["run", "tpch_yearly_sales", "--project", str(project)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        "workflow tpch_yearly_sales, stage 3 (Load fact_yearly_sale), job load_fact_yearly_sale, script "
        "tpch/load_fact_yearly_sale.sql: the script contains no SQL statement (only whitespace, comments or ';')",
    ]
    assert no_start == []


def test_a_restart_of_a_run_that_did_not_fail_or_is_unknown_is_one_line_not_an_unexpected_error(project, request):
    """`--restart` of a succeeded run, or of an execution with no audit (a run that never took the guard, such as
    one blocked by a Failed guard, or a typo): the command cannot run (exit 2) and says why in one line, as a refused
    parameter does; not "RestartRefused on the local runtime" with a traceback kept as if it were a bug."""
    _write(project / "scripts", "wftest/one.sql", "select 1")
    config = {"workflow_id": "cli_done", "workflow_stages": [
        {"stage_description": "one", "execution_type": "sequential", "scripts": ["wftest/one.sql"]}]}
    (project / "workflows" / "cli_done.json").write_text(json.dumps(config))
    _push(project, project / "workflows" / "cli_done.json")
    done = runner.invoke(app, ["run", "cli_done", "--project", str(project)])
    assert done.exit_code == 0, done.output
    runs = runner.invoke(app, ["workflow", "runs", "cli_done", "--project", str(project)], env={"COLUMNS": "300"})
    execution = runs.output.split("│")[-2].strip()
    started = request.getfixturevalue("no_start")
    advice = "(`shiftflow workflow runs cli_done` lists its runs; a restart takes a FAILED, ABORTED or TIMED_OUT one)"
    for restarted, message in [
        (execution, f"error: workflow cli_done: run {execution} cannot be restarted: only a FAILED, ABORTED or "
                    "TIMED_OUT run can, and it succeeded: there is nothing left to run"),
        ("no-such-run", "error: no workflow run no-such-run in shiftflow-local-WorkflowAuditTable"),
    ]:
        refused = runner.invoke(app, ["run", "cli_done", "--restart", restarted, "--project", str(project)])
        assert refused.exit_code == 2, refused.output
        assert " ".join(refused.stderr.split()) == f"{message} {advice}"
    assert started == []
    assert not list(project.rglob("command-errors.log"))

def test_a_restart_is_checked_with_the_parameters_of_the_run_it_restarts(project, request):
    _write(project / "scripts", "wftest/needs_a_number.sql", "select cast(:city as integer)")
    config = {"workflow_id": "cli_restart", "workflow_stages": [
        {"stage_description": "one", "execution_type": "sequential", "scripts": ["wftest/needs_a_number.sql"]}]}
    (project / "workflows" / "cli_restart.json").write_text(json.dumps(config))
    _push(project, project / "workflows" / "cli_restart.json")
    failed = runner.invoke(app, ["run", "cli_restart", "-p", "city=Fairview", "--project", str(project)])
    assert failed.exit_code == 1, failed.output
    runs = runner.invoke(app, ["workflow", "runs", "cli_restart", "--project", str(project)], env={"COLUMNS": "300"})
    execution = runs.output.split("│")[-2].strip()

    started = request.getfixturevalue("no_start")  # from here on, nothing really starts
    refused = runner.invoke(app, ["run", "cli_restart", "--restart", execution, "-p", "colour=red",
                                  "--project", str(project)])
    assert refused.exit_code == 2
    assert "workflow cli_restart: unknown parameter colour: no script of the workflow uses it (known parameters: city)" \
        in refused.stderr
    # Without -p, the restart runs with the failed run's :city: nothing is missing.
    restarted = runner.invoke(app, ["run", "cli_restart", "--restart", execution, "--project", str(project)])
    assert restarted.exit_code == 0, restarted.output
    assert started == [{"workflow_id": "cli_restart", "restart_execution_id": execution}]
