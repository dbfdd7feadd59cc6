"""The workflow model and its validation: seed 003's JSON accepted as it is, every problem reported with the
workflow, stage and job it concerns, scripts checked against the bucket, configurations stored in DynamoDB."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftflow.jobs.failures import explain
from shiftflow.workflows import WorkflowInvalid, WorkflowNotFound, list_workflows, parse_workflow, push, show, validate
from shiftflow.workflows.model import MAX_JOBS_PER_STAGE, SEQUENTIAL
from shiftflow.workflows.store import from_item, to_item
from tests.conftest import ROOT, load_function

# The configuration in seed 003, character for character.
SEED = json.loads("""
{
	"workflow_id": "blog_test_workflow",
	"workflow_description": "Test Workflow for Blog",
	"workflow_stages": [{
			"execution_flag": "y",
			"execution_type": "sequential",
			"scripts": [
				"rsql_blog_script_1.sh",
				"rsql_blog_script_2.sh"
			],
			"stage_description": "Schema & Table Creation Stage"
		},
		{
			"execution_flag": "y",
			"execution_type": "parallel",
			"scripts": [
				"rsql_blog_script_3.sh",
				"rsql_blog_script_4.sh"
			],
			"stage_description": "Data Insertion Stage 1"
		},
		{
			"execution_flag": "y",
			"execution_type": "parallel",
			"scripts": [
				"rsql_blog_script_5.sh",
				"rsql_blog_script_6.sh"
			],
			"stage_description": "Data Insertion Stage 2"
		}
	]
}
""")


def seed(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(SEED)
    config.update(changes)
    return config


def problems(config: Any) -> list[str]:
    with pytest.raises(WorkflowInvalid) as raised:
        parse_workflow(config)
    assert str(raised.value).startswith(f"workflow {raised.value.workflow_id} is invalid")
    return raised.value.problems


def only_problem(config: Any) -> str:
    (problem,) = problems(config)
    return problem


def test_seed_configuration_is_accepted_unchanged():
    workflow = parse_workflow(SEED)
    assert workflow.workflow_id == "blog_test_workflow" and workflow.description == "Test Workflow for Blog"
    assert [(stage.number, stage.description, stage.execution_type, stage.enabled) for stage in workflow.stages] == [
        (1, "Schema & Table Creation Stage", "sequential", True),
        (2, "Data Insertion Stage 1", "parallel", True),
        (3, "Data Insertion Stage 2", "parallel", True),
    ]
    assert [job.name for job in workflow.jobs] == [f"rsql_blog_script_{n}" for n in range(1, 7)]
    assert workflow.jobs[0].script == "rsql_blog_script_1.sh"
    assert workflow.stages[0].concurrency == 1 and workflow.stages[1].concurrency == 0


def test_job_objects_and_stage_concurrency_go_beyond_the_seed_and_round_trip():
    config = seed(parameters={"run_date": "2026-11-21"})
    config["workflow_stages"][1]["max_concurrency"] = 2
    config["workflow_stages"][1]["scripts"][0] = {
        "name": "insert_three", "script": "rsql_blog_script_3.sh", "parameters": {"rows": 3},
        "timeout_seconds": 600, "retries": 2, "conflict_retries": 0, "validation": True,
    }
    workflow = parse_workflow(config)
    job = workflow.stages[1].jobs[0]
    assert (job.name, job.parameters, job.timeout_seconds, job.retries, job.conflict_retries, job.validation) == (
        "insert_three", {"rows": 3}, 600, 2, 0, True
    )
    assert workflow.stages[1].jobs[1].conflict_retries == 3  # the default: conflicts are retried unless turned off
    assert workflow.stages[1].concurrency == 2
    assert parse_workflow(workflow.to_config()) == workflow
    assert parse_workflow(parse_workflow(SEED).to_config()).to_config() == {**SEED, "workflow_stages": [
        {key: stage[key] for key in ("stage_description", "execution_flag", "execution_type", "scripts")}
        for stage in SEED["workflow_stages"]
    ]}


@pytest.mark.parametrize("path", sorted((ROOT / "workflows").glob("*.json")), ids=lambda path: path.name)
def test_shipped_workflows_are_valid_and_their_scripts_exist(path):
    workflow = parse_workflow(json.loads(path.read_text()))
    assert workflow.workflow_id == path.stem
    for job in workflow.jobs:
        assert (ROOT / "scripts" / job.script).is_file(), job.script


# ---------------------------------------------------------------- every validation error names where it is


def test_unknown_key_of_the_workflow():
    assert only_problem(seed(schedule="daily")) == (
        "workflow blog_test_workflow: unknown key 'schedule' (known keys: workflow_id, workflow_description, "
        "workflow_stages, parameters, completion)"
    )


def test_unknown_key_of_a_stage():
    config = seed()
    config["workflow_stages"][1]["run_mode"] = "fast"
    assert only_problem(config).startswith("workflow blog_test_workflow, stage 2 (Data Insertion Stage 1): unknown key 'run_mode'")


def test_unknown_key_of_a_job():
    config = seed()
    config["workflow_stages"][2]["scripts"][1] = {"script": "rsql_blog_script_6.sh", "retry": 3}
    assert only_problem(config).startswith(
        "workflow blog_test_workflow, stage 3 (Data Insertion Stage 2), job rsql_blog_script_6: unknown key 'retry'"
    )


def test_empty_stage():
    config = seed()
    config["workflow_stages"][0]["scripts"] = []
    assert only_problem(config) == (
        "workflow blog_test_workflow, stage 1 (Schema & Table Creation Stage): the stage has no jobs: "
        "scripts must be a non-empty list"
    )


def test_stage_without_scripts_and_workflow_without_stages():
    config = seed()
    del config["workflow_stages"][0]["scripts"]
    assert "stage 1 (Schema & Table Creation Stage): the stage has no jobs" in only_problem(config)
    assert only_problem(seed(workflow_stages=[])) == (
        "workflow blog_test_workflow: workflow_stages must be a non-empty list of stages"
    )


def test_duplicate_job_names_in_one_stage_and_across_stages():
    config = seed()
    config["workflow_stages"][0]["scripts"].append("other/rsql_blog_script_1.sh")
    config["workflow_stages"][2]["scripts"].append("rsql_blog_script_3.sh")
    assert problems(config) == [
        "workflow blog_test_workflow, stage 1 (Schema & Table Creation Stage), job rsql_blog_script_1: "
        'duplicate job name (in the same stage): give one of them a distinct "name"',
        "workflow blog_test_workflow, stage 3 (Data Insertion Stage 2), job rsql_blog_script_3: "
        'duplicate job name (also in stage 2 (Data Insertion Stage 1)): give one of them a distinct "name"',
    ]


def test_unknown_execution_type_and_flag():
    config = seed()
    config["workflow_stages"][1]["execution_type"] = "concurrent"
    config["workflow_stages"][2]["execution_flag"] = "maybe"
    assert problems(config) == [
        "workflow blog_test_workflow, stage 2 (Data Insertion Stage 1): execution_type is 'concurrent'; "
        "it must be 'sequential' or 'parallel'",
        "workflow blog_test_workflow, stage 3 (Data Insertion Stage 2): execution_flag is 'maybe'; "
        "it must be 'y' (run) or 'n' (skip)",
    ]


def test_flag_n_disables_a_stage_and_flags_are_case_insensitive():
    config = seed()
    config["workflow_stages"][1]["execution_flag"] = "N"
    assert [stage.enabled for stage in parse_workflow(config).stages] == [True, False, True]


@pytest.mark.parametrize(
    ("stage_changes", "message"),
    [
        ({"max_concurrency": 0}, "max_concurrency is 0; it must be a whole number from 1 to 40"),
        ({"max_concurrency": 41}, "max_concurrency is 41; it must be a whole number from 1 to 40"),
        ({"max_concurrency": True}, "max_concurrency is True"),
        ({"max_concurrency": 4, "execution_type": SEQUENTIAL}, "max_concurrency 4 contradicts execution_type 'sequential'"),
    ],
)
def test_stage_concurrency_limits(stage_changes, message):
    config = seed()
    config["workflow_stages"][1].update(stage_changes)
    assert only_problem(config).startswith(f"workflow blog_test_workflow, stage 2 (Data Insertion Stage 1): {message}")


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"script": "a.sql", "timeout_seconds": 0}, "timeout_seconds is 0; it must be a whole number from 1 to 86400"),
        ({"script": "a.sql", "retries": 11}, "retries is 11; it must be a whole number from 0 to 10"),
        ({"script": "a.sql", "retries": "2"}, "retries is '2'"),
        ({"script": "a.sql", "conflict_retries": 11},
         "conflict_retries is 11; it must be a whole number from 0 (no retry) to 10"),
        ({"script": "a.sql", "conflict_retries": True}, "conflict_retries is True"),
        ({"script": "a.sql", "validation": "yes"}, "validation is 'yes'; it must be true or false"),
        ({"script": "a.sql", "parameters": {"run-date": "x"}}, "parameter name 'run-date' is not a SQL :name"),
        ({"script": "a.sql", "parameters": {"rows": [1, 2]}}, "parameter rows must be a string, number or boolean"),
        ({"script": "a.sql", "name": "has space"}, "the job name must be 1-80 letters"),
    ],
)
def test_job_option_errors_name_the_job(job, message):
    config = seed()
    config["workflow_stages"][0]["scripts"] = [job]
    name = job.get("name", "a")
    assert only_problem(config).startswith(
        f"workflow blog_test_workflow, stage 1 (Schema & Table Creation Stage), job {name}: {message}"
    )


def test_job_without_a_script():
    config = seed()
    config["workflow_stages"][0]["scripts"] = [{"name": "nothing"}]
    assert only_problem(config) == (
        "workflow blog_test_workflow, stage 1 (Schema & Table Creation Stage), job nothing: script must be a key "
        "in the scripts bucket, e.g. tpch/load_customer_dimension.sql"
    )


def test_bad_workflow_id_and_non_object_configuration():
    assert only_problem(seed(workflow_id="two words")).startswith(
        "workflow two words: workflow_id must be 1-80 letters"
    )
    assert only_problem(["not", "an", "object"]) == "workflow <no workflow_id>: the configuration must be a JSON object"


def test_a_stage_too_large_for_one_execution_history():
    config = seed()
    config["workflow_stages"][0]["scripts"] = [f"s/job_{n}.sql" for n in range(MAX_JOBS_PER_STAGE + 1)]
    assert f"the stage has {MAX_JOBS_PER_STAGE + 1} jobs; at most {MAX_JOBS_PER_STAGE}" in only_problem(config)


def test_every_problem_is_reported_at_once():
    config = seed(extra=1)
    config["workflow_stages"][0]["execution_type"] = "both"
    config["workflow_stages"][1]["scripts"] = []
    config["workflow_stages"][2]["scripts"].append({"script": "x.sql", "retries": -1})
    assert len(problems(config)) == 4


# ---------------------------------------------------------------- scripts must be in the bucket


@mock_aws
def test_scripts_missing_from_the_bucket_are_named_with_their_job():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scripts")
    for n in (1, 2, 3, 5, 6):
        s3.put_object(Bucket="scripts", Key=f"rsql_blog_script_{n}.sh", Body=b"select 1;")
    with pytest.raises(WorkflowInvalid) as raised:
        validate(SEED, s3, "scripts")
    assert raised.value.problems == [
        "workflow blog_test_workflow, stage 2 (Data Insertion Stage 1), job rsql_blog_script_4: script "
        "s3://scripts/rsql_blog_script_4.sh does not exist: stage the scripts folder "
        "(shiftflow scripts sync --stack <stack>) or fix the key"
    ]
    s3.put_object(Bucket="scripts", Key="rsql_blog_script_4.sh", Body=b"select 1;")
    assert validate(SEED, s3, "scripts").workflow_id == "blog_test_workflow"


@mock_aws
def test_scripts_in_folders_are_found_with_one_listing_per_folder():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scripts")
    for path in sorted((ROOT / "scripts").rglob("*.sql")):
        s3.put_object(Bucket="scripts", Key=path.relative_to(ROOT / "scripts").as_posix(), Body=path.read_bytes())
    for path in sorted((ROOT / "workflows").glob("*.json")):
        validate(json.loads(path.read_text()), s3, "scripts")


# ---------------------------------------------------------------- the configuration table


@mock_aws
def test_push_list_and_show_through_the_configuration_table():
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="config", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "workflow_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "workflow_id", "AttributeType": "S"}],
    )
    for path in sorted((ROOT / "workflows").glob("*.json")):
        push(dynamodb, "config", parse_workflow(json.loads(path.read_text())))
    push(dynamodb, "config", parse_workflow(SEED))
    assert list_workflows(dynamodb, "config") == [
        {"workflow_id": "blog_test_workflow", "workflow_description": "Test Workflow for Blog", "stages": 3, "jobs": 6},
        {"workflow_id": "orders_stream", "workflow_description": json.loads(
            (ROOT / "workflows" / "orders_stream.json").read_text())["workflow_description"], "stages": 2, "jobs": 2},
        {"workflow_id": "sales_data_pipeline", "workflow_description": json.loads(
            (ROOT / "workflows" / "sales_data_pipeline.json").read_text())["workflow_description"], "stages": 4, "jobs": 5},
        {"workflow_id": "tpch_yearly_sales", "workflow_description": json.loads(
            (ROOT / "workflows" / "tpch_yearly_sales.json").read_text())["workflow_description"], "stages": 4, "jobs": 5},
    ]
    tpch = show(dynamodb, "config", "tpch_yearly_sales")
    assert parse_workflow(tpch) == parse_workflow(json.loads((ROOT / "workflows" / "tpch_yearly_sales.json").read_text()))
    with pytest.raises(WorkflowNotFound, match="workflow nope: no such workflow in config; push it first"):
        show(dynamodb, "config", "nope")


def test_numbers_keep_their_type_through_dynamodb_items():
    config = {"workflow_id": "w", "parameters": {"ratio": 0.01, "rows": 3, "flag": True, "text": "0.5"}}
    assert from_item(to_item(config)) == config


# ---------------------------------------------------------------- failures explained from nested children


def test_explain_finds_the_job_inside_a_stage_execution_inside_a_workflow():
    """.sync:2 reports a failed child as PascalCase DescribeExecution JSON with the input parsed."""
    job_failure = json.dumps({
        "ExecutionArn": "arn:aws:states:us-east-1:1:execution:RunSqlJob:j1", "Status": "FAILED",
        "Input": {"job": "load_customer_dimension"}, "Error": "SqlStatementFailed",
        "Cause": "job load_customer_dimension: statement 2 of 2 (x:2) failed: relation does not exist [SQL: insert]",
    })
    stage_failure = json.dumps({
        "ExecutionArn": "arn:aws:states:us-east-1:1:execution:WorkflowStage:s1", "Status": "FAILED",
        "Input": {"stage": {"number": 2}}, "Error": "States.TaskFailed", "Cause": job_failure,
    })
    assert explain("States.TaskFailed", stage_failure) == {
        "failed_step": "load_customer_dimension",
        "error": "SqlStatementFailed",
        "message": "job load_customer_dimension: statement 2 of 2 (x:2) failed: relation does not exist [SQL: insert]",
    }


# ---------------------------------------------------------------- the load function's input


@pytest.mark.parametrize(
    ("run_input", "message"),
    [
        ({}, 'the input must be {"workflow_id": "<id>"}'),
        ({"workflow_id": "w", "restart": "x"}, "workflow w: unknown input key(s) restart"),
    ],
)
def test_load_workflow_refuses_a_bad_input(run_input, message, lambda_context):
    handler = load_function("load_workflow").lambda_handler
    with pytest.raises(WorkflowInvalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        handler({"input": run_input, "execution_name": "e1", "started_at": "2026-11-21T03:00:00Z"}, lambda_context)


# ---------------------------------------------------------------- completion: how a job learns of its SQL's end


def test_completion_is_auto_unless_the_workflow_or_the_job_says_otherwise():
    config = seed(completion="event")
    config["workflow_stages"][0]["scripts"][0] = {"script": config["workflow_stages"][0]["scripts"][0],
                                                   "completion": "poll"}
    workflow = parse_workflow(config)
    first, *others = workflow.jobs
    assert parse_workflow(SEED).completion == "auto"
    assert workflow.completion_of(first) == "poll"
    assert {workflow.completion_of(job) for job in others} == {"event"}
    assert parse_workflow(workflow.to_config()) == workflow  # kept through push and show


def test_an_unknown_completion_mode_is_named_with_the_known_ones():
    config = seed(completion="push")
    config["workflow_stages"][0]["scripts"][0] = {"script": "a.sql", "name": "a", "completion": "sometimes"}
    assert problems(config) == [
        "workflow blog_test_workflow: completion is 'push'; it must be one of event, poll, auto",
        f"workflow blog_test_workflow, stage 1 ({SEED['workflow_stages'][0]['stage_description']}), job a: "
        "completion is 'sometimes'; it must be one of event, poll, auto",
    ]
