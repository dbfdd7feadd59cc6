"""What the Data API emulator costs over its engine (DuckDB in memory).

1. per-statement overhead: N single-row INSERTs and N `SELECT 1`s through the emulator's service layer
   (ExecuteStatement long-polled to its end), through a boto3 client routed in-process, and over HTTP,
   against the same SQL on a DuckDB cursor directly. Goal: at most 2 ms per statement over the engine.
2. long-poll latency: how long after a statement ends a waiting DescribeStatement returns. Goal: 20 ms.
3. a 1,000,000-row insert-select with joins through the emulator vs the same SQL on DuckDB alone. Goal: 1.1x.

    .venv/bin/python benchmarks/dataapi_overhead.py [--statements 500] [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import boto3
import duckdb

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.http import start_server
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.dataapi.translate import EngineSql, prepared_duckdb, translate

TARGET = {"ClusterIdentifier": "bench", "Database": "dev", "DbUser": "bench"}


def per_statement_ms(run: Callable[[int], Any], count: int) -> float:
    run(-1)  # warm up (first session, first translation)
    started = time.perf_counter()
    for n in range(count):
        run(n)
    return (time.perf_counter() - started) * 1000 / count


def direct_cursor() -> duckdb.DuckDBPyConnection:
    return prepared_duckdb(duckdb.connect(":memory:").cursor())


def overhead(count: int) -> dict[str, dict[str, float]]:
    """Milliseconds per INSERT and per SELECT: on DuckDB directly, translate() alone, and through each way in."""
    shapes = {"INSERT": "INSERT INTO t VALUES ({n})", "SELECT": "SELECT {n} AS n"}
    cursor = direct_cursor()
    cursor.execute("CREATE TABLE t (a INT)")
    direct = {kind: per_statement_ms(lambda n, sql=sql: cursor.execute(sql.format(n=n)).fetchall(), count)
              for kind, sql in shapes.items()}

    def translated_sql(sql: str) -> str:
        translated = translate(sql, "duckdb")
        assert isinstance(translated, EngineSql)
        return translated.text

    translate_only = {kind: per_statement_ms(lambda n, sql=sql: translated_sql(sql.format(n=n)), count)
                      for kind, sql in shapes.items()}

    with DataApiEmulator(DuckDBEngine()) as emulator:
        emulator.call("ExecuteStatement", {**TARGET, "Sql": "CREATE TABLE t (a INT)", "WaitTimeSeconds": 30})

        def service(sql: str) -> Callable[[int], Any]:
            return lambda n: emulator.call("ExecuteStatement",
                                           {**TARGET, "Sql": sql.format(n=n), "WaitTimeSeconds": 30})

        layers = {"service layer (emulator.call)": {k: per_statement_ms(service(s), count) for k, s in shapes.items()}}
        with route_in_process(emulator):
            client = boto3.client("redshift-data", region_name="us-east-1")
            layers["boto3 in-process"] = {
                kind: per_statement_ms(lambda n, sql=sql: client.execute_statement(
                    Sql=sql.format(n=n), **TARGET, WaitTimeSeconds=30), count) for kind, sql in shapes.items()}
        server = start_server(emulator)
        try:
            client = boto3.client("redshift-data", region_name="us-east-1", endpoint_url=server.url,
                                  aws_access_key_id="bench", aws_secret_access_key="bench")  # signed, unchecked
            layers["boto3 over HTTP"] = {
                kind: per_statement_ms(lambda n, sql=sql: client.execute_statement(
                    Sql=sql.format(n=n), **TARGET, WaitTimeSeconds=30), count) for kind, sql in shapes.items()}
        finally:
            server.stop()

    return {"DuckDB cursor directly": direct, "translate() alone (sqlglot)": translate_only, **layers}


def print_overhead(figures: dict[str, dict[str, float]], count: int) -> None:
    print(f"\n1. per-statement cost, {count} statements each (ms per statement)")
    direct, translate_only = figures["DuckDB cursor directly"], figures["translate() alone (sqlglot)"]
    print(f"   {'':34} {'INSERT':>8} {'SELECT':>8}")
    print(f"   {'DuckDB cursor directly':34} {direct['INSERT']:8.3f} {direct['SELECT']:8.3f}")
    print(f"   {'translate() alone (sqlglot)':34} {translate_only['INSERT']:8.3f} {translate_only['SELECT']:8.3f}")
    layers = {name: row for name, row in figures.items() if name not in ("DuckDB cursor directly",
                                                                        "translate() alone (sqlglot)")}
    for name, row in layers.items():
        print(f"   {name:34} {row['INSERT']:8.3f} {row['SELECT']:8.3f}   overhead over direct: "
              f"{row['INSERT'] - direct['INSERT']:.3f} / {row['SELECT'] - direct['SELECT']:.3f}")
    service_layer = layers["service layer (emulator.call)"]
    print("   service overhead without translate(): "
          f"{service_layer['INSERT'] - direct['INSERT'] - translate_only['INSERT']:.3f} / "
          f"{service_layer['SELECT'] - direct['SELECT'] - translate_only['SELECT']:.3f}")


def numbers(count: int, alias: str = "numbers") -> str:
    """The integers 0 to count - 1 as a derived table of column n, in SQL Redshift runs (no range() or
    generate_series on its compute nodes): a cross join of digits."""
    digits = "(SELECT 0 AS x" + "".join(f" UNION ALL SELECT {d}" for d in range(1, 10)) + ")"
    places = max(1, len(str(max(count - 1, 0))))
    terms = " + ".join(f"{10 ** i} * d{i}.x" for i in range(places))
    joined = ", ".join(f"{digits} d{i}" for i in range(places))
    return f"(SELECT n FROM (SELECT {terms} AS n FROM {joined}) AS digits WHERE n < {count}) AS {alias}"


def long_poll_latency(samples: int) -> dict[str, dict[str, float]]:
    """Milliseconds from a statement's end to the return of a DescribeStatement waiting on it (median, max)."""
    figures = {}
    sql = f"SELECT count(*) FROM {numbers(2_000_000, 'a')}, {numbers(10, 'b')} WHERE (a.n + b.n) % 3 = 0"
    with DataApiEmulator(DuckDBEngine()) as emulator:
        with route_in_process(emulator):
            client = boto3.client("redshift-data", region_name="us-east-1")
            for name, describe in (
                ("service layer", lambda i: emulator.call("DescribeStatement", {"Id": i, "WaitTimeSeconds": 30})),
                ("boto3 in-process", lambda i: client.describe_statement(Id=i, WaitTimeSeconds=30)),
            ):
                latencies = []
                for _ in range(samples):
                    statement_id = emulator.call("ExecuteStatement", {**TARGET, "Sql": sql})["Id"]
                    described = describe(statement_id)
                    returned = datetime.now(timezone.utc)
                    assert described["Status"] == "FINISHED", described
                    ended = emulator.statements.get(statement_id).updated_at  # when the worker marked it FINISHED
                    latencies.append((returned - ended).total_seconds() * 1000)
                figures[name] = {"median": statistics.median(latencies), "max": max(latencies)}
    return figures


def insert_select(rows: int, runs: int) -> dict[str, dict[str, float]]:
    """Seconds of an insert-select with 3 joins on DuckDB alone and through the emulator (median and best)."""
    setup = [
        f"CREATE TABLE sale_raw AS SELECT n AS id, n % 1000 AS customer_id, n % 100 AS item_id, "
        f"n % 365 AS day_id, (n % 97) * 1.25 AS amount FROM {numbers(rows)}",
        f"CREATE TABLE customer AS SELECT n AS customer_id, 'c' || n AS name FROM {numbers(1000)}",
        f"CREATE TABLE item AS SELECT n AS item_id, 'i' || n AS label FROM {numbers(100)}",
        f"CREATE TABLE day AS SELECT n AS day_id, DATE '2024-01-01' + n::INT AS day FROM {numbers(365)}",
        "CREATE TABLE sale_fact (id BIGINT, customer VARCHAR, item VARCHAR, day DATE, amount DECIMAL(12, 2))",
    ]
    load = ("INSERT INTO sale_fact SELECT s.id, c.name, i.label, d.day, s.amount FROM sale_raw s "
            "JOIN customer c ON c.customer_id = s.customer_id JOIN item i ON i.item_id = s.item_id "
            "JOIN day d ON d.day_id = s.day_id")
    translated = translate(load, "duckdb")
    assert isinstance(translated, EngineSql)

    cursor = direct_cursor()
    for sql in setup:
        cursor.execute(sql)
    direct, through = [], []
    with DataApiEmulator(DuckDBEngine()) as emulator:
        emulator.call("BatchExecuteStatement", {**TARGET, "Sqls": setup, "WaitTimeSeconds": 30})
        for _ in range(runs):  # interleaved, so that load from elsewhere on the machine hits both alike
            cursor.execute("DELETE FROM sale_fact")
            started = time.perf_counter()
            cursor.execute(translated.text).fetchall()
            direct.append(time.perf_counter() - started)

            emulator.call("ExecuteStatement", {**TARGET, "Sql": "DELETE FROM sale_fact", "WaitTimeSeconds": 30})
            started = time.perf_counter()
            submitted = emulator.call("ExecuteStatement", {**TARGET, "Sql": load, "WaitTimeSeconds": 30})
            through.append(time.perf_counter() - started)
            described = emulator.call("DescribeStatement", {"Id": submitted["Id"]})
            assert described["Status"] == "FINISHED" and described["ResultRows"] == rows, described
    return {name: {"direct_s": pick(direct), "emulator_s": pick(through), "ratio": pick(through) / pick(direct)}
            for name, pick in (("median", statistics.median), ("best", min))}


def measure(statements: int = 500, samples: int = 20, rows: int = 1_000_000, runs: int = 7) -> dict[str, Any]:
    """All three parts, with the goals of issue 4: 2 ms per statement, 20 ms long-poll latency, 1.1x."""
    figures = overhead(statements)
    direct = figures["DuckDB cursor directly"]
    service = figures["service layer (emulator.call)"]
    latency = long_poll_latency(samples)
    loads = insert_select(rows, runs)
    worst_overhead = max(service[kind] - direct[kind] for kind in ("INSERT", "SELECT"))
    return {
        "statements": statements, "samples": samples, "rows": rows, "runs": runs,
        "per_statement_ms": figures, "long_poll_ms": latency, "insert_select": loads,
        "goals": {
            "statement_overhead": {"goal_ms": 2.0, "measured_ms": worst_overhead, "met": worst_overhead <= 2.0},
            "long_poll_latency": {"goal_ms": 20.0, "measured_ms": latency["service layer"]["median"],
                                  "met": latency["service layer"]["median"] <= 20.0},
            "insert_select_ratio": {"goal": 1.1, "measured": loads["median"]["ratio"],
                                    "met": loads["median"]["ratio"] <= 1.1},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    print(f"Data API emulator overhead ({threading.active_count()} thread(s) at start)")
    print_overhead(overhead(args.statements), args.statements)
    print(f"\n2. long-poll latency: statement end -> waiting DescribeStatement returns ({args.samples} samples, ms)")
    for name, latency in long_poll_latency(args.samples).items():
        print(f"   {name:18} median {latency['median']:6.3f}   max {latency['max']:6.3f}")
    print(f"\n3. {args.rows:,}-row insert-select with 3 joins (s, median of {args.runs})")
    for name, load in insert_select(args.rows, args.runs).items():
        print(f"   {name:6} DuckDB alone {load['direct_s']:.3f}   through the emulator {load['emulator_s']:.3f}   "
              f"ratio {load['ratio']:.3f}")


if __name__ == "__main__":
    main()
