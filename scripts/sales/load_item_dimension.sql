-- SCD2 load of item from stg_item.
--
-- Parameter :run_date ('YYYY-MM-DD'), the business date of the load.
--   * price changed: the current version is closed (i_rec_end_date = run date - 1, i_is_current false) and a new
--     version with a new surrogate key starts on the run date;
--   * any other attribute changed: the current version is updated in place (no new version);
--   * new item id: a first version starting on the run date.
-- A price change against a version that itself started on the run date (a correction resent the same day)
-- overwrites that version instead of closing it, so validity ranges never end before they start.
-- Idempotent: a rerun for the same run date with the same staging data finds nothing to change.
-- Order matters inside the batch: update in place, then close, then insert every staged id without a current
-- version (which is exactly the new ids plus the ids closed a statement earlier).

-- 1. Same price (or a same-day correction): overwrite the current version's attributes when they differ.
--    Null-safe comparisons with COALESCE: Redshift has no IS DISTINCT FROM.
update item
set i_item_desc      = stg.i_item_desc,
    i_current_price  = stg.i_current_price,
    i_wholesale_cost = stg.i_wholesale_cost,
    i_brand          = stg.i_brand,
    i_class          = stg.i_class,
    i_category       = stg.i_category,
    i_product_name   = stg.i_product_name
from stg_item stg
where item.i_item_id = stg.i_item_id
  and item.i_is_current
  and (   coalesce(item.i_current_price, -1) = coalesce(stg.i_current_price, -1)
       or item.i_rec_start_date = cast(:run_date as date))
  and (   coalesce(item.i_current_price, -1)  <> coalesce(stg.i_current_price, -1)
       or coalesce(item.i_wholesale_cost, -1) <> coalesce(stg.i_wholesale_cost, -1)
       or coalesce(item.i_item_desc, '')      <> coalesce(stg.i_item_desc, '')
       or coalesce(item.i_brand, '')          <> coalesce(stg.i_brand, '')
       or coalesce(item.i_class, '')          <> coalesce(stg.i_class, '')
       or coalesce(item.i_category, '')       <> coalesce(stg.i_category, '')
       or coalesce(item.i_product_name, '')   <> coalesce(stg.i_product_name, ''));

-- 2. Price changed: close the current version the day before the run date.
update item
set i_rec_end_date = cast(:run_date as date) - 1,
    i_is_current   = false
from stg_item stg
where item.i_item_id = stg.i_item_id
  and item.i_is_current
  and item.i_rec_start_date < cast(:run_date as date)
  and coalesce(item.i_current_price, -1) <> coalesce(stg.i_current_price, -1);

-- 3. Staged ids without a current version (new items, and the versions closed just above) get a version
--    starting on the run date, numbered after the highest surrogate key (the job guard serialises loads).
insert into item (
    i_item_sk, i_item_id, i_rec_start_date, i_rec_end_date, i_is_current, i_item_desc, i_current_price,
    i_wholesale_cost, i_brand, i_class, i_category, i_product_name
)
select
    last_key.max_sk + row_number() over (order by stg.i_item_id),
    stg.i_item_id,
    cast(:run_date as date),
    cast(null as date),
    true,
    stg.i_item_desc,
    stg.i_current_price,
    stg.i_wholesale_cost,
    stg.i_brand,
    stg.i_class,
    stg.i_category,
    stg.i_product_name
from stg_item stg
cross join (select coalesce(max(i_item_sk), 0) as max_sk from item) last_key
where not exists (
    select 1 from item existing
    where existing.i_item_id = stg.i_item_id
      and existing.i_is_current
);
