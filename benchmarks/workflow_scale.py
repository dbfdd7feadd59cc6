"""A configured workflow of 1,000 jobs in 20 stages on the local runtime: wall time and history sizes.

Every job runs `select 1` through the real path (workflow -> workflow_stage child per stage -> run_sql_job child per
job, with the audit items). Prints the wall time, the number of executions and the largest history of each kind;
Step Functions ends an execution at 25,000 events, so the largest must stay far below.

    .venv/bin/python benchmarks/workflow_scale.py [--stages 20] [--jobs-per-stage 50] [--concurrency 40]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import history_events, history_length, local_runtime
from shiftflow.local.moto_gaps import wait_for_execution
from shiftflow.local.runtime import LocalRuntime
from shiftflow.workflows import parse_workflow, push, run_input
from shiftflow.workflows.audit import job_items

HISTORY_LIMIT = 25_000


def scale_workflow(stages: int, jobs_per_stage: int, concurrency: int) -> dict[str, Any]:
    """Half the stages parallel (capped at `concurrency`), half sequential; each job its own name."""
    return {
        "workflow_id": "scale_benchmark",
        "workflow_description": f"{stages * jobs_per_stage} trivial jobs in {stages} stages",
        "workflow_stages": [
            {
                "stage_description": f"stage {number}",
                "execution_flag": "y",
                "execution_type": "parallel" if number % 2 else "sequential",
                **({"max_concurrency": concurrency} if number % 2 else {}),
                "scripts": [
                    {"name": f"s{number:02d}_job{index:03d}", "script": "benchmark/select_one.sql"}
                    for index in range(jobs_per_stage)
                ],
            }
            for number in range(1, stages + 1)
        ],
    }


def history_size(sfn: Any, execution_arn: str) -> int:
    return len(history_events(sfn, execution_arn))


def largest_histories(sfn: Any, deployment: Any) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
    """The largest history of each kind of execution ((events, ARN) by state machine) and how many executions of
    each kind ran. Every execution is sized by its last event's id (one call); the largest of each kind is then
    counted event by event, and must agree."""
    largest: dict[str, tuple[int, str]] = {}
    counts: dict[str, int] = defaultdict(int)
    for name in ("workflow", "workflow_stage", "run_sql_job"):
        paginator = sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=deployment.state_machine_arn(name)):
            for execution in page["executions"]:
                counts[name] += 1
                size = history_length(sfn, execution["executionArn"])
                if size > largest.get(name, (0, ""))[0]:
                    largest[name] = (size, execution["executionArn"])
    for name, (size, arn) in largest.items():
        counted = history_size(sfn, arn)
        if counted != size:
            raise RuntimeError(f"the largest {name} history has {counted} events, its last event's id says {size}")
    return largest, dict(counts)


def warm_up(runtime: LocalRuntime) -> None:
    """One statement before the run: the emulator's first statements create its catalog, and 40 of them at once
    collide on it in DuckDB (a local-only race, reported; Redshift has its catalog already)."""
    from shiftflow.jobs.status import wait_for_end

    data_api = runtime.client("redshift-data")
    statement = data_api.execute_statement(ClusterIdentifier="shiftflow-local", Database="dev", DbUser="shiftflow",
                                           Sql="select 1")["Id"]
    wait_for_end(data_api, statement)


def measure(stages: int, jobs_per_stage: int, concurrency: int, log_level: str = "WARNING") -> dict[str, Any]:
    with local_runtime(time_scale=0.001, log_level=log_level) as runtime:
        outputs, deployment = runtime.deployment.outputs, runtime.deployment
        runtime.client("s3").put_object(Bucket=outputs["ScriptsBucketName"], Key="benchmark/select_one.sql", Body=b"select 1;")
        dynamodb, sfn = runtime.client("dynamodb"), runtime.client("stepfunctions")
        warm_up(runtime)
        push(dynamodb, outputs["WorkflowConfigTableName"], parse_workflow(scale_workflow(stages, jobs_per_stage, concurrency)))

        started = time.perf_counter()
        arn = sfn.start_execution(
            stateMachineArn=deployment.state_machine_arn("workflow"), input=json.dumps(run_input("scale_benchmark"))
        )["executionArn"]
        status = wait_for_execution(arn, 3600)
        wall = time.perf_counter() - started

        largest, counts = largest_histories(sfn, deployment)
        audit = job_items(dynamodb, outputs["JobAuditTableName"], arn.rsplit(":", 1)[-1])
        return {
            "status": status,
            "jobs": stages * jobs_per_stage,
            "stages": stages,
            "wall_seconds": wall,
            "executions": counts,
            "largest_history": {name: size for name, (size, _) in largest.items()},
            "largest_of_all": max(size for size, _ in largest.values()),
            "history_limit": HISTORY_LIMIT,
            "audit_items_succeeded": sum(item["execution_status"] == "SUCCEEDED" for item in audit),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--jobs-per-stage", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--log-level", default="WARNING", help="the functions' log level (INFO prints every job)")
    arguments = parser.parse_args()
    result = measure(arguments.stages, arguments.jobs_per_stage, arguments.concurrency, arguments.log_level)
    print(json.dumps(result, indent=2))
    if result["status"] != "SUCCEEDED" or result["largest_of_all"] >= HISTORY_LIMIT // 2:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
