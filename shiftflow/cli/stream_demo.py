"""`shiftflow demo stream`: near-real-time order changes (seed 004) end to end on the local runtime.

A producer writes order change records to the state folder's topic `orders` (new orders, updates and deletes of
earlier ones, and a share of invalid JSON) while the template's orders_stream schedule, time compressed, runs the
orders_stream workflow: refresh the streaming view, load past the watermarks, set invalid records aside, merge the
latest value per order. Each cycle prints what it read, loaded, set aside and merged, the watermarks and the
freshness (arrival of the newest record loaded to the end of the load that made it queryable).
Running it again starts over (the topic and the tables are recreated): the same records give the same tables.
"""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shiftflow.dataapi.streams.topics import Producer, TopicStore
from shiftflow.sql.splitter import split_statements

STREAM_SCHEDULE = "WorkflowStateMachine-ScheduledStreamLoad"
_TARGET = {"ClusterIdentifier": "shiftflow-local", "Database": "dev", "DbUser": "shiftflow"}
_COUNTS = {
    "read": "SELECT (SELECT count(*) FROM orders_changes) + (SELECT count(*) FROM orders_stream_errors)",
    "loaded": "SELECT count(*) FROM orders_changes",
    "set_aside": "SELECT count(*) FROM orders_stream_errors",
    "orders": "SELECT count(*) FROM orders_current",
}


def change_records(count: int, seed: int = 12) -> list[tuple[str | None, object]]:
    """(key, value) of the demo's records: orders, updates and deletes of earlier ones, ~8% invalid JSON."""
    chooser = random.Random(seed)
    records: list[tuple[str | None, object]] = []
    known: list[int] = []
    for number in range(count):
        roll = chooser.random()
        if roll < 0.08:
            records.append((None, '{"eventName": "INSERT", "dynamodb": {'))  # cut short: invalid JSON
        elif roll < 0.3 and known:
            order_id = chooser.choice(known)
            if roll < 0.12:
                known.remove(order_id)
                records.append((str(order_id), _change("REMOVE", order_id, {})))
            else:
                image = {"OrderStatus": {"S": chooser.choice(["Shipped", "Delivered", "Returned"])}}
                records.append((str(order_id), _change("MODIFY", order_id, image)))
        else:
            order_id = 1000 + number
            known.append(order_id)
            records.append((str(order_id), _change("INSERT", order_id, {
                "CustomerID": {"S": f"C{chooser.randint(1, 40):03d}"}, "ProductID": {"S": f"P{chooser.randint(1, 9)}"},
                "Quantity": {"N": str(chooser.randint(1, 5))}, "Price": {"N": f"{chooser.uniform(5, 500):.2f}"},
                "OrderStatus": {"S": "Initiated"}})))
    return records


def _change(event: str, order_id: int, image: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"eventName": event, "dynamodb": {"Keys": {"OrderID": {"N": str(order_id)}}}}
    if event != "REMOVE":
        record["dynamodb"]["NewImage"] = image
    return record


class _Sql:
    def __init__(self, connection: Any) -> None:
        self.client = connection.client("redshift-data")

    def batch(self, sqls: list[str]) -> dict[str, Any]:
        submitted = self.client.batch_execute_statement(Sqls=sqls, **_TARGET)
        while True:
            described = self.client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=20)
            if described["Status"] in {"FINISHED", "FAILED", "ABORTED"}:
                if described["Status"] != "FINISHED":
                    raise RuntimeError(described.get("Error", described["Status"]))
                return described

    def rows(self, sql: str) -> list[list[Any]]:
        described = self.batch([sql])
        result = self.client.get_statement_result(Id=described["SubStatements"][0]["Id"])
        return [[None if value.get("isNull") else next(iter(value.values())) for value in record]
                for record in result["Records"]]

    def counts(self) -> dict[str, int]:
        return {name: int(self.rows(sql)[0][0]) for name, sql in _COUNTS.items()}


def run_stream_demo(console: Console, project_root: Path, state_dir: Path, engine: str | None, cycles: int,
                    records: int, cycle_seconds: float) -> list[dict[str, Any]]:
    """The demo, against the local cloud as the other commands (the in-process runtime with
    SHIFTFLOW_LOCAL_MODE=in-process); the per-cycle facts it printed."""
    from shiftflow.cli.connection import connect
    from shiftflow.local.cloud.schedules import Scheduler, rate_seconds

    topics = TopicStore(state_dir / "topics")  # the state folder's, which the cloud's external schemas read
    shutil.rmtree(topics.root / "orders", ignore_errors=True)  # a rerun starts over: same records, same tables
    topics.create("orders", 3)
    with connect(None, project_root, engine, state_dir=state_dir, time_scale=0.01, log_level="CRITICAL",
                 state_machines=["workflow", "workflow_stage", "run_sql_job"]) as connection:
        sql = _Sql(connection)
        _reset_guard(connection)
        setup = (project_root / "scripts" / "stream" / "setup_orders_stream.sql").read_text()
        sql.batch([statement.text for statement in split_statements(setup)])
        schedule = _stream_schedule(connection, project_root)
        period_seconds = rate_seconds(schedule.expression)  # the demo compresses a rate(...) into its cycles
        console.print(f"[bold]orders_stream[/]: topic orders (3 partitions) in {topics.root}; the template's "
                      f"{schedule.expression} schedule every {cycle_seconds:g} s", highlight=False)
        producing = threading.Thread(target=_produce, args=(topics, records, cycles, cycle_seconds), daemon=True)
        producing.start()
        scheduler = Scheduler([schedule], period_seconds / cycle_seconds, connection.client)
        scheduler.start()
        try:
            facts = _follow(console, connection, sql, scheduler, cycles)
        finally:
            scheduler.stop()
            producing.join()
    _print_cycles(console, facts)
    return facts


def _stream_schedule(connection: Any, project_root: Path) -> Any:
    """The template's orders_stream schedule (its ScheduleV2 event), as the running stack has it: its target and
    rate from the stack, its input from the template."""
    from shiftflow.local.cloud.schedules import Schedule, template_schedules

    if connection.runtime is not None:
        runtime = connection.runtime
        return next(s for s in template_schedules(runtime.template, runtime.resolver) if s.name == STREAM_SCHEDULE)
    from shiftflow.local.template import Template
    from shiftflow.local.runtime import STACK_NAME

    logical_id, event_id = STREAM_SCHEDULE.split("-")
    template = Template.load(project_root / "template.yaml")
    event = template.resources("AWS::Serverless::StateMachine")[logical_id]["Properties"]["Events"][event_id][
        "Properties"]
    stack = connection.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])}
    rate = parameters.get("StreamScheduleExpression") or template.body["Parameters"]["StreamScheduleExpression"][
        "Default"]  # the stack's value, else the template's default
    return Schedule(STREAM_SCHEDULE, connection.deployment.output(f"{logical_id}Arn"), rate, str(event["Input"]))


def _produce(store: TopicStore, count: int, cycles: int, cycle_seconds: float) -> None:
    producer = Producer(store)
    pending = change_records(count)
    per_burst = max(1, len(pending) // max(1, cycles - 1))  # the last cycle finds the topic drained
    while pending:
        burst, pending = pending[:per_burst], pending[per_burst:]
        for key, value in burst:
            producer.send("orders", value, key=key)
        time.sleep(cycle_seconds)


def _reset_guard(connection: Any) -> None:
    """A demo interrupted earlier may have left the workflow's guard Failed: start from Ready."""
    connection.client("dynamodb").delete_item(TableName=connection.deployment.output("JobGuardTableName"),
                                           Key={"JobID": {"S": "orders_stream"}})


def _follow(console: Console, connection: Any, sql: _Sql, scheduler: Any, cycles: int) -> list[dict[str, Any]]:
    sfn = connection.client("stepfunctions")
    facts: list[dict[str, Any]] = []
    previous = sql.counts()
    seen = 0
    while len(facts) < cycles:
        while len(scheduler.fired) <= seen:
            time.sleep(0.05)
        name, arn = scheduler.fired[seen]
        seen += 1
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            time.sleep(0.05)
        status = json.loads(described.get("output") or "{}").get("status", described["status"])
        if status != "succeeded" and described["status"] == "SUCCEEDED" and "skipped" in str(status):
            console.print(f"  a firing found the previous load running: {status}", highlight=False)
            continue
        ended = described.get("stopDate") or datetime.now().astimezone()
        now = sql.counts()
        delta = {name: now[name] - previous[name] for name in ("read", "loaded", "set_aside")}
        newest = sql.rows("SELECT max(arrival) FROM orders_changes")[0][0]
        # UTC, as the landed kafka_timestamp; a cycle that loaded nothing made nothing fresher.
        arrival = datetime.fromisoformat(newest) if newest and delta["read"] else None
        freshness = (ended.astimezone(timezone.utc).replace(tzinfo=None) - arrival).total_seconds() if arrival else None
        marks = sql.rows("SELECT kafka_partition, max(kafka_offset) FROM orders_stream_audit GROUP BY 1 ORDER BY 1")
        cycle = {"cycle": len(facts) + 1, "status": described["status"], **delta, "orders": now["orders"],
                 "watermarks": {int(p): int(o) for p, o in marks}, "freshness_seconds": freshness}
        facts.append(cycle)
        previous = now
        console.print(f"  cycle {cycle['cycle']}: {described['status']}, read {delta['read']}, loaded "
                      f"{delta['loaded']}, set aside {delta['set_aside']}, orders {now['orders']}, watermarks "
                      f"{cycle['watermarks']}" + (f", freshness {freshness:.2f} s" if freshness is not None else ""),
                      highlight=False)
    return facts


def _print_cycles(console: Console, facts: list[dict[str, Any]]) -> None:
    table = Table("cycle", "read", "loaded", "set aside", "orders (merged)", "watermarks", "freshness s",
                  title="orders_stream cycles")
    for cycle in facts:
        freshness = cycle["freshness_seconds"]
        table.add_row(str(cycle["cycle"]), str(cycle["read"]), str(cycle["loaded"]), str(cycle["set_aside"]),
                      str(cycle["orders"]), json.dumps(cycle["watermarks"]),
                      f"{freshness:.2f}" if freshness is not None else "-")
    console.print(table)
