-- Ad hoc report: daily sales per item category in the stores of one city, read back with get-statement-result.
--
-- Parameter :city (for example 'Fairview'; the demo stores are in Fairview, Midway, Oak Grove, Five Points,
-- Pleasant Hill and Centerville). Read-only, one result set, one row per day and category.

select
    sold.d_date                              as sales_date,
    item_version.i_category                  as category,
    count(distinct sale.ss_ticket_number)    as tickets,
    sum(sale.ss_quantity)                    as units,
    sum(sale.ss_net_paid)                    as net_paid
from store_sales sale
join date_dim sold
  on sold.d_date_sk = sale.ss_sold_date_sk
join item item_version
  on item_version.i_item_sk = sale.ss_item_sk
join store shop
  on shop.s_store_sk = sale.ss_store_sk
where shop.s_city = :city
group by sold.d_date, item_version.i_category
order by sold.d_date, item_version.i_category;
