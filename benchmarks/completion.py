"""Goal 1: how soon a finished SQL job is seen, and what a job costs in state transitions.

Shiftflow's long-polling pattern (statemachine/run_sql_job.asl.json with completion poll: submit through a Lambda,
then a Lambda long-polling describe-statement for up to 30 s, RouteOnSqlStatus looping; its event mode is measured by
benchmarks/event_completion.py) against the reference pattern of the AWS samples
(benchmarks/baseline/poll_every_10s.asl.json: submit, then Wait 10 s -> describe-statement -> Choice, calling the Data
API directly through aws-sdk tasks), both in one LocalRuntime on the same emulator.

The statement is `select bench_sleep(:seconds)`, a DuckDB function that sleeps seconds * time_scale: time is compressed
by `time_scale` for the statement, the Wait states (moto patch) and the Data API long polls (emulator) alike.

    .venv/bin/python benchmarks/completion.py [--durations 1 30 600] [--phases 0 2.5 5 7.5] [--time-scale 0.01]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import statistics
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    TARGET, emulated_seconds, emulated_sleep, history_events, local_runtime, run_sql_job, seconds, stage_script,
    state_transitions,
)

BASELINE_ASL = Path(__file__).resolve().parent / "baseline" / "poll_every_10s.asl.json"
SCRIPT_KEY = "benchmark/emulated_duration.sql"
SQL = "select bench_sleep(cast(:seconds as float))"
# Public prices (us-east-1): Step Functions Standard per state transition; Lambda on arm64 (template.yaml's
# Architectures) per GB-second and per request.
PRICE_PER_TRANSITION = 0.025 / 1000
LAMBDA_PRICE_PER_GB_SECOND = 0.0000133334
LAMBDA_PRICE_PER_REQUEST = 0.20 / 1_000_000
BASELINE_WAIT_SECONDS = 10
DETECTION_GOAL_SECONDS = 0.050
TRANSITIONS_PER_30_S_GOAL = 2
SPEEDUP_GOAL = 100


def measure(durations: tuple[float, ...] = (1, 30, 600), phases: tuple[float, ...] = (0, 2.5, 5, 7.5),
            time_scale: float = 0.01) -> dict[str, Any]:
    """Every duration + phase once with each pattern, the two at once; per job figures and a summary per duration.

    A phase shifts a duration against the baseline's 10-s polling grid (durations that are multiples of 10 s race
    the poll); the mean over evenly spread phases is what random durations would see.
    """
    with local_runtime(time_scale=time_scale, data_api_time_scale=time_scale, state_machines=["run_sql_job"]) as runtime:
        sfn = runtime.client("stepfunctions")
        baseline = sfn.create_state_machine(
            name="benchmark-poll-every-10s", definition=BASELINE_ASL.read_text(),
            roleArn=_declare_baseline_role(runtime))["stateMachineArn"]
        stage_script(runtime, SCRIPT_KEY, SQL + ";\n")
        memory_gb = int(runtime.template.function_globals().get("MemorySize", 128)) / 1024
        patterns = {
            "shiftflow": lambda job, emulated: run_sql_job(runtime, job, SCRIPT_KEY, {"seconds": emulated})[0],
            "baseline": lambda job, emulated: _run_baseline(runtime, baseline, emulated),
        }
        jobs: list[dict[str, Any]] = []
        with emulated_sleep(runtime.emulator.engine, TARGET["Database"], time_scale):
            for pattern, run in patterns.items():  # warm-up: first parse, first session, first translation
                run(f"warm-up-{pattern}", 0)
            # Both patterns' jobs of one duration and phase run at once: each spends nearly all its time waiting
            # (the statement's sleep, Wait states, long polls), so neither slows the other's detection, and the
            # section takes half the time. Their figures are read after both ended.
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(patterns)) as pool:
                for duration in durations:
                    for phase in phases:
                        arns = {pattern: pool.submit(run, f"d{duration}-p{phase}", duration + phase)
                                for pattern, run in patterns.items()}
                        for pattern, arn in arns.items():
                            jobs.append(_job_figures(runtime, arn.result(), pattern, duration, duration + phase,
                                                     time_scale, memory_gb))
    return {
        "time_scale": time_scale,
        "durations": list(durations),
        "phases": list(phases),
        "lambda_memory_gb": memory_gb,
        "prices": {"per_transition": PRICE_PER_TRANSITION, "lambda_per_gb_second": LAMBDA_PRICE_PER_GB_SECOND,
                   "lambda_per_request": LAMBDA_PRICE_PER_REQUEST},
        "jobs": jobs,
        "summary": _summary(jobs, durations),
        "goals": _goals(jobs),
    }


def _declare_baseline_role(runtime: Any) -> str:
    """The baseline's role, declared to the runtime's IAM enforcement as template.yaml declares the product's: what
    the samples' pattern needs on the cluster (submit with temporary credentials, describe its own statements)."""
    from shiftflow.local.iam import Role, parse_document, role_id
    from shiftflow.local.runtime import ACCOUNT_ID, REGION

    name = "benchmark-poll-every-10s"
    arn, unique_id = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", role_id(name)
    redshift = f"arn:aws:redshift:{REGION}:{ACCOUNT_ID}"
    cluster = TARGET["ClusterIdentifier"]
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "redshift-data:BatchExecuteStatement",
         "Resource": f"{redshift}:cluster:{cluster}"},
        {"Effect": "Allow", "Action": "redshift:GetClusterCredentials",
         "Resource": [f"{redshift}:dbuser:{cluster}/{TARGET['DbUser']}",
                      f"{redshift}:dbname:{cluster}/{TARGET['Database']}"]},
        {"Effect": "Allow", "Action": "redshift-data:DescribeStatement", "Resource": "*",
         "Condition": {"StringLike": {"redshift-data:statement-owner-iam-userid": f"{unique_id}:*"}}},
    ]}
    runtime.iam.roles.roles[arn] = Role(name, arn, unique_id, tuple(parse_document(document)))
    return arn


def _run_baseline(runtime: Any, machine: str, emulated: float) -> str:
    from shiftflow.local.moto_gaps import wait_for_execution

    sfn = runtime.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({
        "target": TARGET, "sqls": [SQL], "parameters": [{"name": "seconds", "value": str(emulated)}]}))["executionArn"]
    status = wait_for_execution(arn, 600)
    if status != "SUCCEEDED":
        raise RuntimeError(f"baseline execution ended {status}")
    return arn


def _job_figures(runtime: Any, arn: str, pattern: str, duration: float, emulated: float, time_scale: float,
                 memory_gb: float) -> dict[str, Any]:
    sfn = runtime.client("stepfunctions")
    events = history_events(sfn, arn)
    output = json.loads(sfn.describe_execution(executionArn=arn)["output"])
    statement_id = output["statement_id"] if pattern == "shiftflow" else output["submission"]["Id"]
    described = runtime.emulator.call("DescribeStatement", {"Id": statement_id})
    created, ended = seconds(described["CreatedAt"]), seconds(described["UpdatedAt"])
    # The first state entered after the check that saw FINISHED: the Succeed state of either pattern.
    finished_state = next(seconds(e["timestamp"]) for e in events if e["type"] == "SucceedStateEntered")
    waits = [(seconds(entered["timestamp"]), seconds(exited["timestamp"]), BASELINE_WAIT_SECONDS)
             for entered, exited in zip([e for e in events if e["type"] == "WaitStateEntered"],
                                        [e for e in events if e["type"] == "WaitStateExited"])]
    figures = {
        "pattern": pattern,
        "duration_s": duration,
        "emulated_duration_s": emulated,
        "real_delay_ms": (finished_state - ended) * 1000,
        "delay_s": emulated_seconds(ended, finished_state, waits),
        "transitions": state_transitions(events),
        "history_events": len(events),
        "status_checks": sum(1 for e in events if e["type"] == "TaskStateEntered") - 1,
    }
    figures["sfn_cost_per_1000_jobs"] = figures["transitions"] * PRICE_PER_TRANSITION * 1000
    lambda_seconds, invocations = 0.0, 0
    if pattern == "shiftflow":  # Lambda bills the whole long poll: the statement's run, mapped to emulated time
        statement_window = [(created, ended, emulated)]
        started = [seconds(e["timestamp"]) for e in events if e["type"] == "TaskStarted"]
        done = [seconds(e["timestamp"]) for e in events if e["type"] in ("TaskSucceeded", "TaskFailed")]
        invocations = len(started)
        lambda_seconds = sum(emulated_seconds(a, b, statement_window) for a, b in zip(started, done))
    figures["lambda_seconds"] = lambda_seconds
    figures["lambda_cost_per_1000_jobs"] = 1000 * (lambda_seconds * memory_gb * LAMBDA_PRICE_PER_GB_SECOND
                                                   + invocations * LAMBDA_PRICE_PER_REQUEST)
    return figures


def _summary(jobs: list[dict[str, Any]], durations: tuple[float, ...]) -> list[dict[str, Any]]:
    rows = []
    for duration in durations:
        row: dict[str, Any] = {"duration_s": duration}
        for pattern in ("shiftflow", "baseline"):
            chosen = [job for job in jobs if job["pattern"] == pattern and job["duration_s"] == duration]
            row[pattern] = {
                "mean_delay_s": statistics.fmean(job["delay_s"] for job in chosen),
                "max_delay_s": max(job["delay_s"] for job in chosen),
                "mean_real_delay_ms": statistics.fmean(job["real_delay_ms"] for job in chosen),
                "transitions": statistics.fmean(job["transitions"] for job in chosen),
                "expected_transitions": statistics.fmean(expected_transitions(pattern, job["emulated_duration_s"])
                                                         for job in chosen),
                "history_events": statistics.fmean(job["history_events"] for job in chosen),
                "sfn_cost_per_1000_jobs": statistics.fmean(job["sfn_cost_per_1000_jobs"] for job in chosen),
                "lambda_cost_per_1000_jobs": statistics.fmean(job["lambda_cost_per_1000_jobs"] for job in chosen),
            }
        row["speedup"] = row["baseline"]["mean_delay_s"] / max(row["shiftflow"]["mean_delay_s"], 1e-6)
        rows.append(row)
    return rows


def expected_transitions(pattern: str, emulated: float) -> int:
    """What a pattern needs when no overhead stretches its loops: submit and Succeed (and Shiftflow's choice of its
    completion mode), plus per check the long poll and routing (Shiftflow, one per 30 s) or the Wait, describe and
    Choice (baseline, one per 10 s)."""
    per_check, period, fixed = (2, 30, 3) if pattern == "shiftflow" else (3, BASELINE_WAIT_SECONDS, 2)
    return fixed + per_check * max(1, math.ceil(emulated / period))


def _goals(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    ours = [job for job in jobs if job["pattern"] == "shiftflow"]
    theirs = [job for job in jobs if job["pattern"] == "baseline"]
    worst = max(job["delay_s"] for job in ours)
    # transitions <= C + 2 x (statement seconds / 30) for every job, the constant C being what the shortest job
    # takes (submit, one check and its routing, the end).
    shortest = min(ours, key=lambda job: job["emulated_duration_s"])
    constant = shortest["transitions"]
    excess = max(job["transitions"] - constant - TRANSITIONS_PER_30_S_GOAL * job["emulated_duration_s"] / 30
                 for job in ours)
    longest = max(ours, key=lambda job: job["emulated_duration_s"])
    span_blocks = (longest["emulated_duration_s"] - shortest["emulated_duration_s"]) / 30
    slope = (longest["transitions"] - shortest["transitions"]) / span_blocks if span_blocks else 0.0
    speedup = statistics.fmean(j["delay_s"] for j in theirs) / max(statistics.fmean(j["delay_s"] for j in ours), 1e-6)
    return {
        "detection": {"goal_s": DETECTION_GOAL_SECONDS, "worst_s": worst, "met": worst <= DETECTION_GOAL_SECONDS},
        "transitions": {"goal_per_30_s": TRANSITIONS_PER_30_S_GOAL, "constant": constant,
                        "slope_per_30_s": slope, "worst_excess": excess, "met": excess <= 1e-9},
        "speedup": {"goal": SPEEDUP_GOAL, "measured": speedup, "met": speedup >= SPEEDUP_GOAL},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[1, 30, 600])
    parser.add_argument("--phases", type=float, nargs="+", default=[0, 2.5, 5, 7.5])
    parser.add_argument("--time-scale", type=float, default=0.01)
    arguments = parser.parse_args()
    result = measure(tuple(arguments.durations), tuple(arguments.phases), arguments.time_scale)
    print(json.dumps({"summary": result["summary"], "goals": result["goals"]}, indent=2))


if __name__ == "__main__":
    main()
