-- Supplier dimension (SCD1) from the staged suppliers: changed and new suppliers are replaced by their staged row,
-- with the nation and region resolved; suppliers not staged keep their row.
--
-- Parameter :run_date ('YYYY-MM-DD'): recorded as load_date on the rows this run writes.
-- Idempotent: a rerun deletes and inserts the same rows. One Data API batch, one transaction.

delete from tpch.supplier
where s_suppkey in (select s_suppkey from tpch.stg_supplier);

insert into tpch.supplier (s_suppkey, s_name, s_address, s_phone, s_acctbal, s_nation, s_region, load_date)
select
    stg.s_suppkey,
    stg.s_name,
    stg.s_address,
    stg.s_phone,
    stg.s_acctbal,
    coalesce(nation.n_name, 'UNKNOWN'),
    coalesce(nation.n_region, 'UNKNOWN'),
    cast(:run_date as date)
from tpch.stg_supplier stg
left join tpch.nation nation on nation.n_nationkey = stg.s_nationkey;
