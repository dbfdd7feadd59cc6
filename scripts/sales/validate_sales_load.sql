-- Checks of the sales load of one run date, returned as ONE result set: check_name, passed, detail.
-- The pipeline reads it back with get-statement-result and fails the run when any row has passed = false.
--
-- Parameter :run_date ('YYYY-MM-DD'): the run date whose loads are checked.
-- Read-only; every check is computed from aggregates, so the result always has one row per check.

with run_day as (
    select d_date_sk from date_dim where d_date = cast(:run_date as date)
),
fact as (
    select store_sales.*
    from store_sales
    join run_day on store_sales.ss_sold_date_sk = run_day.d_date_sk
),
staged as (
    select * from stg_store_sales where ss_sold_date = cast(:run_date as date)
),
current_item as (
    select * from item where i_is_current
)

-- The run date must exist in the calendar, or its sales cannot get a date key.
select
    cast('run_date_in_date_dim' as varchar(64)) as check_name,
    days.n = 1 as passed,
    cast(:run_date as varchar) || ': ' || cast(days.n as varchar) || ' date_dim row(s)' as detail
from (select count(*) as n from run_day) days

union all

-- Every staged sale of the date is in the fact, and nothing else is.
select
    cast('fact_rows_match_staging' as varchar(64)),
    loaded.n = expected.n,
    'store_sales ' || cast(loaded.n as varchar) || ' rows, stg_store_sales ' || cast(expected.n as varchar)
from (select count(*) as n from fact) loaded
cross join (select count(*) as n from staged) expected

union all

-- Amounts are carried over exactly.
select
    cast('fact_amounts_match_staging' as varchar(64)),
    loaded.amount = expected.amount,
    'net paid ' || cast(loaded.amount as varchar) || ', staged ' || cast(expected.amount as varchar)
from (select coalesce(sum(ss_net_paid), 0) as amount from fact) loaded
cross join (
    select coalesce(sum(cast(ss_quantity * ss_sales_price as decimal(9,2))), 0) as amount from staged
) expected

union all

-- Each fact row of the date points to the current version of its item (a NULL key is an unknown item id).
select
    cast('fact_items_are_current_versions' as varchar(64)),
    orphans.n = 0,
    cast(orphans.n as varchar) || ' fact row(s) without a current item version'
from (
    select count(*) as n
    from fact
    left join current_item on current_item.i_item_sk = fact.ss_item_sk
    where current_item.i_item_sk is null
) orphans

union all

-- Customer, address and store keys resolved.
select
    cast('fact_keys_resolved' as varchar(64)),
    orphans.n = 0,
    cast(orphans.n as varchar) || ' fact row(s) with an unknown customer, address or store'
from (
    select count(*) as n
    from fact
    where ss_customer_sk is null or ss_addr_sk is null or ss_store_sk is null
) orphans

union all

-- SCD2: exactly one current version per item id.
select
    cast('one_current_version_per_item' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' item id(s) with zero or several current versions'
from (
    select count(*) as n
    from (
        select i_item_id
        from item
        group by i_item_id
        having sum(case when i_is_current then 1 else 0 end) <> 1
    ) per_item
) bad

union all

-- SCD2: the current flag agrees with the end date, and no range ends before it starts.
select
    cast('item_validity_ranges_consistent' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' item version(s) with an inconsistent end date or current flag'
from (
    select count(*) as n
    from item
    where (i_is_current and i_rec_end_date is not null)
       or (not i_is_current and i_rec_end_date is null)
       or i_rec_end_date < i_rec_start_date
) bad

union all

-- SCD2: the versions of one item never overlap in time.
select
    cast('item_versions_do_not_overlap' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' pair(s) of overlapping versions'
from (
    select count(*) as n
    from item earlier
    join item later
      on later.i_item_id = earlier.i_item_id
     and later.i_item_sk <> earlier.i_item_sk
     and later.i_rec_start_date >= earlier.i_rec_start_date
    where earlier.i_rec_end_date is null
       or earlier.i_rec_end_date >= later.i_rec_start_date
) bad

union all

-- Every staged item is in the dimension with the staged attributes on its current version.
select
    cast('staged_items_applied' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' staged item(s) missing or different in item'
from (
    select count(*) as n
    from stg_item stg
    left join current_item dim on dim.i_item_id = stg.i_item_id
    where dim.i_item_id is null
       or coalesce(dim.i_current_price, -1)  <> coalesce(stg.i_current_price, -1)
       or coalesce(dim.i_wholesale_cost, -1) <> coalesce(stg.i_wholesale_cost, -1)
       or coalesce(dim.i_item_desc, '')      <> coalesce(stg.i_item_desc, '')
       or coalesce(dim.i_brand, '')          <> coalesce(stg.i_brand, '')
       or coalesce(dim.i_class, '')          <> coalesce(stg.i_class, '')
       or coalesce(dim.i_category, '')       <> coalesce(stg.i_category, '')
       or coalesce(dim.i_product_name, '')   <> coalesce(stg.i_product_name, '')
) bad

union all

-- SCD1: every staged address is in the dimension, overwritten with the staged attributes.
select
    cast('staged_addresses_applied' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' staged address(es) missing or different in customer_address'
from (
    select count(*) as n
    from stg_customer_address stg
    left join customer_address dim on dim.ca_address_id = stg.ca_address_id
    where dim.ca_address_id is null
       or coalesce(dim.ca_street_number, '') <> coalesce(stg.ca_street_number, '')
       or coalesce(dim.ca_street_name, '')   <> coalesce(stg.ca_street_name, '')
       or coalesce(dim.ca_street_type, '')   <> coalesce(stg.ca_street_type, '')
       or coalesce(dim.ca_city, '')          <> coalesce(stg.ca_city, '')
       or coalesce(dim.ca_county, '')        <> coalesce(stg.ca_county, '')
       or coalesce(dim.ca_state, '')         <> coalesce(stg.ca_state, '')
       or coalesce(dim.ca_zip, '')           <> coalesce(stg.ca_zip, '')
       or coalesce(dim.ca_country, '')       <> coalesce(stg.ca_country, '')
       or coalesce(dim.ca_location_type, '') <> coalesce(stg.ca_location_type, '')
) bad

union all

-- Keys are unique: Redshift does not enforce primary keys, and a duplicated address id would make the SCD1
-- load update both rows.
select
    cast('dimension_keys_unique' as varchar(64)),
    item_keys.n + address_keys.n + address_ids.n = 0,
    cast(item_keys.n as varchar) || ' duplicated item key(s), '
        || cast(address_keys.n as varchar) || ' duplicated address key(s), '
        || cast(address_ids.n as varchar) || ' duplicated address id(s)'
from (
    select count(*) as n
    from (select i_item_sk from item group by i_item_sk having count(*) > 1) dup
) item_keys
cross join (
    select count(*) as n
    from (select ca_address_sk from customer_address group by ca_address_sk having count(*) > 1) dup
) address_keys
cross join (
    select count(*) as n
    from (select ca_address_id from customer_address group by ca_address_id having count(*) > 1) dup
) address_ids

order by 1;
