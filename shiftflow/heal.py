"""Heal the guard of a pipeline or workflow run that ended outside its own failure path.

A run that is stopped (StopExecution), times out, or fails where its Catch cannot help (States.Runtime,
States.DataLimitExceeded, the history limit) runs none of its states any more: its guard would stay Running with a
dead owner, its history or audit item absent or RUNNING, and nobody would know. An EventBridge rule on the
execution's status change (FAILED, TIMED_OUT, ABORTED) invokes functions/heal_ended_run, which calls `heal` here.

Events can arrive twice or late, so every step is conditional and keyed by the execution:
1. claim: one conditional write turns the guard Failed, only while it is still Running and owned by the execution,
   and adds the execution to the guard's `HealPendingFor` set (a run whose own failure path ran left it Failed
   already: nothing to do; a guard released, reset or taken over by a later run is left alone). A set, because an
   earlier run's unfinished heal may still be pending on the guard a later run took: each heal adds and removes only
   its own execution, so neither erases the other's;
2. records: the run history item (pipelines, put only if absent or still the RUNNING one of its start) or the
   workflow and job audit items (workflows, `close_run`, which settles only what is still RUNNING or missing); from
   the guard as the run left it, or, when a later run has taken the guard since the claim, from the run's own history;
3. notify at most once: the delivery whose conditional removal of its execution from `HealPendingFor` succeeds is
   the one that publishes (two deliveries at once may both write the records, which are idempotent, but only one
   removes the mark); a publish that fails puts the mark back, so that Lambda's retry of that delivery finds it and
   finishes steps 2 and 3. A crash between the removal and the publish is the one case that notifies nobody.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from shiftflow.guard import FAILED as GUARD_FAILED
from shiftflow.guard import RUNNING as GUARD_RUNNING
from shiftflow.guard import plain
from shiftflow.jobs.executions import last_entered_state, state_output
from shiftflow.workflows import plan_table
from shiftflow.workflows.audit import close_run, record_start

PIPELINE, WORKFLOW = "pipeline", "workflow"
# The execution statuses the rule sends; SUCCEEDED runs released their guard themselves.
ENDED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
# The error recorded when the event names none (StopExecution without an error, for one).
_DEFAULT_ERRORS = {"FAILED": "ExecutionFailed", "TIMED_OUT": "ExecutionTimedOut", "ABORTED": "ExecutionAborted"}
# The workflow state whose output is the run's state (statemachine/workflow.asl.json); the plan is in the run plan
# table (shiftflow.workflows.plan_table).
PLAN_STATE = "LoadWorkflow"
# The pipeline state whose output is the run's settings, its run_date among them (sales_data_pipeline.asl.json).
PIPELINE_RUN_STATE = "MergeRunInput"
# A cause can be 32,768 characters; the guard, the history and the notification keep a readable summary.
CAUSE_LIMIT = 2000
# A string set: the executions whose heal has claimed the guard and not notified yet.
HEAL_MARK = "HealPendingFor"


@dataclass(frozen=True)
class EndedRun:
    """One "Step Functions Execution Status Change" event, as much of it as the heal uses."""

    execution_arn: str
    state_machine_arn: str
    status: str
    started_at: str  # ISO 8601, as $$.Execution.StartTime
    ended_at: str
    error: str
    cause: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> EndedRun:
        detail = event["detail"]
        status = detail["status"]
        if status not in ENDED_STATUSES:
            raise ValueError(f"status {status!r} is not one the heal handles ({', '.join(ENDED_STATUSES)})")
        cause = detail.get("cause") or ""
        return cls(
            execution_arn=detail["executionArn"],
            state_machine_arn=detail["stateMachineArn"],
            status=status,
            started_at=_iso(detail.get("startDate")),
            ended_at=_iso(detail.get("stopDate")),
            error=detail.get("error") or _DEFAULT_ERRORS[status],
            cause=cause if len(cause) <= CAUSE_LIMIT else cause[:CAUSE_LIMIT] + " [cut]",
        )

    def message(self) -> str:
        """What happened, for the guard's LastError, the history and the notification."""
        ended = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was stopped"}[self.status]
        return f"the execution {ended} outside its own failure path" + (f": {self.cause}" if self.cause else "")


@dataclass(frozen=True)
class HealTargets:
    """Where the heal writes (the stack's tables and topic) and which state machine is which kind of run."""

    guard_table: str
    history_table: str
    workflow_audit_table: str
    job_audit_table: str
    run_plan_table: str
    topic_arn: str
    pipeline_state_machines: frozenset[str]
    workflow_state_machines: frozenset[str]

    def kind(self, state_machine_arn: str) -> str:
        if state_machine_arn in self.pipeline_state_machines:
            return PIPELINE
        if state_machine_arn in self.workflow_state_machines:
            return WORKFLOW
        raise ValueError(f"{state_machine_arn} is neither a pipeline nor a workflow state machine of this stack")


@dataclass(frozen=True)
class HealOutcome:
    execution_arn: str
    job: str | None  # the guard's JobID, None when the execution owns no guard to heal
    healed: bool  # this invocation (or an earlier one it finished) marked the guard Failed
    notified: bool

    def as_dict(self) -> dict[str, Any]:
        return {"execution_arn": self.execution_arn, "job": self.job, "healed": self.healed, "notified": self.notified}


def heal(dynamodb: Any, stepfunctions: Any, sns: Any, targets: HealTargets, run: EndedRun) -> HealOutcome:
    """Heal the guard `run` still owns, record the run as it ended and notify, at most once (see the module)."""
    kind = targets.kind(run.state_machine_arn)
    guard = _guard_to_heal(dynamodb, targets.guard_table, run.execution_arn)
    if guard is None:
        return HealOutcome(run.execution_arn, None, healed=False, notified=False)
    job = guard["JobID"]
    if not _heal_pending(guard, run.execution_arn):
        if guard.get("JobState") != GUARD_RUNNING:  # its own failure path ran, or it was released or reset
            return HealOutcome(run.execution_arn, job, healed=False, notified=False)
        step = last_entered_state(stepfunctions, run.execution_arn) or "unknown"
        if not _claim(dynamodb, targets.guard_table, job, run, step):
            return HealOutcome(run.execution_arn, job, healed=False, notified=False)
        guard = {**guard, "FailedStep": step}
    elif guard.get("OwnerExecution") != run.execution_arn:
        guard = _run_as_it_took_the_guard(stepfunctions, kind, job, run)
    step = str(guard.get("FailedStep") or "unknown")
    if kind == PIPELINE:
        subject, message = _record_pipeline_run(dynamodb, targets.history_table, guard, run, step)
    else:
        subject, message = _close_workflow_run(dynamodb, stepfunctions, targets, run, step)
    if not _claim_notification(dynamodb, targets.guard_table, job, run.execution_arn):
        return HealOutcome(run.execution_arn, job, healed=True, notified=False)  # a concurrent delivery notifies
    try:
        sns.publish(
            TopicArn=targets.topic_arn,
            Subject=subject,
            Message=message,
            MessageAttributes={
                "job_id" if kind == PIPELINE else "workflow_id": {"DataType": "String", "StringValue": job},
                "status": {"DataType": "String", "StringValue": run.status},
            },
        )
    except Exception:
        _give_back_notification(dynamodb, targets.guard_table, job, run.execution_arn)
        raise
    return HealOutcome(run.execution_arn, job, healed=True, notified=True)


def _run_as_it_took_the_guard(stepfunctions: Any, kind: str, job: str, run: EndedRun) -> dict[str, Any]:
    """The guard's fields the records use, as the ended run set them, read from its history: the unfinished heal of
    a run whose guard a later run has taken since (after a reset) finds that run's JobStart, RunDate and FailedStep
    on it, and would record the later run's start as this run's (its history key)."""
    fields: dict[str, Any] = {
        "JobID": job,
        "JobStart": run.started_at,  # AcquireJobGuard's $$.Execution.StartTime
        "FailedStep": last_entered_state(stepfunctions, run.execution_arn) or "unknown",
    }
    if kind == PIPELINE:
        settings = state_output(stepfunctions, run.execution_arn, PIPELINE_RUN_STATE)
        run_date = settings.get("run", {}).get("run_date") if isinstance(settings, dict) else None
        if not isinstance(run_date, str):
            raise ValueError(f"{run.execution_arn} has no run date in its history ({PIPELINE_RUN_STATE} never exited)")
        fields["RunDate"] = run_date
    return fields


def _guard_to_heal(dynamodb: Any, table: str, execution_arn: str) -> dict[str, Any] | None:
    """The guard the execution owns, or one whose heal by this execution was started and not finished.

    The guard table holds one small item per job, so a scan finds it without knowing the job id (a pipeline's
    job id may come from a default inside its definition)."""
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="OwnerExecution = :execution OR contains(#mark, :execution)",
        ExpressionAttributeNames={"#mark": HEAL_MARK},
        ExpressionAttributeValues={":execution": {"S": execution_arn}},
    )
    items = [plain(item) for page in pages for item in page["Items"]]
    pending = [item for item in items if _heal_pending(item, execution_arn)]
    owned = [item for item in items if item.get("OwnerExecution") == execution_arn]
    return (pending or owned or [None])[0]


def _heal_pending(guard: dict[str, Any], execution_arn: str) -> bool:
    """The execution's heal claimed this guard and has not notified yet."""
    return execution_arn in guard.get(HEAL_MARK, set())


def _claim(dynamodb: Any, table: str, job: str, run: EndedRun, step: str) -> bool:
    """Running and owned by the execution -> Failed, marked for the heal; False when the condition is not met."""
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"JobID": {"S": job}},
            UpdateExpression=(
                "SET JobState = :failed, JobEnd = :end, LastStatus = :status, LastExecution = :execution, "
                "FailedStep = :step, LastError = :error ADD #mark :marks"
            ),
            ConditionExpression="OwnerExecution = :execution AND JobState = :running",
            ExpressionAttributeNames={"#mark": HEAL_MARK},
            ExpressionAttributeValues={
                ":failed": {"S": GUARD_FAILED},
                ":running": {"S": GUARD_RUNNING},
                ":end": {"S": run.ended_at},
                ":status": {"S": run.status},
                ":execution": {"S": run.execution_arn},
                ":marks": {"SS": [run.execution_arn]},
                ":step": {"S": step},
                ":error": {"S": f"{run.error}: {run.message()}"},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False  # released, failed by its own failure path, reset, or taken by a later run
    return True


def _claim_notification(dynamodb: Any, table: str, job: str, execution_arn: str) -> bool:
    """Remove the execution from the heal mark (another execution's pending heal stays); True for the one delivery
    whose removal succeeded (it notifies)."""
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"JobID": {"S": job}},
            UpdateExpression="DELETE #mark :marks",
            ConditionExpression="contains(#mark, :execution)",
            ExpressionAttributeNames={"#mark": HEAL_MARK},
            ExpressionAttributeValues={":execution": {"S": execution_arn}, ":marks": {"SS": [execution_arn]}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False  # a concurrent delivery of the same event claimed it first
    return True


def _give_back_notification(dynamodb: Any, table: str, job: str, execution_arn: str) -> None:
    """The publish failed: the execution in the mark again, for the retry of this delivery to notify (adding to a set
    leaves the other executions' marks as they are)."""
    dynamodb.update_item(
        TableName=table,
        Key={"JobID": {"S": job}},
        UpdateExpression="ADD #mark :marks",
        ExpressionAttributeNames={"#mark": HEAL_MARK},
        ExpressionAttributeValues={":marks": {"SS": [execution_arn]}},
    )


def _record_pipeline_run(
    dynamodb: Any, table: str, guard: dict[str, Any], run: EndedRun, step: str
) -> tuple[str, str]:
    """The run history item, as RecordFailedRun would have written it, with the execution's status."""
    job = guard["JobID"]
    summary = {"failed_step": step, "error": run.error, "message": run.message()}
    item = {
        "JobID": {"S": job},
        # The run's own start as it recorded it in the guard: the same sort key its own records use.
        "RunStart": {"S": str(guard.get("JobStart") or run.started_at)},
        "RunEnd": {"S": run.ended_at},
        "ExecutionArn": {"S": run.execution_arn},
        "RunDate": {"S": str(guard.get("RunDate", ""))},
        "Status": {"S": run.status},
        "FailedStep": {"S": step},
        "Error": {"S": run.error},
        "Message": {"S": summary["message"]},
    }
    try:  # over the RUNNING item the run wrote at its start (RecordRunStart), never over its own end
        dynamodb.put_item(TableName=table, Item=item,
                          ConditionExpression="attribute_not_exists(JobID) OR #status = :running",
                          ExpressionAttributeNames={"#status": "Status"},
                          ExpressionAttributeValues={":running": {"S": "RUNNING"}})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # ended by the run itself, or written by an earlier delivery
    return f"Shiftflow: {job} {run.status}"[:100], json.dumps(summary)


def _close_workflow_run(
    dynamodb: Any, stepfunctions: Any, targets: HealTargets, run: EndedRun, step: str
) -> tuple[str, str]:
    """The workflow audit item ended with the execution's status, every job still RUNNING STOPPED, the rest
    settled (close_run); the notice close_run words."""
    output = state_output(stepfunctions, run.execution_arn, PLAN_STATE)
    run_state = output.get("run") if isinstance(output, dict) else None
    if not isinstance(run_state, dict):
        raise ValueError(f"{run.execution_arn} has no plan in its history ({PLAN_STATE} never exited)")
    plan = plan_table.load(dynamodb, targets.run_plan_table, run_state)
    # Stopped before it recorded its start, the run has no audit item yet: close_run needs one to end.
    record_start(dynamodb, targets.workflow_audit_table, plan, run.execution_arn, run.started_at)
    notice = close_run(
        dynamodb,
        job_table=targets.job_audit_table,
        workflow_table=targets.workflow_audit_table,
        plan=plan,
        status=run.status,
        ended_at=run.ended_at,
        failure={"failed_step": step, "error": run.error, "message": run.message()},
    )
    return notice["subject"], notice["message"]


def _iso(epoch_millis: Any) -> str:
    """An event's epoch-millisecond date as Step Functions writes $$.Execution.StartTime; now when absent."""
    moment = (
        datetime.datetime.fromtimestamp(epoch_millis / 1000, datetime.timezone.utc)
        if isinstance(epoch_millis, (int, float))
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
