-- Checks of the TPC-H yearly sales load, returned as ONE result set: check_name, passed, detail.
-- The workflow reads it back with get-statement-result (check_validation_results) and fails the job when any row
-- has passed = false. Read-only; every check is an aggregate, so the result always has one row per check.

select
    cast('customers_loaded' as varchar(64)) as check_name,
    loaded.n = staged.n as passed,
    'customer ' || cast(loaded.n as varchar) || ' staged customer(s) found of ' || cast(staged.n as varchar) as detail
from (
    select count(*) as n from tpch.stg_customer stg join tpch.customer dim on dim.c_custkey = stg.c_custkey
) loaded
cross join (select count(*) as n from tpch.stg_customer) staged

union all

select
    cast('suppliers_loaded' as varchar(64)),
    loaded.n = staged.n,
    'supplier ' || cast(loaded.n as varchar) || ' staged supplier(s) found of ' || cast(staged.n as varchar)
from (
    select count(*) as n from tpch.stg_supplier stg join tpch.supplier dim on dim.s_suppkey = stg.s_suppkey
) loaded
cross join (select count(*) as n from tpch.stg_supplier) staged

union all

-- Every nation key resolved: UNKNOWN means a staged row pointed to a nation that does not exist.
select
    cast('nations_resolved' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' customer(s) or supplier(s) with an unknown nation'
from (
    select (select count(*) from tpch.customer where c_nation = 'UNKNOWN')
         + (select count(*) from tpch.supplier where s_nation = 'UNKNOWN') as n
) bad

union all

-- The fact carries every line item's revenue, to the cent.
select
    cast('fact_revenue_matches_line_items' as varchar(64)),
    abs(fact.revenue - source.revenue) < 0.01,
    'fact ' || cast(fact.revenue as varchar) || ', line items ' || cast(source.revenue as varchar)
from (select coalesce(sum(revenue), 0) as revenue from tpch.fact_yearly_sale) fact
cross join (
    select coalesce(sum(l_extendedprice * (1 - l_discount)), 0) as revenue from tpch.lineitem
) source

union all

select
    cast('fact_line_count_matches_line_items' as varchar(64)),
    fact.n = source.n,
    'fact ' || cast(fact.n as varchar) || ' line(s), lineitem ' || cast(source.n as varchar)
from (select coalesce(sum(line_count), 0) as n from tpch.fact_yearly_sale) fact
cross join (select count(*) as n from tpch.lineitem) source

union all

select
    cast('fact_years_in_range' as varchar(64)),
    bad.n = 0,
    cast(bad.n as varchar) || ' fact row(s) outside 1992-1998'
from (select count(*) as n from tpch.fact_yearly_sale where sale_year not between 1992 and 1998) bad

union all

select
    cast('fact_has_rows' as varchar(64)),
    fact.n > 0,
    cast(fact.n as varchar) || ' fact row(s)'
from (select count(*) as n from tpch.fact_yearly_sale) fact

order by 1;
