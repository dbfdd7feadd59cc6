"""Goal 3: configured workflows of 10, 100 and 1,000 jobs on the local runtime (benchmarks/workflow_scale.py).

Per size: wall time, wall time per job, and the largest history of any execution (workflow, stage, job), against
Step Functions' limit of 25,000 events per execution. The baseline is one run_sql_job execution of the same
`select 1` started alone, one after another, in a runtime of its own: what a job costs without a workflow around it.

    .venv/bin/python benchmarks/scale.py [--jobs 10 100 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import workflow_scale
from benchmarks.common import local_runtime, run_sql_job, stage_script

HISTORY_SHARE_GOAL = 0.20
JOBS_PER_STAGE = 50


def measure(job_counts: tuple[int, ...] = (10, 100, 1000), concurrency: int = 40, lone_jobs: int = 20) -> dict[str, Any]:
    lone = _lone_job_seconds(lone_jobs)
    runs = []
    for jobs in job_counts:
        stages = max(2, jobs // JOBS_PER_STAGE)  # alternately parallel and sequential, as workflow_scale builds them
        result = workflow_scale.measure(stages, jobs // stages, concurrency)
        if result["status"] != "SUCCEEDED" or result["audit_items_succeeded"] != result["jobs"]:
            raise RuntimeError(f"the {jobs}-job workflow ended {result['status']}")
        per_job = result["wall_seconds"] / result["jobs"]
        runs.append({**result, "per_job_s": per_job, "ratio_to_lone_job": per_job / lone})
    largest = runs[-1]["largest_of_all"]
    limit = workflow_scale.HISTORY_LIMIT
    return {"lone_job_s": lone, "lone_jobs": lone_jobs, "concurrency": concurrency, "runs": runs,
            "goal": {"jobs": runs[-1]["jobs"], "limit": limit, "goal_events": int(limit * HISTORY_SHARE_GOAL),
                     "largest": largest, "share": largest / limit, "met": largest < limit * HISTORY_SHARE_GOAL}}


def _lone_job_seconds(count: int) -> float:
    """Median wall time of one run_sql_job execution of `select 1`, started alone."""
    with local_runtime(time_scale=0.001, state_machines=["run_sql_job"]) as runtime:
        stage_script(runtime, "benchmark/select_one.sql", "select 1;")
        run_sql_job(runtime, "warm-up", "benchmark/select_one.sql")
        return statistics.median(run_sql_job(runtime, f"lone{n}", "benchmark/select_one.sql")[1] for n in range(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[10, 100, 1000])
    arguments = parser.parse_args()
    print(json.dumps(measure(tuple(arguments.jobs)), indent=2))


if __name__ == "__main__":
    main()
