-- Incremental load of order changes from the streaming view (seed 004's SP_Orders_Load and
-- SP_Customer_Transaction_Fact, as one script: one batch, so one transaction).
--
-- 1. Refresh orders_stream_mv (it reads the topic from where its previous refresh stopped).
-- 2. Take only the records past the watermark of their partition in orders_stream_audit (first run: all).
-- 3. Records that are not JSON, or not change records with an OrderID, go to orders_stream_errors with their
--    partition, offset and raw value; the others are typed into orders_changes.
-- 4. Merge into orders_current: per order, the latest non-null value of each column by arrival (the current row
--    counts as the oldest), only from events after the order's latest REMOVE; an order whose latest event is a
--    REMOVE is deleted.
-- 5. Advance the watermarks in the same transaction: a failed or killed load leaves data and watermarks as they
--    were, and the next one takes the same records.
-- No parameters. Rerunnable: a run with no new records changes nothing.

set enable_case_sensitive_identifier to true;

refresh materialized view orders_stream_mv;

create temp table orders_new as
select s.kafka_partition, s.kafka_offset, s.kafka_timestamp, s.kafka_value, s.data
from orders_stream_mv s
left join (
    select kafka_partition, max(kafka_offset) as kafka_offset
    from orders_stream_audit
    group by kafka_partition
) m on s.kafka_partition = m.kafka_partition
where m.kafka_offset is null or s.kafka_offset > m.kafka_offset;

create temp table orders_new_changes as
select upper(n.data."eventName"::varchar(16)) as event_name,
       n.data."dynamodb"."Keys"."OrderID"."N"::integer as order_id,
       n.data."dynamodb"."NewImage"."CustomerID"."S"::varchar(36) as customer_id,
       n.data."dynamodb"."NewImage"."ProductID"."S"::varchar(36) as product_id,
       n.data."dynamodb"."NewImage"."Quantity"."N"::integer as quantity,
       n.data."dynamodb"."NewImage"."Price"."N"::double precision as price,
       n.data."dynamodb"."NewImage"."OrderStatus"."S"::varchar(36) as order_status,
       n.kafka_timestamp as arrival,
       n.kafka_partition,
       n.kafka_offset
from orders_new n
where n.data is not null;

insert into orders_stream_errors
select n.kafka_partition, n.kafka_offset, from_varbyte(n.kafka_value, 'utf-8'),
       case when n.data is null then 'invalid JSON' else 'not a change record' end,
       getdate()
from orders_new n
left join orders_new_changes c on c.kafka_partition = n.kafka_partition and c.kafka_offset = n.kafka_offset
where n.data is null
   or c.order_id is null
   or c.event_name not in ('INSERT', 'MODIFY', 'REMOVE')
   or c.event_name is null;

delete from orders_new_changes
where order_id is null or event_name is null or event_name not in ('INSERT', 'MODIFY', 'REMOVE');

insert into orders_changes
select event_name, order_id, customer_id, product_id, quantity, price, order_status, arrival,
       kafka_partition, kafka_offset
from orders_new_changes;

-- The affected orders' events in order: the current row first, then this run's changes by arrival.
create temp table orders_events as
select e.*,
       row_number() over (partition by e.order_id
                          order by e.is_new, e.arrival, e.kafka_partition, e.kafka_offset) as ordinal
from (
    select order_id, 'CURRENT' as event_name, customer_id, product_id, quantity, price, order_status,
           last_arrival as arrival, -1 as kafka_partition, -1 as kafka_offset, 0 as is_new
    from orders_current
    where order_id in (select order_id from orders_new_changes)
    union all
    select order_id, event_name, customer_id, product_id, quantity, price, order_status,
           arrival, kafka_partition, kafka_offset, 1 as is_new
    from orders_new_changes
) e;

create temp table orders_latest as
select m.order_id,
       min(case when m.rank_customer_id = 1 then m.customer_id end) as customer_id,
       min(case when m.rank_product_id = 1 then m.product_id end) as product_id,
       min(case when m.rank_quantity = 1 then m.quantity end) as quantity,
       min(case when m.rank_price = 1 then m.price end) as price,
       min(case when m.rank_order_status = 1 then m.order_status end) as order_status,
       max(m.arrival) as last_arrival
from (
    select ev.*,
           rank() over (partition by ev.order_id
                        order by case when ev.customer_id is not null then 1 end, ev.ordinal desc) as rank_customer_id,
           rank() over (partition by ev.order_id
                        order by case when ev.product_id is not null then 1 end, ev.ordinal desc) as rank_product_id,
           rank() over (partition by ev.order_id
                        order by case when ev.quantity is not null then 1 end, ev.ordinal desc) as rank_quantity,
           rank() over (partition by ev.order_id
                        order by case when ev.price is not null then 1 end, ev.ordinal desc) as rank_price,
           rank() over (partition by ev.order_id
                        order by case when ev.order_status is not null then 1 end, ev.ordinal desc) as rank_order_status
    from orders_events ev
    left join (
        select order_id, max(ordinal) as removed_at
        from orders_events
        where event_name = 'REMOVE'
        group by order_id
    ) r on r.order_id = ev.order_id
    where ev.ordinal > coalesce(r.removed_at, 0)
) m
group by m.order_id;

delete from orders_current
where order_id in (select order_id from orders_new_changes);

insert into orders_current
select order_id, customer_id, product_id, quantity, price, order_status, last_arrival
from orders_latest;

insert into orders_stream_audit
select kafka_partition, max(kafka_offset), getdate()
from orders_new
group by kafka_partition;
