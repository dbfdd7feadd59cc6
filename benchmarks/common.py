"""What the benchmark modules share: execution histories, the local runtime they run in, and emulated time."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The Data API target of the local runtime's functions (template parameters offline): baselines use the same.
TARGET = {"ClusterIdentifier": "shiftflow-local", "Database": "dev", "DbUser": "shiftflow"}


def history_events(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of an execution, page by page (Step Functions returns at most 1,000 a page)."""
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def history_length(sfn: Any, execution_arn: str) -> int:
    """How many events an execution's history has, in one call: event ids run 1, 2, ... in order, so the newest
    event's id is the count (reading every event to count them is most of a 1,000-job workflow's benchmark: moto
    serialises each one). Callers confirm it on the executions whose size they report (`history_events`)."""
    page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1, reverseOrder=True)
    return page["events"][0]["id"] if page["events"] else 0


def state_transitions(events: list[dict[str, Any]]) -> int:
    """What Step Functions Standard bills: one transition per state entered."""
    return sum(1 for event in events if event["type"].endswith("StateEntered"))


def seconds(moment: datetime) -> float:
    """A timezone-aware datetime as epoch seconds (history timestamps and the emulator's UpdatedAt alike)."""
    return moment.timestamp()


def emulated_seconds(start: float, stop: float, windows: list[tuple[float, float, float]]) -> float:
    """A real interval [start, stop] in emulated seconds.

    `windows` are (real start, real stop, emulated length) of the waits that were time-compressed (Wait states,
    the statement's own run): the part of the interval inside one counts in proportion to that window's emulated
    length; the rest (Lambda invocations, state transitions, Data API calls) is a fixed overhead that the
    compression does not shrink, so it counts as the real time it took.
    """
    total, inside = 0.0, 0.0
    for window_start, window_stop, emulated in windows:
        overlap = min(stop, window_stop) - max(start, window_start)
        if overlap > 0 and window_stop > window_start:
            inside += overlap
            total += overlap / (window_stop - window_start) * emulated
    return total + max(stop - start - inside, 0.0)


@contextlib.contextmanager
def local_runtime(state_dir: Path | None = None, **options: Any) -> Iterator[Any]:
    """A LocalRuntime, quiet (WARNING logs) and in memory unless told; without `state_dir`, in a state folder of its
    own that is removed afterwards."""
    from shiftflow.local.runtime import LocalRuntime

    options.setdefault("log_level", "WARNING")
    options.setdefault("persist", False)
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # a failed run would print whole state trees
    with contextlib.ExitStack() as stack:
        if state_dir is None:
            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shiftflow-bench-")))
        yield stack.enter_context(LocalRuntime(ROOT, state_dir=state_dir, **options))


def stage_script(runtime: Any, key: str, sql: str) -> None:
    """Put a benchmark's own script in the scripts bucket (never in scripts/: it is not product)."""
    runtime.client("s3").put_object(Bucket=runtime.deployment.outputs["ScriptsBucketName"], Key=key, Body=sql.encode())


def run_sql_job(runtime: Any, job: str, script: str, parameters: dict[str, Any] | None = None,
                timeout: float = 600, **fields: Any) -> tuple[str, float]:
    """One execution of statemachine/run_sql_job.asl.json to its end: (execution ARN, wall seconds). `fields` join
    the input (completion, heartbeat_seconds, ...); without `completion` the job long-polls, the figures these
    benchmarks have always measured (benchmarks/event_completion.py measures event mode)."""
    from shiftflow.local.moto_gaps import wait_for_execution

    sfn = runtime.client("stepfunctions")
    started = time.perf_counter()
    arn = sfn.start_execution(
        stateMachineArn=runtime.deployment.state_machine_arn("run_sql_job"),
        input=json.dumps({"workflow": "benchmark", "job": job, "script": script, "parameters": parameters or {},
                          "completion": "poll", **fields}),
    )["executionArn"]
    status = wait_for_execution(arn, timeout)
    wall = time.perf_counter() - started
    if status != "SUCCEEDED":
        raise RuntimeError(f"run_sql_job {job} ended {status}: {sfn.describe_execution(executionArn=arn).get('cause')}")
    return arn, wall


@contextlib.contextmanager
def emulated_sleep(engine: Any, database: str, time_scale: float) -> Iterator[None]:
    """`bench_sleep(seconds)` (a name neither Redshift nor the engines have, as a user's UDF would be) in a DuckDB database of the emulator: sleeps seconds * time_scale, returns seconds.

    A statement of a chosen emulated duration, compressed like the Wait states. The function is database-wide
    but lives only as long as the cursor that registered it, so that cursor stays open until the block ends
    (end it only when no statement calls the function any more).
    """
    def bench_sleep(emulated: float) -> float:
        time.sleep(emulated * time_scale)
        return emulated

    session = engine.session(database)
    session._cursor.create_function("bench_sleep", bench_sleep, ["DOUBLE"], "DOUBLE", side_effects=True)
    try:
        yield
    finally:
        session.close()



def spread(values: list[float]) -> dict[str, float]:
    """Median, min, max and quartiles of repeated measurements (inclusive quartiles: one value is its own)."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "q1": q1, "q3": q3}


def command_environment(**overrides: str) -> dict[str, str]:
    """The environment of a `shiftflow` process timed as a user runs it: against the local cloud (not the in-process
    mode), and with Python writing its bytecode cache as it does by default (PYTHONDONTWRITEBYTECODE in the caller's
    environment would have every timed process compile every module again: a third of `shiftflow status`)."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("SHIFTFLOW_LOCAL_MODE", "PYTHONDONTWRITEBYTECODE")}
    return {**environment, **overrides}
