-- fact_yearly_sale: yearly sales per customer and supplier, rebuilt from orders and line items. Runs after both
-- dimension loads: only line items whose customer and supplier are in the dimensions are counted, so the fact never
-- points to a missing dimension row (the validation step counts what was left out).
--
-- Parameter :run_date ('YYYY-MM-DD'): recorded as load_date.
-- Idempotent: the whole fact is replaced in one transaction (DELETE, not TRUNCATE, which would commit the batch).

delete from tpch.fact_yearly_sale;

insert into tpch.fact_yearly_sale
    (sale_year, c_custkey, s_suppkey, order_count, line_count, quantity, revenue, load_date)
select
    cast(extract(year from orders.o_orderdate) as integer),
    customer.c_custkey,
    supplier.s_suppkey,
    count(distinct orders.o_orderkey),
    count(*),
    sum(lineitem.l_quantity),
    sum(lineitem.l_extendedprice * (1 - lineitem.l_discount)),
    cast(:run_date as date)
from tpch.lineitem lineitem
join tpch.orders orders on orders.o_orderkey = lineitem.l_orderkey
join tpch.customer customer on customer.c_custkey = orders.o_custkey
join tpch.supplier supplier on supplier.s_suppkey = lineitem.l_suppkey
group by 1, 2, 3;
