-- Customer dimension (SCD1) from the staged customers: changed and new customers are replaced by their staged row,
-- with the nation and region resolved; customers not staged keep their row.
--
-- Parameter :run_date ('YYYY-MM-DD'): recorded as load_date on the rows this run writes.
-- Idempotent: a rerun deletes and inserts the same rows. One Data API batch, one transaction.

delete from tpch.customer
where c_custkey in (select c_custkey from tpch.stg_customer);

insert into tpch.customer
    (c_custkey, c_name, c_address, c_phone, c_acctbal, c_mktsegment, c_nation, c_region, load_date)
select
    stg.c_custkey,
    stg.c_name,
    stg.c_address,
    stg.c_phone,
    stg.c_acctbal,
    stg.c_mktsegment,
    coalesce(nation.n_name, 'UNKNOWN'),
    coalesce(nation.n_region, 'UNKNOWN'),
    cast(:run_date as date)
from tpch.stg_customer stg
left join tpch.nation nation on nation.n_nationkey = stg.c_nationkey;
