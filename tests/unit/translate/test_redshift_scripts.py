"""Realistic Redshift DDL and DML, translated and executed for real on DuckDB and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shiftflow.dataapi.engines.base import EngineError
from tests.unit.translate.conftest import run_script

STAR_SCHEMA = """
create table if not exists public.date_dim (
    d_date_sk integer not null encode az64 primary key distkey sortkey,
    d_date date not null encode az64,
    d_year smallint encode az64,
    d_month_name character varying(10) encode lzo
) diststyle all backup no;

create table public.customer_address (
    ca_address_sk bigint identity(1, 1) encode az64,
    ca_address_id char(16) not null encode zstd,
    ca_city varchar(60) encode bytedict,
    ca_state bpchar(2),
    ca_note varchar(max) encode zstd,
    ca_updated timestamp without time zone default sysdate,
    constraint pk_ca primary key (ca_address_id),
    unique (ca_address_id)
) distkey(ca_address_id) compound sortkey(ca_address_id, ca_city);

create table item (
    i_item_sk bigint identity(1,1),
    i_item_id varchar(16) not null,
    i_category varchar(50),
    i_price numeric(7,2),
    i_rec_start_date date,
    i_rec_end_date date
) diststyle key distkey (i_item_id) interleaved sortkey (i_item_id, i_rec_start_date);

create table store_sales (
    ss_sold_date_sk integer references date_dim(d_date_sk),
    ss_item_id varchar(16),
    ss_address_id char(16),
    ss_quantity integer,
    ss_net_paid numeric(12,2),
    foreign key (ss_item_id) references item(i_item_sk)
) diststyle even sortkey auto;
"""

SEED = """
insert into date_dim values (1, '2024-01-01', 2024, 'January'), (2, '2024-01-02', 2024, 'January'),
                            (32, '2024-02-01', 2024, 'February');
insert into customer_address (ca_address_id, ca_city, ca_state) values
    ('A1', 'Seattle', 'WA'), ('A2', 'Portland', 'OR');
insert into item (i_item_id, i_category, i_price, i_rec_start_date, i_rec_end_date) values
    ('I1', 'Books', 10.00, '2020-01-01', null), ('I2', 'Music', 5.50, '2020-01-01', null);
insert into store_sales values (1, 'I1', 'A1', 3, 30.00), (1, 'I2', 'A1', 1, 5.50),
                               (2, 'I1', 'A2', 2, 20.00), (32, 'I2', 'A2', 4, 22.00);
"""


def test_star_schema_ddl_with_layout_and_constraints(session):
    run_script(session, STAR_SCHEMA + SEED)
    result = run_script(session, "select count(*) from public.store_sales")
    assert result.rows == [(4,)]
    # Redshift does not enforce keys: duplicates and dangling references load.
    run_script(session, "insert into date_dim values (1, '2024-01-01', 2024, 'January');"
                        "insert into store_sales values (999, 'nope', 'A9', 1, 1.00)")
    assert run_script(session, "select count(*) from date_dim where d_date_sk = 1").rows == [(2,)]
    identities = run_script(session, "select ca_address_sk from customer_address order by 1").rows
    assert identities == [(1,), (2,)]
    updated = run_script(session, "select count(*) from customer_address where ca_updated is not null").rows
    assert updated == [(2,)]


def test_update_from_delete_using_cte_and_windows(session):
    run_script(session, STAR_SCHEMA + SEED)
    run_script(session, """
        update item set i_price = s.paid / s.qty
        from (select ss_item_id, sum(ss_net_paid) as paid, sum(ss_quantity) as qty
              from store_sales group by ss_item_id) s
        where item.i_item_id = s.ss_item_id and s.ss_item_id = 'I1';
        delete from store_sales using date_dim
        where store_sales.ss_sold_date_sk = date_dim.d_date_sk and date_dim.d_month_name = 'February';
    """)
    assert run_script(session, "select i_price from item where i_item_id = 'I1'").rows == [(Decimal("10.00"),)]
    result = run_script(session, """
        with daily as (
            select d.d_date, ss.ss_address_id, sum(ss.ss_net_paid) as paid
            from store_sales ss join date_dim d on d.d_date_sk = ss.ss_sold_date_sk
            group by 1, 2
        )
        select d_date, ss_address_id, paid,
               row_number() over (partition by ss_address_id order by d_date desc) as rn,
               lag(paid) over (order by d_date, ss_address_id) as previous
        from daily order by d_date, ss_address_id
    """)
    assert [(d, a.strip(), p, n) for d, a, p, n, _ in result.rows] == [
        (dt.date(2024, 1, 1), "A1", Decimal("35.50"), 1),
        (dt.date(2024, 1, 2), "A2", Decimal("20.00"), 1),
    ]
    assert result.rows[1][4] == Decimal("35.50")


SCD1 = """
begin transaction;
create temp table stage_address (like customer_address);
insert into stage_address (ca_address_id, ca_city, ca_state)
    values ('A2', 'Salem', 'OR'), ('A3', 'Boise', 'ID');
update customer_address set ca_city = s.ca_city, ca_state = s.ca_state, ca_updated = getdate()
    from stage_address s where customer_address.ca_address_id = s.ca_address_id;
insert into customer_address (ca_address_id, ca_city, ca_state)
    select s.ca_address_id, s.ca_city, s.ca_state from stage_address s
    left join customer_address c on c.ca_address_id = s.ca_address_id
    where c.ca_address_id is null;
drop table stage_address;
end transaction;
"""

SCD2 = """
create temp table #item_stage (i_item_id varchar(16), i_category varchar(50), i_price numeric(7,2));
insert into #item_stage values ('I1', 'Books', 12.00), ('I3', 'Games', 60.00);
-- close the current version of changed items
update item set i_rec_end_date = dateadd(day, -1, :run_date::date)
    from #item_stage s
    where item.i_item_id = s.i_item_id and item.i_rec_end_date is null
      and (item.i_price <> s.i_price or nvl(item.i_category, '') <> nvl(s.i_category, ''));
-- insert the new versions (changed and new items)
insert into item (i_item_id, i_category, i_price, i_rec_start_date, i_rec_end_date)
    select s.i_item_id, s.i_category, s.i_price, :run_date, null
    from #item_stage s
    left join item i on i.i_item_id = s.i_item_id and i.i_rec_end_date is null
    where i.i_item_id is null;
"""


def test_scd1_upsert(session):
    run_script(session, STAR_SCHEMA + SEED)
    run_script(session, SCD1)
    rows = run_script(session, "select ca_address_id, ca_city from customer_address order by 1").rows
    assert [(a.strip(), c) for a, c in rows] == [("A1", "Seattle"), ("A2", "Salem"), ("A3", "Boise")]


def test_scd2_close_and_insert_is_idempotent_per_run_date(session):
    run_script(session, STAR_SCHEMA + SEED)
    for _ in range(2):  # a rerun for the same run date changes nothing more
        run_script(session, SCD2, {"run_date": "2024-03-01"})
        run_script(session, "drop table #item_stage")
    rows = run_script(session, """
        select i_item_id, i_price, i_rec_start_date, i_rec_end_date from item order by i_item_id, i_rec_start_date
    """).rows
    assert rows == [
        ("I1", Decimal("10.00"), dt.date(2020, 1, 1), dt.date(2024, 2, 29)),
        ("I1", Decimal("12.00"), dt.date(2024, 3, 1), None),
        ("I2", Decimal("5.50"), dt.date(2020, 1, 1), None),
        ("I3", Decimal("60.00"), dt.date(2024, 3, 1), None),
    ]


def test_merge(session):
    run_script(session, STAR_SCHEMA + SEED)
    run_script(session, """
        merge into date_dim using (select 2 as sk, 'Jan' as name union all select 40, 'Feb') s
        on date_dim.d_date_sk = s.sk
        when matched then update set d_month_name = s.name
        when not matched then insert values (s.sk, '2024-02-09', 2024, s.name)
    """)
    rows = run_script(session, "select d_date_sk, d_month_name from date_dim order by 1").rows
    assert rows == [(1, "January"), (2, "Jan"), (32, "February"), (40, "Feb")]


def test_integer_division_stays_integer_and_zero_raises(session):
    result = run_script(session, "select 7 / 2, -7 / 2, 7.0 / 2, 7 % 3")
    assert result.rows[0][:2] == (3, -3)
    assert float(result.rows[0][2]) == 3.5
    for zero in ("select 1 / 0", "select 1.5 / 0", "select 1.5::float8 / (1 - 1)",
                 "select n / d from (select 10 as n, 0 as d) x"):
        with pytest.raises(EngineError, match="(?i)division by zero"):
            run_script(session, zero)


def test_redshift_functions(session):
    result = run_script(session, """
        select nvl(null, 'a'), nvl2(null, 'x', 'y'), decode(2, 1, 'one', 2, 'two', 'other'),
               decode(null, null, 'null matched', 'no'),
               len('abcd'), charindex('c', 'abcd'),
               trunc('2024-05-06 07:08:09'::timestamp), trunc(5.75::numeric(5,2)),
               dateadd(month, 1, '2024-01-31'::date)::date,
               datediff(day, '2024-01-01 23:00'::timestamp, '2024-01-02 01:00'::timestamp),
               datediff(month, '2024-01-31'::date, '2024-02-01'::date),
               date_trunc('month', '2024-05-06'::date)::date,
               to_char('2024-05-06'::date, 'YYYY-MM-DD'),
               convert_timezone('UTC', 'America/New_York', '2024-01-01 12:00:00'::timestamp),
               trunc(sysdate) = trunc(getdate()),
               'x'::varchar(max) || 'y'::character varying
    """)
    assert result.rows[0] == (
        "a", "y", "two", "null matched", 4, 3, dt.date(2024, 5, 6), Decimal("5"), dt.date(2024, 2, 29),
        1, 1, dt.date(2024, 5, 1), "2024-05-06", dt.datetime(2024, 1, 1, 7, 0), True, "xy",
    )


def test_listagg(session):
    result = run_script(session, """
        select listagg(c, ',') within group (order by c) from (select 'b' as c union all select 'a') x
    """)
    assert result.rows == [("a,b",)]


def test_parameters_typed_like_redshift_and_hostile_values_stay_data(session):
    run_script(session, "create table t (d date, n int, s varchar(100)); "
                        "insert into t values ('2024-01-01', 1, 'x'), ('2024-01-02', 2, 'y'), ('2024-01-03', 3, 'z')")
    rows = run_script(session, "select n from t where d >= :run_date order by n limit :n",
                      {"run_date": "2024-01-02", "n": "1"}).rows
    assert rows == [(2,)]
    hostile = "'); drop table t; --"
    run_script(session, "insert into t (d, n, s) values (:d, :n, :s)", {"d": "2024-02-01", "n": "4", "s": hostile})
    assert run_script(session, "select s from t where n = :n", {"n": "4"}).rows == [(hostile,)]
    assert run_script(session, "select count(*) from t").rows == [(4,)]
    # `::` casts and text that merely looks like a placeholder are left alone; % is literal.
    rows = run_script(session, "select :s::varchar, ':s', 'a%b' -- :s\n", {"s": "5%"}).rows
    assert rows == [("5%", ":s", "a%b")]


def test_public_schema_and_temp_tables(session):
    run_script(session, "create table public.p (a int); insert into p values (1); "
                        "create temp table tmp as select a + 1 as b from public.p; "
                        "select * into temp tmp2 from tmp")
    assert run_script(session, "select b from tmp2").rows == [(2,)]
    assert run_script(session, "create table q (like p); select count(*) from public.q").rows == [(0,)]


def test_transaction_control_rolls_back(session):
    run_script(session, "create table t (a int)")
    run_script(session, "begin; insert into t values (1); abort;")
    run_script(session, "start transaction; insert into t values (2); commit;")
    assert run_script(session, "select a from t").rows == [(2,)]


def test_analyze_and_vacuum_are_no_ops(session):
    run_script(session, "create table t (a int); insert into t values (1)")
    # (ANALYZE COMPRESSION returns a report of encodings: not supported locally, test_refused.py)
    run_script(session, "analyze t; analyze; vacuum t; vacuum delete only t to 75 percent")
    assert run_script(session, "select a from t").rows == [(1,)]


def test_like_escape_and_similar_to_match_redshift(session):
    run_script(session, "create table names (s varchar(20)); "
                        "insert into names values ('start_x'), ('startyx'), ('a.c'), ('abc'), ('bzc')")
    like = run_script(session, "select s from names where s like 'start\\\\_%' order by s").rows
    assert like == [("start_x",)]
    similar = run_script(session, "select s from names where s similar to '(a|b)_c|start%' order by s").rows
    assert similar == [("a.c",), ("abc",), ("bzc",), ("start_x",), ("startyx",)]
    dotted = run_script(session, "select s from names where s similar to 'a.c' order by s").rows
    assert dotted == [("a.c",)]


def test_avg_of_integers_is_a_truncated_bigint_like_redshift(session):
    run_script(session, "create table m (g int, i int, f float8); "
                        "insert into m values (1, 1, 1), (1, 2, 2), (2, -3, -3), (2, -4, -4), (3, null, null)")
    result = run_script(session, """
        select g, avg(i), avg(f) as avg_f, avg(distinct i) * 2 as twice,
               avg(i) over (order by g rows between unbounded preceding and unbounded following) as overall
        from m group by g, i, f order by g, i
    """)
    assert result.columns[1].name == "avg"
    assert [(g, a, float(f) if f is not None else None) for g, a, f, *_ in result.rows] == [
        (1, 1, 1.0), (1, 2, 2.0), (2, -4, -4.0), (2, -3, -3.0), (3, None, None)]
    grouped = run_script(session, "select g, avg(i), avg(f) from m group by g order by g").rows
    assert [(g, a, float(f) if f is not None else None) for g, a, f in grouped] == [
        (1, 1, 1.5), (2, -3, -3.5), (3, None, None)]
    assert run_script(session, "select avg(i) over () from m where g = 1 limit 1").rows == [(1,)]


def test_identifiers_fold_to_lower_case_like_redshift(session):
    run_script(session, 'create table "Orders" (ID int, "Amount" int); insert into ORDERS values (1, 5)')
    result = run_script(session, 'select Id, "AMOUNT", amount * 2 as "Double", count(*) from "ORDERS" group by 1, 2, 3')
    assert [c.name for c in result.columns] == ["id", "amount", "double", "count"]
    assert result.rows == [(1, 5, 10, 1)]


def test_trunc_keeps_numeric_precision_and_bound_divisors_work(session):
    run_script(session, "create table v (x numeric(38,11), i int, ts timestamp); "
                        "insert into v values (1.99999999999, -7, '2024-05-06 23:59:59')")
    assert run_script(session, "select trunc(x), trunc(i), trunc(ts), trunc(-1.5) from v").rows == [
        (Decimal("1"), -7, dt.date(2024, 5, 6), Decimal("-1"))]
    assert run_script(session, "select i / :n, x / :n > 0.6 from v", {"n": "3"}).rows == [(-2, True)]
    with pytest.raises(EngineError, match="(?i)division by zero"):
        run_script(session, "select x / :n from v", {"n": "0"})


def test_a_division_in_a_window_order_still_checks_for_zero(session):
    # TPC-DS query 36: rank() over (partition by ... order by sum(ss_net_profit)/sum(ss_ext_sales_price))
    run_script(session, "create table t (a decimal(10,2), b decimal(10,2), g int);"
                        "insert into t values (1, 0, 1), (3, 0, 1), (2, 4, 2), (3, 4, 3)")
    result = run_script(session, "select g, rank() over (partition by g - g order by sum(a) / sum(b)) from t"
                                 " where g > 1 group by g order by g")
    assert result.rows == [(2, 1), (3, 2)]
    with pytest.raises(EngineError, match="(?i)division by zero"):
        run_script(session, "select g, rank() over (order by sum(a) / sum(b)) from t group by g")


def test_helpers_are_found_after_set_search_path(postgres_session):
    # A script that works in its own schema (SET search_path TO it, as the TPC-H kits do) still gets the
    # emulator's VARCHAR(n) length checks and function helpers, which live in schema public on PostgreSQL.
    run_script(postgres_session, "create schema tpch; set search_path = tpch;"
                                 "create table nation (n_name varchar(25) not null, n_comment varchar(152));"
                                 "insert into nation values ('CANADA', 'x')")
    assert run_script(postgres_session, "select n_name, datediff(day, '2014-08-20'::date, '2014-08-26'::date), "
                                        "trunc('2014-08-20 10:00'::timestamp) from nation").rows == [
        ("CANADA", 6, dt.date(2014, 8, 20))]
    with pytest.raises(EngineError, match="value too long"):
        run_script(postgres_session, "insert into nation values ('a', '" + "y" * 153 + "')")
