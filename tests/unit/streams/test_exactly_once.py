"""Every record exactly once: refresh cycles while two producers write concurrently, and a refreshing process
killed (SIGKILL) in the middle of its refreshes; checked by (partition, offset)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.streams.topics import Producer, TopicStore
from shiftflow.dataapi.translate import translate
from tests.unit.streams.conftest import Warehouse

SETUP = ("CREATE EXTERNAL SCHEMA s FROM MSK IAM_ROLE default AUTHENTICATION none"
         " CLUSTER_ARN 'arn:aws:kafka:us-east-1:123456789012:cluster/local/1'",
         "CREATE MATERIALIZED VIEW mv AS SELECT kafka_partition, kafka_offset, JSON_PARSE(kafka_value) AS data"
         " FROM s.orders WHERE CAN_JSON_PARSE(kafka_value)")
PER_PRODUCER = 300


def _produce(store: TopicStore, name: str, written: list[tuple[int, int, bool]]) -> None:
    producer = Producer(store)
    for number in range(PER_PRODUCER):
        valid = number % 7 != 0
        value = {"producer": name, "n": number} if valid else f"{{broken {name} {number}"
        result = producer.send("orders", value, key=f"{name}-{number}")
        written.append((result.partition, result.offset, valid))


def _loaded(warehouse: Warehouse) -> list[tuple[int, int]]:
    return [(p, o) for p, o in warehouse.rows("SELECT kafka_partition, kafka_offset FROM mv")]


def test_refresh_cycles_with_two_concurrent_producers(warehouse: Warehouse, topics: TopicStore) -> None:
    topics.create("orders", 3)
    for statement in SETUP:
        warehouse.ok(statement)
    written: list[tuple[int, int, bool]] = []
    producers = [threading.Thread(target=_produce, args=(topics, name, written)) for name in ("a", "b")]
    for thread in producers:
        thread.start()
    failures: list[str] = []

    def refresh_while_producing(refresher: Warehouse) -> None:
        cycles = 0
        while any(thread.is_alive() for thread in producers) or cycles < 3:
            described = refresher.run("REFRESH MATERIALIZED VIEW mv")
            if described["Status"] != "FINISHED":
                failures.append(described.get("Error", ""))
            cycles += 1

    refreshers = [threading.Thread(target=refresh_while_producing, args=(warehouse.fresh(),)) for _ in range(2)]
    for thread in refreshers:  # two sessions refreshing the same view at the same time
        thread.start()
    for thread in [*producers, *refreshers]:
        thread.join()
    assert failures == []
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")
    loaded = _loaded(warehouse)
    assert len(loaded) == len(set(loaded))  # nothing twice
    assert sorted(loaded) == sorted((p, o) for p, o, valid in written if valid)  # nothing lost
    offsets = {p: sorted(o for q, o, _ in written if q == p) for p in range(3)}
    assert all(found == list(range(len(found))) for found in offsets.values())  # offsets from 0, no gaps


_KILLED_CHILD = """
import sys
from pathlib import Path
from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.streams import sources
from shiftflow.dataapi.translate import translate
sources.use(sources.StreamSources(topic_root=Path(sys.argv[2])))
session = DuckDBEngine(sys.argv[1]).session("dev")
command = translate("REFRESH MATERIALIZED VIEW mv", "duckdb")
for cycle in range(1_000_000):
    command.run(session, {}, False)
    print(cycle, flush=True)
"""


def _refresh(engine_dir: Path) -> Any:
    engine = DuckDBEngine(engine_dir)
    session = engine.session("dev")
    translate("REFRESH MATERIALIZED VIEW mv", "duckdb").run(session, {}, False)
    return engine, session


def test_a_refresh_killed_midway_loses_and_duplicates_nothing(tmp_path: Path, topics: TopicStore) -> None:
    warehouse_dir = tmp_path / "warehouse"
    topics.create("orders", 2)
    engine = DuckDBEngine(warehouse_dir)
    session = engine.session("dev")
    for statement in SETUP:
        translate(statement, "duckdb").run(session, {}, False)
    session.close()
    engine.close()
    written: list[tuple[int, int, bool]] = []
    _produce(topics, "before", written)
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(warehouse_dir), str(topics.root)],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert child.stdout is not None
    producing = [threading.Thread(target=_produce, args=(topics, name, written)) for name in ("during-a", "during-b")]
    for thread in producing:
        thread.start()
    for _ in range(3):  # a few refreshes done, others under way: kill it wherever it is
        assert child.stdout.readline()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    for thread in producing:
        thread.join()
    engine, session = _refresh(warehouse_dir)
    try:
        rows = session.execute(translate("SELECT kafka_partition, kafka_offset FROM mv", "duckdb").text, {}).rows
    finally:
        session.close()
        engine.close()
    loaded = [(int(p), int(o)) for p, o in rows]
    assert len(loaded) == len(set(loaded))
    assert sorted(loaded) == sorted((p, o) for p, o, valid in written if valid)
