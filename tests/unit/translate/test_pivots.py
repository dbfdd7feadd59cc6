"""PIVOT and UNPIVOT on both engines, from r_FROM_clause-pivot-unpivot-examples.md's examples and outputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import PART, run_script

_COLORS = """
    CREATE TABLE count_by_color (quality varchar, red int, green int, blue int);
    INSERT INTO count_by_color VALUES ('high', 15, 20, 7), ('normal', 35, NULL, 40), ('low', 10, 23, NULL)
"""


def _names(result) -> list[str]:
    return [c.name for c in result.columns]


def test_pivot_avg_keeps_the_decimal_type(session):
    run_script(session, PART)
    result = run_script(session, """
        SELECT * FROM (SELECT partname, price FROM part) PIVOT (AVG(price) FOR partname IN ('prop', 'rudder', 'wing'))
    """)
    assert _names(result) == ["prop", "rudder", "wing"]
    assert result.rows == [(Decimal("10.33"), Decimal("2.71"), Decimal("11.50"))]
    assert {c.type_name for c in result.columns} == {"numeric"}


def test_pivot_count_with_an_implicit_column_and_null(session):
    run_script(session, PART)
    result = run_script(session, """
        SELECT * FROM (SELECT quality, manufacturer FROM part) PIVOT (count(*) FOR quality IN (1, 2, NULL))
    """)
    assert _names(result) == ["manufacturer", "1", "2", "null"]
    assert sorted(result.rows) == [("big parts co", 1, 1, 1), ("local parts co", 1, 1, 1), ("small parts co", 1, 0, 2)]
    assert {c.type_name for c in result.columns[1:]} == {"int8"}
    aliased = run_script(session, """
        SELECT * FROM (SELECT quality, manufacturer FROM part)
        PIVOT (count(*) AS count FOR quality IN (1 AS high, 2 AS low, NULL AS na)) ORDER BY manufacturer
    """)
    assert _names(aliased) == ["manufacturer", "high_count", "low_count", "na_count"]
    assert aliased.rows == [("big parts co", 1, 1, 1), ("local parts co", 1, 1, 1), ("small parts co", 1, 0, 2)]


def test_pivot_of_a_table_reads_its_columns(session):
    run_script(session, PART)
    result = run_script(session, """
        SELECT * FROM part PIVOT (sum(quality) AS q FOR partname IN ('prop' AS p, 'wing' AS w)) AS pv
        ORDER BY manufacturer
    """)
    # price and manufacturer are implicit: one group per (manufacturer, price)
    assert _names(result) == ["manufacturer", "price", "p_q", "w_q"]
    assert len(result.rows) == 9 and ("big parts co", Decimal("15.20"), None, 1) in result.rows
    assert result.columns[2].type_name == "int8"


def test_pivot_on_dates_names_columns_after_the_constants(session):
    run_script(session, """
        CREATE TABLE bookings (booking_id int, hotel_code char(8), booking_date date, price decimal(12, 2));
        INSERT INTO bookings VALUES (1, 'FOREST_L', '2023-02-01', 75.12), (2, 'FOREST_L', '2023-02-08', 75.00),
          (3, 'DESERT_S', '2023-02-01', 98.00), (4, 'DESERT_S', '2023-02-13', 23.00)
    """)
    result = run_script(session, """
        SELECT * FROM (SELECT booking_id, (date_trunc('week', booking_date::date) + '5 days'::interval)::date as enddate,
               hotel_code AS "hotel code" FROM bookings)
        PIVOT (count(booking_id) FOR enddate IN ('2023-02-04','2023-02-11','2023-02-18'))
    """)
    assert _names(result) == ["hotel code", "2023-02-04", "2023-02-11", "2023-02-18"]
    assert sorted(result.rows) == [("DESERT_S", 1, 0, 1), ("FOREST_L", 1, 1, 0)]


def test_unpivot_skips_nulls_unless_included(session):
    run_script(session, _COLORS)
    result = run_script(session, """
        SELECT * FROM (SELECT red, green, blue FROM count_by_color) UNPIVOT (cnt FOR color IN (red, green, blue))
    """)
    assert _names(result) == ["color", "cnt"]
    assert sorted(result.rows) == sorted([("red", 15), ("red", 35), ("red", 10), ("green", 20), ("green", 23),
                                          ("blue", 7), ("blue", 40)])
    included = run_script(session, """
        SELECT * FROM (SELECT red, green, blue FROM count_by_color) UNPIVOT INCLUDE NULLS (
            cnt FOR color IN (red, green, blue))
    """)
    assert len(included.rows) == 9 and ("green", None) in included.rows and ("blue", None) in included.rows
    assert included.columns[0].type_name in {"varchar", "text"}


def test_unpivot_of_a_table_keeps_the_implicit_columns(session):
    run_script(session, _COLORS)
    result = run_script(session, "SELECT * FROM count_by_color UNPIVOT (cnt FOR color IN (red AS r, green AS g, blue AS b))")
    assert _names(result) == ["quality", "color", "cnt"]
    assert sorted(result.rows) == sorted([("high", "r", 15), ("normal", "r", 35), ("low", "r", 10), ("high", "g", 20),
                                          ("low", "g", 23), ("high", "b", 7), ("normal", "b", 40)])
    with_cte = run_script(session, """
        WITH c AS (SELECT * FROM count_by_color WHERE quality <> 'low')
        SELECT quality, cnt FROM c UNPIVOT (cnt FOR color IN (red)) ORDER BY cnt
    """)
    assert with_cte.rows == [("high", 15), ("normal", 35)]


def test_pivot_aggregates_redshift_does_not_take_are_refused():
    for engine in ("duckdb", "postgres"):
        with pytest.raises(NotSupportedLocally, match="PIVOT of an expression other than"):
            translate("SELECT * FROM (SELECT a, b FROM t) PIVOT (stddev(a) FOR b IN (1))", engine)


def test_a_probed_pivot_binds_its_parameters(session):
    run_script(session, _COLORS)
    result = run_script(session, "SELECT * FROM count_by_color UNPIVOT (cnt FOR color IN (red)) WHERE cnt > :least",
                        {"least": "12"})
    assert sorted(result.rows) == [("high", 20, 7, "red", 15), ("normal", None, 40, "red", 35)]
