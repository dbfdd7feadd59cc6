"""REFRESH MATERIALIZED VIEW beyond the seed: a record too large for its VARBYTE column, or one the view's expressions
cannot convert, is skipped and logged while the rest loads, plain materialized views recompute, DROP."""

from __future__ import annotations

from typing import Any

from shiftflow.dataapi.streams.catalog import MAX_RECORD_BYTES
from shiftflow.dataapi.streams.topics import Producer, Record
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
    # The rest of Redshift's columns (r_SYS_STREAM_SCAN_ERRORS.md): the record's timestamp and its type.
    assert warehouse.rows("SELECT stream_timestamp_type, stream_timestamp IS NOT NULL, transaction_id IS NOT NULL,"
                          " query_id IS NOT NULL, record_time IS NOT NULL FROM sys_stream_scan_errors") == [
        ["C", True, True, True, True]]
    assert warehouse.rows("SELECT status FROM sys_mv_refresh_history") == [["Some stream records were skipped"]]


def test_views_over_one_topic_each_read_it_and_show_what_their_refreshes_read(warehouse: Warehouse,
                                                                              producer: Producer) -> None:
    """The guide's view (JSON_PARSE guarded by CAN_JSON_PARSE) reads its landing table: each view shows the records
    its own refreshes read, each once, with the refresh's time; dropping one leaves the other whole."""
    producer.store.create("o", 2)
    view = ("CREATE MATERIALIZED VIEW {} AS SELECT kafka_partition, kafka_offset, refresh_time,"
            " JSON_PARSE(kafka_value) AS data FROM s.o WHERE CAN_JSON_PARSE(kafka_value)")
    for n in range(3):
        producer.send("o", {"n": n}, partition=n % 2)
    producer.send("o", "{invalid", partition=0)
    warehouse.ok(SCHEMA)
    warehouse.ok(view.format("a"))
    warehouse.ok("REFRESH MATERIALIZED VIEW a")
    for n in range(3, 5):
        producer.send("o", {"n": n}, partition=n % 2)
    assert warehouse.rows("SELECT CAST(data.n AS INT) FROM a ORDER BY 1") == [[0], [1], [2]]
    warehouse.ok(view.format("b"))
    warehouse.ok("REFRESH MATERIALIZED VIEW b")
    assert warehouse.rows("SELECT CAST(data.n AS INT) FROM b ORDER BY 1") == [[n] for n in range(5)]
    assert warehouse.rows("SELECT count(*) FROM a") == [[3]]
    warehouse.ok("REFRESH MATERIALIZED VIEW a")
    warehouse.ok("REFRESH MATERIALIZED VIEW a")  # nothing new: nothing twice
    assert warehouse.rows("SELECT CAST(data.n AS INT), count(*) FROM a GROUP BY 1 ORDER BY 1") == [
        [n, 1] for n in range(5)]
    assert warehouse.rows("SELECT count(DISTINCT refresh_time) FROM a") == [[2]]  # two refreshes read records
    assert warehouse.rows("SELECT count(*) FROM a WHERE refresh_time > (SELECT min(refresh_time) FROM a)") == [[2]]
    warehouse.ok("DROP MATERIALIZED VIEW a")
    assert warehouse.rows("SELECT count(*) FROM b") == [[5]]
    assert warehouse.run("SELECT count(*) FROM a")["Status"] == "FAILED"


def test_records_the_views_expressions_cannot_convert_are_skipped_and_logged(warehouse: Warehouse,
                                                                             producer: Producer) -> None:
    """No CAN_JSON_PARSE guard: the invalid JSON and the record that is no number are skipped and logged with
    their partition and offset; every other record of the batch loads, once."""
    producer.store.create("t", 2)
    first = producer.send("t", "1", partition=0)
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW mv AS SELECT kafka_partition, kafka_offset,"
                 " JSON_PARSE(kafka_value) AS data,"
                 " CAST(from_varbyte(kafka_value, 'utf-8') AS DOUBLE PRECISION) AS n FROM s.t")
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")
    bad_json = producer.send("t", "{not json", partition=1)
    good = [producer.send("t", str(n), partition=n % 2) for n in range(2, 6)]
    bad_number = producer.send("t", '"x"', partition=0)  # valid JSON, no number
    later = producer.send("t", "6", partition=1)
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")
    loaded = warehouse.rows("SELECT kafka_partition, kafka_offset, n FROM mv ORDER BY n")
    assert loaded == [[w.partition, w.offset, float(n)] for n, w in enumerate([first, *good, later], start=1)]
    errors = warehouse.rows('SELECT mv_name, external_schema_name, stream_name, partition_id, "position",'
                            " error_code, error_reason FROM sys_stream_scan_errors ORDER BY 4, 5")
    assert [row[:6] for row in errors] == sorted(
        [["mv", "s", "t", str(w.partition), str(w.offset), 2] for w in (bad_json, bad_number)],
        key=lambda row: (row[3], row[4]))
    assert all(row[6] for row in errors)  # a reason
    assert warehouse.rows("SELECT DISTINCT stream_timestamp_type, stream_timestamp IS NOT NULL,"
                          " transaction_id IS NOT NULL FROM sys_stream_scan_errors") == [["C", True, True]]
    assert warehouse.rows("SELECT status FROM sys_mv_refresh_history ORDER BY start_time") == [
        ["Refresh successfully updated MV incrementally"], ["Some stream records were skipped"]]
    # r_SYS_STREAM_SCAN_STATES.md's columns: per refresh and partition, the records scanned and skipped
    states = warehouse.rows("SELECT partition_id, scanned_rows, skipped_rows, CAST(latest_position AS INT),"
                            " stream_record_time_min <= stream_record_time_max, external_schema_name, stream_name"
                            " FROM sys_stream_scan_states WHERE skipped_rows > 0 ORDER BY 1")
    assert [[row[0].strip(), *row[1:]] for row in states] == [
        ["0", 3, 1, bad_number.offset, True, "s", "t"], ["1", 4, 1, later.offset, True, "s", "t"]]
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")  # skipped records are not read again
    assert warehouse.rows("SELECT count(*) FROM mv") == [[6]]
    assert warehouse.rows("SELECT count(*) FROM sys_stream_scan_errors") == [[2]]


def test_a_view_calling_volatile_helpers_fails_on_a_record_it_cannot_convert_on_duckdb(
        warehouse: Warehouse, producer: Producer, engine: Any) -> None:
    """DuckDB skips records under TRY, which refuses volatile calls (the integer cast's error()): such a view's
    refresh fails saying so (PostgreSQL skips and logs for any view)."""
    producer.store.create("t", 1)
    producer.send("t", "12.5")
    producer.send("t", "2")
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW mv AS SELECT kafka_offset, CAST(from_varbyte(kafka_value, 'utf-8') AS INT)"
                 " AS n FROM s.t")
    refreshed = warehouse.run("REFRESH MATERIALIZED VIEW mv")
    if engine.name == "duckdb":
        assert refreshed["Status"] == "FAILED"
        assert "not supported locally: skipping the records this materialized view's" in refreshed["Error"]
        assert warehouse.rows("SELECT count(*) FROM mv") == [[0]]
    else:
        assert refreshed["Status"] == "FINISHED"
        assert warehouse.rows("SELECT kafka_offset FROM mv") == [[1]]
        assert warehouse.rows('SELECT "position", error_code FROM sys_stream_scan_errors') == [["0", 2]]


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

    from shiftflow.local.moto_gaps import activate

    with activate():  # the local runtime's Kinesis: AWS's 56-digit sequence numbers (moto gap 27)
        _kinesis_refreshes_continue_after_the_last_sequence_number(warehouse, boto3.client("kinesis",
                                                                                         region_name="us-east-1"))


def _kinesis_refreshes_continue_after_the_last_sequence_number(warehouse: Warehouse, kinesis: Any) -> None:
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
    assert all(len(p["SequenceNumber"]) == 56 for p in put)
    states = warehouse.rows("SELECT partition_id, scanned_rows, latest_position FROM sys_stream_scan_states")
    scanned: dict[str, tuple[int, int]] = {}  # a shard's records scanned, its latest position (a 56-digit text)
    for shard, rows, position in states:
        count, latest = scanned.get(shard.strip(), (0, 0))
        scanned[shard.strip()] = (count + rows, max(latest, int(position)))
    last: dict[str, int] = {}
    for p in put:
        last[p["ShardId"]] = max(last.get(p["ShardId"], 0), int(p["SequenceNumber"]))
    assert scanned == {shard: (sum(1 for p in put if p["ShardId"] == shard), number) for shard, number in last.items()}


def test_a_view_naming_the_key_and_headers_sees_them(warehouse: Warehouse, producer: Producer) -> None:
    """A view's landing keeps a record's key and headers only when its query names them (or reads *): those views
    show them, one naming neither shows its own columns."""
    producer.store.create("k", 1)
    producer.send("k", {"n": 1}, key="first", headers=[("source", b"web")])
    producer.send("k", {"n": 2})
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW named AS SELECT kafka_offset, kafka_key, kafka_headers FROM s.k")
    warehouse.ok("CREATE MATERIALIZED VIEW starred AS SELECT * FROM s.k")
    warehouse.ok("CREATE MATERIALIZED VIEW neither AS SELECT kafka_offset, kafka_value FROM s.k")
    for view in ("named", "starred", "neither"):
        warehouse.ok(f"REFRESH MATERIALIZED VIEW {view}")
    for view in ("named", "starred"):
        assert warehouse.rows(f"SELECT kafka_offset, FROM_VARBYTE(kafka_key, 'utf-8'), kafka_headers IS NULL"
                              f" FROM {view} ORDER BY 1") == [[0, "first", False], [1, None, False]]
    assert warehouse.rows("SELECT kafka_offset, FROM_VARBYTE(kafka_value, 'utf-8') FROM neither ORDER BY 1") == [
        [0, '{"n":1}'], [1, '{"n":2}']]


def test_values_kept_as_text_or_base64_read_back_as_the_same_bytes(warehouse: Warehouse, producer: Producer) -> None:
    """The topic files keep a UTF-8 value as text and other bytes as base64 (topics.py): a view shows the bytes as
    they were put, a null value as NULL."""
    producer.store.create("b", 1)
    producer.store.put("b", [Record('{"city": "Zürich"}'.encode()), Record(b"\xff\x00\xfe"), Record(None)])
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW mv AS SELECT kafka_offset, kafka_value FROM s.b")
    warehouse.ok("REFRESH MATERIALIZED VIEW mv")
    assert warehouse.rows("SELECT kafka_offset, FROM_VARBYTE(kafka_value, 'hex') FROM mv ORDER BY 1") == [
        [0, '{"city": "Zürich"}'.encode().hex()], [1, "ff00fe"], [2, None]]


_HISTORY = ("user_id, session_id, transaction_id, database_name, schema_name, mv_id, mv_name, refresh_type, status,"
            " start_time, end_time, duration")


def test_sys_mv_refresh_history_has_the_documented_columns_for_streaming_and_plain_views(
        warehouse: Warehouse, producer: Producer) -> None:
    """SYS_MV_REFRESH_HISTORY.md's columns in its order (its example query names them all): the refreshing session's
    process id (the Data API's RedshiftPid), the transaction, the database, schema, the view's object id and name."""
    producer.store.create("t", 1)
    producer.send("t", {"n": 1})
    warehouse.ok(SCHEMA)
    warehouse.ok("CREATE MATERIALIZED VIEW clicks AS SELECT kafka_offset FROM s.t")
    warehouse.ok("CREATE TABLE sales (amount INT)")
    warehouse.ok("CREATE MATERIALIZED VIEW totals AS SELECT sum(amount) AS total FROM sales")
    pid = warehouse.ok("REFRESH MATERIALIZED VIEW clicks")["RedshiftPid"]
    warehouse.ok("REFRESH MATERIALIZED VIEW totals")
    described = warehouse.ok(f"SELECT {_HISTORY} FROM sys_mv_refresh_history ORDER BY start_time")
    result = warehouse.client.get_statement_result(Id=described["Id"])
    assert [c["name"] for c in result["ColumnMetadata"]] == _HISTORY.split(", ")
    star = warehouse.client.get_statement_result(Id=warehouse.ok("SELECT * FROM sys_mv_refresh_history")["Id"])
    assert [c["name"] for c in star["ColumnMetadata"]] == _HISTORY.split(", ")
    rows = warehouse.rows(f"SELECT {_HISTORY} FROM sys_mv_refresh_history ORDER BY start_time")
    assert [row[1] for row in rows] == [pid, pid]
    assert [row[3:5] + row[6:9] for row in rows] == [
        [warehouse.database, "public", "clicks", "Manual", "Refresh successfully updated MV incrementally"],
        [warehouse.database, "public", "totals", "Manual", "Refresh successfully recomputed MV from scratch"]]
    assert all(row[2] is not None and row[5] is not None and row[11] >= 0 for row in rows)
    assert rows[0][5] != rows[1][5] and all(row[9] <= row[10] for row in rows)
    # the view's object id, as the catalog has it
    assert warehouse.rows("SELECT mv_id FROM sys_mv_refresh_history WHERE mv_name = 'totals'") == warehouse.rows(
        "SELECT CAST(oid AS BIGINT) FROM pg_class WHERE relname = 'totals'")
