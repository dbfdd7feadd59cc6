"""The local cloud under hundreds of concurrent AWS clients: what an outsider's load test would do to it.

A cloud is started for a state folder of its own (`shiftflow up` as a command would start it: its own process),
then `threads` plain boto3 clients (retries off: a dropped call is a failed call), and `processes` more processes of
`--threads-per-process` clients each, call it at once, each in one role:

- data-api: execute_statement / batch_execute_statement, describe_statement long polls (WaitTimeSeconds),
  get_statement_result page by page: a 2,500-row select, an insert with a ClientToken submitted twice, an update of
  a contended counter row (write-write conflicts), a batch insert + update, a statement on a missing table;
- dynamodb: rounds of conditional writes on one item (put_item attribute_not_exists, update_item as the job guard):
  exactly one winner per round, across threads and processes;
- s3: put_object / get_object of random bodies (read back equal);
- stepfunctions: start_execution of a small machine and of the template's RunSqlJob, describe_execution until done;
- sns: publish to the template's notification topic.

What is checked (`Report.problems`): no call ended in a 5xx, a connection error or an answer botocore could not
parse; each statement ended FINISHED, or FAILED with the database's own error (a serializable isolation violation
for a contended write, the missing relation); the log table holds exactly the rows of the statements that FINISHED
(none ran twice, none half); each counter equals its FINISHED updates; one winner per DynamoDB round; every execution
SUCCEEDED. While it runs the cloud's threads, RSS and open files are sampled from /proc.

    .venv/bin/python benchmarks/cloud_stress.py [--threads 300] [--processes 3] [--iterations 6] [--engine duckdb]
        [--waves 2] [--json out.json]

`--store` measures the Data API's statement store instead (`measure_store`): the cloud's RSS and state folder after
`--statements` statements of `--rows` rows each (kept 24 hours, as the service keeps results), how fast a page of an
old one reads back, then waves of 50, 100 and 200 concurrent clients each running short statements (submit, long-poll
DescribeStatement to the end, GetStatementResult): statements per second and the submit-to-result latency.

    .venv/bin/python benchmarks/cloud_stress.py --store [--statements 5000] [--rows 1000] [--clients 50 100 200]
        [--per-client 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, TARGET
from shiftflow.local.cloud.client import LOG_FILE

ROLES = {"data-api": 0.5, "dynamodb": 0.2, "s3": 0.12, "stepfunctions": 0.1, "sns": 0.08}
SELECT_ROWS = 2500
COUNTERS = 4
CONFLICT = "1023"  # Redshift's serializable isolation violation: how a contended write fails
MISSING = "does not exist"
SMALL_MACHINE = json.dumps({"StartAt": "Echo", "States": {
    "Echo": {"Type": "Pass", "Parameters": {"echo.$": "$.n"}, "Next": "Done"}, "Done": {"Type": "Succeed"}}})


# ---- calls and what they ended in ---------------------------------------------------------------------------------

@dataclass
class Outcomes:
    """Every call's operation, latency and outcome; the facts the checks need (statements, winners, rows)."""

    calls: list[tuple[str, float, str]] = field(default_factory=list)  # (operation, seconds, "ok" or what failed)
    statements: list[dict[str, Any]] = field(default_factory=list)  # kind, id, status, error, client, seq
    wins: Counter = field(default_factory=Counter)  # DynamoDB round key -> winners
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, operation: str, seconds: float, outcome: str) -> None:
        with self.lock:
            self.calls.append((operation, seconds, outcome))

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def as_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "statements": self.statements, "wins": dict(self.wins),
                "problems": self.problems}

    def merge(self, other: dict[str, Any]) -> None:
        self.calls += [tuple(call) for call in other["calls"]]
        self.statements += other["statements"]
        self.wins.update(other["wins"])
        self.problems += other["problems"]


class Expected(Exception):
    """A service error the caller expects (a conditional write that lost): recorded as ok."""


def classify(error: BaseException) -> str:
    """What a failed call ended in: `5xx <code>`, `connection <class>`, `malformed <class>`, `4xx <code>`."""
    from botocore import exceptions

    if isinstance(error, exceptions.ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error.response.get("Error", {}).get("Code", "?")
        return f"{'5xx' if status >= 500 else '4xx'} {status} {code}"
    if isinstance(error, (exceptions.ResponseParserError, ValueError, KeyError)):
        return f"malformed {type(error).__name__}: {error}"[:300]
    if isinstance(error, (exceptions.ConnectionError, exceptions.HTTPClientError, OSError)):
        return f"connection {type(error).__name__}: {error}"[:300]
    return f"other {type(error).__name__}: {error}"[:300]


class Caller:
    """One client's calls, each timed and recorded; a call that fails unexpectedly raises on."""

    def __init__(self, outcomes: Outcomes) -> None:
        self.outcomes = outcomes

    def __call__(self, operation: str, call: Callable[..., Any], *, expect: tuple[str, ...] = (),
                 **arguments: Any) -> Any:
        start = time.perf_counter()
        try:
            answer = call(**arguments)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code in expect:
                self.outcomes.add(operation, time.perf_counter() - start, "ok")
                raise Expected(code) from error
            self.outcomes.add(operation, time.perf_counter() - start, classify(error))
            raise
        self.outcomes.add(operation, time.perf_counter() - start, "ok")
        return answer


# ---- the roles ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    url: str
    tag: str  # this run's names: tables, keys, executions
    outputs: dict[str, str]
    iterations: int
    machine_arn: str  # the small state machine


_SESSION: list[Any] = []


def make_client(service: str, url: str, pool: int = 10) -> Any:
    """A client of its own (its own connections), from one session: a session per client loads every model again."""
    import boto3
    from botocore.config import Config

    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client(
        service, region_name="us-east-1", endpoint_url=url, aws_access_key_id="shiftflow-local",
        aws_secret_access_key="shiftflow-local",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=60, read_timeout=120,
                      max_pool_connections=pool))


def data_api_role(plan: Plan, client_id: int, call: Caller, outcomes: Outcomes, api: Any) -> None:
    kinds = ("select", "insert", "update", "batch", "missing")
    for seq in range(plan.iterations):
        kind = kinds[(client_id + seq) % len(kinds)]
        counter = (client_id + seq) % COUNTERS
        log_row = f"INSERT INTO {plan.tag}_log VALUES ({client_id}, {seq})"
        if kind == "batch":
            submitted = call("batch_execute_statement", api.batch_execute_statement, Sqls=[
                log_row, f"UPDATE {plan.tag}_counter SET n = n + 1 WHERE id = {counter}"], **TARGET)
        elif kind == "insert":  # the same ClientToken twice: one statement
            token = f"{plan.tag}-{client_id}-{seq}"
            submitted = call("execute_statement", api.execute_statement, Sql=log_row, ClientToken=token, **TARGET)
            again = call("execute_statement", api.execute_statement, Sql=log_row, ClientToken=token, **TARGET)
            if again["Id"] != submitted["Id"]:
                outcomes.problem(f"ClientToken {token} gave two statements {submitted['Id']} and {again['Id']}")
        else:
            sql = {"select": f"SELECT n, label FROM {plan.tag}_numbers ORDER BY n",
                   "update": f"UPDATE {plan.tag}_counter SET n = n + 1 WHERE id = {counter}",
                   "missing": f"SELECT * FROM {plan.tag}_missing_{client_id}"}[kind]
            submitted = call("execute_statement", api.execute_statement, Sql=sql, **TARGET,
                             **({"WaitTimeSeconds": 5} if seq % 2 else {}))
        described = call("describe_statement", api.describe_statement, Id=submitted["Id"])
        while described["Status"] not in ("FINISHED", "FAILED", "ABORTED"):
            described = call("describe_statement(WaitTimeSeconds)", api.describe_statement, Id=submitted["Id"],
                             WaitTimeSeconds=20)
        record = {"kind": kind, "id": submitted["Id"], "status": described["Status"],
                  "error": described.get("Error", ""), "client": client_id, "seq": seq, "counter": counter}
        with outcomes.lock:
            outcomes.statements.append(record)
        if kind == "select" and described["Status"] == "FINISHED":
            rows = result_rows(api, submitted["Id"], call)
            if rows != [[n, f"row {n}"] for n in range(1, SELECT_ROWS + 1)]:
                outcomes.problem(f"statement {submitted['Id']}: {len(rows)} rows, not the {SELECT_ROWS} inserted")


def result_rows(api: Any, statement_id: str, call: Caller) -> list[list[Any]]:
    rows: list[list[Any]] = []
    token = None
    while True:
        page = call("get_statement_result", api.get_statement_result, Id=statement_id,
                    **({"NextToken": token} if token else {}))
        rows += [[next(iter(value.values())) for value in record] for record in page["Records"]]
        token = page.get("NextToken")
        if not token:
            return rows


def dynamodb_role(plan: Plan, client_id: int, call: Caller, outcomes: Outcomes, dynamodb: Any,
                  rounds: threading.Barrier) -> None:
    table = plan.outputs["JobGuardTableName"]
    for seq in range(plan.iterations):
        key = f"{plan.tag}-round-{seq}"
        with contextlib.suppress(threading.BrokenBarrierError):
            rounds.wait(timeout=30)
        try:
            if seq % 2:
                call("update_item", dynamodb.update_item, TableName=table, Key={"JobID": {"S": key}},
                     UpdateExpression="SET JobState = :running, #owner = :me",
                     ExpressionAttributeNames={"#owner": "Owner"},
                     ConditionExpression="attribute_not_exists(JobState) OR JobState <> :running",
                     ExpressionAttributeValues={":running": {"S": "Running"}, ":me": {"N": str(client_id)}},
                     expect=("ConditionalCheckFailedException",))
            else:
                call("put_item", dynamodb.put_item, TableName=table,
                     Item={"JobID": {"S": key}, "JobState": {"S": "Running"}, "Owner": {"N": str(client_id)}},
                     ConditionExpression="attribute_not_exists(JobID)", expect=("ConditionalCheckFailedException",))
        except Expected:
            continue
        with outcomes.lock:
            outcomes.wins[key] += 1


def s3_role(plan: Plan, client_id: int, call: Caller, outcomes: Outcomes, s3: Any) -> None:
    bucket = plan.outputs["ScriptsBucketName"]
    for seq in range(plan.iterations):
        body = random.randbytes(random.randint(1, 64 * 1024))
        key = f"{plan.tag}/{client_id}/{seq}"
        call("put_object", s3.put_object, Bucket=bucket, Key=key, Body=body)
        got = call("get_object", s3.get_object, Bucket=bucket, Key=key)["Body"].read()
        if got != body:
            outcomes.problem(f"s3://{bucket}/{key}: read {len(got)} bytes back, not the {len(body)} put")


def stepfunctions_role(plan: Plan, client_id: int, call: Caller, outcomes: Outcomes, sfn: Any) -> None:
    for seq in range(plan.iterations):
        if seq == 0 and client_id % 5 == 0:  # the template's RunSqlJob: Lambda, S3, the Data API in-process; in
            # completion event its statement's status change resumes it (SendTaskSuccess) while others start theirs
            arn, expected = plan.outputs["RunSqlJobStateMachineArn"], None
            payload = {"workflow": plan.tag, "job": f"job{client_id}", "script": f"{plan.tag}/one.sql",
                       "parameters": {}, "completion": "event" if client_id % 10 == 0 else "poll",
                       "heartbeat_seconds": 120}
        else:
            arn, expected = plan.machine_arn, {"echo": client_id * 1000 + seq}
            payload = {"n": client_id * 1000 + seq}
        started = call("start_execution", sfn.start_execution, stateMachineArn=arn,
                       name=f"{plan.tag}-{client_id}-{seq}", input=json.dumps(payload))
        described = call("describe_execution", sfn.describe_execution, executionArn=started["executionArn"])
        deadline = time.monotonic() + 120
        while described["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.25)
            described = call("describe_execution", sfn.describe_execution, executionArn=started["executionArn"])
        if described["status"] != "SUCCEEDED" or (expected and json.loads(described["output"]) != expected):
            outcomes.problem(f"execution {started['executionArn']}: {described['status']} "
                             f"{described.get('output') or described.get('error')} {described.get('cause', '')}"[:400])


def sns_role(plan: Plan, client_id: int, call: Caller, outcomes: Outcomes, sns: Any) -> None:
    for seq in range(plan.iterations):
        call("publish", sns.publish, TopicArn=plan.outputs["NotificationTopicArn"], Subject=f"stress {client_id}",
             Message=f"{plan.tag} {client_id} {seq}")


def run_clients(plan: Plan, threads: int, first_id: int = 0) -> Outcomes:
    """`threads` clients at once, roles in the ROLES proportions; returns when all are done."""
    outcomes = Outcomes()
    call = Caller(outcomes)
    roles = assign_roles(threads)
    rounds = threading.Barrier(max(roles.count("dynamodb"), 1))
    start = threading.Barrier(threads)
    making = threading.Lock()
    functions = {"data-api": data_api_role, "dynamodb": dynamodb_role, "s3": s3_role,
                 "stepfunctions": stepfunctions_role, "sns": sns_role}

    services = {"data-api": "redshift-data"}

    def client(n: int, role: str) -> None:
        with making:  # botocore's loaders are not thread-safe while they first load a model
            made = make_client(services.get(role, role), plan.url)
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=120)  # every client made: their first calls go out at once
        try:
            arguments = (rounds,) if role == "dynamodb" else ()
            functions[role](plan, first_id + n, call, outcomes, made, *arguments)
        except Exception as error:  # noqa: BLE001 - recorded by the Caller, or a check's own failure
            if not isinstance(error, Expected):
                outcomes.problem(f"{role} client {first_id + n} stopped: {classify(error)}")
            if role == "dynamodb":
                rounds.abort()

    workers = [threading.Thread(target=client, args=(n, role), daemon=True) for n, role in enumerate(roles)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    stuck = sum(worker.is_alive() for worker in workers)
    if stuck:
        outcomes.problem(f"{stuck} clients still waiting after 300 s")
    return outcomes


def assign_roles(threads: int) -> list[str]:
    counts = {role: max(int(threads * share), 1) for role, share in ROLES.items()}
    counts["data-api"] += threads - sum(counts.values())
    return [role for role, count in counts.items() for _ in range(count)]


# ---- the cloud, its set-up, sampling and the checks ----------------------------------------------------------------

@contextlib.contextmanager
def started_cloud(state_dir: Path, engine: str = "duckdb") -> Iterator[Any]:
    """A cloud of its own process on `state_dir`, always stopped (SIGKILL if it ignores SIGTERM)."""
    from shiftflow.local.cloud import client

    try:
        yield client.ensure_running(ROOT, state_dir, engine=engine, log_level="WARNING")
    finally:
        endpoint = client.read_endpoint(state_dir)
        with contextlib.suppress(client.LocalCloudError):
            client.stop(state_dir)
        if endpoint is not None and client.process_alive(endpoint.pid):
            os.kill(endpoint.pid, signal.SIGKILL)


def prepare(url: str, outputs: dict[str, str], tag: str) -> Plan:
    """The tables the Data API clients use, the RunSqlJob script and the small state machine."""
    api = make_client("redshift-data", url)
    values = ", ".join(f"({n}, 'row {n}')" for n in range(1, SELECT_ROWS + 1))
    batch = [f"CREATE TABLE {tag}_numbers (n INT, label VARCHAR(20))", f"INSERT INTO {tag}_numbers VALUES {values}",
             f"CREATE TABLE {tag}_log (client INT, seq INT)", f"CREATE TABLE {tag}_counter (id INT, n INT)",
             f"INSERT INTO {tag}_counter VALUES " + ", ".join(f"({n}, 0)" for n in range(COUNTERS))]
    statement = api.batch_execute_statement(Sqls=batch, **TARGET)["Id"]
    described = api.describe_statement(Id=statement, WaitTimeSeconds=30)
    assert described["Status"] == "FINISHED", described
    make_client("s3", url).put_object(Bucket=outputs["ScriptsBucketName"], Key=f"{tag}/one.sql", Body=b"select 1;")
    machine = make_client("stepfunctions", url).create_state_machine(
        name=f"{tag}-echo", definition=SMALL_MACHINE, roleArn="arn:aws:iam::123456789012:role/stress")
    return Plan(url=url, tag=tag, outputs=outputs, iterations=0, machine_arn=machine["stateMachineArn"])


class Sampler:
    """The cloud process's threads, RSS (MiB) and open files, every `interval` seconds, from /proc."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int, float, int]] = []  # (time, threads, rss MiB, fds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[float, int, float, int]:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines())
        fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        return time.monotonic(), int(status["Threads"]), int(status["VmRSS"].split()[0]) / 1024, fds

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError):
                self.samples.append(self.sample())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {"threads": max(s[1] for s in self.samples), "rss_mib": round(max(s[2] for s in self.samples), 1),
                "fds": max(s[3] for s in self.samples)}


def wave(plan: Plan, threads: int, processes: int, threads_per_process: int) -> tuple[Outcomes, float]:
    """One wave: the threads here and the processes at once. Returns the merged outcomes and the wall time."""
    started = time.perf_counter()
    workers = [subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(
            {**plan.__dict__, "first_id": 100_000 * (n + 1), "threads": threads_per_process})],
        stdout=subprocess.PIPE, text=True, cwd=ROOT) for n in range(processes)]
    outcomes = run_clients(plan, threads)
    for worker in workers:
        out, _ = worker.communicate(timeout=400)
        if worker.returncode:
            outcomes.problem(f"worker process exited {worker.returncode}")
        else:
            outcomes.merge(json.loads(out))
    return outcomes, time.perf_counter() - started


def check(plan: Plan, outcomes: Outcomes) -> list[str]:
    """The promises, as a list of what was broken (empty: all kept)."""
    problems = list(outcomes.problems)
    failed = Counter(outcome for _, _, outcome in outcomes.calls if outcome != "ok")
    problems += [f"{count} calls ended in {outcome}" for outcome, count in failed.items()]
    for statement in outcomes.statements:
        allowed = {"select": (), "insert": (), "missing": (MISSING,), "update": (CONFLICT,), "batch": (CONFLICT,)}
        if statement["status"] == "FINISHED" and statement["kind"] == "missing":
            problems.append(f"statement {statement['id']} on a missing table FINISHED")
        elif statement["status"] != "FINISHED" and not (
                statement["status"] == "FAILED" and any(words in statement["error"]
                                                        for words in allowed[statement["kind"]])):
            problems.append(f"{statement['kind']} statement {statement['id']}: {statement['status']} "
                            f"{statement['error']!r}"[:400])
    problems += [f"DynamoDB round {key}: {count} winners" for key, count in outcomes.wins.items() if count != 1]
    rounds = {f"{plan.tag}-round-{seq}" for seq in range(plan.iterations)}
    if any(operation in ("put_item", "update_item") for operation, _, _ in outcomes.calls):
        problems += [f"DynamoDB round {key}: no winner" for key in rounds - set(outcomes.wins)]
    problems += warehouse_problems(plan, outcomes)
    return problems


def warehouse_problems(plan: Plan, outcomes: Outcomes) -> list[str]:
    """The log holds one row per FINISHED insert or batch and none of the others; counters equal their updates."""
    api = make_client("redshift-data", plan.url)
    problems = []
    rows = query(api, f"SELECT client, seq, COUNT(*) FROM {plan.tag}_log GROUP BY client, seq")
    logged = {(client, seq): count for client, seq, count in rows}
    finished = {(s["client"], s["seq"]) for s in outcomes.statements
                if s["kind"] in ("insert", "batch") and s["status"] == "FINISHED"}
    problems += [f"log row {key} written {count} times" for key, count in logged.items() if count != 1]
    problems += [f"log row {key} of a FINISHED statement missing" for key in finished - set(logged)]
    problems += [f"log row {key} of a statement that did not finish" for key in set(logged) - finished]
    updates = Counter(s["counter"] for s in outcomes.statements
                      if s["kind"] in ("update", "batch") and s["status"] == "FINISHED")
    for counter, value in query(api, f"SELECT id, n FROM {plan.tag}_counter"):
        if value != updates[counter]:
            problems.append(f"counter {counter} is {value}, after {updates[counter]} FINISHED updates")
    return problems


def query(api: Any, sql: str) -> list[list[Any]]:
    statement = api.execute_statement(Sql=sql, **TARGET)["Id"]
    described = api.describe_statement(Id=statement, WaitTimeSeconds=30)
    assert described["Status"] == "FINISHED", described
    return result_rows(api, statement, Caller(Outcomes()))


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def logged_errors(log: Path, offset: int) -> list[str]:
    """The errors the cloud logged from `offset` on: an internal call that failed (a handler, a delivery) is a
    broken promise too, even when a retry hid it from the clients."""
    with open(log, "rb") as file:
        file.seek(offset)
        lines = file.read().decode(errors="replace").splitlines()
    return [f"cloud.log: {line[:400]}" for line in lines
            if '"level":"ERROR"' in line or " ERROR " in line or line.startswith("Traceback")]


def figures(outcomes: Outcomes, seconds: float) -> dict[str, Any]:
    latencies = sorted(latency for _, latency, _ in outcomes.calls)
    per_operation: dict[str, list[float]] = {}
    for operation, latency, _ in outcomes.calls:
        per_operation.setdefault(operation, []).append(latency)

    def quantiles(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {"calls": len(values), "p50_ms": round(1000 * values[len(values) // 2], 1),
                "p99_ms": round(1000 * values[min(int(len(values) * 0.99), len(values) - 1)], 1)}

    return {"calls": len(latencies), "seconds": round(seconds, 2),
            "requests_per_s": round(len(latencies) / seconds, 1) if seconds else 0.0,
            **({k: v for k, v in quantiles(latencies).items() if k != "calls"} if latencies else {}),
            "statements": len(outcomes.statements),
            "statement_outcomes": dict(Counter(f"{s['kind']} {s['status']}" for s in outcomes.statements)),
            "operations": {op: quantiles(values) for op, values in sorted(per_operation.items())}}


def measure(threads: int = 300, processes: int = 3, threads_per_process: int = 20, iterations: int = 6,
            engine: str = "duckdb", waves: int = 2, state_dir: Path | None = None) -> dict[str, Any]:
    """Start a cloud, run `waves` waves of load, check the promises after each; figures and problems per wave."""
    with contextlib.ExitStack() as stack:
        folder = state_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shiftflow-stress-")))
        endpoint = stack.enter_context(started_cloud(folder, engine))
        outputs = {item["OutputKey"]: item["OutputValue"] for item in endpoint.stack["Outputs"]}
        sampler = Sampler(endpoint.pid)
        idle = sampler.sample()
        results: dict[str, Any] = {"engine": engine, "threads": threads, "processes": processes,
                                   "threads_per_process": threads_per_process, "iterations": iterations,
                                   "idle": {"threads": idle[1], "rss_mib": round(idle[2], 1), "fds": idle[3]},
                                   "waves": []}
        for number in range(waves):
            tag = f"stress{number}"
            plan = prepare(endpoint.url, outputs, tag)
            plan = Plan(**{**plan.__dict__, "iterations": iterations})
            log, logged = folder / LOG_FILE, _size(folder / LOG_FILE)
            with Sampler(endpoint.pid) as sampler:
                outcomes, seconds = wave(plan, threads, processes, threads_per_process)
            time.sleep(1.0)  # the connections' threads end once the clients' sockets close
            after = Sampler(endpoint.pid).sample()
            results["waves"].append({**figures(outcomes, seconds), "peak": sampler.peak(),
                                     "after": {"threads": after[1], "rss_mib": round(after[2], 1), "fds": after[3]},
                                     "problems": check(plan, outcomes) + logged_errors(log, logged)})
        return results


# ---- the statement store: results kept, concurrent short statements -------------------------------------------------

def measure_store(statements: int = 5000, rows: int = 1000, writers: int = 8, clients: tuple[int, ...] = (50, 100, 200),
                  per_client: int = 20, engine: str = "duckdb", state_dir: Path | None = None) -> dict[str, Any]:
    """A cloud of its own: `statements` selects of `rows` rows each (their results kept), then one wave per entry of
    `clients`. Figures: RSS (MiB) idle, after the selects and at its peak, the statements folder's size, a result
    page's read-back latency, and per wave statements/s with the submit-to-result latency (p50, p99)."""
    with contextlib.ExitStack() as stack:
        folder = state_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shiftflow-store-")))
        endpoint = stack.enter_context(started_cloud(folder, engine))
        api = make_client("redshift-data", endpoint.url)
        values = ", ".join(f"({n}, 'row {n}')" for n in range(1, rows + 1))
        done = api.batch_execute_statement(Sqls=["CREATE TABLE store_rows (n INT, label VARCHAR(20))",
                                                 f"INSERT INTO store_rows VALUES {values}"], **TARGET)
        assert api.describe_statement(Id=done["Id"], WaitTimeSeconds=30)["Status"] == "FINISHED"
        idle = Sampler(endpoint.pid).sample()
        results: dict[str, Any] = {"engine": engine, "statements": statements, "rows": rows, "writers": writers,
                                   "idle_rss_mib": round(idle[2], 1)}
        with Sampler(endpoint.pid, interval=0.5) as sampler:
            results["retained"] = retained_results(endpoint.url, statements, rows, writers)
        after = Sampler(endpoint.pid).sample()
        results["retained"].update({"rss_mib": round(after[2], 1), "peak_rss_mib": sampler.peak().get("rss_mib"),
                                    "statements_folder_mib": round(sum(
                                        path.stat().st_size for path in (folder / "statements").iterdir()
                                        if path.is_file()) / 2**20, 1)})
        results["waves"] = []
        for count in clients:
            with Sampler(endpoint.pid) as sampler:
                figures_of_wave = short_statements(endpoint.url, count, per_client)
            results["waves"].append({**figures_of_wave, "peak": sampler.peak()})
        return results


def retained_results(url: str, statements: int, rows: int, writers: int) -> dict[str, Any]:
    """`statements` selects of every row of store_rows, by `writers` clients; then the first page of 200 of them read
    back (checked whole)."""
    outcomes, ids = Outcomes(), []
    call = Caller(outcomes)
    making = threading.Lock()
    numbers = iter(range(statements))

    def writer() -> None:
        with making:
            api = make_client("redshift-data", url)
        for _ in iter(lambda: next(numbers, None), None):
            submitted = call("execute_statement", api.execute_statement,
                             Sql="SELECT n, label FROM store_rows ORDER BY n", WaitTimeSeconds=30, **TARGET)
            described = call("describe_statement", api.describe_statement, Id=submitted["Id"], WaitTimeSeconds=30)
            if described["Status"] != "FINISHED" or described["ResultRows"] != rows:
                outcomes.problem(f"statement {submitted['Id']}: {described['Status']} {described.get('Error', '')}")
            with outcomes.lock:
                ids.append(submitted["Id"])

    started = time.perf_counter()
    threads = [threading.Thread(target=writer, daemon=True) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    api, reads = make_client("redshift-data", url), Outcomes()
    for statement_id in random.sample(ids, min(200, len(ids))):
        page = Caller(reads)("get_statement_result", api.get_statement_result, Id=statement_id)
        if len(page["Records"]) != min(rows, 1000) or page["TotalNumRows"] != rows:
            outcomes.problem(f"statement {statement_id}: {len(page['Records'])} records read back")
    read_ms = sorted(1000 * latency for _, latency, _ in reads.calls)
    failed = Counter(outcome for _, _, outcome in outcomes.calls + reads.calls if outcome != "ok")
    return {"seconds": round(seconds, 1), "statements_per_s": round(len(ids) / seconds, 1),
            "read_page_p50_ms": round(read_ms[len(read_ms) // 2], 1) if read_ms else None,
            "read_page_p99_ms": round(read_ms[int(len(read_ms) * 0.99)], 1) if read_ms else None,
            "problems": outcomes.problems[:20] + [f"{count} calls ended in {outcome}" for outcome, count in
                                                  failed.items()]}


def short_statements(url: str, clients: int, per_client: int) -> dict[str, Any]:
    """`clients` threads at once, each `per_client` times: ExecuteStatement of a one-row select, DescribeStatement
    long polls until it ended, GetStatementResult."""
    outcomes = Outcomes()
    call = Caller(outcomes)
    making = threading.Lock()
    start = threading.Barrier(clients)
    ends: list[float] = []

    def client(n: int) -> None:
        with making:
            api = make_client("redshift-data", url)
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=120)
        for seq in range(per_client):
            began = time.perf_counter()
            try:
                submitted = call("execute_statement", api.execute_statement, Sql=f"SELECT {n * 1000 + seq} AS n",
                                 **TARGET)
                described = call("describe_statement", api.describe_statement, Id=submitted["Id"])
                while described["Status"] not in ("FINISHED", "FAILED", "ABORTED"):
                    described = call("describe_statement(WaitTimeSeconds)", api.describe_statement,
                                     Id=submitted["Id"], WaitTimeSeconds=20)
                page = call("get_statement_result", api.get_statement_result, Id=submitted["Id"])
            except Exception as error:  # noqa: BLE001 - recorded by the Caller
                outcomes.problem(f"client {n} stopped: {classify(error)}")
                return
            if page["Records"] != [[{"longValue": n * 1000 + seq}]]:
                outcomes.problem(f"statement {submitted['Id']}: {page['Records']}")
            with outcomes.lock:
                ends.append(time.perf_counter() - began)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    seconds = time.perf_counter() - started
    ends.sort()
    failed = Counter(outcome for _, _, outcome in outcomes.calls if outcome != "ok")
    return {"clients": clients, "statements": len(ends), "seconds": round(seconds, 2),
            "statements_per_s": round(len(ends) / seconds, 1),
            "statement_p50_ms": round(1000 * ends[len(ends) // 2], 1) if ends else None,
            "statement_p99_ms": round(1000 * ends[min(int(len(ends) * 0.99), len(ends) - 1)], 1) if ends else None,
            "operations": figures(outcomes, seconds)["operations"],
            "problems": outcomes.problems[:20] + [f"{count} calls ended in {outcome}" for outcome, count in
                                                  failed.items()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=300)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads-per-process", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--engine", default="duckdb", choices=("duckdb", "postgres"))
    parser.add_argument("--waves", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--state-dir", type=Path, help="the cloud's state folder, kept (default: a temporary one)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # a worker process's plan (JSON)
    parser.add_argument("--store", action="store_true", help="measure the Data API's statement store (measure_store)")
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--per-client", type=int, default=20)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        first_id, threads = spec.pop("first_id"), spec.pop("threads")
        print(json.dumps(run_clients(Plan(**spec), threads, first_id).as_json()))
        return 0
    if args.store:
        stored = measure_store(args.statements, args.rows, clients=tuple(args.clients), per_client=args.per_client,
                               engine=args.engine, state_dir=args.state_dir)
        text = json.dumps(stored, indent=1)
        if args.json:
            args.json.write_text(text)
        print(text)
        problems = stored["retained"]["problems"] + [p for wave in stored["waves"] for p in wave["problems"]]
        return 1 if problems else 0
    results = measure(args.threads, args.processes, args.threads_per_process, args.iterations, args.engine,
                      args.waves, args.state_dir)
    text = json.dumps(results, indent=1)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 1 if any(wave["problems"] for wave in results["waves"]) else 0


if __name__ == "__main__":
    sys.exit(main())
