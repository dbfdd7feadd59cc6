"""Issue 10: `shiftflow status` against a running local cloud, Python start included (goal: at most 300 ms wall).

A cloud is started for a state folder of its own; one `status` runs first unmeasured (the first command against a
cloud syncs the project to it, as a user's first command does), a job's guard is added (status reads and shows
one item, as after a run), then `runs` processes of `python -m shiftflow.cli.app status`, each timed from its start
to its exit, with its CPU time (user + system): the wall time moves with the machine's load, the CPU time much less. Baseline in the same run: the bare interpreter start.

    .venv/bin/python benchmarks/status_latency.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, command_environment, spread

GOAL_SECONDS = 0.3


def measure(runs: int = 10) -> dict[str, Any]:
    from shiftflow.local.cloud.client import ensure_running, stop

    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-status-") as folder:
        state = Path(folder)
        environment = command_environment(SHIFTFLOW_STATE_DIR=str(state))
        command = [sys.executable, "-m", "shiftflow.cli.app", "status"]
        try:
            ensure_running(ROOT, state, engine=None, log_level="WARNING")
            timed_process(command, environment)  # the project's first sync to this cloud (and bytecode), not measured
            add_a_guard(state)
            samples = [timed_process(command, environment) for _ in range(runs)]
        finally:
            stop(state)
    interpreter = [timed_process([sys.executable, "-c", "pass"], environment)[0] for _ in range(runs)]
    walls, cpus = [wall for wall, _ in samples], [cpu for _, cpu in samples]
    wall = spread(walls)
    return {"runs": runs, "wall_s": walls, "cpu_s": cpus, "median_s": wall["median"], "spread_s": wall,
            "cpu_median_s": spread(cpus)["median"], "python_start_s": spread(interpreter)["median"],
            "load": os.getloadavg(), "goal_s": GOAL_SECONDS, "met": wall["median"] <= GOAL_SECONDS}


def add_a_guard(state: Path) -> None:
    """A job's guard, as a job that ran leaves it: `status` then reads and shows an item, as it does for a user."""
    from shiftflow.cli.connection import connect

    with connect(None, ROOT, engine=None, state_dir=state) as connection:
        item = {"JobID": {"S": "benchmark_job"}, "JobState": {"S": "Ready"}, "LastRunEnd": {"S": "2026-01-01T00:00:00Z"}}
        connection.client("dynamodb").put_item(TableName=connection.deployment.output("JobGuardTableName"), Item=item)


def timed_process(argv: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process run to its end; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    print(json.dumps(measure(parser.parse_args().runs), indent=2))


if __name__ == "__main__":
    main()
