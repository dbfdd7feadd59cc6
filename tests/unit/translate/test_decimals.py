"""DECIMAL arithmetic as Redshift types it, from the SQL reference's examples (r_numeric_computations201,
r_WHERE_clause, r_MAX, r_MIN, r_OPERATOR_SYMBOLS, r_CAST_function) on the TICKIT SALES columns, on both engines
(translate/decimals.py: PostgreSQL types quotients from the translator's hints, DuckDB from the types it binds)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shiftflow.dataapi.engines.base import EngineError
from tests.unit.translate.conftest import run_script

_SALES = """
    create table sales (salesid integer, qtysold smallint, pricepaid decimal(8,2), commission decimal(8,2),
                        dateid smallint);
    insert into sales values (1, 2, 3412.00, 511.80, 2044), (2, 1, 2500.00, 375.00, 2044),
                             (3, 4, 80.00, 12.00, 2112), (10000, 1, 187.00, 28.05, 2112)
"""


def _typed(result):
    """Type name and scale of each column (PostgreSQL reports no precision for a computed numeric)."""
    return [(c.type_name, c.scale) for c in result.columns]


def test_decimal_over_smallint_has_scale_eight(session):
    # r_WHERE_clause.md: pricepaid/qtysold as costperticket prints 1706.00000000; r_MAX.md 2500.00000000,
    # r_MIN.md 20.00000000: DECIMAL(8,2) / DECIMAL(5,0) is DECIMAL(14,8).
    run_script(session, _SALES)
    result = run_script(session, "select pricepaid/qtysold as costperticket from sales order by salesid")
    assert result.rows == [(Decimal("1706.00000000"),), (Decimal("2500.00000000"),), (Decimal("20.00000000"),),
                           (Decimal("187.00000000"),)]
    assert _typed(result) == [("numeric", 8)]
    extremes = run_script(session, "select max(pricepaid/qtysold), min(pricepaid/qtysold) from sales")
    assert extremes.rows == [(Decimal("2500.00000000"), Decimal("20.00000000"))]


def test_decimal_over_decimal_is_the_documented_type(session):
    # r_numeric_computations201.md: PRICEPAID / COMMISSION, both DECIMAL(8,2), is DECIMAL(17,9).
    run_script(session, _SALES)
    result = run_script(session, "select pricepaid / commission, commission / pricepaid from sales"
                                 " where salesid = 10000")
    assert result.rows == [(Decimal("6.666666666"), Decimal("0.150000000"))]
    assert _typed(result) == [("numeric", 9), ("numeric", 9)]


def test_quotient_beyond_38_digits_keeps_the_integer_digits(session):
    # Precision above 38: 38, and the scale max(38 - (p1 - s1 + s2), 4): DECIMAL(19,0) / DECIMAL(19,0) is
    # DECIMAL(38,19); SUM (DECIMAL(38, s)) over COUNT (BIGINT) keeps 4 decimals.
    run_script(session, _SALES)
    result = run_script(session, "select 10::decimal(19,0) / 3::decimal(19,0), sum(pricepaid) / count(*)"
                                 " from sales")
    assert result.rows == [(Decimal("3.3333333333333333333"), Decimal("1544.7500"))]
    assert _typed(result) == [("numeric", 19), ("numeric", 4)]


def test_quotient_is_cut_toward_zero_and_nests(session):
    run_script(session, _SALES)
    result = run_script(session, "select -2.00 / 3, 2.00 / 3, pricepaid / qtysold / commission"
                                 " from sales where salesid = 10000")
    # DECIMAL(3,2) / INTEGER: scale max(4, 2 + 10 + 1) = 13, precision 3 - 2 + 13; (14,8) / (8,2): DECIMAL(23,15).
    assert result.rows == [(Decimal("-0.6666666666666"), Decimal("0.6666666666666"), Decimal("6.666666666666666"))]
    assert _typed(result) == [("numeric", 13), ("numeric", 13), ("numeric", 15)]


def test_integer_and_float_division_are_untouched(session):
    run_script(session, _SALES)
    result = run_script(session, "select qtysold / 2, salesid / 3, 7 / 2.0, pricepaid / 2.5::float8,"
                                 " 1.5::float8 / qtysold from sales where salesid = 10000")
    # 7 / 2.0: INTEGER over DECIMAL(2,1), scale max(4, 0 + 2 - 1 + 1) = 4.
    assert result.rows == [(0, 3333, Decimal("3.5000"), 74.8, 1.5)]
    # SMALLINT / INTEGER is an INTEGER on Redshift; DuckDB keeps SMALLINT (not a DECIMAL question: left alone).
    assert [c.type_name for c in result.columns][1:] == ["int4", "numeric", "float8", "float8"]


def test_decimal_division_by_zero_raises(session):
    run_script(session, _SALES)
    with pytest.raises(EngineError, match="division by zero"):
        run_script(session, "select pricepaid / (qtysold - qtysold) from sales")


def test_sums_and_products_keep_redshift_scales(session):
    # r_OPERATOR_SYMBOLS.md: commission + 2.00 is 30.05; sum(pricepaid) - sum(commission) keeps 2 decimals;
    # r_CAST_function.md: pricepaid::decimal(38,2) * 100000000000000000000 keeps 2.
    run_script(session, _SALES)
    result = run_script(session, """
        select commission + 2.00, pricepaid * commission, pricepaid::decimal(38,2) * 100000000000000000000
        from sales where salesid = 10000""")
    assert result.rows == [(Decimal("30.05"), Decimal("5245.3500"), Decimal("18700000000000000000000.00"))]
    assert [c.scale for c in result.columns] == [2, 4, 2]
    grouped = run_script(session, "select sum(pricepaid) - sum(commission) as value from sales where dateid >= 2000"
                                  " group by dateid order by dateid")
    assert grouped.rows == [(Decimal("5025.20"),), (Decimal("226.95"),)]


def test_precision_through_subqueries_and_choices(session):
    run_script(session, _SALES)
    result = run_script(session, """
        with totals as (select sum(pricepaid) as total, count(*) as n from sales)
        select total / n, (select max(p) / 3 from (select pricepaid as p from sales) s), coalesce(commission, 0) / qtysold
        from totals, sales where salesid = 10000""")
    # SUM / COUNT: (38,2) / (19,0) keeps 4 decimals; (8,2) / INTEGER 13; COALESCE(DECIMAL(8,2), INTEGER) is
    # DECIMAL(12,2), over SMALLINT 8.
    assert result.rows == [(Decimal("1544.7500"), Decimal("1137.3333333333333"), Decimal("28.05000000"))]
    assert [c.scale for c in result.columns] == [4, 13, 8]


def test_postgres_refuses_a_decimal_of_unknown_precision(postgres_session):
    run_script(postgres_session, _SALES)
    with pytest.raises(EngineError, match="not supported locally: a DECIMAL division whose dividend's precision"):
        run_script(postgres_session, "select greatest(pricepaid, 1) / qtysold from sales")
    assert run_script(postgres_session, "select greatest(pricepaid, 1)::decimal(8,2) / qtysold from sales"
                                        " where salesid = 1").rows == [(Decimal("1706.00000000"),)]


def test_duckdb_reports_the_quotients_precision(duckdb_session):
    # r_numeric_computations201.md: PRICEPAID / COMMISSION is DECIMAL(17,9); DECIMAL(8,2) / SMALLINT DECIMAL(14,8).
    run_script(duckdb_session, _SALES)
    result = run_script(duckdb_session, "select pricepaid / commission, pricepaid / qtysold from sales limit 1")
    assert [(c.precision, c.scale) for c in result.columns] == [(17, 9), (14, 8)]


def test_duckdb_types_quotients_in_every_kind_of_statement(duckdb_session):
    # Asked of DuckDB when the statement runs: inside a transaction, with a bound parameter, in INSERT ... SELECT,
    # UPDATE, CREATE TABLE AS, a view and a correlated subquery.
    run_script(duckdb_session, _SALES)
    duckdb_session.begin()
    run_script(duckdb_session, "create table costs (salesid integer, cost decimal(20,10));"
                               "insert into costs select salesid, pricepaid / 3 from sales where salesid = 10000;"
                               "update costs set cost = cost / qtysold from sales where sales.salesid = costs.salesid;"
                               "create table per as select salesid, pricepaid / qtysold as each from sales;"
                               "create view half as select salesid, commission / 2 as half from sales")
    rows = run_script(duckdb_session, "select c.cost, p.each, h.half, (select max(s.pricepaid) / c.salesid from sales s)"
                                      " from costs c join per p using (salesid) join half h using (salesid)"
                                      " where p.each > :low", {"low": "1"}).rows
    duckdb_session.commit()
    # 187.00 / 3 is DECIMAL(19,13) 62.3333333333333, cut toward zero; stored in DECIMAL(20,10); over 1 as it is.
    assert rows == [(Decimal("62.3333333333"), Decimal("187.00000000"), Decimal("14.0250000000000"),
                     Decimal("0.34120000"))]
    assert [c.scale for c in run_script(duckdb_session, "select each, half from per join half using (salesid)"
                                                        " limit 1").columns] == [8, 13]


def test_a_plain_materialized_view_keeps_char_columns_and_quotients(session):
    # A materialized view's columns have its query's types: CHAR(5) stays blank-padded bpchar (r_Character_types.md),
    # DECIMAL(8,2) / SMALLINT is DECIMAL(14,8), at creation and after a refresh.
    run_script(session, "create table c (k int, code char(5), price decimal(8,2), qty smallint);"
                        "insert into c values (1, 'ab', 10.00, 3);"
                        "create materialized view mv as select k, code, price / qty as each from c")
    result = run_script(session, "select code, each, len(code) from mv")
    assert result.rows == [("ab   ", Decimal("3.33333333"), 2)]
    assert [(c.type_name, c.scale) for c in result.columns][:2] == [("bpchar", 0), ("numeric", 8)]
    run_script(session, "insert into c values (2, 'xyz', 1.00, 3); refresh materialized view mv")
    assert run_script(session, "select code, each from mv order by k").rows == [
        ("ab   ", Decimal("3.33333333")), ("xyz  ", Decimal("0.33333333"))]


def test_decimal_without_a_precision_is_decimal_18_0(session):
    # r_Numeric_types201.md: "The default precision, if not specified, is 18 ... The default scale ... is 0"
    run_script(session, "create table h13_bare (d decimal, n numeric, p decimal(5)); insert into h13_bare values"
                        " (1.5, 2.4, 3.5)")
    assert run_script(session, "select d, n, p from h13_bare").rows == [(Decimal("2"), Decimal("2"), Decimal("4"))]
    assert run_script(session, "select cast(7.25 as decimal), 7.75::numeric").rows == [(Decimal("7"), Decimal("8"))]
