-- Streaming ingestion of order changes (seed 004): the MSK topic `orders` read through a streaming materialized view,
-- and the tables the incremental load (load_orders_stream.sql) writes. Drops and recreates everything: the next load
-- reads the topic from offset 0 again.
--
-- The records are DynamoDB-to-stream change records: {"eventName": "INSERT" | "MODIFY" | "REMOVE",
-- "dynamodb": {"Keys": {"OrderID": {"N": "7"}}, "NewImage": {"CustomerID": {"S": ...}, "Quantity": {"N": ...}, ...}}}.
-- On AWS, set CLUSTER_ARN to the MSK cluster's ARN (the template's MskClusterArn) and attach the template's
-- RedshiftStreamingRole to the cluster or workgroup as its default IAM role. Locally, any ARN names the local topic
-- store (`shiftflow stream put --topic orders ...`).

create external schema if not exists orders_stream
from msk
iam_role default
authentication iam
cluster_arn 'arn:aws:kafka:us-east-1:123456789012:cluster/shiftflow-orders/00000000-0000-0000-0000-000000000000-1';

drop materialized view if exists orders_stream_mv;

-- Kept simple, as the seed advises: the raw value for every record, parsed JSON where it parses.
create materialized view orders_stream_mv as
select kafka_partition,
       kafka_offset,
       kafka_timestamp,
       refresh_time,
       kafka_value,
       case when can_json_parse(kafka_value) then json_parse(kafka_value) end as data
from orders_stream."orders";

drop table if exists orders_stream_audit;
create table orders_stream_audit (
    kafka_partition bigint,
    kafka_offset bigint,
    loaded_at timestamp
) sortkey (kafka_partition, kafka_offset);

drop table if exists orders_stream_errors;
create table orders_stream_errors (
    kafka_partition bigint,
    kafka_offset bigint,
    raw_value varchar(65535),
    reason varchar(64),
    loaded_at timestamp
);

drop table if exists orders_changes;
create table orders_changes (
    event_name varchar(16),
    order_id integer,
    customer_id varchar(36),
    product_id varchar(36),
    quantity integer,
    price double precision,
    order_status varchar(36),
    arrival timestamp,
    kafka_partition bigint,
    kafka_offset bigint
);

drop table if exists orders_current;
create table orders_current (
    order_id integer,
    customer_id varchar(36),
    product_id varchar(36),
    quantity integer,
    price double precision,
    order_status varchar(36),
    last_arrival timestamp
) distkey (order_id);
