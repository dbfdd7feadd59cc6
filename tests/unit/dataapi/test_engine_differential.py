"""The same Redshift SQL on DuckDB and on PostgreSQL through the emulator (a real boto3 client, the real translator):
TPC-H and TPC-DS shaped tables filled by a small deterministic generator, and queries that cover joins, DECIMAL
aggregates, window functions, date arithmetic, string functions, CTEs, set operations, NULL ordering, integer
division and rounding. Each query must answer the same on both engines, field by field (the Data API's typed
values, NULLs, the column metadata's type names and scales, the row order its ORDER BY fixes), or one engine must
refuse it with "not supported locally" (never a silently different answer)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.unit.dataapi.conftest import run, run_batch

_SCHEMA = """
create table region (r_regionkey int not null, r_name char(25) not null, r_comment varchar(152));
create table nation (n_nationkey int not null, n_name char(25) not null, n_regionkey int not null,
                     n_comment varchar(152));
create table customer (c_custkey int not null, c_name varchar(25) not null, c_nationkey int not null,
                       c_acctbal decimal(15, 2), c_mktsegment char(10), c_phone char(15));
create table orders (o_orderkey bigint not null, o_custkey int not null, o_orderstatus char(1),
                     o_totalprice decimal(15, 2), o_orderdate date, o_orderpriority char(15), o_comment varchar(79));
create table lineitem (l_orderkey bigint not null, l_linenumber int not null, l_quantity decimal(15, 2),
                       l_extendedprice decimal(15, 2), l_discount decimal(15, 2), l_tax decimal(15, 2),
                       l_returnflag char(1), l_linestatus char(1), l_shipdate date, l_commitdate date,
                       l_shipmode char(10));
create table date_dim (d_date_sk int not null, d_date date, d_year int, d_moy int, d_dom int, d_day_name char(9),
                       d_weekend char(1));
create table item (i_item_sk int not null, i_item_id char(16), i_category varchar(50), i_brand varchar(50),
                   i_current_price decimal(7, 2));
create table store_sales (ss_sold_date_sk int, ss_item_sk int not null, ss_customer_sk int, ss_quantity int,
                          ss_sales_price decimal(7, 2), ss_net_profit decimal(7, 2), ss_ext_discount_amt double precision)
"""

_REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
_NATIONS = [("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4), ("FRANCE", 3),
            ("GERMANY", 3), ("INDIA", 2), ("JAPAN", 2), ("KENYA", 0)]
_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]  # ten characters or fewer
_PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
_MODES = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]
_CATEGORIES = ["Books", "Electronics", "Home", "Jewelry", "Music", "Sports"]
_WORDS = ["quick", "Ironic", "deposits", "sleep", "furiously", "carefully", "final", "pending", "ACCOUNTS", "bold"]


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    return str(value)


def _insert(table: str, rows: list[tuple[Any, ...]]) -> str:
    return f"insert into {table} values " + ", ".join(
        "(" + ", ".join(_literal(value) for value in row) + ")" for row in rows)


def _money(generator: random.Random, low: int, high: int) -> Decimal:
    return Decimal(generator.randint(low * 100, high * 100)) / 100


def _maybe_null(generator: random.Random, value: Any, share: float = 0.1) -> Any:
    return None if generator.random() < share else value


def generated_data(seed: int = 13) -> list[str]:
    """INSERT statements for every table of _SCHEMA: the same rows for the same seed."""
    generator = random.Random(seed)
    start = date(1995, 1, 1)
    comment = lambda: " ".join(generator.choice(_WORDS) for _ in range(generator.randint(1, 4)))  # noqa: E731
    regions = [(key, name, comment()) for key, name in enumerate(_REGIONS)]
    nations = [(key, name, region, _maybe_null(generator, comment())) for key, (name, region) in enumerate(_NATIONS)]
    customers = [(key, f"Customer#{key:09d}", generator.randrange(len(_NATIONS)),
                  _maybe_null(generator, _money(generator, -999, 9999)), _maybe_null(generator, generator.choice(_SEGMENTS)),
                  f"{10 + key % 20:02d}-{generator.randint(100, 999)}-{generator.randint(100, 999)}-"
                  f"{generator.randint(1000, 9999)}") for key in range(1, 41)]
    orders, lines = [], []
    for key in range(1, 121):
        ordered = start + timedelta(days=generator.randint(0, 1200))
        orders.append((key * 4, generator.randint(1, 40), generator.choice("FOP"), _money(generator, 100, 50000),
                       ordered, generator.choice(_PRIORITIES), _maybe_null(generator, comment())))
        for number in range(1, generator.randint(1, 5) + 1):
            shipped = ordered + timedelta(days=generator.randint(1, 120))
            lines.append((key * 4, number, Decimal(generator.randint(1, 50)), _money(generator, 900, 90000),
                          Decimal(generator.randint(0, 10)) / 100, Decimal(generator.randint(0, 8)) / 100,
                          generator.choice("ANR"), generator.choice("FO"), shipped,
                          _maybe_null(generator, ordered + timedelta(days=generator.randint(30, 90))),
                          generator.choice(_MODES)))
    days = [(sk, day, day.year, day.month, day.day, day.strftime("%A"), "Y" if day.weekday() >= 5 else "N")
            for sk, day in ((2450000 + offset, date(2000, 1, 1) + timedelta(days=offset)) for offset in range(0, 400, 3))]
    items = [(sk, f"AAAAAAAA{sk:08d}", _maybe_null(generator, generator.choice(_CATEGORIES)),
              f"brand #{generator.randint(1, 9)}", _money(generator, 1, 300)) for sk in range(1, 31)]
    sales = [(_maybe_null(generator, generator.choice(days)[0]), generator.randint(1, 30),
              _maybe_null(generator, generator.randint(1, 40)), _maybe_null(generator, generator.randint(1, 100)),
              _money(generator, 0, 200), _money(generator, -100, 100), generator.randint(0, 4000) / 8)
             for _ in range(300)]
    return [_insert("region", regions), _insert("nation", nations), _insert("customer", customers),
            _insert("orders", orders), _insert("lineitem", lines), _insert("date_dim", days), _insert("item", items),
            _insert("store_sales", sales)]


QUERIES = {
    "pricing summary (TPC-H Q1)": """
        select l_returnflag, l_linestatus, sum(l_quantity) as sum_qty, sum(l_extendedprice) as sum_base_price,
               sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
               sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge, count(*) as count_order
        from lineitem where l_shipdate <= date '1998-12-01' - interval '90 day'
        group by l_returnflag, l_linestatus order by l_returnflag, l_linestatus""",
    "average of a decimal": "select l_returnflag, avg(l_quantity) from lineitem group by 1 order by 1",
    "shipping priority (TPC-H Q3)": """
        select l_orderkey, sum(l_extendedprice * (1 - l_discount)) as revenue, o_orderdate, o_orderpriority
        from customer, orders, lineitem
        where c_mktsegment = 'BUILDING' and c_custkey = o_custkey and l_orderkey = o_orderkey
          and o_orderdate < date '1997-03-15'
        group by l_orderkey, o_orderdate, o_orderpriority order by revenue desc, o_orderdate, l_orderkey limit 10""",
    "local supplier volume (TPC-H Q5)": """
        select n_name, r_name, sum(l_extendedprice * (1 - l_discount)) as revenue
        from customer join orders on c_custkey = o_custkey join lineitem on l_orderkey = o_orderkey
             join nation on c_nationkey = n_nationkey join region on n_regionkey = r_regionkey
        where o_orderdate >= '1995-01-01' and o_orderdate < dateadd(year, 2, '1995-01-01')
        group by n_name, r_name order by revenue desc, n_name""",
    "left join with nulls": """
        select c_custkey, count(o_orderkey) as orders, sum(o_totalprice) as total, max(o_orderdate) as latest
        from customer left join orders on c_custkey = o_custkey group by c_custkey order by c_custkey""",
    "integer division and modulo": """
        select sum(l_linenumber) / 4 as quarters, sum(l_linenumber) % 4 as rest, count(*) / 7 as weeks,
               -7 / 2 as minus_half, 7 / -2 as half_minus, mod(-7, 3) as m, 7 % -3 as p
        from lineitem""",
    "decimal arithmetic": """
        select o_orderkey, o_totalprice * 2 as doubled, o_totalprice / 3 as third, o_totalprice * 0.015 as fee,
               o_totalprice + 0.005 as plus
        from orders where o_orderkey < 40 order by o_orderkey""",
    "rounding": """
        select round(2.5) as r1, round(-2.5) as r2, round(3.14159, 2) as r3, round(1234.5678, -2) as r4,
               round(c_acctbal, 1) as r5, round(c_acctbal / 7, 3) as r6, trunc(c_acctbal, 1) as t1, trunc(-2.7) as t2,
               ceil(c_acctbal) as c1, floor(c_acctbal) as f1, cast(c_acctbal as int) as i1, c_acctbal::bigint as i2
        from customer order by c_custkey""",
    "rounding doubles": """
        select ss_ext_discount_amt, round(ss_ext_discount_amt) as r, round(ss_ext_discount_amt, 1) as r1,
               cast(ss_ext_discount_amt as int) as i
        from store_sales order by ss_ext_discount_amt, ss_item_sk, ss_sales_price limit 20""",
    "window functions": """
        select o_custkey, o_orderkey, o_totalprice,
               row_number() over (partition by o_custkey order by o_orderdate, o_orderkey) as rn,
               rank() over (order by o_totalprice desc) as rk, dense_rank() over (order by o_orderpriority) as dr,
               sum(o_totalprice) over (partition by o_custkey order by o_orderkey rows unbounded preceding) as running,
               lag(o_totalprice, 1) over (partition by o_custkey order by o_orderkey) as previous,
               lead(o_orderdate) over (partition by o_custkey order by o_orderkey) as next_date,
               first_value(o_orderkey) over (partition by o_custkey order by o_orderkey
                                            rows between unbounded preceding and unbounded following) as first_order,
               ntile(4) over (order by o_orderkey) as quartile,
               count(*) over (partition by o_custkey) as per_customer
        from orders order by o_orderkey""",
    "window average and ratio": """
        select o_custkey, o_orderkey, avg(o_totalprice::float8) over (partition by o_custkey) as mean,
               cume_dist() over (order by o_totalprice) as cd, percent_rank() over (order by o_totalprice) as pr
        from orders order by o_orderkey""",
    "date arithmetic": """
        select o_orderkey, o_orderdate, dateadd(day, 30, o_orderdate) as plus30, dateadd(month, 1, o_orderdate) as m1,
               datediff(day, o_orderdate, date '1998-01-01') as days_left, datediff(month, o_orderdate, '1998-01-01') as months,
               date_trunc('month', o_orderdate) as month_start, extract(year from o_orderdate) as y,
               date_part(dow, o_orderdate) as dow, date_part(doy, o_orderdate) as doy, last_day(o_orderdate) as eom,
               add_months(o_orderdate, 2) as am, o_orderdate + 7 as week_later, o_orderdate - date '1995-01-01' as since,
               trunc(o_orderdate) as t, to_char(o_orderdate, 'YYYY-MM') as ym
        from orders order by o_orderkey""",
    "timestamp arithmetic": """
        select l_orderkey, l_linenumber, cast(l_shipdate as timestamp) + interval '90 minutes' as ts,
               datediff(hour, l_shipdate, l_commitdate) as hours, dateadd(week, -1, l_shipdate) as wk,
               date_trunc('week', l_shipdate) as week_start, extract(epoch from cast(l_shipdate as timestamp)) as epoch
        from lineitem order by l_orderkey, l_linenumber limit 40""",
    "string functions": """
        select c_custkey, upper(c_name) as u, lower(c_name) as l, substring(c_name, 10, 4) as s, left(c_name, 3) as le,
               right(c_name, 4) as ri, len(c_name) as n, position('#' in c_name) as p, charindex('0', c_name) as ci,
               lpad(c_custkey::varchar, 5, '0') as lp, rpad('x', 3, '-') as rp, replace(c_name, 'Customer', 'C') as re,
               split_part(c_phone, '-', 2) as sp, trim('  a b  ') as tr, ltrim('xxab', 'x') as lt,
               c_name || '/' || c_custkey as cat, concat(c_name, rtrim(c_mktsegment)) as co, initcap(lower(c_name)) as ic,
               reverse(c_name) as rv, strpos(c_name, '00') as sp2, translate(c_phone, '-', '.') as tl
        from customer order by c_custkey""",
    "char values and comparisons": """
        select n_name, len(n_name) as n, n_name = 'FRANCE' as is_france, rtrim(n_name) || '|' as piped,
               nullif(n_name, 'KENYA') as nk
        from nation order by n_name""",
    "pattern matching": """
        select o_orderkey from orders
        where o_comment like '%quick%' or o_comment ilike 'IRONIC%' or o_comment similar to '%(bold|final)%'
        order by o_orderkey""",
    "regular expressions": """
        select o_orderkey, regexp_replace(o_comment, '[aeiou]', '') as nov, regexp_substr(o_comment, '[a-zA-Z]+') as w,
               regexp_count(o_comment, 'e') as es, o_comment ~ '^[a-z]' as lower_start
        from orders where o_orderkey < 60 order by o_orderkey""",
    "ctes and subqueries": """
        with big as (select o_custkey, sum(o_totalprice) as total from orders group by o_custkey),
             ranked as (select o_custkey, total, rank() over (order by total desc) as r from big)
        select c_name, total, r from ranked join customer on c_custkey = o_custkey
        where r <= 5 or c_custkey in (select o_custkey from orders where o_orderstatus = 'F' and o_totalprice > 45000)
          and exists (select 1 from nation where n_nationkey = c_nationkey)
        order by r, c_name""",
    "set operations": """
        select o_custkey from orders where o_orderstatus = 'F'
        union select c_custkey from customer where c_acctbal < 0
        except select c_custkey from customer where c_mktsegment = 'BUILDING'
        order by 1""",
    "union all and intersect": """
        (select l_shipmode from lineitem where l_quantity > 40 intersect select l_shipmode from lineitem where l_discount = 0)
        union all select 'NONE' order by 1""",
    "minus": "select n_regionkey from nation minus select r_regionkey from region where r_name like 'A%' order by 1",
    "null ordering": """
        select c_custkey, c_acctbal, c_mktsegment from customer
        order by c_acctbal, c_custkey limit 8""",
    "null ordering descending": """
        select c_custkey, c_mktsegment from customer order by c_mktsegment desc, c_custkey desc limit 12""",
    "null ordering explicit": """
        select c_custkey, c_acctbal from customer order by c_acctbal desc nulls last, c_custkey limit 6""",
    "conditional expressions": """
        select c_custkey, coalesce(c_mktsegment, 'none') as seg, nvl(c_acctbal, 0) as bal, nvl2(c_acctbal, 1, 0) as has,
               decode(c_nationkey, 1, 'one', 2, 'two', 'other') as d, nullif(c_nationkey, 3) as nn,
               case when c_acctbal > 5000 then 'rich' when c_acctbal < 0 then 'owing' else 'middle' end as band,
               greatest(c_acctbal, 0) as g, least(c_nationkey, 5, null) as le
        from customer order by c_custkey""",
    "statistics": """
        select l_shipmode, count(distinct l_orderkey) as o, min(l_extendedprice) as mn, max(l_extendedprice) as mx,
               stddev_samp(l_quantity::float8) as sd, var_pop(l_quantity::float8) as vp, median(l_quantity) as med,
               percentile_cont(0.25) within group (order by l_extendedprice) as p25
        from lineitem group by l_shipmode order by l_shipmode""",
    "listagg": """
        select o_orderstatus, listagg(o_orderkey, ',') within group (order by o_orderkey) as keys
        from orders where o_orderkey < 100 group by o_orderstatus order by o_orderstatus""",
    "boolean and having": """
        select o_custkey, count(*) > 3 as busy, bool_or(o_orderstatus = 'F') as any_f from orders
        group by o_custkey having sum(o_totalprice) > 50000 order by o_custkey""",
    "store sales by month (TPC-DS)": """
        select d_year, d_moy, i_category, sum(ss_sales_price * ss_quantity) as sales, sum(ss_net_profit) as profit,
               count(*) as n
        from store_sales join date_dim on ss_sold_date_sk = d_date_sk join item on ss_item_sk = i_item_sk
        group by d_year, d_moy, i_category order by d_year, d_moy, i_category nulls first""",
    "rollup (TPC-DS)": """
        select i_category, i_brand, sum(ss_net_profit) as profit, grouping(i_category) as g
        from store_sales join item on ss_item_sk = i_item_sk
        group by rollup (i_category, i_brand) order by i_category, i_brand, g""",
    "weekend share (TPC-DS)": """
        select d_weekend, d_day_name, sum(case when ss_quantity > 50 then 1 else 0 end) as big,
               sum(ss_quantity) / count(*) as mean_qty, avg(ss_quantity) as avg_qty
        from store_sales join date_dim on ss_sold_date_sk = d_date_sk
        group by d_weekend, d_day_name order by d_weekend, d_day_name""",
    "item price bands (TPC-DS)": """
        select i_item_id, i_current_price, i_current_price * 1.1 as raised, cast(i_current_price as decimal(5, 1)) as cut, i_current_price::varchar as text
        from item order by i_item_id""",
    "top and distinct": "select distinct top 5 i_brand from item order by i_brand",
    "count distinct over partitions": """
        select ss_item_sk, count(*) as n, sum(ss_quantity) as q, sum(ss_quantity) / 60 as per_hour,
               sum(ss_quantity) * 1.0 / 60 as exact_hour, avg(ss_sales_price::float8) as mean
        from store_sales group by ss_item_sk order by ss_item_sk""",
    "casts and literals": """
        select cast('12.50' as decimal(6, 2)) as d, '3'::int + 4 as i, 10::float8 / 4 as f, 10 / 4 as q,
               10.0 / 4 as n, 1e3::int as e, cast(7 as varchar(1)) as v, 'abc'::varchar(2) as v2,
               cast('2020-02-29' as date) + 365 as leap, true and null as tn"""
}


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    """One emulator per engine, each with the generated tables loaded (in-process boto3 clients)."""
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    postgres = PostgresEngine()
    emulators = {"duckdb": DataApiEmulator(DuckDBEngine()), "postgres": DataApiEmulator(postgres)}
    loaded = {}
    try:
        for engine, emulator in emulators.items():
            with route_in_process(emulator):
                client = boto3.client("redshift-data", region_name="us-east-1")
                statements = [s for s in _SCHEMA.split(";")] + generated_data()
                described = run_batch(client, statements, Database="differential")
                assert described["Status"] == "FINISHED", (engine, described.get("Error"))
            loaded[engine] = emulator
        yield loaded
    finally:
        for emulator in emulators.values():
            emulator.close()
        postgres.close()


# Differences that remain, each one explained (see the report of issue 13): (query, column) -> why.
_PERCENTILE = "percentile_cont / median of a DECIMAL: PostgreSQL's is a DOUBLE (Redshift's a DECIMAL)"
KNOWN_DIFFERENCES = {
    ("statistics", "med"): _PERCENTILE, ("statistics", "p25"): _PERCENTILE,
}
# DuckDB has no blank-padded type: its CHAR(n) columns are VARCHAR, their values as written (not padded to n).
_CHAR_ON_DUCKDB = "varchar"


def _answer(emulator: DataApiEmulator, sql: str) -> tuple[str, Any]:
    """("ok", (column metadata, records)) or ("error", message) of one query on one emulator."""
    with route_in_process(emulator):
        client = boto3.client("redshift-data", region_name="us-east-1")
        described = run(client, sql, Database="differential")
        if described["Status"] != "FINISHED":
            return "error", described.get("Error", "")
        result = client.get_statement_result(Id=described["Id"])
        columns = [(c["name"], c["typeName"], c.get("scale", 0)) for c in result["ColumnMetadata"]]
        return "ok", (columns, result["Records"])


def _same_value(duck: dict[str, Any], pg: dict[str, Any], padded: bool) -> bool:
    if padded and "stringValue" in duck and "stringValue" in pg:
        return duck["stringValue"] == pg["stringValue"].rstrip(" ")
    if "doubleValue" in duck and "doubleValue" in pg:
        # floating-point aggregates add in an order neither engine (nor Redshift) fixes
        return duck["doubleValue"] == pytest.approx(pg["doubleValue"], rel=1e-12)
    return duck == pg


def _differences(name: str, duck: tuple[list[Any], list[Any]], pg: tuple[list[Any], list[Any]]) -> list[str]:
    (duck_columns, duck_rows), (pg_columns, pg_rows) = duck, pg
    found = [] if len(duck_rows) == len(pg_rows) else [f"{len(duck_rows)} rows against {len(pg_rows)}"]
    assert [c[0] for c in duck_columns] == [c[0] for c in pg_columns], "column names differ"
    for index, (duck_column, pg_column) in enumerate(zip(duck_columns, pg_columns)):
        if (name, duck_column[0]) in KNOWN_DIFFERENCES:
            continue
        padded = pg_column[1] == "bpchar" and duck_column[1] == _CHAR_ON_DUCKDB
        if duck_column != pg_column and not (padded and duck_column[2] == pg_column[2]):
            found.append(f"column {duck_column} against {pg_column}")
        for number, (duck_row, pg_row) in enumerate(zip(duck_rows, pg_rows)):
            if not _same_value(duck_row[index], pg_row[index], padded):
                found.append(f"{duck_column[0]} of row {number}: {duck_row[index]} against {pg_row[index]}")
                break
    return found


@pytest.mark.parametrize("name", list(QUERIES))
def test_both_engines_answer_alike(clients: dict[str, Any], name: str) -> None:
    duck = _answer(clients["duckdb"], QUERIES[name])
    pg = _answer(clients["postgres"], QUERIES[name])
    refused = [answer[1] for answer in (duck, pg) if answer[0] == "error"]
    if refused:
        assert all("not supported locally" in message for message in refused), (duck, pg)
        return
    assert _differences(name, duck[1], pg[1]) == []


def test_the_known_differences_are_still_there(clients: dict[str, Any]) -> None:
    """Each listed difference is real (a fixed one must leave the list)."""
    for name, column in KNOWN_DIFFERENCES:
        duck, pg = (_answer(clients[engine], QUERIES[name]) for engine in ("duckdb", "postgres"))
        index = [c[0] for c in duck[1][0]].index(column)
        assert duck[1][0][index] != pg[1][0][index] or duck[1][1][0][index] != pg[1][1][0][index], (name, column)
