"""REFRESH MATERIALIZED VIEW beyond the seed: a record too large for its VARBYTE column is skipped and logged, an
expression that fails fails the refresh and changes nothing, plain materialized views recompute, DROP."""

from __future__ import annotations

from shiftflow.dataapi.streams.catalog import MAX_RECORD_BYTES
from shiftflow.dataapi.streams.topics import Producer
from tests.unit.streams.conftest import Warehouse

SCHEMA = ("CREATE EXTERNAL SCHEMA s FROM MSK IAM_ROLE default AUTHENTICATION none"
          " CLUSTER_ARN 'arn:aws:kafka:us-east-1:123456789012:cluster/local/1'")


def test_an_oversized_record_is_skipped_and_logged_with_its_position(warehouse: Warehouse,
                                                                     producer: Producer) -> None:
    producer.store.create("big", 1)
    producer.send("big", {"n": 1})
    skipped = producer.send("big", "x" * (MAX_RECORD_BYTES + 1))
    producer.send("big", {"n": 3})
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW mv AS SELECT kafka_offset, kafka_value FROM s.big")
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")
    assert warehouse.rows("SELECT kafka_offset FROM mv ORDER BY 1") == [[0], [2]]
    errors = warehouse.rows('SELECT mv_name, external_schema_name, stream_name, partition_id, "position", error_code'
                            " FROM sys_stream_scan_errors")
    assert errors == [["mv", "s", "big", "0", str(skipped.offset), 1]]
    assert warehouse.rows("SELECT status FROM sys_mv_refresh_history") == [["Some stream records were skipped"]]


def test_an_expression_that_fails_fails_the_refresh_and_changes_nothing(warehouse: Warehouse,
                                                                        producer: Producer) -> None:
    producer.store.create("t", 1)
    producer.send("t", {"ok": 1})
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW mv AS SELECT kafka_offset, JSON_PARSE(kafka_value) AS data FROM s.t")
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")
    producer.send("t", "{not json")  # no CAN_JSON_PARSE guard: Redshift's refresh fails until the record expires
    producer.send("t", {"ok": 3})
    failed = warehouse.run("REFRESH MATERIALIZED VIEW mv")
    assert failed["Status"] == "FAILED"
    assert warehouse.rows("SELECT kafka_offset FROM mv") == [[0]]
    assert warehouse.rows("SELECT count(*) FROM sys_mv_refresh_history") == [[1]]


def test_plain_materialized_views_recompute_and_drop(warehouse: Warehouse) -> None:
    warehouse.ok("CREATE TABLE sales (region VARCHAR(10), amount INT)")
    warehouse.ok("INSERT INTO sales VALUES ('north', 5), ('south', 7), ('north', 1)")
    warehouse.ok("CREATE MATERIALIZED VIEW totals AS SELECT region, sum(amount) AS total FROM sales GROUP BY region")
    assert warehouse.rows("SELECT region, total FROM totals ORDER BY 1") == [["north", 6], ["south", 7]]
    warehouse.ok("INSERT INTO sales VALUES ('east', 2)")
    assert warehouse.rows("SELECT count(*) FROM totals") == [[2]]  # until refreshed
    warehouse.ok("REFRESH MATERIALIZED VIEW totals")
    assert warehouse.rows("SELECT region, total FROM totals ORDER BY 1") == [["east", 2], ["north", 6],
                                                                            ["south", 7]]
    assert warehouse.rows("SELECT status FROM sys_mv_refresh_history") == [
        ["Refresh successfully recomputed MV from scratch"]]
    duplicate = warehouse.run("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS x")
    assert duplicate["Status"] == "FAILED" and "already exists" in duplicate["Error"]
    warehouse.ok("DROP MATERIALIZED VIEW totals")
    assert warehouse.run("SELECT * FROM totals")["Status"] == "FAILED"
    missing = warehouse.run("REFRESH MATERIALIZED VIEW totals")
    assert missing["Status"] == "FAILED" and 'materialized view "totals" does not exist' in missing["Error"]
    warehouse.ok("DROP MATERIALIZED VIEW IF EXISTS totals")


def test_auto_refresh_yes_needs_the_local_runtime(warehouse: Warehouse) -> None:
    """A bare emulator has nothing that refreshes by itself (the local runtime's AutoRefresher does it)."""
    warehouse.ok(SCHEMA)
    refused = warehouse.run("CREATE MATERIALIZED VIEW mv AUTO REFRESH YES AS SELECT kafka_offset FROM s.t")
    assert refused["Status"] == "FAILED"
    assert "not supported locally: AUTO REFRESH YES outside the local runtime" in refused["Error"]
    warehouse.ok("CREATE MATERIALIZED VIEW mv AUTO REFRESH NO AS SELECT kafka_offset FROM s.t")


def test_kinesis_refreshes_continue_after_the_last_sequence_number(warehouse: Warehouse) -> None:
    import boto3

    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    put = [kinesis.put_record(StreamName="clicks", Data=f'{{"n": {n}}}'.encode(), PartitionKey=f"k{n}")
           for n in range(3)]
    warehouse.ok("CREATE EXTERNAL SCHEMA k FROM KINESIS IAM_ROLE default")
    warehouse.ok("CREATE MATERIALIZED VIEW clicks_mv AS SELECT shard_id, sequence_number,"
                 " json_parse(from_varbyte(kinesis_data, 'utf-8')) AS payload FROM k.clicks")
    warehouse.ok("REFRESH MATERIALIZED VIEW clicks_mv")
    put += [kinesis.put_record(StreamName="clicks", Data=f'{{"n": {n}}}'.encode(), PartitionKey=f"k{n}")
            for n in range(3, 11)]
    warehouse.ok("REFRESH MATERIALIZED VIEW clicks_mv")
    loaded = warehouse.rows("SELECT shard_id, sequence_number, payload.n::int FROM clicks_mv ORDER BY 3")
    assert [row[2] for row in loaded] == list(range(11))
    assert sorted((row[0], row[1]) for row in loaded) == sorted((p["ShardId"], p["SequenceNumber"]) for p in put)
    states = warehouse.rows("SELECT partition_id, sum(scanned_rows), max(CAST(last_position AS BIGINT))"
                            " FROM sys_stream_scan_states"
                            " GROUP BY 1 ORDER BY 1")
    last = {}
    for p in put:
        last[p["ShardId"]] = max(last.get(p["ShardId"], 0), int(p["SequenceNumber"]))
    assert {row[0].strip(): (row[1], int(row[2])) for row in states} == {
        shard: (sum(1 for p in put if p["ShardId"] == shard), number) for shard, number in last.items()}
