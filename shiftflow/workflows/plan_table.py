"""The run plan table: each run's plan, staged by LoadWorkflow so that no execution has to carry all of it.

Key (workflow_execution_id, stage_number): one item per stage of a run, `stage_plan` (the stage's slice as JSON, what
its stage execution reads with a GetItem: statemachine/workflow_stage.asl.json) and `settled` (its jobs that do not
run, JSON). `close_run` and the heal read the whole plan back (`load`). Items expire (`expires_at`, TTL) after any
execution of the run can still need them: Standard executions last at most a year, and are redriven within 14 days.
The plan is staged before the guard is taken: a run the guard turns away leaves its items, which expire the same way.

    stage(dynamodb, table, run_plan, started_at)   # LoadWorkflow: the plan's stages written
    load(dynamodb, table, run) -> run_plan          # the whole plan again, from the run's state
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from shiftflow.workflows.audit import write_items
from shiftflow.workflows.plan import compact_json, stage_slice

KEEP_FOR = timedelta(days=400)


class PlanMissing(RuntimeError):
    """A run's plan is not (or no longer) in the run plan table."""


def stage(dynamodb: Any, table: str, run_plan: dict[str, Any], started_at: str) -> None:
    """Write `run_plan`'s stages, one item each. Idempotent: a retried LoadWorkflow writes the same items again."""
    start = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    expires_at = str(int((start + KEEP_FOR).timestamp()))
    items = [{
        "workflow_execution_id": {"S": run_plan["workflow_execution_id"]},
        "stage_number": {"N": str(plan_stage["number"])},
        "stage_plan": {"S": compact_json(stage_slice(plan_stage))},
        "settled": {"S": compact_json(plan_stage["settled"])},
        "expires_at": {"N": expires_at},
    } for plan_stage in run_plan["stages"]]
    write_items(dynamodb, table, items)


def load(dynamodb: Any, table: str, run: dict[str, Any]) -> dict[str, Any]:
    """The whole plan of `run` (the run's state, as the workflow execution carries it: plan.run_state). An execution
    started before plans were staged carried its whole plan: that one is returned as it is."""
    if all("jobs" in stage for stage in run["stages"]):
        return run
    execution_id = run["workflow_execution_id"]
    staged: dict[int, dict[str, Any]] = {}
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="workflow_execution_id = :run",
        ExpressionAttributeValues={":run": {"S": execution_id}},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page.get("Items", []):
            staged[int(item["stage_number"]["N"])] = {**json.loads(item["stage_plan"]["S"]),
                                                      "settled": json.loads(item["settled"]["S"])}
    missing = [stage["number"] for stage in run["stages"] if stage["number"] not in staged]
    if missing:
        raise PlanMissing(f"run {execution_id}: the plan of stage(s) {', '.join(map(str, missing))} is not in "
                          f"{table} (LoadWorkflow stages it; items expire {KEEP_FOR.days} days after the run's start)")
    return {**run, "stages": [staged[stage["number"]] for stage in run["stages"]]}
