"""Redshift aggregates on both engines, from the SQL reference's examples (r_LISTAGG, r_WF_LISTAGG with the WINSALES
table of c_Window_functions, r_AVG, r_SUM, r_FROM_clause-pivot-unpivot-examples)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shiftflow.dataapi.engines.base import EngineError
from tests.unit.translate.conftest import PART, run_script

# The reference inserts the dates as '8/2/2003' ...: ISO here, as DuckDB reads text into a DATE column itself.
_WINSALES = """
    CREATE TABLE winsales(salesid int, dateid date, sellerid int, buyerid char(10), qty int, qty_shipped int);
    INSERT INTO winsales VALUES (30001, '2003-08-02', 3, 'b', 10, 10), (10001, '2003-12-24', 1, 'c', 10, 10),
      (10005, '2003-12-24', 1, 'a', 30, null), (40001, '2004-01-09', 4, 'a', 40, null),
      (10006, '2004-01-18', 1, 'c', 10, null), (20001, '2004-02-12', 2, 'b', 20, 20),
      (40005, '2004-02-12', 4, 'a', 10, 10), (20002, '2004-02-16', 2, 'c', 20, 20),
      (30003, '2004-04-18', 3, 'b', 15, null), (30004, '2004-04-18', 3, 'b', 20, null),
      (30007, '2004-09-07', 3, 'c', 30, null)
"""


def test_listagg_documented_examples(session):
    run_script(session, _WINSALES)
    result = run_script(session, """
        select listagg(sellerid) within group (order by dateid, salesid),
               listagg(distinct sellerid, ', ') within group (order by sellerid), listagg(qty_shipped) within group (order by salesid)
        from winsales where salesid < 40000 and qty_shipped is not null
    """)
    assert result.rows == [("3122", "1, 2, 3", "10202010")]
    buyer_b = run_script(session, """
        select listagg(dateid, '|') within group (order by sellerid desc, salesid asc),
               listagg(distinct dateid, ',') within group (order by sellerid desc, salesid asc)
        from winsales where buyerid = 'b'
    """)
    assert buyer_b.rows == [("2003-08-02|2004-04-18|2004-04-18|2004-02-12", "2003-08-02,2004-04-18,2004-02-12")]
    grouped = run_script(session, """
        select buyerid, listagg(salesid, ',') within group (order by salesid) as sales_id
        from winsales group by buyerid order by buyerid
    """)
    assert [(b.rstrip(), s) for b, s in grouped.rows] == [
        ("a", "10005,40001,40005"), ("b", "20001,30001,30003,30004"), ("c", "10001,10006,20002,30007")]
    assert [c.name for c in result.columns] == ["listagg"] * 3
    assert run_script(session, "select listagg(sellerid) from winsales where salesid = 0").rows == [(None,)]


def test_listagg_without_a_delimiter_is_one_string(session):
    run_script(session, _WINSALES)
    result = run_script(session, "select listagg(sellerid) within group (order by dateid, salesid) from winsales")
    assert result.rows == [("31141242333",)]


def test_listagg_as_a_window_function(session):
    run_script(session, _WINSALES)
    every = run_script(session, "select listagg(sellerid) within group (order by sellerid) over () from winsales")
    assert every.rows == [("11122333344",)] * 11
    assert every.columns[0].name == "listagg"
    seller = run_script(session, """
        select listagg(sellerid) within group (order by dateid) over () as seller from winsales where buyerid = 'b'
    """)
    assert seller.rows == [("3233",)] * 4
    dates = run_script(session, """
        select listagg(distinct dateid, ',') within group (order by sellerid desc, salesid asc) over () as dates
        from winsales where buyerid = 'b'
    """)
    assert dates.rows == [("2003-08-02,2004-04-18,2004-02-12",)] * 4
    partitioned = run_script(session, """
        select buyerid, listagg(salesid, ',') within group (order by salesid) over (partition by buyerid) as sales_id
        from winsales order by buyerid
    """)
    assert [(b.rstrip(), s) for b, s in partitioned.rows] == (
        [("a", "10005,40001,40005")] * 3 + [("b", "20001,30001,30003,30004")] * 4
        + [("c", "10001,10006,20002,30007")] * 4)


def test_avg_of_decimal_is_cut_to_its_scale(session):
    run_script(session, PART)
    result = run_script(session, """
        SELECT partname, avg(price) FROM (SELECT partname, price FROM part)
        WHERE partname IN ('prop', 'rudder', 'wing') GROUP BY partname ORDER BY partname
    """)
    assert result.rows == [("prop", Decimal("10.33")), ("rudder", Decimal("2.71")), ("wing", Decimal("11.50"))]
    assert result.columns[1].type_name == "numeric"
    windowed = run_script(session, "select avg(price) over (partition by partname) from part"
                                   " where partname = 'rudder' limit 1")
    assert windowed.rows == [(Decimal("2.71"),)]
    assert run_script(session, "select avg(price) from part where false").rows == [(None,)]


def test_avg_of_decimal_beyond_fifteen_digits_is_refused_on_duckdb(duckdb_session):
    run_script(duckdb_session, "create table big (v decimal(38, 4)); insert into big values (12345678901234.5678)")
    with pytest.raises(EngineError, match="not supported locally: AVG of DECIMAL beyond 15 significant digits"):
        run_script(duckdb_session, "select avg(v) from big")


def test_avg_of_integers_and_floats_on_duckdb(duckdb_session):
    run_script(duckdb_session, PART)
    result = run_script(duckdb_session, "select avg(quality), avg(quality::float8), avg(distinct quality) from part")
    assert result.rows == [(1, 1.4, 1)]
    assert [c.type_name for c in result.columns] == ["int8", "float8", "int8"]
    windowed = run_script(duckdb_session, "select avg(price::float8) over () from part limit 1")
    assert windowed.rows == [(pytest.approx(73.65 / 9),)]


def test_sum_of_bigint_stays_bigint(session):
    result = run_script(session, """
        create table s (b bigint, i int, r real, n numeric(10, 2));
        insert into s values (100, 7, 1.5, 1.25), (50, 1, 1, 2.50);
        select sum(b) / 60, sum(b), sum(i), sum(r), sum(n) from s
    """)
    assert result.rows == [(2, 150, 8, 2.5, Decimal("3.75"))]
    assert [c.type_name for c in result.columns] == ["int8", "int8", "int8", "float8", "numeric"]
    windowed = run_script(session, "select sum(b) over () / 60, sum(b) over (order by b rows 1 preceding) from s")
    assert sorted(windowed.rows) == [(2, 50), (2, 150)]
    assert [c.name for c in result.columns][1:5] == ["sum"] * 4
    assert run_script(session, "select sum(b) from s where b < 0").rows == [(None,)]


def test_an_aggregate_cast_to_integer_rounds(session) -> None:
    # r_STDDEV_functions.md: select cast(stddev(commission) as integer) from sales (a DOUBLE PRECISION, rounded)
    run_script(session, "create table sales (commission decimal(8,2)); insert into sales values (1.00), (3.30);")
    assert run_script(session, "select cast(stddev(commission) as integer) from sales").rows == [(2,)]
    assert run_script(session, "select cast(sum(commission) * 1.5 as integer) from sales").rows == [(6,)]


# r_WF_PERCENTILE_CONT.md's last example: the WA sellers' sales, percentiles over the descending order.
_WA_SALES = """
    CREATE TABLE wa_sales (sellerid int, state char(2), sales decimal(14, 2));
    INSERT INTO wa_sales VALUES (127, 'WA', 6076.00), (787, 'WA', 6035.00), (381, 'WA', 5881.00),
      (777, 'WA', 2814.00), (33, 'WA', 1531.00), (800, 'WA', 1476.00), (1, 'WA', 1177.00), (2, 'WA', NULL)
"""


def test_percentiles_within_group_order_by_desc(session):
    run_script(session, _WA_SALES)
    result = run_script(session, """
        select percentile_cont(0.6) within group (order by sales desc),
               percentile_disc(0.6) within group (order by sales desc),
               percentile_disc(0.6) within group (order by sales),
               approximate percentile_disc(0.6) within group (order by sales desc),
               approximate percentile_disc(0.6) within group (order by sales)
        from wa_sales
    """)
    assert [c.name for c in result.columns] == ["percentile_cont", "percentile_disc", "percentile_disc",
                                                "percentile_disc", "percentile_disc"]
    cont, *discs = result.rows[0]
    assert float(cont) == pytest.approx(2044.2)  # a DECIMAL on DuckDB, a DOUBLE on PostgreSQL (translate/__init__.py)
    assert discs == [Decimal("1531.00"), Decimal("5881.00"), Decimal("1531.00"), Decimal("5881.00")]


def test_percentile_windows_over_desc(session):
    run_script(session, _WA_SALES)
    result = run_script(session, """
        select sellerid, sum(sales) sales,
               percentile_cont(0.6) within group (order by sum(sales) desc) over(),
               percentile_disc(0.6) within group (order by sum(sales) desc) over(),
               percentile_disc(0.5) within group (order by sellerid desc) over (partition by sellerid > 100)
        from wa_sales group by sellerid order by sellerid
    """)
    assert [c.name for c in result.columns] == ["sellerid", "sales", "percentile_cont", "percentile_disc",
                                                "percentile_disc"]
    # the CONT a DECIMAL on DuckDB, a DOUBLE on PostgreSQL (as its aggregate form: translate/__init__.py)
    assert {(round(float(row[2]), 6), row[3]) for row in result.rows} == {(2044.2, Decimal("1531.00"))}
    # sellerids 1, 2, 33 and 127, 381, 777, 787, 800 descending: rows ceil(0.5 * 3) = 2 and ceil(0.5 * 5) = 3
    assert [row[4] for row in result.rows] == [2, 2, 2, 777, 777, 777, 777, 777]


def test_percentile_and_median_windows_from_the_reference(session):
    # r_WF_PERCENTILE_CONT.md, r_WF_PERCENTILE_DISC.md and r_WF_MEDIAN.md over WINSALES, by partition and over all.
    run_script(session, _WINSALES)
    result = run_script(session, """
        select sellerid, qty, percentile_cont(0.5) within group (order by qty) over(partition by sellerid) as cont,
               percentile_disc(0.5) within group (order by qty) over(partition by sellerid) as disc,
               median(qty) over (partition by sellerid),
               percentile_cont(0.5) within group (order by qty) over() all_cont,
               percentile_disc(0.5) within group (order by qty) over() as all_disc
        from winsales order by sellerid, qty
    """)
    assert [c.name for c in result.columns] == ["sellerid", "qty", "cont", "disc", "median", "all_cont", "all_disc"]
    assert [(row[0], float(row[2]), row[3], float(row[4])) for row in result.rows[::3]] == [
        (1, 10.0, 10, 10.0), (2, 20.0, 20, 20.0), (3, 17.5, 15, 17.5), (4, 25.0, 10, 25.0)]
    assert {(float(row[5]), row[6]) for row in result.rows} == {(20.0, 20)}


def test_percentile_cont_beside_the_group_keys(session):
    # r_MEDIAN.md: MEDIAN produces the same results as PERCENTILE_CONT(0.5), grouped by the ordered column.
    result = run_script(session, "create table sales (sellerid int, qtysold smallint);"
                                 "insert into sales values (1, 2), (1, 2), (2, 3);"
                                 "select top 10 distinct sellerid, qtysold, percentile_cont(0.5) within group"
                                 " (order by qtysold), median (qtysold) from sales group by sellerid, qtysold"
                                 " order by 1")
    assert result.rows == [(1, 2, 2.0, 2.0), (2, 3, 3.0, 3.0)]
    assert [c.name for c in result.columns] == ["sellerid", "qtysold", "percentile_cont", "median"]


# A part of TICKIT's VENUE (r_WF_NTH.md, r_WF_first_value.md), with r_WF_first_value.md's added row of no name.
_VENUE = """
    CREATE TABLE venue (venueid int, venuename varchar(100), venuestate char(2), venueseats int);
    INSERT INTO venue VALUES (1, 'Qualcomm Stadium', 'CA', 70561), (2, 'Monster Park', 'CA', 69843),
      (3, 'McAfee Coliseum', 'CA', 63026), (4, 'Dodger Stadium', 'CA', 56000), (5, 'Dolphin Stadium', 'FL', 74916),
      (6, 'Jacksonville Municipal Stadium', 'FL', 73800), (7, 'Raymond James Stadium', 'FL', 65647),
      (8, 'Tropicana Field', 'FL', 36048), (9, NULL, 'CA', 90000), (10, 'Nowhere', 'FL', NULL)
"""


def test_first_value_and_nth_value_ignore_nulls(session):
    run_script(session, _VENUE)
    first = run_script(session, """
        select venuestate, venueseats, venuename, first_value(venuename ignore nulls)
        over(partition by venuestate order by venueseats desc
        rows between unbounded preceding and unbounded following)
        from (select * from venue where venuestate='CA') order by venueseats desc
    """)
    assert [c.name for c in first.columns][-1] == "first_value"
    assert [row[3] for row in first.rows] == ["Qualcomm Stadium"] * 5
    assert first.rows[0][2] is None
    third = run_script(session, """
        select venuestate, venuename, venueseats, nth_value(venueseats, 3) ignore nulls
        over(partition by venuestate order by venueseats desc
        rows between unbounded preceding and unbounded following) as third_most_seats
        from (select * from venue where venuestate in ('CA', 'FL')) order by venuestate, venueid
    """)
    # ignoring FL's NULL (sorted first by DESC) and counting CA's 90000 row
    assert {(state.strip(), seats) for state, _, _, seats in third.rows} == {("CA", 69843), ("FL", 65647)}
    respected = run_script(session, """
        select last_value(venueseats respect nulls) over(partition by venuestate order by venueseats desc
        rows between unbounded preceding and unbounded following) from venue where venuestate = 'FL'
    """)
    assert {row[0] for row in respected.rows} == {36048}


def test_lag_and_lead_ignore_nulls(session):
    run_script(session, "create table q (t int, v int); insert into q values (1, 10), (2, null), (3, null), (4, 40), (5, 50)")
    result = run_script(session, """
        select t, lag(v) ignore nulls over (order by t), lead(v) ignore nulls over (order by t),
               lag(v, 2) ignore nulls over (order by t), lag(v) respect nulls over (order by t),
               last_value(v ignore nulls) over (order by t rows between unbounded preceding and current row)
        from q order by t
    """)
    assert result.rows == [(1, None, 40, None, None, 10), (2, 10, 40, None, 10, 10), (3, 10, 40, None, None, 10),
                           (4, 10, 50, None, None, 40), (5, 40, None, 10, 40, 50)]
