"""MSK topics copied into a DuckDB warehouse as records are put (streams/topic_tables.py): REFRESH of the guide's
view then moves positions only; a REFRESH sees every record put before it, in a batch too; a topic deleted and
created again is read from its beginning while the view keeps what it read; the copy survives a reopened warehouse."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.dataapi.streams import topic_tables
from shiftflow.dataapi.streams.topics import Producer, TopicStore
from shiftflow.local.cloud.client import wait_until
from tests.unit.streams.conftest import Warehouse, run_batch

SCHEMA = ("CREATE EXTERNAL SCHEMA s FROM MSK IAM_ROLE default AUTHENTICATION none"
          " CLUSTER_ARN 'arn:aws:kafka:us-east-1:123456789012:cluster/local/1'")
VIEW = ("CREATE MATERIALIZED VIEW mv AS SELECT kafka_partition, kafka_offset, refresh_time, JSON_PARSE(kafka_value)"
        " AS data FROM s.orders WHERE CAN_JSON_PARSE(kafka_value)")
DATABASE = "dev"


@contextmanager
def duckdb_warehouse(folder: Path | None = None) -> Iterator[tuple[Warehouse, DuckDBEngine]]:
    engine = DuckDBEngine(folder)
    with mock_aws():
        emulator = DataApiEmulator(engine, page_rows=1000)
        try:
            with route_in_process(emulator):
                yield Warehouse(boto3.client("redshift-data", region_name="us-east-1"), DATABASE), engine
        finally:
            emulator.close()


def create_view(warehouse: Warehouse) -> None:
    """The MSK schema and the guide's view over topic orders."""
    warehouse.ok(SCHEMA)
    warehouse.ok(VIEW)


def copied_records(engine: DuckDBEngine, topic: str) -> int:
    """How many of the topic's records the warehouse holds (read outside any view)."""
    session = engine.session(DATABASE)
    try:
        rows = session.execute("SELECT coalesce(sum(last_offset + 1), 0) FROM shiftflow_stream.topic_ingest"
                               f" WHERE topic = '{topic}'", {}).rows
        return int(rows[0][0])
    finally:
        session.close()


def ingester_copied(engine: DuckDBEngine, topic: str) -> bool:
    ingester: Any = engine.services(DATABASE).get(topic_tables.SERVICE)
    return ingester is not None and ingester.copied(topic)


def test_records_reach_the_warehouse_as_they_are_put_and_refresh_moves_positions(topics: TopicStore) -> None:
    producer = Producer(topics)
    topics.create("orders", 2)
    with duckdb_warehouse() as (warehouse, engine):
        create_view(warehouse)
        for n in range(10):
            producer.send("orders", {"n": n}, partition=n % 2)
        producer.send("orders", "{not json", partition=0)
        assert wait_until(lambda: copied_records(engine, "orders") == 11, timeout=30, interval=0.05)
        assert warehouse.rows("SELECT count(*) FROM mv") == [[0]]  # copied, not yet refreshed
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        assert warehouse.rows("SELECT CAST(data.n AS INT) FROM mv ORDER BY 1") == [[n] for n in range(10)]
        assert warehouse.rows("SELECT partition_id, latest_position, scanned_rows, skipped_rows"
                              " FROM sys_stream_scan_states ORDER BY 1") == [["0", "5", 6, 0], ["1", "4", 5, 0]]
        assert warehouse.rows("SELECT status FROM sys_mv_refresh_history") == [
            ["Refresh successfully updated MV incrementally"]]
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        assert warehouse.rows("SELECT status FROM sys_mv_refresh_history ORDER BY start_time DESC LIMIT 1") == [
            ["Stream returned no new data"]]


def test_a_refresh_in_a_batch_sees_every_record_put_before_the_batch(topics: TopicStore) -> None:
    """Put, then at once a batch (one transaction, as a scheduled load) that refreshes and counts: nothing put
    before the batch is left for the next cycle, whether or not the ingester had looked yet."""
    producer = Producer(topics)
    topics.create("orders", 3)
    with duckdb_warehouse() as (warehouse, _):
        create_view(warehouse)
        warehouse.ok("CREATE TABLE seen (n BIGINT)")
        for cycle in range(1, 4):
            producer.send_many("orders", [{"n": n} for n in range(50)])
            described = run_batch(warehouse, ["SET enable_case_sensitive_identifier TO true",
                                              "SELECT count(*) FROM seen",  # the transaction has read
                                              "REFRESH MATERIALIZED VIEW mv",
                                              "INSERT INTO seen SELECT count(*) FROM mv"])
            assert described["Status"] == "FINISHED", described.get("Error")
            assert warehouse.rows("SELECT max(n) FROM seen") == [[50 * cycle]]


def test_a_topic_created_again_is_read_from_its_beginning_and_the_view_keeps_what_it_read(
        topics: TopicStore) -> None:
    producer = Producer(topics)
    topics.create("orders", 1)
    with duckdb_warehouse() as (warehouse, _):
        create_view(warehouse)
        producer.send_many("orders", [{"n": n} for n in range(3)])
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        shutil.rmtree(topics.root / "orders")
        topics.create("orders", 1)
        producer.send_many("orders", [{"n": n} for n in range(10, 12)])
        assert warehouse.rows("SELECT count(*) FROM mv") == [[3]]  # until refreshed
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        assert warehouse.rows("SELECT kafka_offset, CAST(data.n AS INT) FROM mv ORDER BY 2") == [
            [0, 0], [1, 1], [2, 2], [0, 10], [1, 11]]
        assert warehouse.rows("SELECT count(DISTINCT refresh_time) FROM mv") == [[2]]
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        assert warehouse.rows("SELECT count(*) FROM mv") == [[5]]


def test_the_copy_and_the_positions_survive_a_reopened_warehouse(tmp_path: Path, topics: TopicStore) -> None:
    producer = Producer(topics)
    topics.create("orders", 2)
    producer.send_many("orders", [{"n": n} for n in range(20)])
    with duckdb_warehouse(tmp_path / "warehouse") as (warehouse, engine):
        create_view(warehouse)
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        producer.send_many("orders", [{"n": n} for n in range(20, 30)])
        assert wait_until(lambda: ingester_copied(engine, "orders"), timeout=30, interval=0.05)
    producer.send_many("orders", [{"n": n} for n in range(30, 35)])  # while no warehouse runs
    with duckdb_warehouse(tmp_path / "warehouse") as (warehouse, engine):
        assert warehouse.rows("SELECT count(*) FROM mv") == [[20]]
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        assert warehouse.rows("SELECT CAST(data.n AS INT), count(*) FROM mv GROUP BY 1 ORDER BY 1") == [
            [n, 1] for n in range(35)]
        assert copied_records(engine, "orders") == 35


def test_a_batch_refresh_in_a_reopened_warehouse_sees_every_record_put_before_it(tmp_path: Path,
                                                                                 topics: TopicStore) -> None:
    """After a restart nothing has refreshed yet: the first batch's BEGIN still copies the topics the warehouse's
    views read, though the batch reads the warehouse before its REFRESH."""
    producer = Producer(topics)
    topics.create("orders", 2)
    with duckdb_warehouse(tmp_path / "warehouse") as (warehouse, _):
        create_view(warehouse)
        warehouse.ok("CREATE TABLE seen (n BIGINT)")
    producer.send_many("orders", [{"n": n} for n in range(10)])
    with duckdb_warehouse(tmp_path / "warehouse") as (warehouse, _):
        described = run_batch(warehouse, ["SELECT count(*) FROM seen", "REFRESH MATERIALIZED VIEW mv",
                                          "INSERT INTO seen SELECT count(*) FROM mv"])
        assert described["Status"] == "FINISHED", described.get("Error")
        assert warehouse.rows("SELECT n FROM seen") == [[10]]


def test_a_topic_gone_while_followed_fails_no_statement(topics: TopicStore) -> None:
    producer = Producer(topics)
    topics.create("orders", 2)
    with duckdb_warehouse() as (warehouse, _):
        create_view(warehouse)
        producer.send_many("orders", [{"n": n} for n in range(5)])
        warehouse.ok("REFRESH MATERIALIZED VIEW mv")
        producer.send_many("orders", [{"n": n} for n in range(5, 8)])
        shutil.rmtree(topics.root / "orders")  # the followed topic's files vanish before the next copy
        described = run_batch(warehouse, ["CREATE TABLE other (n INT)", "INSERT INTO other VALUES (1)"])
        assert described["Status"] == "FINISHED", described.get("Error")
        assert warehouse.rows("SELECT count(*) FROM mv") == [[5]]
        refused = warehouse.run("REFRESH MATERIALIZED VIEW mv")
        assert refused["Status"] == "FAILED" and "topic orders does not exist" in refused["Error"]
