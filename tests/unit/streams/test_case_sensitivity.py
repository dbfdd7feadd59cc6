"""enable_case_sensitive_identifier (r_enable_case_sensitive_identifier.md) with both settings: quoted names keep their
case when it is on (the guide's MixedCasedTable example, on PostgreSQL; DuckDB, whose names match regardless of
case, refuses such names), are folded when it is off; the seed's SQL (data."OrderID", mixed-case JSON keys, column
labels) answers as Redshift does either way."""

from __future__ import annotations

from typing import Any

from shiftflow.dataapi.streams.topics import Producer
from tests.unit.streams.conftest import Warehouse
from tests.unit.streams.test_seed_004 import ORDER, UNNEST_ORDERS, _msk_setup


def _labels(warehouse: Warehouse, sql: str) -> list[str]:
    described = warehouse.ok(sql)
    result = warehouse.client.get_statement_result(Id=described["Id"])
    return [column["label"] for column in result["ColumnMetadata"]]


def test_quoted_names_keep_their_case_when_the_setting_is_on(warehouse: Warehouse, engine: Any) -> None:
    warehouse.ok("SET enable_case_sensitive_identifier TO true")
    created = warehouse.run('CREATE TABLE "MixedCasedTable" ("MixedCasedColumn" int)')
    if engine.name == "duckdb":
        assert created["Status"] == "FAILED"
        assert ('not supported locally: the case-sensitive name "MixedCasedTable" (enable_case_sensitive_identifier'
                " on) on the DuckDB engine") in created["Error"]
        assert _labels(warehouse, 'SELECT 1 AS "OrderID"') == ["OrderID"]  # a label only names the result
        return
    assert created["Status"] == "FINISHED", created.get("Error")
    warehouse.ok("CREATE TABLE MixedCasedTable (MixedCasedColumn int)")  # another table: mixedcasedtable
    warehouse.ok('INSERT INTO "MixedCasedTable" VALUES (1)')
    warehouse.ok("INSERT INTO MixedCasedTable VALUES (2), (3)")
    assert _labels(warehouse, 'SELECT "MixedCasedColumn" FROM "MixedCasedTable"') == ["MixedCasedColumn"]
    assert warehouse.rows('SELECT "MixedCasedColumn" FROM "MixedCasedTable"') == [[1]]
    assert _labels(warehouse, "SELECT MixedCasedColumn FROM MixedCasedTable") == ["mixedcasedcolumn"]
    assert warehouse.rows("SELECT count(*) FROM MixedCasedTable") == [[2]]
    missing = warehouse.run('SELECT "mixedcasedcolumn" FROM "MixedCasedTable"')
    assert missing["Status"] == "FAILED" and "mixedcasedcolumn" in missing["Error"]


def test_quoted_names_are_folded_when_the_setting_is_off(warehouse: Warehouse) -> None:
    warehouse.ok("RESET enable_case_sensitive_identifier")
    warehouse.ok('CREATE TABLE "MixedCasedTable2" ("MixedCasedColumn" int)')
    again = warehouse.run("CREATE TABLE MixedCasedTable2 (MixedCasedColumn int)")
    assert again["Status"] == "FAILED" and "mixedcasedtable2" in again["Error"].lower()
    assert _labels(warehouse, 'SELECT "MixedCasedColumn" FROM "MixedCasedTable2"') == ["mixedcasedcolumn"]
    assert _labels(warehouse, "SELECT MixedCasedColumn FROM MixedCasedTable2") == ["mixedcasedcolumn"]
    assert _labels(warehouse, 'SELECT 1 AS "OrderID"') == ["orderid"]


def test_the_seeds_navigation_with_both_settings(warehouse: Warehouse, producer: Producer) -> None:
    """data."OrderID" reads the key OrderID with the setting on, the key orderid (none: NULL) with it off; an
    unaliased navigation is labelled as written when on, folded when off; unquoted aliases fold either way."""
    _msk_setup(warehouse, producer, [ORDER])  # SET ... TO TRUE, then the view
    warehouse.ok("REFRESH MATERIALIZED VIEW Orders_Stream_MV")
    on = warehouse.rows(UNNEST_ORDERS)
    assert on[0][:10] == [103, "P004", "Widget-X-003", "C104", "David Smith", "Store-103", "2023-09-02 00:00:00+00",
                          5, 2500.0, "Initiated"]
    assert _labels(warehouse, UNNEST_ORDERS)[:2] == ["orderid", "productid"]
    assert _labels(warehouse, 'SELECT data."Store_Name", data."OrderID"::INT4 FROM orders_stream_mv') == [
        "Store_Name", "OrderID"]
    off = warehouse.fresh()
    off.ok("SET enable_case_sensitive_identifier TO false")
    assert off.rows(UNNEST_ORDERS)[0][:10] == [None] * 10
    assert _labels(off, 'SELECT data."Store_Name", data."OrderID"::INT4 FROM orders_stream_mv') == [
        "store_name", "orderid"]
    assert off.rows('SELECT "kafka_partition"::BIGINT, "kafka_offset"::BIGINT FROM orders_stream_mv') == \
        warehouse.rows("SELECT kafka_partition, kafka_offset FROM orders_stream_mv")


def test_describe_field_name_in_uppercase_names_result_columns(warehouse: Warehouse) -> None:
    # r_describe_field_name_in_uppercase.md: on, SELECT's column names are upper case (SHOW's too); off, lower case;
    # another session has its own setting
    assert _labels(warehouse, "select 1 as total") == ["total"]
    warehouse.ok("set describe_field_name_in_uppercase to on")
    assert _labels(warehouse, "show describe_field_name_in_uppercase") == ["DESCRIBE_FIELD_NAME_IN_UPPERCASE"]
    assert warehouse.rows("show describe_field_name_in_uppercase") == [["on"]]
    assert _labels(warehouse, 'select 1 as total, 2 as "Other"') == ["TOTAL", "OTHER"]
    assert _labels(warehouse.fresh(), "select 1 as total") == ["total"]
    warehouse.ok("reset describe_field_name_in_uppercase")
    assert _labels(warehouse, "select 1 as total") == ["total"]
    warehouse.ok("set describe_field_name_in_uppercase to true")
    warehouse.ok("reset all")
    assert _labels(warehouse, "select 1 as total") == ["total"]
