"""`shiftflow workflow ...` on the local runtime: validate offline, push, list, show, run, runs and jobs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shiftflow.cli.workflow_commands import workflow_app
from tests.conftest import ROOT

runner = CliRunner()


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
            "load_customer_dim: script") in result.output


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
    assert "workflows: sales_data_pipeline, tpch_yearly_sales" in result.output
