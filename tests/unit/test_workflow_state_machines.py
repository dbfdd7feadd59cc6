"""The workflow and workflow_stage state machines: the same guard and failure path as the sales pipeline, stages in
order through child executions, each job through run_sql_job with its audit item."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ROOT

SALES = json.loads((ROOT / "statemachine" / "sales_data_pipeline.asl.json").read_text())["States"]
WORKFLOW = json.loads((ROOT / "statemachine" / "workflow.asl.json").read_text())["States"]
STAGE = json.loads((ROOT / "statemachine" / "workflow_stage.asl.json").read_text())["States"]
JOB = STAGE["RunStageJobs"]["ItemProcessor"]["States"]


def without(state: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A state as JSON text with the workflow's guard key read as the pipeline's, minus the given keys."""
    text = json.dumps({key: value for key, value in state.items() if key not in keys})
    return json.loads(text.replace("$.run.workflow_id", "$.run.job_id"))


def test_the_guard_is_the_sales_pipelines_guard_plus_the_restart_takeover():
    """One guard concept: the workflow's guard states are the pipeline's (a test keeps the copies equal)."""
    acquire, sales_acquire = WORKFLOW["AcquireJobGuard"], SALES["AcquireJobGuard"]
    assert acquire["Parameters"]["ConditionExpression"] == (
        sales_acquire["Parameters"]["ConditionExpression"] + " OR (JobState = :failed AND LastExecution = :restart_of)"
    )
    values = dict(acquire["Parameters"]["ExpressionAttributeValues"])
    assert values.pop(":failed") == {"S": "Failed"} and values.pop(":restart_of") == {"S.$": "$.run.restart_of_arn"}
    assert values == sales_acquire["Parameters"]["ExpressionAttributeValues"]
    assert without(acquire["Parameters"], "ConditionExpression", "ExpressionAttributeValues") == without(
        sales_acquire["Parameters"], "ConditionExpression", "ExpressionAttributeValues")
    for name in ("Retry", "Resource", "ResultPath"):
        assert acquire[name] == sales_acquire[name], name
    assert [catcher["ErrorEquals"] for catcher in acquire["Catch"]] == [c["ErrorEquals"] for c in sales_acquire["Catch"]]
    for name in ("ReadJobGuard", "RouteOnGuardState", "GuardUnavailable", "ReleaseJobGuard", "MarkJobGuardFailed",
                 "DescribeRunFailure", "UseRawFailure"):
        assert without(WORKFLOW[name], "Next", "Catch") == without(SALES[name], "Next", "Catch"), name


def test_failure_path_never_stops_before_notifying():
    order = ["DescribeRunFailure", "MarkJobGuardFailed", "RecordFailedWorkflowRun", "NotifyRunFailed",
             "ChooseRunErrorName"]
    for name, following in zip(order[1:-1], order[2:]):
        assert WORKFLOW[name]["Next"] == following and WORKFLOW[name]["Catch"][0]["Next"] in (following,
                                                                                              "UseFailureSummaryAsNotice")
    assert WORKFLOW["UseFailureSummaryAsNotice"]["Next"] == "NotifyRunFailed"
    assert WORKFLOW["ChooseRunErrorName"]["Default"] == "RunFailed"
    assert WORKFLOW["RunFailed"]["CausePath"] == "$.notice.message"
    # Every failure after the guard is taken goes through the one failure path.
    for name in ("RecordWorkflowStart", "RunStages", "RecordSuccessfulWorkflowRun", "ReleaseJobGuard"):
        assert WORKFLOW[name]["Catch"][-1]["Next"] == "DescribeRunFailure", name


def test_stages_run_in_order_one_child_execution_each():
    stages = WORKFLOW["RunStages"]
    assert stages["Type"] == "Map" and stages["MaxConcurrency"] == 1 and stages["ItemsPath"] == "$.run.stages"
    processor = stages["ItemProcessor"]["States"]
    assert processor["ChooseStageRun"]["Choices"][0] == {"Variable": "$.stage.run", "BooleanEquals": False,
                                                         "Next": "StageNotRun"}
    run_stage = processor["RunStage"]
    assert run_stage["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert run_stage["Parameters"]["StateMachineArn"] == "${WorkflowStageStateMachineArn}"
    # The Map's result (every stage's output) must stay far under 256 KiB however many stages a workflow has.
    assert (run_stage["ResultPath"], run_stage["OutputPath"]) == (None, "$.stage.number")
    assert processor["StageNotRun"]["Parameters"] == {"stage.$": "$.stage.number", "status": "NOT_RUN"}
    assert WORKFLOW["LoadWorkflow"]["Next"] == "AcquireJobGuard", "the configuration is validated before the guard"


def test_each_job_is_audited_around_its_run_sql_job_execution():
    jobs = STAGE["RunStageJobs"]
    assert jobs["MaxConcurrencyPath"] == "$.stage.max_concurrency" and jobs["ItemsPath"] == "$.stage.jobs"
    assert STAGE["RunStageJobs"]["ItemProcessor"]["StartAt"] == "MarkJobRunning"
    running = JOB["MarkJobRunning"]
    # A job that already succeeded in this run (a redriven stage) is not run again.
    assert running["Parameters"]["ConditionExpression"] == "attribute_not_exists(job_name) OR execution_status <> :succeeded"
    assert running["Catch"][0] == {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                                   "ResultPath": "$.already", "Next": "JobAlreadySucceeded"}
    assert JOB["RunJobScript"]["Parameters"]["StateMachineArn"] == "${RunSqlJobStateMachineArn}"
    # The child enforces the job's timeout (it cancels the statement); a timeout on this task would leave it running.
    assert JOB["RunJobScript"]["Parameters"]["Input"]["timeout_seconds.$"] == "$.job.timeout_seconds"
    assert "TimeoutSecondsPath" not in JOB["RunJobScript"] and "TimeoutSeconds" not in JOB["RunJobScript"]
    assert JOB["RunJobScript"]["Next"] == "ChooseResultValidation"
    assert JOB["MarkJobSucceeded"]["Next"] == "JobSucceeded"
    assert JOB["MarkJobFailed"]["Next"] == JOB["MarkJobFailed"]["Catch"][0]["Next"] == "ChooseJobErrorName"
    assert JOB["FailJob"]["Type"] == "Fail"
    # A failed job ends a sequential stage at once; in a parallel stage the others run to their end first.
    assert JOB["ChooseJobErrorName"]["Default"] == JOB["NameInterruptedJobFailure"]["Next"] == "ChooseHowTheFailureEndsTheJob"
    (parallel,) = JOB["ChooseHowTheFailureEndsTheJob"]["Choices"]
    assert parallel == {"Variable": "$.execution_type", "StringEquals": "parallel", "Next": "ReportJobFailureToStage"}
    assert JOB["ChooseHowTheFailureEndsTheJob"]["Default"] == "FailJob" and JOB["ReportJobFailureToStage"]["End"]
    assert STAGE["RunStageJobs"]["Next"] == "CheckForFailedJobs"
    # A failed parallel stage fails with its first failed job's error, and the message read from that job's audit.
    assert STAGE["CollectFailedJobs"]["Next"] == "ReadFirstFailedJobAudit"
    assert STAGE["ReadFirstFailedJobAudit"]["Parameters"]["Key"]["job_name"] == {"S.$": "$.failed[0].job"}
    assert STAGE["ParallelStageFailed"]["ErrorPath"] == "$.failed[0].error"
    assert STAGE["ParallelStageFailed"]["CausePath"] == "$.first_failed_audit.Item.error_message.S"
    # Each job's result in the stage's Map is bounded (no message): 500 failed jobs stay under 256 KiB.
    assert set(JOB["ReportJobFailureToStage"]["Parameters"]) == {"job.$", "status", "error.$"}
    assert STAGE["RunStageJobs"]["ResultPath"] == "$"
    for name in ("MarkJobRunning", "MarkJobSucceeded", "MarkJobFailed"):
        assert JOB[name]["Parameters"]["TableName"] == "${JobAuditTableName}", name
