"""Issue 12's streaming figures (DuckDB, the Data API emulator in process, the local MSK topic store):

- typed load: a first REFRESH of N orders (JSON, a 1% share invalid) plus the typed insert-select from the view
  (the seed's dot notation and casts), against the same JSON extraction as one insert-select from a local table of
  the same values in plain DuckDB (goal: within 1.3x). Two baselines: DuckDB's own `json_valid` (which accepts the
  trailing commas and NaN / Infinity Redshift refuses: a different answer on such records), and the same
  extraction with Redshift's strict check written as plain DuckDB SQL (the emulator's macros, no emulator);
- incremental: REFRESH of `new` records on a view already holding N, against `new` records on an empty view
  (goal: within 1.5x);
- freshness: a record put, then the time until a query of the view sees it, with a REFRESH every `interval` s
  (goal: within one refresh interval plus 1 s).

    PYTHONPATH=. .venv/bin/python benchmarks/streaming.py [--records 1000000] [--new 10000] [--repeat 3]

make bench runs it as its `streaming` section (run_all.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shiftflow.dataapi.streams.topics import Producer, TopicStore  # noqa: E402  (after the path above, as a script)
from shiftflow.local.cloud.client import wait_until  # noqa: E402

SCHEMA = ("CREATE EXTERNAL SCHEMA custschema FROM MSK IAM_ROLE default AUTHENTICATION none"
          " CLUSTER_ARN 'arn:aws:kafka:us-east-1:123456789012:cluster/local/1'")
VIEW = ("CREATE MATERIALIZED VIEW orders_stream_mv AS SELECT kafka_partition, kafka_offset, refresh_time,"
        " JSON_PARSE(kafka_value) AS data FROM custschema.orders WHERE CAN_JSON_PARSE(kafka_value)")
TYPED = """CREATE TABLE orders AS SELECT data."OrderID"::INT4 AS orderid, data."CustomerID"::VARCHAR(36) AS customerid,
 data."OrderDate"::TIMESTAMPTZ AS orderdate, data."Quatity"::INT4 AS quatity, data."Price"::DOUBLE PRECISION AS price,
 data."OrderStatus"::VARCHAR(36) AS orderstatus, kafka_partition::BIGINT, kafka_offset::BIGINT FROM orders_stream_mv"""
# The same extraction in plain DuckDB, from a local table of the records' text.
BASELINE = """CREATE TABLE orders AS SELECT CAST(j->>'OrderID' AS INTEGER) AS orderid,
 CAST(j->>'CustomerID' AS VARCHAR) AS customerid, CAST(j->>'OrderDate' AS TIMESTAMPTZ) AS orderdate,
 CAST(j->>'Quatity' AS INTEGER) AS quatity, CAST(j->>'Price' AS DOUBLE) AS price,
 CAST(j->>'OrderStatus' AS VARCHAR) AS orderstatus, kafka_partition, kafka_offset
 FROM (SELECT kafka_partition, kafka_offset, CAST(v AS JSON) AS j FROM raw WHERE json_valid(v))"""
# The same with Redshift's JSON rules: what the view's CAN_JSON_PARSE answers (the emulator's macros, on plain DuckDB).
BASELINE_STRICT = BASELINE.replace("WHERE json_valid(v)", "WHERE shiftflow_json_parses(v)")
STRICT_MACROS = ("shiftflow_json_strict(x)", "shiftflow_json_lax(t)", "shiftflow_json_parses(t)")


def order(number: int) -> str:
    if number % 100 == 99:
        return '{"OrderID": "' + str(number)  # invalid JSON, filtered by the view's CAN_JSON_PARSE
    return json.dumps({"EventType": "Orders", "OrderID": str(number), "CustomerID": f"C{number % 5000}",
                       "OrderDate": "2023-09-02", "Quatity": str(number % 9 + 1), "Price": str(number % 700 + 0.5),
                       "OrderStatus": "Initiated"})


class Warehouse:
    """Statements in one Data API session (SET enable_case_sensitive_identifier lasts)."""

    def __init__(self, client: Any) -> None:
        self.client, self.session_id = client, ""

    def _submit(self, sql: str) -> dict[str, Any]:
        target = ({"SessionId": self.session_id} if self.session_id else
                  {"ClusterIdentifier": "local", "Database": "dev", "DbUser": "awsuser",
                   "SessionKeepAliveSeconds": 3600})
        submitted = self.client.execute_statement(Sql=sql, **target)
        self.session_id = submitted.get("SessionId", self.session_id)
        return submitted

    def run(self, sql: str) -> None:
        submitted = self._submit(sql)
        while True:
            described = self.client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)
            if described["Status"] == "FINISHED":
                return
            if described["Status"] in {"FAILED", "ABORTED"}:
                raise RuntimeError(f"{sql}: {described.get('Error')}")

    def rows(self, sql: str) -> list[list[Any]]:
        submitted = self._submit(sql)
        while self.client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)["Status"] != "FINISHED":
            pass
        records = self.client.get_statement_result(Id=submitted["Id"])["Records"]
        return [[None if v.get("isNull") else next(iter(v.values())) for v in record] for record in records]


@contextmanager
def warehouse(folder: Path, topics: Path | None = None) -> Iterator[tuple[Warehouse, Any]]:
    """An emulator over a file-backed DuckDB in `folder` and a topic store (`topics`, else in `folder`); the
    warehouse and the producer (its `copied(topic)`: whether the warehouse holds every record put so far)."""
    import boto3

    from shiftflow.dataapi.engines.duckdb import DuckDBEngine
    from shiftflow.dataapi.inprocess import route_in_process
    from shiftflow.dataapi.service import DataApiEmulator
    from shiftflow.dataapi.streams import sources, topic_tables
    from shiftflow.dataapi.streams.topics import Producer, TopicStore

    topic_root = topics if topics is not None else folder / "topics"
    previous = sources.current()
    sources.use(sources.StreamSources(topic_root=topic_root))
    engine = DuckDBEngine(folder / "warehouse")
    emulator = DataApiEmulator(engine, page_rows=1000)
    producer = Producer(TopicStore(topic_root), default_partitions=4)

    def copied(topic: str) -> bool:
        ingester = engine.services("dev").get(topic_tables.SERVICE)
        return ingester is not None and ingester.copied(topic)

    producer.copied = copied  # type: ignore[attr-defined]
    try:
        with route_in_process(emulator):
            yield Warehouse(boto3.client("redshift-data", region_name="us-east-1")), producer
    finally:
        emulator.close()
        sources.use(previous)


def produce(producer: Any, start: int, count: int) -> None:
    producer.store.create("orders", 4)
    for chunk in range(start, start + count, 100_000):
        numbers = range(chunk, min(chunk + 100_000, start + count))
        producer.send_many("orders", [order(n) for n in numbers], [str(n) for n in numbers])


def measured(work: Any) -> tuple[float, float]:
    """Wall clock and CPU seconds of work() (CPU: every thread of this process, DuckDB's too: steadier than the
    wall clock on a shared machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu


def baseline_database(path: Path, values: list[str]) -> Any:
    """Plain DuckDB (no emulator) with a local table of the records' values and the strict JSON macros."""
    plain = duckdb.connect(str(path))
    plain.execute("CREATE TABLE raw (kafka_partition BIGINT, kafka_offset BIGINT, v VARCHAR)")
    plain.execute("INSERT INTO raw SELECT i % 4, i // 4, v FROM (SELECT unnest($1) AS v,"
                  " generate_subscripts($1, 1) - 1 AS i)", [values])
    for macro in strict_macros():
        plain.execute(macro)
    plain.execute("CHECKPOINT")
    return plain


def typed_load(topics: Path, plain: Any) -> dict[str, float]:
    """The typed load of the orders topic in `topics`: the view created, then the topic's records arrive (its
    partition files, produced once, copied into the topic store the warehouse follows: what puts append; the local
    runtime copies them into the warehouse as they arrive, `copy_lag` after the last of them), then the first
    REFRESH plus the typed CTAS, against plain DuckDB (`plain`: the same records in a local table,
    baseline_database)."""
    source = topics / "orders"
    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-stream-") as name:
        with warehouse(Path(name)) as (dw, producer):
            target = producer.store.root / "orders"
            target.mkdir(parents=True)
            shutil.copyfile(source / "topic.json", target / "topic.json")
            dw.run(SCHEMA)
            dw.run("SET enable_case_sensitive_identifier TO true")
            dw.run(VIEW)
            for path in sorted(source.glob("partition-*.jsonl")):
                shutil.copyfile(path, target / path.name)
            lag, _ = measured(lambda: wait_until(lambda: producer.copied("orders"), timeout=300, interval=0.01))
            refresh, refresh_cpu = measured(lambda: dw.run("REFRESH MATERIALIZED VIEW orders_stream_mv"))
            load, load_cpu = measured(lambda: dw.run(TYPED))
            loaded = dw.rows("SELECT count(*), sum(orderid) FROM orders")[0]
    plain.execute("DROP TABLE IF EXISTS orders")
    baseline, baseline_cpu = measured(lambda: plain.execute(BASELINE))
    expected = plain.execute("SELECT count(*), sum(orderid) FROM orders").fetchone()
    plain.execute("DROP TABLE orders")
    strict, strict_cpu = measured(lambda: plain.execute(BASELINE_STRICT))
    expected_strict = plain.execute("SELECT count(*), sum(orderid) FROM orders").fetchone()
    assert [int(v) for v in loaded] == list(expected) == list(expected_strict), (loaded, expected, expected_strict)
    return {"copy_lag": lag, "refresh": refresh, "typed": load, "shiftflow": refresh + load,
            "duckdb": baseline, "ratio": (refresh + load) / baseline, "refresh_cpu": refresh_cpu,
            "typed_cpu": load_cpu, "duckdb_cpu": baseline_cpu, "cpu_ratio": (refresh_cpu + load_cpu) / baseline_cpu,
            "duckdb_strict": strict, "ratio_strict": (refresh + load) / strict, "duckdb_strict_cpu": strict_cpu,
            "cpu_ratio_strict": (refresh_cpu + load_cpu) / strict_cpu}


def strict_macros() -> list[str]:
    """The emulator's strict JSON check (translate setup) as plain DuckDB macros, in the order they need."""
    from shiftflow.dataapi.translate import session_setup

    setup = session_setup("duckdb")
    return [next(text for text in setup if text.startswith(f"CREATE OR REPLACE TEMP MACRO {name}"))
            for name in STRICT_MACROS]


def incremental(topics: Path, new: int, first: int, repeat: int) -> list[dict[str, float]]:
    """REFRESH of `new` records on an empty view (a topic of its own), against `new` records (numbered from `first`)
    put on top of the topic in `topics` on a view that read all of it: `repeat` pairs, the view over `topics`
    built once (each later increment lands on top of the earlier ones)."""
    empties = []
    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-stream-") as name:
        for run in range(repeat):
            with warehouse(Path(name) / f"empty-{run}") as (dw, producer):
                dw.run(SCHEMA)
                dw.run(VIEW)
                produce(producer, 0, new)
                empties.append(measured(lambda: dw.run("REFRESH MATERIALIZED VIEW orders_stream_mv")))
        runs = []
        with warehouse(Path(name) / "full", topics) as (dw, producer):
            dw.run(SCHEMA)
            dw.run(VIEW)
            dw.run("REFRESH MATERIALIZED VIEW orders_stream_mv")
            for run, (empty, empty_cpu) in enumerate(empties):
                held = int(dw.rows("SELECT count(*) FROM orders_stream_mv")[0][0])
                produce(producer, first + run * new, new)
                full, full_cpu = measured(lambda: dw.run("REFRESH MATERIALIZED VIEW orders_stream_mv"))
                runs.append({"on_empty": empty, "on_full": full, "ratio": full / empty, "on_empty_cpu": empty_cpu,
                             "on_full_cpu": full_cpu, "cpu_ratio": full_cpu / empty_cpu, "held": held})
    return runs


def freshness(interval: float, samples: int) -> dict[str, float]:
    """A REFRESH every `interval` s in a thread; per sample: put, then poll the view until the record is there."""
    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-stream-") as name:
        with warehouse(Path(name)) as (dw, producer):
            producer.store.create("orders", 4)
            dw.run(SCHEMA)
            dw.run(VIEW)
            stop = threading.Event()

            refreshing = Warehouse(dw.client)  # a session of its own: one statement at a time per session

            def refresher() -> None:
                while not stop.wait(interval):
                    refreshing.run("REFRESH MATERIALIZED VIEW orders_stream_mv")

            thread = threading.Thread(target=refresher, daemon=True)
            thread.start()
            delays = []
            try:
                for number in range(samples):
                    written = producer.send("orders", order(number * 100), key=str(number))
                    put = time.perf_counter()
                    query = ("SELECT count(*) FROM orders_stream_mv WHERE kafka_partition = "
                             f"{written.partition} AND kafka_offset = {written.offset}")
                    if not wait_until(lambda: dw.rows(query) == [[1]], timeout=60, interval=0.02):
                        raise RuntimeError(f"record {number} never reached the view")
                    delays.append(time.perf_counter() - put)
            finally:
                stop.set()
                thread.join()
    return {"interval": interval, "median": statistics.median(delays), "max": max(delays)}


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def measure(records: int = 1_000_000, new: int = 10_000, repeat: int = 3, interval: float = 1.0,
            samples: int = 10) -> dict[str, Any]:
    """Issue 12's three figures with their goals: typed load 1.3x plain DuckDB, incremental REFRESH 1.5x, freshness
    within the refresh interval plus 1 s (medians of `repeat` runs; the topic of `records` is produced once)."""
    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-topic-") as name:
        topics = Path(name)
        producer = Producer(TopicStore(topics), default_partitions=4)
        produce(producer, 0, records)  # the topic the incremental figures start from
        plain = baseline_database(topics / "baseline.duckdb", [order(n) for n in range(records)])
        try:
            typed = [typed_load(topics, plain) for _ in range(repeat)]
        finally:
            plain.close()
        increments = incremental(topics, new, records, repeat)
    fresh = freshness(interval, samples)
    typed_ratio, increment_ratio = _median(typed, "ratio"), _median(increments, "ratio")
    return {
        "records": records, "new": new, "repeat": repeat, "typed_load": typed, "incremental": increments,
        "freshness": fresh,
        "goals": {
            "typed_load": {"goal": 1.3, "measured": typed_ratio, "met": typed_ratio <= 1.3,
                           "cpu": _median(typed, "cpu_ratio"), "strict": _median(typed, "ratio_strict"),
                           "strict_cpu": _median(typed, "cpu_ratio_strict")},
            "incremental": {"goal": 1.5, "measured": increment_ratio, "met": increment_ratio <= 1.5,
                            "cpu": _median(increments, "cpu_ratio")},
            "freshness": {"goal_s": interval + 1.0, "measured_s": fresh["median"], "max_s": fresh["max"],
                          "met": fresh["median"] <= interval + 1.0},
        },
    }


def summary(name: str, runs: list[dict[str, float]], keys: tuple[str, ...]) -> None:
    """The median and range of each ratio over the runs (each run's own pair, measured one after the other)."""
    if len(runs) > 1:
        print(name, {key: f"median {statistics.median(r[key] for r in runs):.2f}"
                          f" ({min(r[key] for r in runs):.2f}-{max(r[key] for r in runs):.2f})" for key in keys})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    figures = measure(options.records, options.new, options.repeat)
    for run in figures["typed_load"]:
        print("typed load", {k: round(v, 3) for k, v in run.items()}, flush=True)
    summary("typed load", figures["typed_load"], ("ratio", "cpu_ratio", "ratio_strict", "cpu_ratio_strict"))
    for run in figures["incremental"]:
        print("incremental", {k: round(v, 3) for k, v in run.items()}, flush=True)
    summary("incremental", figures["incremental"], ("ratio", "cpu_ratio"))
    print("freshness", {k: round(v, 3) for k, v in figures["freshness"].items()})
    print("goals", json.dumps(figures["goals"], default=str))


if __name__ == "__main__":
    main()
