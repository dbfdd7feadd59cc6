"""Run plans: which stages and jobs run with which parameters, and what a restart of a failed run leaves to do."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from shiftflow.workflows import RestartRefused, parse_workflow, run_input
from shiftflow.workflows.audit import PreviousRun
from shiftflow.workflows.plan import build_plan

CONFIG = {
    "workflow_id": "nightly",
    "parameters": {"region": "eu", "run_date": "1999-01-01"},
    "workflow_stages": [
        {"stage_description": "Prepare", "execution_flag": "y", "execution_type": "sequential",
         "scripts": ["n/create.sql", "n/stage.sql"]},
        {"stage_description": "Optional", "execution_flag": "n", "execution_type": "parallel",
         "scripts": ["n/extra.sql"]},
        {"stage_description": "Load", "execution_flag": "y", "execution_type": "parallel", "max_concurrency": 2,
         "scripts": ["n/dim_a.sql", {"name": "dim_b", "script": "n/dim_b.sql", "parameters": {"region": "us"}},
                     "n/dim_c.sql"]},
        {"stage_description": "Publish", "execution_flag": "y", "execution_type": "sequential",
         "scripts": ["n/fact.sql"]},
    ],
}
WORKFLOW = parse_workflow(CONFIG)


def stage(plan: dict[str, Any], number: int) -> dict[str, Any]:
    return plan["stages"][number - 1]


def names(entries: list[dict[str, Any]], key: str = "name") -> list[str]:
    return [entry[key] for entry in entries]


def previous(status: str = "FAILED", failed_stage: int | None = 3, **jobs: str) -> PreviousRun:
    return PreviousRun(
        workflow_execution_id="run-1",
        workflow_id="nightly",
        status=status,
        execution_arn="arn:aws:states:us-east-1:1:execution:Workflow:run-1",
        run_date="2026-11-20",
        parameters={"region": "apac"},
        failed_stage=failed_stage,
        jobs={name: {"job_name": name, "execution_status": value} for name, value in jobs.items()},
    )


def test_a_fresh_plan_runs_every_enabled_stage_and_settles_the_skipped_one():
    plan = build_plan(WORKFLOW, "run-2", "2026-11-21")
    assert [(s["number"], s["run"], s["max_concurrency"]) for s in plan["stages"]] == [
        (1, True, 1), (2, False, 0), (3, True, 2), (4, True, 1)
    ]
    assert names(stage(plan, 1)["jobs"]) == ["create", "stage"]
    assert stage(plan, 2)["jobs"] == [] and [(s["job"], s["status"]) for s in stage(plan, 2)["settled"]] == [
        ("extra", "SKIPPED")
    ]
    assert plan["jobs"] == ["create", "stage", "extra", "dim_a", "dim_b", "dim_c", "fact"]
    assert (plan["restart_of"], plan["restart_of_arn"]) == ("", "none")


def test_parameters_defaults_then_workflow_then_job_then_the_run_input():
    plan = build_plan(WORKFLOW, "run-2", "2026-11-21")
    dim_a, dim_b, _ = stage(plan, 3)["jobs"]
    # The workflow's run_date overrides the built-in default; a job's own value overrides the workflow's.
    assert dim_a["parameters"] == {"run_date": "1999-01-01", "region": "eu"}
    assert dim_b["parameters"] == {"run_date": "1999-01-01", "region": "us"}
    overridden = build_plan(WORKFLOW, "run-3", "2026-11-21", parameters={"region": "latam", "run_date": "2026-01-01"})
    assert {job["parameters"]["region"] for job in stage(overridden, 3)["jobs"]} == {"latam"}
    assert overridden["parameters"] == {"region": "latam", "run_date": "2026-01-01"}
    plain = parse_workflow({**CONFIG, "parameters": {}})
    assert stage(build_plan(plain, "run-4", "2026-11-21"), 1)["jobs"][0]["parameters"] == {"run_date": "2026-11-21"}


def test_bad_run_parameters_are_refused_naming_the_workflow():
    with pytest.raises(Exception, match="workflow nightly, run input: parameter rows must be"):
        build_plan(WORKFLOW, "run-2", "2026-11-21", parameters={"rows": [1]})


def test_restart_runs_the_failed_stages_unfinished_jobs_and_every_later_stage():
    failed = previous(create="SUCCEEDED", stage="SUCCEEDED", extra="SKIPPED", dim_a="SUCCEEDED", dim_b="FAILED",
                      dim_c="STOPPED", fact="NOT_RUN")
    plan = build_plan(WORKFLOW, "run-2", "2026-11-22", previous=failed)

    assert [s["run"] for s in plan["stages"]] == [False, False, True, True]
    assert [(s["job"], s["status"]) for s in stage(plan, 1)["settled"]] == [
        ("create", "ALREADY_SUCCEEDED"), ("stage", "ALREADY_SUCCEEDED")
    ]
    assert [(s["job"], s["status"]) for s in stage(plan, 2)["settled"]] == [("extra", "SKIPPED")]
    assert names(stage(plan, 3)["jobs"]) == ["dim_b", "dim_c"]
    assert [(s["job"], s["status"], s["succeeded_in"]) for s in stage(plan, 3)["settled"]] == [
        ("dim_a", "ALREADY_SUCCEEDED", "run-1")
    ]
    assert names(stage(plan, 4)["jobs"]) == ["fact"]
    # The failed run's run date and parameters, not today's.
    assert plan["run_date"] == "2026-11-20" and stage(plan, 4)["jobs"][0]["parameters"]["region"] == "apac"
    assert (plan["restart_of"], plan["restart_of_arn"]) == ("run-1", failed.execution_arn)


def test_restart_of_a_restart_keeps_where_each_job_first_succeeded():
    failed = previous(create="ALREADY_SUCCEEDED", stage="ALREADY_SUCCEEDED", dim_a="FAILED", dim_b="SUCCEEDED",
                      dim_c="SUCCEEDED")
    failed.jobs["create"]["succeeded_in"] = "run-0"
    plan = build_plan(WORKFLOW, "run-2", "2026-11-22", previous=failed)
    assert stage(plan, 1)["settled"][0]["succeeded_in"] == "run-0"
    assert names(stage(plan, 3)["jobs"]) == ["dim_a"]


def test_restart_finds_the_failed_stage_from_the_jobs_when_the_run_did_not_record_it():
    failed = previous(failed_stage=None, create="SUCCEEDED", stage="FAILED")
    plan = build_plan(WORKFLOW, "run-2", "2026-11-22", previous=failed)
    assert names(stage(plan, 1)["jobs"]) == ["stage"] and stage(plan, 3)["run"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("SUCCEEDED", "only a FAILED, ABORTED or TIMED_OUT run can, and it succeeded: there is nothing left to run"),
        ("RUNNING", "it is still running, or was stopped before it could record its end (redrive it instead)"),
    ],
)
def test_only_a_failed_run_can_be_restarted(status, message):
    with pytest.raises(RestartRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_plan(WORKFLOW, "run-2", "2026-11-22", previous=previous(status=status))


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT"])
def test_a_run_that_was_stopped_or_timed_out_restarts_where_its_jobs_stopped(status):
    """The heal of a stopped run (shiftflow.heal) records the execution's status; a restart resumes it like a
    failed one: the first stage with a job that did not succeed."""
    stopped = previous(status=status, failed_stage=None, create="SUCCEEDED", stage="SUCCEEDED", extra="SKIPPED",
                       dim_a="SUCCEEDED", dim_b="STOPPED", dim_c="SUCCEEDED", fact="NOT_RUN")
    plan = build_plan(WORKFLOW, "run-2", "2026-11-22", previous=stopped)
    assert names(stage(plan, 3)["jobs"]) == ["dim_b"] and names(stage(plan, 4)["jobs"]) == ["fact"]
    assert not stage(plan, 1)["run"]


def test_a_run_of_another_workflow_cannot_be_restarted_as_this_one():
    other = PreviousRun("run-9", "weekly", "FAILED", "arn", "2026-11-20", {}, 1, {})
    with pytest.raises(RestartRefused, match="workflow nightly: run run-9 belongs to workflow weekly"):
        build_plan(WORKFLOW, "run-2", "2026-11-22", previous=other)


def test_run_input_takes_an_execution_name_or_arn():
    assert run_input("nightly") == {"workflow_id": "nightly"}
    assert run_input("nightly", {"region": "eu"}, "arn:aws:states:us-east-1:1:execution:Workflow:run-1") == {
        "workflow_id": "nightly", "parameters": {"region": "eu"}, "restart_execution_id": "run-1"
    }


def test_each_planned_job_carries_its_completion_mode_and_expected_duration():
    """run_sql_job's submit chooses the mode from these (auto: poll when expected within one long poll)."""
    config = {**CONFIG, "completion": "auto"}
    config["workflow_stages"] = [dict(stage) for stage in CONFIG["workflow_stages"]]
    config["workflow_stages"][3] = {**config["workflow_stages"][3],
                                    "scripts": [{"script": "n/fact.sql", "completion": "event"}]}
    plan = build_plan(parse_workflow(config), "run-2", "2026-11-21", expected_seconds={"create": 3.5, "fact": 900})
    jobs = {job["name"]: job for stage in plan["stages"] for job in stage["jobs"]}
    assert (jobs["create"]["completion"], jobs["create"]["expected_seconds"]) == ("auto", 3.5)
    assert (jobs["stage"]["completion"], jobs["stage"]["expected_seconds"]) == ("auto", None)  # no past run
    assert (jobs["fact"]["completion"], jobs["fact"]["expected_seconds"]) == ("event", 900)


def test_a_jobs_expected_duration_is_its_longest_success_in_the_workflows_last_runs():
    import boto3
    from moto import mock_aws

    from shiftflow.workflows.audit import BY_WORKFLOW_INDEX, expected_durations

    def run(execution: str, started: str, jobs: dict[str, tuple[str, str, str]]) -> None:
        dynamodb.put_item(TableName="runs", Item={"workflow_execution_id": {"S": execution},
                                                  "workflow_id": {"S": "nightly"}, "execution_start_ts": {"S": started}})
        for job, (status, start, end) in jobs.items():
            dynamodb.put_item(TableName="jobs", Item={
                "workflow_execution_id": {"S": execution}, "job_name": {"S": job}, "execution_status": {"S": status},
                "execution_start_ts": {"S": start}, "execution_end_ts": {"S": end}})

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        string = lambda name: {"AttributeName": name, "AttributeType": "S"}  # noqa: E731
        dynamodb.create_table(
            TableName="runs", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[string("workflow_execution_id"), string("workflow_id"), string("execution_start_ts")],
            KeySchema=[{"AttributeName": "workflow_execution_id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": BY_WORKFLOW_INDEX, "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "workflow_id", "KeyType": "HASH"},
                                                   {"AttributeName": "execution_start_ts", "KeyType": "RANGE"}]}])
        dynamodb.create_table(
            TableName="jobs", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[string("workflow_execution_id"), string("job_name")],
            KeySchema=[{"AttributeName": "workflow_execution_id", "KeyType": "HASH"},
                       {"AttributeName": "job_name", "KeyType": "RANGE"}])
        run("run-1", "2026-11-01T03:00:00Z", {"create": ("SUCCEEDED", "2026-11-01T03:00:00Z", "2026-11-01T03:40:00Z")})
        run("run-2", "2026-11-02T03:00:00Z", {"create": ("SUCCEEDED", "2026-11-02T03:00:00Z", "2026-11-02T03:00:04Z"),
                                              "fact": ("FAILED", "2026-11-02T03:00:04Z", "2026-11-02T05:00:04Z")})
        run("run-3", "2026-11-03T03:00:00Z", {"create": ("SUCCEEDED", "2026-11-03T03:00:00.000Z",
                                                         "2026-11-03T03:00:12.500Z"),
                                              "fact": ("SUCCEEDED", "2026-11-03T03:00:12Z", "2026-11-03T03:10:12Z")})
        # The two newest runs only: run-1's 40-minute create is too old to count, the failed fact does not count.
        assert expected_durations(dynamodb, "runs", "jobs", "nightly", runs=2) == {"create": 12.5, "fact": 600.0}
        assert expected_durations(dynamodb, "runs", "jobs", "nightly")["create"] == 2400.0
        assert expected_durations(dynamodb, "runs", "jobs", "other") == {}


# ---------------------------------------------------------------- what the executions carry, and the run plan table


def many_jobs(stages: int, jobs_per_stage: int, **stage_extra: Any) -> dict[str, Any]:
    return {"workflow_id": "big", "workflow_stages": [
        {"stage_description": f"stage {number}", "execution_flag": "y", "execution_type": "parallel",
         "scripts": [f"big/s{number:03d}_job{index:03d}.sql" for index in range(jobs_per_stage)], **stage_extra}
        for number in range(1, stages + 1)]}


def test_a_5000_job_plan_is_over_256_kib_but_what_each_execution_carries_is_not():
    from shiftflow.workflows.plan import MAX_STATE_BYTES, run_state, size_problems, stage_slice, state_bytes

    workflow = parse_workflow(many_jobs(100, 50))
    plan = build_plan(workflow, "3f2c9a7e-0000-4000-8000-000000000000", "2026-12-01")
    assert state_bytes(plan) > 4 * 256 * 1024
    assert size_problems(plan) == []
    state = run_state(plan)
    assert state_bytes(state) < MAX_STATE_BYTES / 2
    assert state["stages"][0] == {"number": 1, "run": True} and state["jobs"] == [job.name for job in workflow.jobs]
    assert max(state_bytes(stage_slice(stage)) for stage in plan["stages"]) < MAX_STATE_BYTES / 10


def test_a_stage_or_a_run_too_large_for_its_execution_is_refused_saying_which():
    from shiftflow.workflows.plan import size_problems

    config = many_jobs(2, 40)
    config["workflow_stages"][1]["scripts"] = [{"script": f"big/p{n}.sql", "parameters": {"pad": "p" * 6_000}}
                                               for n in range(40)]
    (problem,) = size_problems(build_plan(parse_workflow(config), "run-1", "2026-12-01"))
    assert problem.startswith("stage 2 (stage 2): its plan (40 jobs and their parameters) is ")
    assert "split the stage" in problem

    # The run input's parameters are in the run's state, and in every job's.
    run, job = size_problems(build_plan(parse_workflow(many_jobs(1, 1)), "run-1", "2026-12-01",
                                        parameters={"pad": "p" * 210_000}))
    assert run.startswith("the run's state (its parameters and the names of 1 job) is ")
    assert job.startswith("stage 1 (stage 1): its plan (1 job and their parameters) is ")


def test_the_run_plan_table_gives_back_the_whole_plan_of_a_run():
    import boto3
    from moto import mock_aws

    from shiftflow.workflows import plan_table
    from shiftflow.workflows.plan import run_state

    restart = build_plan(WORKFLOW, "run-2", "2026-11-21", previous=previous(create="SUCCEEDED", stage="SUCCEEDED",
                                                                              dim_a="SUCCEEDED", dim_b="FAILED"))
    big = build_plan(parse_workflow({**many_jobs(30, 50), "parameters": {"pad": "p" * 1_000}}), "run-3", "2026-12-01")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="plans", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "workflow_execution_id", "AttributeType": "S"},
                                  {"AttributeName": "stage_number", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "workflow_execution_id", "KeyType": "HASH"},
                       {"AttributeName": "stage_number", "KeyType": "RANGE"}])
        for plan in (restart, big):  # big: 1.5 MB, more than one page of a query
            plan_table.stage(dynamodb, "plans", plan, "2026-12-01T03:00:00.123Z")
            assert plan_table.load(dynamodb, "plans", run_state(plan)) == plan
        item = dynamodb.get_item(TableName="plans", Key={"workflow_execution_id": {"S": "run-2"},
                                                         "stage_number": {"N": "3"}})["Item"]
        assert int(item["expires_at"]["N"]) == datetime(2028, 1, 5, 3, tzinfo=timezone.utc).timestamp()  # 400 days on
        assert plan_table.load(dynamodb, "plans", restart) == restart  # a run that carried its whole plan
        with pytest.raises(plan_table.PlanMissing, match="run run-4: the plan of stage.s. 1, 2, 3, 4 is not in plans"):
            plan_table.load(dynamodb, "plans", {**run_state(restart), "workflow_execution_id": "run-4"})
