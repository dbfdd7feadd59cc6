"""The whole benchmark suite (issue 6): measure, then write docs/benchmarks/README.md with tables and charts.

    make bench                                             # = .venv/bin/python benchmarks/run_all.py
    .venv/bin/python benchmarks/run_all.py --quick --out /tmp/bench   # tiny sizes: the code paths only

Sections: demo (and issue 4's transition overhead and the emulator's figures), completion, throughput, scale,
streaming (issue 12). A
section that fails is reported as not measured (with its error) and the command exits 1 after writing the report.
The full suite (the goals' own sizes, no --rows / --jobs / --time-scale) also exits 1 when a goal is missed or the
suite took longer than BUDGET_SECONDS, with a line naming each ("[bench] goal missed: throughput: ...", "[bench] over
budget: ..."); --quick and resized runs print the verdicts but do not judge them (tiny sizes are not the goals').
The last line is the run's time, in all and per section; results.json keeps it (meta.suite_s, meta.section_s, and the
CPU seconds per section, meta.section_cpu_s) beside the verdicts (meta.goals, meta.goals_missed, meta.budget_met).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (completion, dataapi_overhead, demo, local_transition_overhead, report, scale, streaming,
                        throughput)
from benchmarks.common import ROOT

BUDGET_SECONDS = 600
PACKAGES = ("moto", "duckdb", "sqlglot", "boto3", "botocore", "aws-lambda-powertools", "jsonata-python", "matplotlib")
SECTIONS = ("demo", "transitions", "dataapi", "completion", "throughput", "scale", "streaming")
FULL = {
    "durations": (1, 30, 600), "phases": (0, 2.5, 5, 7.5), "time_scale": 0.01,
    "rows": (1_000_000, 5_000_000), "repeat": throughput.REPEAT, "long_repeat": throughput.LONG_REPEAT,
    "fixed_cost_runs": 7,
    "jobs": (10, 100, 1000), "lone_jobs": 20,
    "demo_runs": 3, "demo_command": "make", "status_runs": 10,
    "transition_states": 200, "transition_runs": 5,
    "dataapi": {"statements": 500, "samples": 20, "rows": 1_000_000, "runs": 5},
    "streaming": {"records": 1_000_000, "new": 10_000, "repeat": 3, "samples": 10},
}
QUICK = {
    "durations": (1, 30), "phases": (0,), "time_scale": 0.001,
    "rows": (20_000,), "repeat": 1, "long_repeat": 1, "fixed_cost_runs": 2,
    "jobs": (4, 10), "lone_jobs": 3,
    "demo_runs": 1, "demo_command": "shiftflow", "status_runs": 2,
    "transition_states": 20, "transition_runs": 1,
    "dataapi": {"statements": 20, "samples": 2, "rows": 10_000, "runs": 1},
    "streaming": {"records": 2_000, "new": 200, "repeat": 1, "samples": 3},
}


def sections(options: dict[str, Any]) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "demo": lambda: demo.measure(options["demo_runs"], options["demo_command"], options["status_runs"]),
        "transitions": lambda: local_transition_overhead.measure(options["transition_states"],
                                                                 options["transition_runs"]),
        "dataapi": lambda: dataapi_overhead.measure(**options["dataapi"]),
        "completion": lambda: completion.measure(tuple(options["durations"]), tuple(options["phases"]),
                                                 options["time_scale"]),
        "throughput": lambda: throughput.measure(tuple(options["rows"]), options["repeat"], options["fixed_cost_runs"],
                                                 options["long_repeat"]),
        "scale": lambda: scale.measure(tuple(options["jobs"]), lone_jobs=options["lone_jobs"]),
        "streaming": lambda: streaming.measure(**options["streaming"]),
    }


def run(quick: bool = False, out: Path = ROOT / "docs" / "benchmarks", only: tuple[str, ...] = SECTIONS,
        overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Measure the chosen sections, render the report into `out`, return every figure."""
    options = {**(QUICK if quick else FULL), **(overrides or {})}
    started = time.perf_counter()
    cpu_start = _cpu_seconds()
    results: dict[str, Any] = {"meta": {"quick": quick, "options": options, "load_start": os.getloadavg(),
                                        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                                            "%Y-%m-%d %H:%M UTC"),
                                        "commit": _commit(), "machine": machine(), "budget_s": BUDGET_SECONDS,
                                        "section_s": {}, "section_cpu_s": {}}}
    for name, measure in sections(options).items():
        if name not in only:
            continue
        print(f"[bench] {name} ...", flush=True)
        section_started, section_cpu = time.perf_counter(), _cpu_seconds()[1]
        try:
            results[name] = measure()
        except Exception:
            traceback.print_exc()
            results[name] = {"error": traceback.format_exc(limit=4)}
        results["meta"]["section_s"][name] = time.perf_counter() - section_started
        # The CPU seconds of this process and the processes it waited for: the work itself, which a busy machine
        # stretches far less than the wall time (compare runs on a shared machine by these).
        results["meta"]["section_cpu_s"][name] = _cpu_seconds()[1] - section_cpu
        print(f"[bench] {name} done in {results['meta']['section_s'][name]:.0f} s", flush=True)
    results["meta"]["suite_s"] = time.perf_counter() - started
    results["meta"]["budget_met"] = results["meta"]["suite_s"] <= BUDGET_SECONDS
    results["meta"]["goals"] = report.goals(results)
    results["meta"]["goals_missed"] = [goal for goal in results["meta"]["goals"] if goal["met"] is False]
    results["meta"]["load_end"] = os.getloadavg()
    machine_s, own_s = (end - start for end, start in zip(_cpu_seconds(), cpu_start))
    results["meta"]["cpu"] = {"machine_busy_s": machine_s, "suite_s": own_s,
                              "others_share": max(machine_s - own_s, 0.0) / (results["meta"]["suite_s"]
                                                                             * (os.cpu_count() or 1))}
    readme = report.render(results, out)
    print(f"[bench] wrote {readme} in {results['meta']['suite_s']:.0f} s", flush=True)
    return results


def verdict(results: dict[str, Any], judged: bool) -> tuple[list[str], list[str], str]:
    """(failures, notes, the time line). Failures name a section that failed and, when `judged` (the full suite at the
    goals' sizes), a missed goal or the budget exceeded; unjudged runs get those as notes. The time line: the suite's
    seconds against the budget, then each section's seconds in the order they ran."""
    meta = results["meta"]
    failures = [f"[bench] failed: {name} (not measured: its error is above and in the report)"
                for name in SECTIONS if "error" in results.get(name, {})]
    verdicts = [f"[bench] goal missed: {goal['section']}: {goal['what']}: target {goal['target']}, measured "
                f"{goal['measured']}" for goal in meta["goals_missed"]]
    if not meta["budget_met"]:
        slowest = sorted(meta["section_s"].items(), key=lambda item: -item[1])[:3]
        verdicts.append(f"[bench] over budget: the suite took {meta['suite_s']:.0f} s, budget {meta['budget_s']:.0f} s "
                        f"(slowest: {', '.join(f'{name} {seconds:.0f} s' for name, seconds in slowest)})")
    notes = [] if judged else [line.replace("[bench] ", "[bench] not judged (not the goals' sizes): ", 1)
                               for line in verdicts]
    timing = (f"[bench] total {meta['suite_s']:.0f} s (budget {meta['budget_s']:.0f} s: "
              f"{'met' if meta['budget_met'] else 'not met'}); "
              + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in meta["section_s"].items()))
    return failures + (verdicts if judged else []), notes, timing


def machine() -> dict[str, Any]:
    cpu_model = "unknown CPU"
    memory_gb = 0.0
    try:
        cpu_model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory_gb = kib / 1024 / 1024
    except (OSError, StopIteration):
        pass
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model, "memory_gb": memory_gb,
            "python": platform.python_version(), "os": platform.platform(), "packages": versions}


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process and its children so far)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    own = sum(getattr(resource.getrusage(who), part) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for part in ("ru_utime", "ru_stime"))
    return busy / os.sysconf("SC_CLK_TCK"), own


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the code paths in about half a minute")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks", help="where the report goes")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run")
    parser.add_argument("--rows", type=int, nargs="+", help="staging sizes of the throughput section")
    parser.add_argument("--jobs", type=int, nargs="+", help="workflow sizes of the scale section")
    parser.add_argument("--time-scale", type=float, help="time compression of the completion section")
    arguments = parser.parse_args(argv)
    overrides = {key: value for key, value in (("rows", arguments.rows), ("jobs", arguments.jobs),
                                               ("time_scale", arguments.time_scale)) if value}
    results = run(arguments.quick, arguments.out, tuple(arguments.only), overrides)
    judged = not arguments.quick and not overrides
    failures, notes, timing = verdict(results, judged)
    for line in failures + notes:
        print(line, file=sys.stderr, flush=True)
    print(timing, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
