"""Per-state-transition overhead of the local runtime (moto's ASL interpreter with shiftflow's patches).

Runs a chain of 200 Pass states (and an inline Map of 200 items) several times in-process and prints the
milliseconds per transition / per item. Goal: at most 5 ms per transition.

    .venv/bin/python benchmarks/local_transition_overhead.py [--states 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import boto3
from moto import mock_aws

from shiftflow.local.moto_gaps import activate, wait_for_execution

ROLE_ARN = "arn:aws:iam::123456789012:role/shiftflow-bench"


def pass_chain(states: int) -> dict:
    chain = {f"S{i}": {"Type": "Pass", "Parameters": {"i": i, "job.$": "$.job"}, "Next": f"S{i + 1}"}
             for i in range(states - 1)}
    chain[f"S{states - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "S0", "States": chain}


def inline_map() -> dict:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }


def timed_runs(sfn: object, definition: dict, payload: dict, runs: int) -> list[float]:
    machine = sfn.create_state_machine(
        name=f"bench-{time.time_ns()}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
        status = wait_for_execution(arn, timeout=300)
        seconds.append(time.perf_counter() - started)
        if status != "SUCCEEDED":
            raise SystemExit(f"benchmark execution ended {status}")
    return seconds


GOAL_MS = 5.0


def measure(states: int = 200, runs: int = 5) -> dict:
    """Milliseconds per transition of a Pass chain and per item of an inline Map, over `runs` runs each."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), activate(time_scale=0.001):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        timed_runs(sfn, pass_chain(10), {"job": "warm-up"}, 1)  # imports, botocore models, parser caches
        chain = timed_runs(sfn, pass_chain(states), {"job": "bench"}, runs)
        items = timed_runs(sfn, inline_map(), {"items": list(range(states))}, runs)

    def spread(times: list[float]) -> dict:
        per = [s * 1000 / states for s in times]
        return {"median": statistics.median(per), "min": min(per), "max": max(per)}

    per_transition = spread(chain)
    return {"states": states, "runs": runs, "per_transition_ms": per_transition, "per_item_ms": spread(items),
            "goal_ms": GOAL_MS, "met": per_transition["median"] <= GOAL_MS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.states, args.runs)
    chain, items = result["per_transition_ms"], result["per_item_ms"]
    print(f"Pass chain of {args.states} states, {args.runs} runs: "
          f"median {chain['median']:.2f} ms/transition "
          f"(min {chain['min']:.2f}, max {chain['max']:.2f}); goal <= {GOAL_MS:g} ms")
    print(f"Inline Map of {args.states} items, {args.runs} runs: "
          f"median {items['median']:.2f} ms/item "
          f"(min {items['min']:.2f}, max {items['max']:.2f})")


if __name__ == "__main__":
    main()
