"""The checks of a workflow's scripts before anything runs: `validate_scripts` (shiftflow workflow validate) and
`preflight` (the check before a run starts). Each judges a script as its job's submit would
(shiftflow.jobs.submit), and reports every problem at once, one line each naming the workflow, stage, job and script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftflow.jobs import errors as job_errors
from shiftflow.jobs.submit import MAX_SQL_BYTES, MAX_STATEMENTS, SqlJob, batch_request
from shiftflow.jobs.target import RedshiftTarget
from shiftflow.workflows import WorkflowInvalid, parse_workflow
from shiftflow.workflows.audit import FAILED, SUCCEEDED, PreviousRun
from shiftflow.workflows.errors import RunRefused
from shiftflow.workflows.preflight import preflight
from shiftflow.workflows.validation import ScriptSource, validate_scripts
from tests.conftest import ROOT

STAGE = "stage 1 (load)"


def workflow(*jobs: Any, parameters: dict[str, Any] | None = None, stages: list[dict[str, Any]] | None = None,
             ) -> dict[str, Any]:
    config: dict[str, Any] = {
        "workflow_id": "wf",
        "workflow_stages": stages or [{"stage_description": "load", "execution_type": "sequential",
                                       "scripts": list(jobs)}],
    }
    if parameters:
        config["parameters"] = parameters
    return config


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    return folder


def write(folder: Path, key: str, text: str | bytes) -> str:
    path = folder / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return key


def problems_of(config: dict[str, Any], folder: Path) -> list[str]:
    with pytest.raises(WorkflowInvalid) as raised:
        validate_scripts(config, ScriptSource.folder(folder))
    assert str(raised.value).startswith("workflow wf is invalid")
    return raised.value.problems


def only_problem(config: dict[str, Any], folder: Path) -> str:
    (problem,) = problems_of(config, folder)
    return problem


def statements(count: int) -> str:
    return ";\n".join(f"insert into t values ({n})" for n in range(count))


# ---------------------------------------------------------------- each problem kind


def test_a_script_at_the_batch_limits_is_valid(scripts):
    write(scripts, "s/forty.sql", statements(MAX_STATEMENTS))
    write(scripts, "s/wide.sql", "select '" + "x" * (MAX_SQL_BYTES - len("select ''")) + "'")
    config = workflow("s/forty.sql", "s/wide.sql")
    assert [job.name for job in validate_scripts(config, ScriptSource.folder(scripts)).jobs] == ["forty", "wide"]


def test_more_statements_than_one_batch_takes(scripts):
    write(scripts, "s/many.sql", statements(45))
    assert only_problem(workflow("s/many.sql"), scripts) == (
        f"workflow wf, {STAGE}, job many, script s/many.sql: the script has 45 statements; one Data API batch takes "
        f"at most {MAX_STATEMENTS}. Split it into several jobs, or move the logic into a stored procedure and CALL it.")


def test_more_sql_text_than_the_data_api_accepts(scripts):
    values = ",".join(f"({n}, '{'x' * 70}')" for n in range(2000))
    write(scripts, "s/big.sql", f"insert into t values {values}")
    problem = only_problem(workflow("s/big.sql"), scripts)
    assert problem.startswith(f"workflow wf, {STAGE}, job big, script s/big.sql: the script has ")
    assert f"bytes of SQL; the Data API accepts at most {MAX_SQL_BYTES}. Split it" in problem


def test_a_script_over_both_limits_reports_both(scripts):
    write(scripts, "s/huge.sql", ";\n".join(f"insert into t values ('{'x' * 3000}')" for n in range(45)))
    found = problems_of(workflow("s/huge.sql"), scripts)
    assert len(found) == 2
    assert "45 statements" in found[0] and "bytes of SQL" in found[1]


@pytest.mark.parametrize("text", ["", "  \n\t", "-- only a comment\n/* and another */\n", ";;\n ; ;", "-- x\n;\n"],
                         ids=["empty", "whitespace", "comments", "semicolons", "comment-and-semicolon"])
def test_a_script_without_any_statement(scripts, text):
    write(scripts, "s/nothing.sql", text)
    assert only_problem(workflow("s/nothing.sql"), scripts) == (
        f"workflow wf, {STAGE}, job nothing, script s/nothing.sql: the script contains no SQL statement "
        "(only whitespace, comments or ';')")


@pytest.mark.parametrize("text", ["select 'never closed; select 1", "create function f() as $$ select 1"],
                         ids=["string", "dollar-body"])
def test_a_script_the_splitter_cannot_split(scripts, text):
    write(scripts, "s/broken.sql", text)
    assert only_problem(workflow("s/broken.sql"), scripts).startswith(
        f"workflow wf, {STAGE}, job broken, script s/broken.sql: cannot split SQL script: ")


def test_a_missing_script_names_where_it_was_looked_for(scripts):
    assert only_problem(workflow("s/nope.sql"), scripts) == (
        f"workflow wf, {STAGE}, job nope, script s/nope.sql: does not exist in {scripts}/: add the file or fix the key")


def test_a_script_that_is_not_utf8(scripts):
    write(scripts, "s/latin.sql", "select 'café'".encode("latin-1"))
    assert only_problem(workflow("s/latin.sql"), scripts) == (
        f"workflow wf, {STAGE}, job latin, script s/latin.sql: the script is not UTF-8 text "
        "(invalid continuation byte at byte 11)")


def test_a_parameter_the_workflow_does_not_give(scripts):
    write(scripts, "s/report.sql", "select :city, :run_date, :limit_rows")
    assert only_problem(workflow("s/report.sql"), scripts) == (
        f"workflow wf, {STAGE}, job report, script s/report.sql: the script uses :city, :limit_rows but the job "
        "gives no value for it: give it a value in the workflow's or the job's \"parameters\"")


def test_parameters_come_from_run_date_the_workflow_and_the_job(scripts):
    write(scripts, "s/report.sql", "select :city, :run_date, :limit_rows")
    config = workflow({"script": "s/report.sql", "parameters": {"limit_rows": 10}}, parameters={"city": "Fairview"})
    assert validate_scripts(config, ScriptSource.folder(scripts)).workflow_id == "wf"


def test_an_empty_parameter_value_is_refused_as_the_data_api_would(scripts):
    write(scripts, "s/report.sql", "select :city")
    assert only_problem(workflow("s/report.sql", parameters={"city": ""}), scripts) == (
        f"workflow wf, {STAGE}, job report, script s/report.sql: the value of :city is empty; the Data API refuses "
        "an empty parameter value")


def test_parameters_given_but_used_by_no_script(scripts):
    write(scripts, "s/setup.sql", "select :scale_factor")
    config = workflow({"script": "s/setup.sql", "parameters": {"scale_facter": "0.2"}},
                      parameters={"scale_factor": "0.01", "sclae": 1})
    assert problems_of(config, scripts) == [
        f"workflow wf, {STAGE}, job setup, script s/setup.sql: parameter scale_facter is given but the script does "
        "not use it (it uses: scale_factor)",
        "workflow wf: parameter sclae is given but no script of the workflow uses it (they use: scale_factor)",
    ]


def test_placeholders_in_strings_comments_and_casts_are_not_parameters(scripts):
    write(scripts, "s/casts.sql", "select '2026-01-01'::date, ':not_me' -- :nor_me\n; select 1")
    assert validate_scripts(workflow("s/casts.sql"), ScriptSource.folder(scripts)).jobs[0].name == "casts"


# ---------------------------------------------------------------- every problem at once


def test_configuration_and_script_problems_of_every_job_are_reported_at_once(scripts):
    write(scripts, "s/many.sql", statements(41))
    write(scripts, "s/empty.sql", "")
    write(scripts, "s/city.sql", "select :city")
    stages = [
        {"stage_description": "load", "execution_type": "sequential", "scripts": ["s/many.sql", "s/missing.sql"]},
        {"stage_description": "later", "execution_type": "parallel", "execution_flag": "n",
         "scripts": ["s/empty.sql", "s/city.sql", {"script": "s/x.sql", "retries": -1}]},
    ]
    found = problems_of({**workflow(stages=stages), "run_mode": "fast"}, scripts)
    assert found == [
        "workflow wf: unknown key 'run_mode' (known keys: workflow_id, workflow_description, workflow_stages, "
        "parameters, completion)",
        "workflow wf, stage 2 (later), job x: retries is -1; it must be a whole number from 0 to 10",
        f"workflow wf, {STAGE}, job many, script s/many.sql: the script has 41 statements; one Data API batch takes "
        "at most 40. Split it into several jobs, or move the logic into a stored procedure and CALL it.",
        f"workflow wf, {STAGE}, job missing, script s/missing.sql: does not exist in {scripts}/: add the file or fix "
        "the key",
        "workflow wf, stage 2 (later), job empty, script s/empty.sql: the script contains no SQL statement (only "
        "whitespace, comments or ';')",
        "workflow wf, stage 2 (later), job city, script s/city.sql: the script uses :city but the job gives no "
        "value for it: give it a value in the workflow's or the job's \"parameters\"",
    ]
    assert all("\n" not in problem for problem in found)


def test_each_script_is_read_once_however_many_jobs_run_it(scripts):
    write(scripts, "s/shared.sql", "select :run_date")
    reads: list[str] = []
    folder = ScriptSource.folder(scripts)

    def read(key: str) -> bytes | None:
        reads.append(key)
        return folder.read(key)

    jobs = [{"name": f"job_{n}", "script": "s/shared.sql"} for n in range(5)]
    validate_scripts(workflow(*jobs), ScriptSource(folder.location, folder.advice, read))
    assert reads == ["s/shared.sql"]


def test_the_shipped_workflows_and_scripts_pass_every_check():
    import json

    for path in sorted((ROOT / "workflows").glob("*.json")):
        validate_scripts(json.loads(path.read_text()), ScriptSource.folder(ROOT / "scripts"))


@mock_aws
def test_scripts_are_read_from_the_bucket_on_a_stack():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scripts")
    s3.put_object(Bucket="scripts", Key="s/many.sql", Body=statements(41).encode())
    with pytest.raises(WorkflowInvalid) as raised:
        validate_scripts(workflow("s/many.sql", "s/nope.sql"), ScriptSource.bucket(s3, "scripts"))
    assert raised.value.problems == [
        f"workflow wf, {STAGE}, job many, script s/many.sql: the script has 41 statements; one Data API batch takes "
        "at most 40. Split it into several jobs, or move the logic into a stored procedure and CALL it.",
        f"workflow wf, {STAGE}, job nope, script s/nope.sql: does not exist in s3://scripts/: stage the scripts folder "
        "(shiftflow scripts sync --stack <stack>) or fix the key",
    ]


# ---------------------------------------------------------------- the submit judges the same way


def test_the_submit_refuses_what_validation_reports(scripts):
    """One place for each check: a script validation calls too large is refused by its job's submit too."""
    target = RedshiftTarget(database="dev", workgroup_name="wg")
    job = SqlJob(workflow="wf", job="many", sql=statements(41), parameters={}, client_token_seed="seed")
    with pytest.raises(job_errors.ScriptTooLarge) as raised:
        batch_request(job, target)
    write(scripts, "s/many.sql", statements(41))
    assert only_problem(workflow("s/many.sql"), scripts).endswith(raised.value.detail)


def test_the_submit_refuses_an_empty_parameter_value():
    target = RedshiftTarget(database="dev", workgroup_name="wg")
    job = SqlJob(workflow="wf", job="report", sql="select :city", parameters={"city": ""}, client_token_seed="s")
    with pytest.raises(job_errors.InvalidJobRequest, match=r"job report: the value of :city is empty; the Data API"):
        batch_request(job, target)


# ---------------------------------------------------------------- preflight: the check before a run starts


def refusal(config: dict[str, Any], folder: Path, parameters: dict[str, Any],
            previous: PreviousRun | None = None) -> list[str]:
    with pytest.raises(RunRefused) as raised:
        preflight(parse_workflow(config), ScriptSource.folder(folder), parameters, previous)
    assert str(raised.value).startswith("workflow wf cannot start")
    return raised.value.problems


def test_a_run_parameter_no_script_uses_is_refused_naming_the_known_ones(scripts):
    write(scripts, "s/setup.sql", "select :scale_factor, :run_date")
    config = workflow("s/setup.sql", parameters={"scale_factor": "0.01"})
    assert refusal(config, scripts, {"scale_facter": "0.2", "colour": "red"}) == [
        "workflow wf: unknown parameter scale_facter: no script of the workflow uses it (known parameters: run_date, "
        "scale_factor)",
        "workflow wf: unknown parameter colour: no script of the workflow uses it (known parameters: run_date, "
        "scale_factor)",
    ]
    preflight(parse_workflow(config), ScriptSource.folder(scripts), {"scale_factor": "0.2", "run_date": "2026-01-01"})


def test_a_missing_parameter_is_named_and_a_run_parameter_gives_it(scripts):
    write(scripts, "s/report.sql", "select :city")
    config = workflow("s/report.sql")
    assert refusal(config, scripts, {}) == [
        f"workflow wf, {STAGE}, job report, script s/report.sql: the script uses :city but the job gives no value for "
        "it: give it with -p NAME=VALUE or in the workflow's \"parameters\"",
    ]
    preflight(parse_workflow(config), ScriptSource.folder(scripts), {"city": "Fairview"})


def test_an_empty_run_parameter_is_refused(scripts):
    write(scripts, "s/report.sql", "select :city")
    assert refusal(workflow("s/report.sql", parameters={"city": "Fairview"}), scripts, {"city": ""}) == [
        f"workflow wf, {STAGE}, job report, script s/report.sql: the value of :city is empty; the Data API refuses "
        "an empty parameter value",
    ]


def test_preflight_reports_the_scripts_of_the_jobs_that_run_and_every_problem_at_once(scripts):
    write(scripts, "s/many.sql", statements(41))
    write(scripts, "s/empty.sql", "")  # in a stage flagged n: this run does not submit it
    stages = [
        {"stage_description": "load", "execution_type": "sequential", "scripts": ["s/many.sql", "s/missing.sql"]},
        {"stage_description": "later", "execution_type": "sequential", "execution_flag": "n",
         "scripts": ["s/empty.sql"]},
    ]
    found = refusal(workflow(stages=stages), scripts, {"x": "1"})
    assert [problem.split(": ", 1)[0] for problem in found] == [
        "workflow wf",
        f"workflow wf, {STAGE}, job many, script s/many.sql",
        f"workflow wf, {STAGE}, job missing, script s/missing.sql",
    ]


def failed_run(parameters: dict[str, Any], succeeded: list[str], failed_stage: int) -> PreviousRun:
    return PreviousRun(workflow_execution_id="run-1", workflow_id="wf", status=FAILED, execution_arn="arn:run-1",
                       run_date="2026-11-20", parameters=parameters, failed_stage=failed_stage,
                       jobs={name: {"execution_status": SUCCEEDED} for name in succeeded})


def test_a_restart_is_checked_with_the_failed_runs_parameters_and_only_the_jobs_it_runs(scripts):
    write(scripts, "s/first.sql", "")  # succeeded before (it has changed since): the restart does not run it
    write(scripts, "s/report.sql", "select :city")
    stages = [
        {"stage_description": "first", "execution_type": "sequential", "scripts": ["s/first.sql"]},
        {"stage_description": "report", "execution_type": "sequential", "scripts": ["s/report.sql"]},
    ]
    config = workflow(stages=stages)
    previous = failed_run({"city": "Fairview"}, succeeded=["first"], failed_stage=2)
    preflight(parse_workflow(config), ScriptSource.folder(scripts), {}, previous)
    assert refusal(config, scripts, {}, failed_run({}, succeeded=["first"], failed_stage=2)) == [
        "workflow wf, stage 2 (report), job report, script s/report.sql: the script uses :city but the job gives no "
        "value for it: give it with -p NAME=VALUE or in the workflow's \"parameters\"",
    ]


def test_a_plan_too_large_for_the_execution_state_is_refused_before_the_start(scripts):
    write(scripts, "s/blob.sql", "select length(:blob)")
    config = workflow("s/blob.sql")
    # In the run's state (the run input) and in the stage's plan (the job's), each carried by its own execution.
    preflight(parse_workflow(config), ScriptSource.folder(scripts), {"blob": "x" * 150_000})
    run, stage = refusal(config, scripts, {"blob": "x" * 210_000})
    assert run.startswith("workflow wf: the run's state (its parameters and the names of 1 job) is ")
    assert run.endswith("bytes; Step Functions carries at most 204800 here. Shorten parameters or job names, or split "
                        "the workflow.")
    assert stage.startswith("workflow wf: stage 1 (load): its plan (1 job and their parameters) is ")
    assert stage.endswith("its execution carries at most 204800. Shorten parameters or split the stage.")
