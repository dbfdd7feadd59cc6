"""Goal 4 and issue 10: `make demo` end to end after setup, as a user runs it, cold and with the local cloud up.

- cold: each run a fresh process in a fresh state folder (SHIFTFLOW_STATE_DIR): the command starts the local cloud
  on demand. With this user's cache (parsed state machines, botocore's data: shiftflow.user_cache, kept
  across clones and state folders); after setup on a machine that never ran Shiftflow (a cache folder of its own,
  SHIFTFLOW_CACHE_DIR, filled by the step `make setup` ends with, shiftflow.local.warm_caches, timed apart): the goal
  (5 s) is judged on these (three runs); and with an empty cache folder (as if setup had not warmed it). The two
  situations no goal judges run once each (FIGURE_RUNS).
- warm: one cloud started first for a state folder, then each run a fresh process against it (goal 3 s).
Python start included. Baselines in the same run: the bare interpreter start, the import of the CLI (what every
command pays before doing anything), and `shiftflow status` against a running cloud (benchmarks/status_latency.py).

    .venv/bin/python benchmarks/demo.py [--runs 3] [--command make|shiftflow] [--status-runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import status_latency
from benchmarks.common import ROOT, command_environment

GOAL_SECONDS = 5.0
WARM_GOAL_SECONDS = 3.0


# The situations no goal judges (this user's cache, empty caches) are figures beside the goal's: one run each, as
# each `make demo` costs the suite about 5 s.
FIGURE_RUNS = 1


def measure(runs: int = 3, command: str = "make", status_runs: int = 10,
            figure_runs: int = FIGURE_RUNS) -> dict[str, Any]:
    """`make demo` (or the `shiftflow demo` command it runs, without make) `runs` times in each situation a goal
    judges (after setup, with the cloud up), `figure_runs` (at most `runs`) in the others."""
    figure_runs = min(runs, figure_runs)
    python = sys.executable
    argv = (["make", "--no-print-directory", "-C", str(ROOT), "demo"] if command == "make"
            else [str(Path(python).with_name("shiftflow")), "demo"])
    interpreter = [_timed([python, "-c", "pass"]) for _ in range(runs)]
    cli_import = [_timed([python, "-c", "import shiftflow.cli.app"]) for _ in range(runs)]
    cold = [_timed(argv) for _ in range(figure_runs)]
    setup_warm: list[float] = []
    after_setup = [_timed(argv, empty_cache=True, warmed=setup_warm) for _ in range(runs)]
    empty_cache = [_timed(argv, empty_cache=True) for _ in range(figure_runs)]
    warm = _timed_with_cloud_up(argv, runs)
    median, setup_median, empty_median, warm_median = (
        statistics.median(values) for values in (cold, after_setup, empty_cache, warm))
    return {"command": " ".join(["make", "demo"] if command == "make" else ["shiftflow", "demo"]), "runs": runs,
            "demo_s": cold, "median_s": median, "after_setup_s": after_setup, "after_setup_median_s": setup_median,
            "setup_warm_s": setup_warm, "empty_cache_s": empty_cache, "empty_cache_median_s": empty_median,
            "warm_s": warm, "warm_median_s": warm_median, "python_start_s": statistics.median(interpreter),
            "cli_import_s": statistics.median(cli_import), "goal_s": GOAL_SECONDS, "met": setup_median <= GOAL_SECONDS,
            "warm_goal_s": WARM_GOAL_SECONDS, "warm_met": warm_median <= WARM_GOAL_SECONDS,
            "status": status_latency.measure(status_runs), "load": os.getloadavg()}


def _environment(state: str, cache: str | None = None) -> dict[str, str]:
    return command_environment(SHIFTFLOW_STATE_DIR=state, **({"SHIFTFLOW_CACHE_DIR": cache} if cache else {}))


def _timed(argv: list[str], empty_cache: bool = False, warmed: list[float] | None = None) -> float:
    """One run in a new state folder (and a new cache folder if asked, first warmed as `make setup` warms it when
    `warmed` is given: the warm-up's seconds are appended there); the cloud it started is stopped after."""
    from shiftflow.local.cloud.client import stop

    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-demo-") as state, \
            tempfile.TemporaryDirectory(prefix="shiftflow-bench-cache-") as cache:
        environment = _environment(state, cache if empty_cache else None)
        if warmed is not None:
            warmed.append(_run([sys.executable, "-m", "shiftflow.local.warm_caches"], environment))
        try:
            return _run(argv, environment)
        finally:
            stop(Path(state))  # the local cloud the command started in the background, before its folder goes


def _timed_with_cloud_up(argv: list[str], runs: int) -> list[float]:
    from shiftflow.local.cloud.client import ensure_running, stop

    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-demo-") as state:
        try:
            ensure_running(ROOT, Path(state), log_level="WARNING")
            return [_run(argv, _environment(state)) for _ in range(runs)]
        finally:
            stop(Path(state))


def _run(argv: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    finished = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--command", choices=["make", "shiftflow"], default="make")
    parser.add_argument("--status-runs", type=int, default=10)
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.runs, arguments.command, arguments.status_runs), indent=2))


if __name__ == "__main__":
    main()
