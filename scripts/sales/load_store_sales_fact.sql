-- Load of the store_sales fact for one business date from stg_store_sales.
--
-- Parameter :run_date ('YYYY-MM-DD'): the sale date to (re)load.
-- Idempotent: the date's rows are deleted and inserted again in the same transaction, so a rerun replaces
-- them instead of doubling them. Run after both dimension loads of the same run date.
-- Business keys become surrogate keys here: the date through date_dim, the item through its CURRENT version
-- (the one the SCD2 load of this run date just wrote, as in TPC-DS data maintenance), the customer and the
-- address the customer currently lives at, and the store.
-- Item, customer, address and store are LEFT joins: a staged sale whose key is unknown is loaded with a NULL
-- key rather than silently dropped, and validate_sales_load.sql fails the run on it.

delete from store_sales
where ss_sold_date_sk in (select d_date_sk from date_dim where d_date = cast(:run_date as date));

insert into store_sales (
    ss_sold_date_sk, ss_item_sk, ss_customer_sk, ss_addr_sk, ss_store_sk, ss_ticket_number,
    ss_quantity, ss_sales_price, ss_ext_sales_price, ss_net_paid
)
select
    sold.d_date_sk,
    item_version.i_item_sk,
    buyer.c_customer_sk,
    buyer_address.ca_address_sk,
    shop.s_store_sk,
    stg.ss_ticket_number,
    stg.ss_quantity,
    stg.ss_sales_price,
    cast(stg.ss_quantity * stg.ss_sales_price as decimal(9,2)),
    cast(stg.ss_quantity * stg.ss_sales_price as decimal(9,2))
from stg_store_sales stg
join date_dim sold
  on sold.d_date = stg.ss_sold_date
left join item item_version
  on item_version.i_item_id = stg.ss_item_id
 and item_version.i_is_current
left join customer buyer
  on buyer.c_customer_id = stg.ss_customer_id
left join customer_address buyer_address
  on buyer_address.ca_address_sk = buyer.c_current_addr_sk
left join store shop
  on shop.s_store_id = stg.ss_store_id
where stg.ss_sold_date = cast(:run_date as date);
