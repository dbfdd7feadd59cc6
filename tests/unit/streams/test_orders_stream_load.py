"""scripts/stream/: the incremental load of order change records from the streaming view, on both engines.
Expected tables are computed by hand from the records produced."""

from __future__ import annotations

from typing import Any

from shiftflow.dataapi.streams.topics import Producer
from tests.unit.streams.conftest import Warehouse, run_batch, script_statements


def change(event: str, order_id: int, **image: Any) -> dict[str, Any]:
    """A DynamoDB-to-stream change record; keyword values become typed attributes (N for numbers)."""
    new_image = {name: ({"N": str(value)} if isinstance(value, (int, float)) else {"S": value})
                 for name, value in image.items()}
    record: dict[str, Any] = {"eventName": event, "dynamodb": {"Keys": {"OrderID": {"N": str(order_id)}}}}
    if event != "REMOVE":
        record["dynamodb"]["NewImage"] = new_image
    return record


def _setup(warehouse: Warehouse, producer: Producer) -> None:
    producer.store.create("orders", 2)
    done = run_batch(warehouse, script_statements("stream/setup_orders_stream.sql"))
    assert done["Status"] == "FINISHED", done.get("Error")


def _load(warehouse: Warehouse) -> None:
    done = run_batch(warehouse, script_statements("stream/load_orders_stream.sql"))
    assert done["Status"] == "FINISHED", done.get("Error")


def test_latest_value_merge_and_remove(warehouse: Warehouse, producer: Producer) -> None:
    _setup(warehouse, producer)
    key = lambda order_id: str(order_id)  # noqa: E731 - one order's changes stay in one partition, in order
    send = lambda record: producer.send("orders", record, key=key(record["dynamodb"]["Keys"]["OrderID"]["N"]))  # noqa: E731
    send(change("INSERT", 1, CustomerID="C1", ProductID="P1", Quantity=2, Price=10.5, OrderStatus="Initiated"))
    send(change("INSERT", 2, CustomerID="C2", ProductID="P2", Quantity=1, Price=99, OrderStatus="Initiated"))
    send(change("MODIFY", 1, OrderStatus="Shipped"))  # a partial image: the other columns keep their value
    send(change("INSERT", 3, CustomerID="C3", ProductID="P3", Quantity=5, Price=1, OrderStatus="Initiated"))
    send(change("REMOVE", 3))
    _load(warehouse)
    current = "SELECT order_id, customer_id, product_id, quantity, price, order_status FROM orders_current ORDER BY 1"
    assert warehouse.rows(current) == [[1, "C1", "P1", 2, 10.5, "Shipped"], [2, "C2", "P2", 1, 99.0, "Initiated"]]
    # Second run: a modify of an existing row merges with it; a removed order comes back without its old values.
    send(change("MODIFY", 2, Quantity=4))
    send(change("INSERT", 3, CustomerID="C3b", OrderStatus="Initiated"))
    send(change("REMOVE", 1))
    _load(warehouse)
    assert warehouse.rows(current) == [[2, "C2", "P2", 4, 99.0, "Initiated"], [3, "C3b", None, None, None,
                                                                                  "Initiated"]]
    assert warehouse.rows("SELECT count(*) FROM orders_changes") == [[8]]


def test_invalid_records_are_kept_with_their_position(warehouse: Warehouse, producer: Producer) -> None:
    _setup(warehouse, producer)
    good = producer.send("orders", change("INSERT", 1, CustomerID="C1"), partition=0)
    broken = producer.send("orders", '{"eventName": "INSERT", ', partition=1)
    not_change = producer.send("orders", {"hello": "world"}, partition=1)
    unknown_event = producer.send("orders", {**change("INSERT", 9), "eventName": "UPSERT"}, partition=0)
    _load(warehouse)
    errors = warehouse.rows("SELECT kafka_partition, kafka_offset, raw_value, reason FROM orders_stream_errors"
                            " ORDER BY 1, 2")
    assert errors == [
        [unknown_event.partition, unknown_event.offset, '{"eventName":"UPSERT","dynamodb":{"Keys":{"OrderID":'
         '{"N":"9"}},"NewImage":{}}}', "not a change record"],
        [broken.partition, broken.offset, '{"eventName": "INSERT", ', "invalid JSON"],
        [not_change.partition, not_change.offset, '{"hello":"world"}', "not a change record"]]
    assert warehouse.rows("SELECT order_id FROM orders_current") == [[1]]
    watermarks = "SELECT kafka_partition, max(kafka_offset) FROM orders_stream_audit GROUP BY 1 ORDER BY 1"
    assert warehouse.rows(watermarks) == [[0, unknown_event.offset], [1, not_change.offset]]
    assert good.offset == 0


def test_watermarks_per_partition_and_a_failed_load(warehouse: Warehouse, producer: Producer) -> None:
    _setup(warehouse, producer)
    for order_id in range(6):
        producer.send("orders", change("INSERT", order_id, CustomerID=f"C{order_id}"), partition=order_id % 2)
    _load(warehouse)
    watermarks = "SELECT kafka_partition, max(kafka_offset) FROM orders_stream_audit GROUP BY 1 ORDER BY 1"
    assert warehouse.rows(watermarks) == [[0, 2], [1, 2]]
    producer.send("orders", change("INSERT", 10, CustomerID="C10"), partition=1)
    failed = run_batch(warehouse, [*script_statements("stream/load_orders_stream.sql"), "SELECT 1 / 0"])
    assert failed["Status"] == "FAILED"  # the whole load rolled back: refresh, rows and watermarks
    assert warehouse.rows(watermarks) == [[0, 2], [1, 2]]
    _load(warehouse)
    _load(warehouse)  # nothing new: nothing changes
    assert warehouse.rows(watermarks) == [[0, 2], [1, 3]]
    assert warehouse.rows("SELECT order_id, count(*) FROM orders_changes GROUP BY 1 HAVING count(*) > 1") == []
    assert warehouse.rows("SELECT count(*) FROM orders_current") == [[7]]
