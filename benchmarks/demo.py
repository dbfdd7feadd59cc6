"""Goal 4: `make demo` end to end after setup, as a user runs it, and the figures of issues 2 and 4.

Each run is a fresh process in a fresh state folder (SHIFTFLOW_STATE_DIR), Python start included. Baselines in the
same run: the bare interpreter start, and the import of the CLI (what every command pays before doing anything).

    .venv/bin/python benchmarks/demo.py [--runs 3] [--command make|shiftflow]
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

from benchmarks.common import ROOT

GOAL_SECONDS = 5.0


def measure(runs: int = 3, command: str = "make") -> dict[str, Any]:
    """`make demo` (or the `shiftflow demo` command it runs, without make) `runs` times, each in a new state folder."""
    python = sys.executable
    argv = (["make", "--no-print-directory", "-C", str(ROOT), "demo"] if command == "make"
            else [str(Path(python).with_name("shiftflow")), "demo"])
    interpreter = [_timed([python, "-c", "pass"]) for _ in range(runs)]
    cli_import = [_timed([python, "-c", "import shiftflow.cli.app"]) for _ in range(runs)]
    demo = [_timed(argv) for _ in range(runs)]
    median = statistics.median(demo)
    return {"command": " ".join(["make", "demo"] if command == "make" else ["shiftflow", "demo"]), "runs": runs,
            "demo_s": demo, "median_s": median, "python_start_s": statistics.median(interpreter),
            "cli_import_s": statistics.median(cli_import), "goal_s": GOAL_SECONDS, "met": median <= GOAL_SECONDS}


def _timed(argv: list[str]) -> float:
    from shiftflow.local.cloud.client import stop

    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-demo-") as state:
        environment = {**os.environ, "SHIFTFLOW_STATE_DIR": state}
        started = time.perf_counter()
        try:
            finished = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
            elapsed = time.perf_counter() - started
        finally:
            stop(Path(state))  # the local cloud the command started in the background, before its folder goes
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--command", choices=["make", "shiftflow"], default="make")
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.runs, arguments.command), indent=2))


if __name__ == "__main__":
    main()
