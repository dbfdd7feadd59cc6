"""Issue 14: what a SQL job costs in event mode, whatever its SQL's duration, against long polling.

For each statement duration: the transitions and Lambda invocations computed from the definition and the heartbeat
schedule (shiftflow.jobs.completion), and measured in a time-compressed run in one LocalRuntime: the statement is
`select bench_sleep(:seconds)` (seconds * time_scale real seconds), the Data API long polls and the heartbeat intervals
are compressed alike (the job's first heartbeat_seconds is the default one times time_scale; each later interval
grows by HEARTBEAT_GROWTH as on AWS; their cap, MAX_HEARTBEAT_SECONDS, is not compressed, but a job of at most 2 hours
never reaches it). Invocations are the Lambda tasks of the execution plus one resume_sql_job invocation per event
delivered; `--drop` drops that share of the events (the safety net must end every job).

    .venv/bin/python benchmarks/event_completion.py [--durations 1 30 600 7200] [--time-scale 0.005] [--drop 0] [--seed 14]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    TARGET, emulated_sleep, history_events, local_runtime, seconds, stage_script, state_transitions,
)
from benchmarks.completion import LAMBDA_PRICE_PER_REQUEST, PRICE_PER_TRANSITION
from shiftflow.jobs.completion import DEFAULT_HEARTBEAT_SECONDS, heartbeats_before
from shiftflow.jobs.status import MAX_WAIT_SECONDS

SCRIPT_KEY = "benchmark/emulated_duration.sql"
SQL = "select bench_sleep(cast(:seconds as float))"
GOAL_TRANSITIONS, GOAL_INVOCATIONS = 8, 3


def event_mode_cost(duration: float, first_heartbeat: float = DEFAULT_HEARTBEAT_SECONDS) -> dict[str, int]:
    """From the definition, with every event delivered: submit, the mode's choice, the wait, its routing and the end
    (5 transitions; the submit and resume_sql_job invocations), plus per heartbeat interval that ends before the
    statement does a check (the long poll), its routing and a new wait (3 transitions, 1 invocation)."""
    checks = heartbeats_before(duration, math.ceil(first_heartbeat))
    return {"transitions": 5 + 3 * checks, "invocations": 2 + checks, "checks": checks}


def poll_mode_cost(duration: float) -> dict[str, int]:
    """Long polling: submit, the mode's choice and the end, plus a long poll and its routing per 30 s."""
    polls = max(1, math.ceil(duration / MAX_WAIT_SECONDS))
    return {"transitions": 3 + 2 * polls, "invocations": 1 + polls, "checks": polls}


def measure(durations: tuple[float, ...] = (1, 30, 600, 7200), time_scale: float = 0.005,
            drop: float = 0.0, seed: int = 14) -> dict[str, Any]:
    chance = random.Random(seed)
    heartbeat = max(1, math.ceil(DEFAULT_HEARTBEAT_SECONDS * time_scale))
    jobs = []
    with local_runtime(time_scale=time_scale, data_api_time_scale=time_scale,
                       state_machines=["run_sql_job"]) as runtime:
        stage_script(runtime, SCRIPT_KEY, SQL + ";\n")
        runtime.data_api_events.deliveries = lambda event: [] if chance.random() < drop else [0.0]
        with emulated_sleep(runtime.emulator.engine, TARGET["Database"], time_scale):
            for duration in durations:
                jobs.append(_run(runtime, duration, heartbeat, time_scale))
    return {"time_scale": time_scale, "heartbeat_seconds_real": heartbeat, "drop": drop, "jobs": jobs,
            "goals": {"transitions": GOAL_TRANSITIONS, "invocations": GOAL_INVOCATIONS,
                      "met": all(job["transitions"] <= GOAL_TRANSITIONS and job["invocations"] <= GOAL_INVOCATIONS
                                 for job in jobs if not job["dropped_events"])}}


def _run(runtime: Any, duration: float, heartbeat: int, time_scale: float) -> dict[str, Any]:
    from shiftflow.local.moto_gaps import wait_for_execution

    sfn = runtime.client("stepfunctions")
    request = {"workflow": "benchmark", "job": f"d{duration:g}", "script": SCRIPT_KEY,
               "parameters": {"seconds": duration}, "completion": "event", "heartbeat_seconds": heartbeat}
    started = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"),
                              input=json.dumps(request))["executionArn"]
    status = wait_for_execution(arn, 3600)
    wall = time.perf_counter() - started
    events = history_events(sfn, arn)
    output = json.loads(sfn.describe_execution(executionArn=arn).get("output") or "{}")
    statement_id = output.get("statement_id", "")
    delivered = sum(1 for event in runtime.data_api_events.delivered if event["detail"]["statementId"] == statement_id)
    lambda_tasks = sum(1 for event in events if event["type"] == "TaskScheduled"
                       and event["taskScheduledEventDetails"]["resourceType"] == "lambda")
    ended = seconds(runtime.emulator.call("DescribeStatement", {"Id": statement_id})["UpdatedAt"])
    finished = next(seconds(event["timestamp"]) for event in events if event["type"] == "SucceedStateEntered")
    figures = {
        "duration_s": duration, "status": status, "real_seconds": wall,
        "transitions": state_transitions(events), "invocations": lambda_tasks + delivered,
        "dropped_events": delivered == 0, "completion_delay_ms": (finished - ended) * 1000,
        "computed": event_mode_cost(duration), "poll_mode": poll_mode_cost(duration),
    }
    for mode, cost in (("event", figures), ("poll", figures["poll_mode"])):
        cost["sfn_and_request_cost_per_1000_jobs"] = 1000 * (cost["transitions"] * PRICE_PER_TRANSITION
                                                            + cost["invocations"] * LAMBDA_PRICE_PER_REQUEST)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[1, 30, 600, 7200])
    parser.add_argument("--time-scale", type=float, default=0.005)
    parser.add_argument("--drop", type=float, default=0.0, help="share of the Data API events dropped (0-1)")
    parser.add_argument("--seed", type=int, default=14, help="of the random choice of the events dropped")
    arguments = parser.parse_args()
    print(json.dumps(measure(tuple(arguments.durations), arguments.time_scale, arguments.drop, arguments.seed),
                     indent=2))


if __name__ == "__main__":
    main()
