-- Sales demo: schema and deterministic demo data (TPC-DS shaped, small).
--
-- Drops and recreates the warehouse tables (customer, customer_address, date_dim, item, store, store_sales)
-- and the staging tables the daily loads read (stg_customer_address, stg_item, stg_store_sales).
-- Rerunnable: every table is dropped first, and all data is computed from row numbers (no random()).
-- No parameters. Runs as one Data API batch (one transaction): no BEGIN/COMMIT, and no TRUNCATE,
-- which would commit the batch halfway on Redshift.
--
-- What the staging rows exercise (see scripts/README.md):
--   stg_customer_address: addresses 1-20 changed (SCD1 overwrite), 21-30 unchanged, 401-415 new;
--   stg_item: items 1, 2 and 11-18 with a new price (SCD2 new version; 1 and 2 already have a closed 2025 version),
--             items 21-28 with a new description and brand only (updated in place), 31-35 unchanged, 101-106 new;
--   stg_store_sales: sales of 2026-11-19, 2026-11-20 and 2026-11-21 in 12 stores of 6 cities.
-- store_sales already holds the history 2026-11-01 .. 2026-11-18.

drop table if exists store_sales;
drop table if exists stg_store_sales;
drop table if exists stg_item;
drop table if exists stg_customer_address;
drop table if exists customer;
drop table if exists customer_address;
drop table if exists item;
drop table if exists store;
drop table if exists date_dim;
drop table if exists sales_demo_numbers;

-- Dimensions are small: a full copy on every node (DISTSTYLE ALL) makes every fact join node-local.
create table date_dim (
    d_date_sk   integer     not null,  -- yyyymmdd
    d_date_id   varchar(16) not null,
    d_date      date        not null,
    d_year      integer     not null,
    d_qoy       integer     not null,
    d_moy       integer     not null,
    d_dom       integer     not null,
    d_dow       integer     not null,  -- 0 = Sunday
    d_day_name  varchar(9)  not null,
    d_weekend   char(1)     not null,
    primary key (d_date_sk)
)
diststyle all
sortkey (d_date);

create table store (
    s_store_sk    integer      not null,
    s_store_id    varchar(16)  not null,
    s_store_name  varchar(50)  not null,
    s_city        varchar(60)  not null,
    s_county      varchar(30)  not null,
    s_state       char(2)      not null,
    primary key (s_store_sk)
)
diststyle all
sortkey (s_store_sk);

-- SCD1: one row per address id, overwritten in place; last_updated is the run date of the last change.
create table customer_address (
    ca_address_sk     integer      not null,
    ca_address_id     varchar(16)  not null,
    ca_street_number  varchar(10),
    ca_street_name    varchar(60),
    ca_street_type    varchar(15),
    ca_city           varchar(60),
    ca_county         varchar(30),
    ca_state          char(2),
    ca_zip            varchar(10),
    ca_country        varchar(20),
    ca_location_type  varchar(20),
    last_updated      date         not null,
    primary key (ca_address_sk)
)
diststyle all
sortkey (ca_address_id);

create table customer (
    c_customer_sk       integer      not null,
    c_customer_id       varchar(16)  not null,
    c_current_addr_sk   integer,
    c_first_name        varchar(20),
    c_last_name         varchar(30),
    c_email_address     varchar(50),
    c_birth_year        integer,
    primary key (c_customer_sk),
    foreign key (c_current_addr_sk) references customer_address (ca_address_sk)
)
diststyle all
sortkey (c_customer_id);

-- SCD2: one row per version of an item id; the current version has i_rec_end_date null and i_is_current true.
-- Validity is inclusive on both ends: a version closed on a run date ends the day before.
create table item (
    i_item_sk          integer       not null,
    i_item_id          varchar(16)   not null,
    i_rec_start_date   date          not null,
    i_rec_end_date     date,
    i_is_current       boolean       not null,
    i_item_desc        varchar(200),
    i_current_price    decimal(7,2),
    i_wholesale_cost   decimal(7,2),
    i_brand            varchar(50),
    i_class            varchar(50),
    i_category         varchar(50),
    i_product_name     varchar(50),
    primary key (i_item_sk)
)
diststyle all
sortkey (i_item_id, i_rec_start_date);

-- The fact: distributed on the item key, sorted by date so that the per-date delete and reports scan few blocks.
create table store_sales (
    ss_sold_date_sk     integer       encode raw not null,
    ss_item_sk          integer       encode az64,
    ss_customer_sk      integer       encode az64,
    ss_addr_sk          integer       encode az64,
    ss_store_sk         integer       encode az64,
    ss_ticket_number    bigint        encode az64 not null,
    ss_quantity         integer       encode az64,
    ss_sales_price      decimal(7,2)  encode az64,
    ss_ext_sales_price  decimal(9,2)  encode az64,
    ss_net_paid         decimal(9,2)  encode az64,
    foreign key (ss_sold_date_sk) references date_dim (d_date_sk),
    foreign key (ss_item_sk) references item (i_item_sk),
    foreign key (ss_customer_sk) references customer (c_customer_sk),
    foreign key (ss_addr_sk) references customer_address (ca_address_sk),
    foreign key (ss_store_sk) references store (s_store_sk)
)
distkey (ss_item_sk)
compound sortkey (ss_sold_date_sk);

-- Staging: what an upstream extract lands before the daily loads (business keys, no surrogate keys).
create table stg_customer_address (
    ca_address_id     varchar(16)  not null,
    ca_street_number  varchar(10),
    ca_street_name    varchar(60),
    ca_street_type    varchar(15),
    ca_city           varchar(60),
    ca_county         varchar(30),
    ca_state          char(2),
    ca_zip            varchar(10),
    ca_country        varchar(20),
    ca_location_type  varchar(20)
)
diststyle all;

create table stg_item (
    i_item_id          varchar(16)   not null,
    i_item_desc        varchar(200),
    i_current_price    decimal(7,2),
    i_wholesale_cost   decimal(7,2),
    i_brand            varchar(50),
    i_class            varchar(50),
    i_category         varchar(50),
    i_product_name     varchar(50)
)
diststyle all;

create table stg_store_sales (
    ss_sold_date        date          encode raw not null,
    ss_ticket_number    bigint        encode az64 not null,
    ss_item_id          varchar(16)   encode zstd,
    ss_customer_id      varchar(16)   encode zstd,
    ss_store_id         varchar(16)   encode zstd,
    ss_quantity         integer       encode az64,
    ss_sales_price      decimal(7,2)  encode az64
)
diststyle even
sortkey (ss_sold_date);

-- Row numbers 0..9999 to generate rows from. Redshift's generate_series runs on the leader node only and
-- cannot feed an INSERT, so the numbers come from a cross join of ten digits.
create table sales_demo_numbers (n integer not null) diststyle all;

insert into sales_demo_numbers (n) values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);

insert into sales_demo_numbers (n)
select ones.n + 10 * tens.n + 100 * hundreds.n + 1000 * thousands.n
from sales_demo_numbers ones
cross join sales_demo_numbers tens
cross join sales_demo_numbers hundreds
cross join sales_demo_numbers thousands
where ones.n + 10 * tens.n + 100 * hundreds.n + 1000 * thousands.n >= 10;

-- Calendar 2025-01-01 .. 2027-12-31 (three years of 365 days).
insert into date_dim
select
    cast(extract(year from day.d_date) * 10000 + extract(month from day.d_date) * 100
         + extract(day from day.d_date) as integer),
    'D' || cast(cast(extract(year from day.d_date) * 10000 + extract(month from day.d_date) * 100
                     + extract(day from day.d_date) as integer) as varchar),
    day.d_date,
    cast(extract(year from day.d_date) as integer),
    cast(extract(quarter from day.d_date) as integer),
    cast(extract(month from day.d_date) as integer),
    cast(extract(day from day.d_date) as integer),
    cast(extract(dow from day.d_date) as integer),
    split_part('Sunday,Monday,Tuesday,Wednesday,Thursday,Friday,Saturday', ',',
               cast(extract(dow from day.d_date) as integer) + 1),
    case when extract(dow from day.d_date) in (0, 6) then 'Y' else 'N' end
from (
    select cast('2025-01-01' as date) + n as d_date
    from sales_demo_numbers
    where n < 3 * 365
) day;

-- 12 stores, two in each of 6 cities.
insert into store
select
    n,
    'STORE' || lpad(cast(n as varchar), 11, '0'),
    'Store ' || cast(n as varchar),
    split_part('Fairview,Midway,Oak Grove,Five Points,Pleasant Hill,Centerville', ',', n % 6 + 1),
    split_part('Williamson County,Ziebach County,Walker County,Barrow County,Franklin Parish,Huron County',
               ',', n % 6 + 1),
    split_part('TN,SD,AL,GA,LA,OH', ',', n % 6 + 1)
from sales_demo_numbers
where n between 1 and 12;

-- 400 addresses; customers 1-300 live at addresses 1-300.
insert into customer_address
select
    n,
    'ADDR' || lpad(cast(n as varchar), 12, '0'),
    cast(n * 7 % 999 + 1 as varchar),
    split_part('Main,Oak,Park,Maple,Cedar,Elm,Lake,Hill,Washington,Lincoln', ',', n % 10 + 1),
    split_part('Street,Avenue,Road,Lane,Court', ',', n % 5 + 1),
    split_part('Fairview,Midway,Oak Grove,Five Points,Pleasant Hill,Centerville,Riverside,Bethel', ',', n % 8 + 1),
    split_part('Williamson County,Ziebach County,Walker County,Barrow County,Franklin Parish,Huron County,'
               || 'Orange County,Clermont County', ',', n % 8 + 1),
    split_part('TN,SD,AL,GA,LA,OH,CA,OH', ',', n % 8 + 1),
    lpad(cast(n * 37 % 90000 + 10000 as varchar), 5, '0'),
    'United States',
    split_part('single family,apartment,condo', ',', n % 3 + 1),
    cast('2026-01-01' as date)
from sales_demo_numbers
where n between 1 and 400;

insert into customer
select
    n,
    'CUST' || lpad(cast(n as varchar), 12, '0'),
    n,
    split_part('James,Mary,Robert,Patricia,John,Jennifer,Michael,Linda,David,Susan,William,Karen', ',', n % 12 + 1),
    split_part('Smith,Johnson,Williams,Brown,Jones,Garcia,Miller,Davis,Wilson,Moore,Taylor', ',', n % 11 + 1),
    'customer' || cast(n as varchar) || '@example.com',
    1950 + n % 50
from sales_demo_numbers
where n between 1 and 300;

-- 100 items current since 2026-01-01 (surrogate key = n); items 1-10 also have a closed 2025 version
-- one dollar cheaper (surrogate key 100 + n).
insert into item
select
    n,
    'ITEM' || lpad(cast(n as varchar), 12, '0'),
    cast('2026-01-01' as date),
    cast(null as date),
    true,
    'Demo item ' || cast(n as varchar),
    cast(n * 37 % 200 + 4.99 as decimal(7,2)),
    cast((n * 37 % 200 + 4.99) * 0.6 as decimal(7,2)),
    'brand #' || cast(n % 12 + 1 as varchar),
    split_part('basic,premium,value,classic', ',', n % 4 + 1),
    split_part('Books,Children,Electronics,Home,Jewelry,Men,Music,Shoes,Sports,Women', ',', n % 10 + 1),
    'product ' || lpad(cast(n as varchar), 4, '0')
from sales_demo_numbers
where n between 1 and 100
union all
select
    100 + n,
    'ITEM' || lpad(cast(n as varchar), 12, '0'),
    cast('2025-01-01' as date),
    cast('2025-12-31' as date),
    false,
    'Demo item ' || cast(n as varchar),
    cast(n * 37 % 200 + 3.99 as decimal(7,2)),
    cast((n * 37 % 200 + 4.99) * 0.6 as decimal(7,2)),
    'brand #' || cast(n % 12 + 1 as varchar),
    split_part('basic,premium,value,classic', ',', n % 4 + 1),
    split_part('Books,Children,Electronics,Home,Jewelry,Men,Music,Shoes,Sports,Women', ',', n % 10 + 1),
    'product ' || lpad(cast(n as varchar), 4, '0')
from sales_demo_numbers
where n between 1 and 10;

-- Fact history 2026-11-01 .. 2026-11-18: 150 tickets a day of 1-3 lines, at the current item versions.
insert into store_sales
select
    d.d_date_sk,
    (t.n * 17 + l.n * 31) % 100 + 1,
    (t.n * 11 + d.d_dom * 5) % 300 + 1,
    (t.n * 11 + d.d_dom * 5) % 300 + 1,  -- customer k lives at address k
    (t.n * 7 + d.d_dom) % 12 + 1,
    cast(d.d_date_sk as bigint) * 10000 + t.n,
    (t.n + l.n) % 5 + 1,
    cast((t.n * 3 + l.n * 7) % 90 + 9.99 as decimal(7,2)),
    cast(((t.n + l.n) % 5 + 1) * ((t.n * 3 + l.n * 7) % 90 + 9.99) as decimal(9,2)),
    cast(((t.n + l.n) % 5 + 1) * ((t.n * 3 + l.n * 7) % 90 + 9.99) as decimal(9,2))
from date_dim d
cross join sales_demo_numbers t
cross join sales_demo_numbers l
where d.d_date between cast('2026-11-01' as date) and cast('2026-11-18' as date)
  and t.n < 150
  and l.n <= t.n % 3;

-- Address changes: 1-20 moved (new street; the even ones to another city), 21-30 resent unchanged, 401-415 new.
insert into stg_customer_address
select
    ca_address_id,
    cast(cast(ca_street_number as integer) + 100 as varchar),
    'New ' || ca_street_name,
    ca_street_type,
    case when ca_address_sk % 2 = 0 then 'Riverside' else ca_city end,
    case when ca_address_sk % 2 = 0 then 'Orange County' else ca_county end,
    case when ca_address_sk % 2 = 0 then 'CA' else ca_state end,
    case when ca_address_sk % 2 = 0 then '92501' else ca_zip end,
    ca_country,
    ca_location_type
from customer_address
where ca_address_sk between 1 and 20
union all
select
    ca_address_id, ca_street_number, ca_street_name, ca_street_type, ca_city, ca_county, ca_state, ca_zip,
    ca_country, ca_location_type
from customer_address
where ca_address_sk between 21 and 30
union all
select
    'ADDR' || lpad(cast(n as varchar), 12, '0'),
    cast(n * 7 % 999 + 1 as varchar),
    split_part('Birch,Pine,Spruce,Willow,Aspen', ',', n % 5 + 1),
    'Street',
    split_part('Fairview,Midway,Oak Grove', ',', n % 3 + 1),
    split_part('Williamson County,Ziebach County,Walker County', ',', n % 3 + 1),
    split_part('TN,SD,AL', ',', n % 3 + 1),
    lpad(cast(n * 37 % 90000 + 10000 as varchar), 5, '0'),
    'United States',
    'apartment'
from sales_demo_numbers
where n between 401 and 415;

-- Item changes: 1, 2, 11-18 new price (12 also a new description), 21-28 new description and brand only,
-- 31-35 resent unchanged, 101-106 new items.
insert into stg_item
select
    i_item_id,
    case when i_item_sk = 12 then i_item_desc || ' (new edition)' else i_item_desc end,
    i_current_price + 2.50,
    i_wholesale_cost,
    i_brand,
    i_class,
    i_category,
    i_product_name
from item
where i_is_current and (i_item_sk in (1, 2) or i_item_sk between 11 and 18)
union all
select
    i_item_id,
    i_item_desc || ', new packaging',
    i_current_price,
    i_wholesale_cost,
    'brand #99',
    i_class,
    i_category,
    i_product_name
from item
where i_is_current and i_item_sk between 21 and 28
union all
select
    i_item_id, i_item_desc, i_current_price, i_wholesale_cost, i_brand, i_class, i_category, i_product_name
from item
where i_is_current and i_item_sk between 31 and 35
union all
select
    'ITEM' || lpad(cast(n as varchar), 12, '0'),
    'Demo item ' || cast(n as varchar),
    cast(n * 37 % 200 + 4.99 as decimal(7,2)),
    cast((n * 37 % 200 + 4.99) * 0.6 as decimal(7,2)),
    'brand #' || cast(n % 12 + 1 as varchar),
    split_part('basic,premium,value,classic', ',', n % 4 + 1),
    split_part('Books,Children,Electronics,Home,Jewelry,Men,Music,Shoes,Sports,Women', ',', n % 10 + 1),
    'product ' || lpad(cast(n as varchar), 4, '0')
from sales_demo_numbers
where n between 101 and 106;

-- Staged sales for three run dates: 500 tickets a day of 1-3 lines over items 1-106 (new items included),
-- customers 1-300 and stores 1-12.
insert into stg_store_sales
select
    d.d_date,
    cast(d.d_date_sk as bigint) * 10000 + t.n,
    'ITEM' || lpad(cast((t.n * 17 + l.n * 31) % 106 + 1 as varchar), 12, '0'),
    'CUST' || lpad(cast((t.n * 11 + d.d_dom * 5) % 300 + 1 as varchar), 12, '0'),
    'STORE' || lpad(cast((t.n * 7 + d.d_dom) % 12 + 1 as varchar), 11, '0'),
    (t.n + l.n) % 5 + 1,
    cast((t.n * 3 + l.n * 7) % 90 + 9.99 as decimal(7,2))
from date_dim d
cross join sales_demo_numbers t
cross join sales_demo_numbers l
where d.d_date between cast('2026-11-19' as date) and cast('2026-11-21' as date)
  and t.n < 500
  and l.n <= t.n % 3;

drop table sales_demo_numbers;
