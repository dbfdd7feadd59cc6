-- TPC-H yearly sales demo (seed 000): the source tables in schema tpch, generated in SQL at a scale factor.
--
-- Parameter :scale_factor (a decimal as text, e.g. '0.01'): TPC-H's own scale, 1 = 150,000 customers,
-- 10,000 suppliers, 1,500,000 orders and about 6,000,000 line items; rows scale linearly, at least one of each.
-- Up to scale factor 60 (the row numbers below stop at 10^8).
--
-- Drops and recreates nation, stg_customer, stg_supplier, orders and lineitem (the staging data the loads read) and
-- the warehouse tables customer, supplier and fact_yearly_sale (empty). Deterministic: every value is computed from
-- row numbers with modular arithmetic, never random(), so a rerun gives the same data.
-- Runs as one Data API batch (one transaction): no BEGIN/COMMIT and no TRUNCATE.

create schema if not exists tpch;

drop table if exists tpch.fact_yearly_sale;
drop table if exists tpch.customer;
drop table if exists tpch.supplier;
drop table if exists tpch.lineitem;
drop table if exists tpch.orders;
drop table if exists tpch.stg_customer;
drop table if exists tpch.stg_supplier;
drop table if exists tpch.nation;
drop table if exists tpch.demo_scale;
drop table if exists tpch.demo_numbers;

-- How many rows of each kind this scale factor gives.
create table tpch.demo_scale (customers integer not null, suppliers integer not null, orders integer not null)
diststyle all;

insert into tpch.demo_scale
select
    greatest(1, cast(150000 * sf.value as integer)),
    greatest(1, cast(10000 * sf.value as integer)),
    greatest(1, cast(1500000 * sf.value as integer))
from (select cast(:scale_factor as decimal(12, 6)) as value) sf;

-- Row numbers 0 .. orders - 1. Redshift's generate_series runs on the leader node only and cannot feed an INSERT,
-- so the numbers grow a decimal digit at a time from ten digits, each step only as far as needed.
create table tpch.demo_numbers (n integer not null) diststyle all;

insert into tpch.demo_numbers (n) values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 10 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
where numbers.n < 10;

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 100 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
cross join tpch.demo_scale scale
where numbers.n < 100 and numbers.n + digits.n * 100 < scale.orders;

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 1000 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
cross join tpch.demo_scale scale
where numbers.n < 1000 and numbers.n + digits.n * 1000 < scale.orders;

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 10000 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
cross join tpch.demo_scale scale
where numbers.n < 10000 and numbers.n + digits.n * 10000 < scale.orders;

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 100000 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
cross join tpch.demo_scale scale
where numbers.n < 100000 and numbers.n + digits.n * 100000 < scale.orders;

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 1000000 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
cross join tpch.demo_scale scale
where numbers.n < 1000000 and numbers.n + digits.n * 1000000 < scale.orders;

insert into tpch.demo_numbers (n)
select numbers.n + digits.n * 10000000 from tpch.demo_numbers numbers
cross join (select n from tpch.demo_numbers where n between 1 and 9) digits
cross join tpch.demo_scale scale
where numbers.n < 10000000 and numbers.n + digits.n * 10000000 < scale.orders;

-- The 25 TPC-H nations and their regions.
create table tpch.nation (
    n_nationkey  integer      not null,
    n_name       varchar(25)  not null,
    n_regionkey  integer      not null,
    n_region     varchar(25)  not null,
    primary key (n_nationkey)
)
diststyle all;

insert into tpch.nation (n_nationkey, n_name, n_regionkey, n_region) values
    (0, 'ALGERIA', 0, 'AFRICA'), (1, 'ARGENTINA', 1, 'AMERICA'), (2, 'BRAZIL', 1, 'AMERICA'),
    (3, 'CANADA', 1, 'AMERICA'), (4, 'EGYPT', 4, 'MIDDLE EAST'), (5, 'ETHIOPIA', 0, 'AFRICA'),
    (6, 'FRANCE', 3, 'EUROPE'), (7, 'GERMANY', 3, 'EUROPE'), (8, 'INDIA', 2, 'ASIA'),
    (9, 'INDONESIA', 2, 'ASIA'), (10, 'IRAN', 4, 'MIDDLE EAST'), (11, 'IRAQ', 4, 'MIDDLE EAST'),
    (12, 'JAPAN', 2, 'ASIA'), (13, 'JORDAN', 4, 'MIDDLE EAST'), (14, 'KENYA', 0, 'AFRICA'),
    (15, 'MOROCCO', 0, 'AFRICA'), (16, 'MOZAMBIQUE', 0, 'AFRICA'), (17, 'PERU', 1, 'AMERICA'),
    (18, 'CHINA', 2, 'ASIA'), (19, 'ROMANIA', 3, 'EUROPE'), (20, 'SAUDI ARABIA', 4, 'MIDDLE EAST'),
    (21, 'VIETNAM', 2, 'ASIA'), (22, 'RUSSIA', 3, 'EUROPE'), (23, 'UNITED KINGDOM', 3, 'EUROPE'),
    (24, 'UNITED STATES', 1, 'AMERICA');

create table tpch.stg_customer (
    c_custkey     integer        not null,
    c_name        varchar(25)    not null,
    c_address     varchar(40)    not null,
    c_nationkey   integer        not null,
    c_phone       char(15)       not null,
    c_acctbal     decimal(12, 2) not null,
    c_mktsegment  char(10)       not null
)
diststyle all;

insert into tpch.stg_customer
select
    numbers.n + 1,
    'Customer#' || lpad(cast(numbers.n + 1 as varchar), 9, '0'),
    'Street ' || cast(mod(numbers.n * 7919, 9973) as varchar),
    mod(numbers.n * 7, 25),
    cast(10 + mod(numbers.n * 7, 25) as varchar) || '-' || lpad(cast(mod(numbers.n * 7919, 1000) as varchar), 3, '0')
        || '-555-' || lpad(cast(mod(numbers.n, 10000) as varchar), 4, '0'),
    cast(mod(numbers.n * 7919, 1099999) as decimal(12, 2)) / 100 - 999.99,
    case mod(numbers.n, 5)
        when 0 then 'AUTOMOBILE' when 1 then 'BUILDING' when 2 then 'FURNITURE' when 3 then 'HOUSEHOLD'
        else 'MACHINERY'
    end
from tpch.demo_numbers numbers
cross join tpch.demo_scale scale
where numbers.n < scale.customers;

create table tpch.stg_supplier (
    s_suppkey    integer        not null,
    s_name       varchar(25)    not null,
    s_address    varchar(40)    not null,
    s_nationkey  integer        not null,
    s_phone      char(15)       not null,
    s_acctbal    decimal(12, 2) not null
)
diststyle all;

insert into tpch.stg_supplier
select
    numbers.n + 1,
    'Supplier#' || lpad(cast(numbers.n + 1 as varchar), 9, '0'),
    'Dock ' || cast(mod(numbers.n * 104729, 9973) as varchar),
    mod(numbers.n * 11, 25),
    cast(10 + mod(numbers.n * 11, 25) as varchar) || '-' || lpad(cast(mod(numbers.n * 104729, 1000) as varchar), 3, '0')
        || '-555-' || lpad(cast(mod(numbers.n, 10000) as varchar), 4, '0'),
    cast(mod(numbers.n * 104729, 1099999) as decimal(12, 2)) / 100 - 999.99
from tpch.demo_numbers numbers
cross join tpch.demo_scale scale
where numbers.n < scale.suppliers;

-- Orders between 1992-01-01 and 1998-08-02, as in TPC-H.
create table tpch.orders (
    o_orderkey       integer  not null,
    o_custkey        integer  not null,
    o_orderstatus    char(1)  not null,
    o_orderdate      date     not null,
    o_orderpriority  char(15) not null,
    primary key (o_orderkey)
)
distkey (o_orderkey)
sortkey (o_orderdate);

insert into tpch.orders
select
    numbers.n + 1,
    1 + mod(numbers.n * 37, scale.customers),
    case mod(numbers.n, 3) when 0 then 'F' when 1 then 'O' else 'P' end,
    date '1992-01-01' + cast(mod(numbers.n * 13, 2406) as integer),
    case mod(numbers.n, 5)
        when 0 then '1-URGENT' when 1 then '2-HIGH' when 2 then '3-MEDIUM' when 3 then '4-NOT SPECIFIED'
        else '5-LOW'
    end
from tpch.demo_numbers numbers
cross join tpch.demo_scale scale
where numbers.n < scale.orders;

-- One to seven line items per order (four on average), as in TPC-H.
create table tpch.lineitem (
    l_orderkey       integer        not null,
    l_linenumber     integer        not null,
    l_suppkey        integer        not null,
    l_quantity       decimal(12, 2) not null,
    l_extendedprice  decimal(12, 2) not null,
    l_discount       decimal(12, 2) not null,
    l_shipdate       date           not null
)
distkey (l_orderkey)
sortkey (l_shipdate);

insert into tpch.lineitem
select
    orders.o_orderkey,
    line.n + 1,
    1 + mod(orders.o_orderkey * 7 + line.n * 13, scale.suppliers),
    1 + mod(orders.o_orderkey * 3 + line.n * 11, 50),
    (1 + mod(orders.o_orderkey * 3 + line.n * 11, 50)) * (900 + mod(orders.o_orderkey * 17 + line.n, 200)),
    cast(mod(orders.o_orderkey + line.n, 11) as decimal(12, 2)) / 100,
    orders.o_orderdate + cast(1 + mod(orders.o_orderkey * 5 + line.n, 121) as integer)
from tpch.orders orders
cross join tpch.demo_scale scale
join tpch.demo_numbers line on line.n <= mod(orders.o_orderkey, 7);

-- The warehouse tables the loads fill.
create table tpch.customer (
    c_custkey     integer        not null,
    c_name        varchar(25)    not null,
    c_address     varchar(40)    not null,
    c_phone       char(15)       not null,
    c_acctbal     decimal(12, 2) not null,
    c_mktsegment  char(10)       not null,
    c_nation      varchar(25)    not null,
    c_region      varchar(25)    not null,
    load_date     date           not null,
    primary key (c_custkey)
)
diststyle all
sortkey (c_custkey);

create table tpch.supplier (
    s_suppkey    integer        not null,
    s_name       varchar(25)    not null,
    s_address    varchar(40)    not null,
    s_phone      char(15)       not null,
    s_acctbal    decimal(12, 2) not null,
    s_nation     varchar(25)    not null,
    s_region     varchar(25)    not null,
    load_date    date           not null,
    primary key (s_suppkey)
)
diststyle all
sortkey (s_suppkey);

-- Yearly sales per customer and supplier: revenue = extended price less discount.
create table tpch.fact_yearly_sale (
    sale_year      integer        not null,
    c_custkey      integer        not null,
    s_suppkey      integer        not null,
    order_count    integer        not null,
    line_count     integer        not null,
    quantity       decimal(18, 2) not null,
    revenue        decimal(18, 4) not null,
    load_date      date           not null
)
distkey (c_custkey)
sortkey (sale_year);

drop table tpch.demo_numbers;
