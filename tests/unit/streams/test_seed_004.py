"""Seed 004's SQL (../shared/reference/seeds/004_*.txt), statement by statement as its posts write it, on both engines:
the MSK post (external schema, streaming view, dot notation, the incremental load procedure, monitoring views) and the
Kinesis / DynamoDB post (streaming view over kinesis_data, PartiQL unnesting, the latest-value merge procedure)."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from shiftflow.dataapi.streams.topics import Producer
from tests.unit.streams.conftest import Warehouse

ORDER = {"EventType": "Orders", "OrderID": "103", "CustomerID": "C104", "CustomerName": "David Smith",
         "OrderDate": "2023-09-02", "Store_Name": "Store-103", "ProductID": "P004", "ProductName": "Widget-X-003",
         "Quatity": "5", "Price": "2500", "OrderStatus": "Initiated"}

EXTERNAL_SCHEMA_MSK = """CREATE EXTERNAL SCHEMA custschema
FROM MSK
IAM_ROLE  'arn:aws:iam::0123456789:role/MyRedshiftMSKRole'
AUTHENTICATION none
CLUSTER_ARN 'arn:aws:kafka:us-east-1:0123456789:cluster/MyTestCluster/abcd1234-0123-abcd-5678-1234abcd-1'"""
ORDERS_STREAM_MV = """CREATE MATERIALIZED VIEW Orders_Stream_MV AS
SELECT kafka_partition,
 kafka_offset,
 refresh_time,
 JSON_PARSE(kafka_value) as Data
FROM custschema."ORDERTOPIC"
WHERE CAN_JSON_PARSE(kafka_value)"""
UNNEST_ORDERS = """SELECT
    data."OrderID"::INT4 as OrderID
    ,data."ProductID"::VARCHAR(36) as ProductID
    ,data."ProductName"::VARCHAR(36) as ProductName
    ,data."CustomerID"::VARCHAR(36) as CustomerID
    ,data."CustomerName"::VARCHAR(36) as CustomerName
    ,data."Store_Name"::VARCHAR(36) as Store_Name
    ,data."OrderDate"::TIMESTAMPTZ as OrderDate
    ,data."Quatity"::INT4 as Quatity
    ,data."Price"::DOUBLE PRECISION as Price
    ,data."OrderStatus"::VARCHAR(36) as OrderStatus
    ,"kafka_partition"::BIGINT
    ,"kafka_offset"::BIGINT
FROM orders_stream_mv"""
ORDERS_TABLE = """CREATE TABLE public.Orders (
    orderid integer ENCODE az64,
    productid character varying(36) ENCODE lzo,
    productname character varying(36) ENCODE lzo,
    customerid character varying(36) ENCODE lzo,
    customername character varying(36) ENCODE lzo,
    store_name character varying(36) ENCODE lzo,
    orderdate timestamp with time zone ENCODE az64,
    quatity integer ENCODE az64,
    price double precision ENCODE raw,
    orderstatus character varying(36) ENCODE lzo
) DISTSTYLE AUTO"""
SP_ORDERS_LOAD = """CREATE OR REPLACE PROCEDURE SP_Orders_Load()
    AS $$
    BEGIN

    SET ENABLE_CASE_SENSITIVE_IDENTIFIER TO TRUE;
    REFRESH MATERIALIZED VIEW Orders_Stream_MV;

    --create an audit table if not exists to keep track of Max Offset per Partition that was loaded into Orders table

    CREATE TABLE IF NOT EXISTS Orders_Streaming_Audit
    (
    "kafka_partition" BIGINT,
    "kafka_offset" BIGINT
    )
    SORTKEY("kafka_partition", "kafka_offset");

    DROP TABLE IF EXISTS Orders_Staging_Table;

    --Insert only newly available data into staging table from streaming View based on the max offset for new/existing partitions
  --When loading for 1st time i.e. there is no data in Orders_Streaming_Audit table then all the data gets loaded from streaming View
    CREATE TABLE Orders_Staging_Table as
    SELECT
    data."OrderID"."N"::INT4 as OrderID
    ,data."ProductID"."S"::VARCHAR(36) as ProductID
    ,data."ProductName"."S"::VARCHAR(36) as ProductName
    ,data."CustomerID"."S"::VARCHAR(36) as CustomerID
    ,data."CustomerName"."S"::VARCHAR(36) as CustomerName
    ,data."Store_Name"."S"::VARCHAR(36) as Store_Name
    ,data."OrderDate"."S"::TIMESTAMPTZ as OrderDate
    ,data."Quatity"."N"::INT4 as Quatity
    ,data."Price"."N"::DOUBLE PRECISION as Price
    ,data."OrderStatus"."S"::VARCHAR(36) as OrderStatus
    , s."kafka_partition"::BIGINT , s."kafka_offset"::BIGINT
    FROM Orders_Stream_MV s
    LEFT JOIN (
    SELECT
    "kafka_partition",
    MAX("kafka_offset") AS "kafka_offset"
    FROM Orders_Streaming_Audit
    GROUP BY "kafka_partition"
    ) AS m
    ON nvl(s."kafka_partition",0) = nvl(m."kafka_partition",0)
    WHERE
    m."kafka_offset" IS NULL OR
    s."kafka_offset" > m."kafka_offset";

    --Insert only business relevant column to final table selecting from staging table
    Insert into Orders
    SELECT
    OrderID
    ,ProductID
    ,ProductName
    ,CustomerID
    ,CustomerName
    ,Store_Name
    ,OrderDate
    ,Quatity
    ,Price
    ,OrderStatus
    FROM Orders_Staging_Table;

    --Insert the max kafka_offset for every loaded Kafka partitions into Audit table
    INSERT INTO Orders_Streaming_Audit
    SELECT kafka_partition, MAX(kafka_offset)
    FROM Orders_Staging_Table
    GROUP BY kafka_partition;

    END;
    $$ LANGUAGE plpgsql"""


def _dynamodb_shaped(order: dict[str, str]) -> dict[str, dict[str, str]]:
    """The order as the procedure's data."OrderID"."N" reads it (DynamoDB's attribute-value shape)."""
    numbers = {"OrderID", "Quatity", "Price"}
    return {key: {"N" if key in numbers else "S": value} for key, value in order.items()}


def _msk_setup(warehouse: Warehouse, producer: Producer, records: list[Any]) -> list[tuple[int, int]]:
    """The topic, schema and view; the (partition, offset) of each record."""
    producer.store.create("ORDERTOPIC", 2)
    written = [producer.send("ORDERTOPIC", record, key=str(number)) for number, record in enumerate(records)]
    warehouse.ok(EXTERNAL_SCHEMA_MSK)
    warehouse.ok("SET ENABLE_CASE_SENSITIVE_IDENTIFIER TO TRUE;")
    warehouse.ok(ORDERS_STREAM_MV)
    return [(w.partition, w.offset) for w in written]


def test_msk_post_statement_by_statement(warehouse: Warehouse, producer: Producer) -> None:
    written = _msk_setup(warehouse, producer, [ORDER, "{not json", {**ORDER, "OrderID": "104", "Price": "12.5"}])
    assert warehouse.rows("SELECT count(*) FROM Orders_Stream_MV") == [[0]]  # nothing read before a refresh
    warehouse.ok("REFRESH MATERIALIZED VIEW Orders_Stream_MV;")
    unnested = warehouse.rows(UNNEST_ORDERS + " ORDER BY orderid")
    assert [row[:10] for row in unnested] == [
        [103, "P004", "Widget-X-003", "C104", "David Smith", "Store-103", "2023-09-02 00:00:00+00", 5, 2500.0,
         "Initiated"],
        [104, "P004", "Widget-X-003", "C104", "David Smith", "Store-103", "2023-09-02 00:00:00+00", 5, 12.5,
         "Initiated"]]
    assert [(row[10], row[11]) for row in unnested] == [written[0], written[2]]  # kafka_partition, kafka_offset
    warehouse.ok(ORDERS_TABLE)
    history = warehouse.rows("select mv_name, refresh_type, status, duration  from SYS_MV_REFRESH_HISTORY"
                             " where mv_name='orders_stream_mv'")
    assert [row[:3] for row in history] == [["orders_stream_mv", "Manual",
                                              "Refresh successfully updated MV incrementally"]]
    assert history[0][3] > 0  # microseconds
    states = warehouse.rows("select mv_name,external_schema_name,stream_name,sum(scanned_rows) total_records,"
                            " sum(scanned_bytes) total_bytes from SYS_STREAM_SCAN_STATES where"
                            " mv_name='orders_stream_mv' and external_schema_name ='custschema' group by 1,2,3;")
    assert [row[:4] for row in states] == [["orders_stream_mv", "custschema", "ORDERTOPIC", 3]]
    errors = warehouse.rows("select mv_name, external_schema_name, stream_name, record_time, query_id, partition_id,"
                            ' "position", error_code, error_reason from SYS_STREAM_SCAN_ERRORS  where'
                            " mv_name='orders_stream_mv' and external_schema_name ='custschema'	;")
    assert errors == []  # invalid JSON is filtered by the view's WHERE, not an error


def test_case_insensitive_session_folds_the_topic_name(warehouse: Warehouse, producer: Producer) -> None:
    producer.store.create("ORDERTOPIC", 1)
    warehouse.ok(EXTERNAL_SCHEMA_MSK)
    warehouse.ok(ORDERS_STREAM_MV)  # without SET ENABLE_CASE_SENSITIVE_IDENTIFIER: "ORDERTOPIC" is ordertopic
    failed = warehouse.run("REFRESH MATERIALIZED VIEW Orders_Stream_MV")
    assert failed["Status"] == "FAILED" and "topic ordertopic does not exist" in failed["Error"]


def test_navigation_needs_case_sensitive_identifiers(warehouse: Warehouse, producer: Producer) -> None:
    _msk_setup(warehouse, producer, [ORDER])
    warehouse.ok("REFRESH MATERIALIZED VIEW Orders_Stream_MV")
    other = warehouse.fresh()  # a new session: enable_case_sensitive_identifier is off, "OrderID" is orderid
    assert other.rows('SELECT data."OrderID"::INT4 FROM orders_stream_mv') == [[None]]
    other.ok("SET enable_case_sensitive_identifier TO true")
    assert other.rows('SELECT data."OrderID"::INT4 FROM orders_stream_mv') == [[103]]


def test_sp_orders_load_runs_unchanged(warehouse: Warehouse, producer: Producer) -> None:
    written = _msk_setup(warehouse, producer, [_dynamodb_shaped(ORDER), "{bad",
                                               _dynamodb_shaped({**ORDER, "OrderID": "104"})])
    warehouse.ok(ORDERS_TABLE)
    warehouse.ok(SP_ORDERS_LOAD)
    warehouse.ok("call SP_Orders_Load();")
    assert warehouse.rows("SELECT orderid, price, orderstatus FROM Orders ORDER BY 1") == [
        [103, 2500.0, "Initiated"], [104, 2500.0, "Initiated"]]
    late = producer.send("ORDERTOPIC", _dynamodb_shaped({**ORDER, "OrderID": "105"}), key="9")
    warehouse.ok("call SP_Orders_Load();")  # only what arrived since: the audit's offsets per partition
    assert warehouse.rows("SELECT orderid FROM Orders ORDER BY 1") == [[103], [104], [105]]
    audit = warehouse.rows("SELECT kafka_partition, max(kafka_offset) FROM Orders_Streaming_Audit GROUP BY 1"
                           " ORDER BY 1")
    loaded = [written[0], written[2], (late.partition, late.offset)]  # the invalid record is not in the view
    expected = {partition: max(o for p, o in loaded if p == partition) for partition, _ in loaded}
    assert audit == [[partition, offset] for partition, offset in sorted(expected.items())]


def test_the_posts_invalid_data_view_is_a_syntax_error(warehouse: Warehouse, producer: Producer) -> None:
    """The post's 'keep track of your error records' view misses a comma: Redshift refuses it, so does this."""
    producer.store.create("ORDERTOPIC", 1)
    warehouse.ok(EXTERNAL_SCHEMA_MSK)
    failed = warehouse.run("""CREATE MATERIALIZED VIEW Orders_Stream_MV AS
SELECT
kafka_partition,
kafka_offset,
refresh_time,
JSON_PARSE(kafka_value) as Data
case when CAN_JSON_PARSE(kafka_value) = true then json_parse(kafka_value) end Data,
case when CAN_JSON_PARSE(kafka_value) = false then kafka_value end Invalid_Data
FROM custschema."ORDERTOPIC";""")
    assert failed["Status"] == "FAILED"
    warehouse.ok("SET ENABLE_CASE_SENSITIVE_IDENTIFIER TO TRUE")
    warehouse.ok("""CREATE MATERIALIZED VIEW Orders_Stream_MV AS
SELECT kafka_partition, kafka_offset, refresh_time,
case when CAN_JSON_PARSE(kafka_value) = true then json_parse(kafka_value) end Data,
case when CAN_JSON_PARSE(kafka_value) = false then kafka_value end Invalid_Data
FROM custschema."ORDERTOPIC";""")
    producer.send("ORDERTOPIC", "{oops")
    producer.send("ORDERTOPIC", {"a": 1})
    warehouse.ok("REFRESH MATERIALIZED VIEW Orders_Stream_MV")
    rows = warehouse.rows("SELECT kafka_offset, data, from_varbyte(invalid_data, 'utf-8') FROM Orders_Stream_MV"
                          " ORDER BY 1")
    assert rows == [[0, None, "{oops"], [1, '{"a":1}', None]]


DYNAMODB_CHANGE = {
    "awsRegion": "us-east-1", "eventID": "6d24680a-6d12-49e2-8a6b-86ffdc7306c1", "eventName": "INSERT",
    "userIdentity": None, "recordFormat": "application/json", "tableName": "sample-dynamoDB",
    "dynamodb": {"ApproximateCreationDateTime": 1657294923614,
                 "Keys": {"pk": {"S": "CUSTOMER#CUST_123"}, "sk": {"S": "TRANSACTION#2022-07-08T23:59:59Z#CUST_345"}},
                 "NewImage": {
                     "completionDateTime": {"S": "2022-07-08T23:59:59Z"}, "OutofPockPercent": {"N": 50.00},
                     "calculationRequirements": {"M": {"dependentIds": {"L": [
                         {"M": {"sk": {"S": "CUSTOMER#2022-07-08T23:59:59Z#CUST_567"},
                                "pk": {"S": "CUSTOMER#CUST_123"}}},
                         {"M": {"sk": {"S": "CUSTOMER#2022-07-08T23:59:59Z#CUST_890"},
                                "pk": {"S": "CUSTOMER#CUST_123"}}}]}}},
                     "Event": {"S": "SAMPLE"}, "Provider": {"S": "PV-123"}, "OutofPockAmount": {"N": 1000},
                     "lastCalculationDateTime": {"S": "2022-07-08T00:00:00Z"},
                     "sk": {"S": "CUSTOMER#2022-07-08T23:59:59Z#CUST_567"}, "OutofPockMax": {"N": 2000},
                     "pk": {"S": "CUSTOMER#CUST_123"}},
                 "SizeBytes": 694},
    "eventSource": "aws:dynamodb"}
UNNEST_QUERY = """select
substring(a."payload"."dynamodb"."Keys"."pk"."S"::varchar, position('#' in "payload"."dynamodb"."Keys"."pk"."S"::varchar)+1) as Customer_ID,
substring(a."payload"."dynamodb"."Keys"."sk"."S"::varchar, position('#TRANSACTION' in "payload"."dynamodb"."Keys"."sk"."S"::varchar)+1) as Transaction_ID,
substring(b."M"."sk"."S"::varchar, position('#CUSTOMER' in b."M"."sk"."S"::varchar)+1) Dependent_ID,
a."payload"."dynamodb"."NewImage"."OutofPockMax"."N"::int as OutofPocket_Max,
a."payload"."dynamodb"."NewImage"."OutofPockPercent"."N"::decimal(5,2) as OutofPocket_Percent,
a."payload"."dynamodb"."NewImage"."OutofPockAmount"."N"::int as OutofPock_Amount,
a."payload"."dynamodb"."NewImage"."Provider"."S"::varchar as Provider,
a."payload"."dynamodb"."NewImage"."completionDateTime"."S"::timestamptz as Completion_DateTime,
a."payload"."eventName"::varchar Event_Name,
a.approximate_arrival_timestamp
from demo_stream_vw a
left outer join a."payload"."dynamodb"."NewImage"."calculationRequirements"."M"."dependentIds"."L" b on true"""


def test_kinesis_post_statement_by_statement(warehouse: Warehouse) -> None:
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="demo-data-stream", ShardCount=2)
    kinesis.put_record(StreamName="demo-data-stream", Data=json.dumps(DYNAMODB_CHANGE).encode(), PartitionKey="k1")
    warehouse.ok("CREATE EXTERNAL SCHEMA demo_schema\nFROM KINESIS\nIAM_ROLE default;")
    warehouse.ok("SET enable_case_sensitive_identifier TO true")
    warehouse.ok("""CREATE MATERIALIZED VIEW demo_stream_vw AS
    SELECT approximate_arrival_timestamp,
    partition_key,
    shard_id,
    sequence_number,
    json_parse(kinesis_data) as payload
    FROM demo_schema."demo-data-stream";""")
    warehouse.ok("REFRESH MATERIALIZED VIEW demo_stream_vw;")
    meta = warehouse.rows("SELECT partition_key, shard_id, sequence_number FROM demo_stream_vw")
    assert meta[0][0] == "k1" and meta[0][1].startswith("shardId-")
    unnested = warehouse.rows(UNNEST_QUERY + " ORDER BY Dependent_ID")
    assert [row[:9] for row in unnested] == [
        ["CUST_123", "TRANSACTION#2022-07-08T23:59:59Z#CUST_345", "CUSTOMER#2022-07-08T23:59:59Z#CUST_567", 2000,
         "50.00", 1000, "PV-123", "2022-07-08 23:59:59+00", "INSERT"],
        ["CUST_123", "TRANSACTION#2022-07-08T23:59:59Z#CUST_345", "CUSTOMER#2022-07-08T23:59:59Z#CUST_890", 2000,
         "50.00", 1000, "PV-123", "2022-07-08 23:59:59+00", "INSERT"]]


def test_cross_account_view_uses_the_preview_column_names(warehouse: Warehouse) -> None:
    """The cross-account post's view names the columns as the preview did (approximatearrivaltimestamp, data):
    today's Redshift names them approximate_arrival_timestamp ... kinesis_data, so the view fails to create."""
    boto3.client("kinesis", region_name="us-east-1").create_stream(StreamName="my-data-stream", ShardCount=1)
    warehouse.ok("CREATE EXTERNAL SCHEMA schema_stream\nFROM KINESIS\nIAM_ROLE 'arn:aws:iam::111111111111:role/"
                 "RedshiftStreamRole,\narn:aws:iam::222222222222:role/KinesisStreamRole';")
    failed = warehouse.run("""CREATE MATERIALIZED VIEW my_stream_vw AS
    SELECT approximatearrivaltimestamp,
    partitionkey,
    shardid,
    sequencenumber,
    json_parse(from_varbyte(data, 'utf-8')) as payload
    FROM schema_stream."my-data-stream";""")
    assert failed["Status"] == "FAILED" and "approximatearrivaltimestamp" in failed["Error"]


METADATA_ETL = """create table MetaData_ETL
(
JobName varchar(100),
StartDate timestamp,
EndDate timestamp,
Status varchar(50)
)"""
METADATA_ENTRY = """insert into MetaData_ETL
values
('Customer_Transaction_Fact_Load', current_timestamp, current_timestamp,'Ready' )"""
FACT_TABLE = """CREATE TABLE public.Customer_Transaction_Fact (
Transaction_ID character varying(500),
Customer_ID character varying(500),
OutofPocket_Percent numeric(5,2),
OutofPock_Amount integer,
OutofPocket_Max integer,
Provider character varying(500),
completion_datetime timestamp
)"""
# The procedure's body, as the post writes it (between BEGIN and END).
FACT_LOAD_BODY = """set enable_case_sensitive_identifier to true;

--Update metadata audit table entry to indicate that the fact load process is running
update MetaData_ETL
set status = 'Running',
StartDate = getdate()
where JobName = 'Customer_Transaction_Fact_Load';

refresh materialized view mv_demo_super_unnest;

drop table if exists Customer_Transaction_Fact_Stg;

--Create latest record by Merging records based on approximate_arrival_timestamp
create table Customer_Transaction_Fact_Stg as
select
m.Transaction_ID,
min(case when m.rank_Customer_ID =1 then m.Customer_ID end) Customer_ID,
min(case when m.rank_OutofPocket_Percent =1 then m.OutofPocket_Percent end) OutofPocket_Percent,
min(case when m.rank_OutofPock_Amount =1 then m.OutofPock_Amount end) OutofPock_Amount,
min(case when m.rank_OutofPocket_Max =1 then m.OutofPocket_Max end) OutofPocket_Max,
min(case when m.rank_Provider =1 then m.Provider end) Provider,
min(case when m.rank_Completion_DateTime =1 then m.Completion_DateTime end) Completion_DateTime
from
(
select *,
rank() over(partition by Transaction_ID order by case when mqp.Customer_ID is not null then 1 end, approximate_arrival_timestamp desc ) rank_Customer_ID,
rank() over(partition by Transaction_ID order by case when mqp.OutofPocket_Percent is not null then 1 end, approximate_arrival_timestamp desc ) rank_OutofPocket_Percent,
rank() over(partition by Transaction_ID order by case when mqp.OutofPock_Amount is not null then 1 end, approximate_arrival_timestamp  desc )  rank_OutofPock_Amount,
rank() over(partition by Transaction_ID order by case when mqp.OutofPocket_Max is not null then 1 end, approximate_arrival_timestamp desc ) rank_OutofPocket_Max,
rank() over(partition by Transaction_ID order by case when mqp.Provider is not null then 1 end, approximate_arrival_timestamp  desc ) rank_Provider,
rank() over(partition by Transaction_ID order by case when mqp.Completion_DateTime is not null then 1 end, approximate_arrival_timestamp desc )  rank_Completion_DateTime
from mv_demo_super_unnest mqp
where upper(mqp.event_Name) <> 'REMOVE' and mqp.approximate_arrival_timestamp > (select mde.EndDate from MetaData_ETL mde where mde.JobName = 'Customer_Transaction_Fact_Load')
) m
group by m.Transaction_ID
order by m.Transaction_ID
;

--Delete only impacted Transaction_ID from Fact table
delete from Customer_Transaction_Fact
where Transaction_ID in ( select mqp.Transaction_ID from Customer_Transaction_Fact_Stg mqp);

--Insert latest records from staging table to Fact table
insert into Customer_Transaction_Fact
select * from Customer_Transaction_Fact_Stg;

--Update metadata audit table entry to indicate that the fact load process is completed
update MetaData_ETL
set status = 'Complete',
EndDate = getdate()
where JobName = 'Customer_Transaction_Fact_Load';"""
SP_CUSTOMER_TRANSACTION_FACT = ("CREATE OR REPLACE PROCEDURE SP_Customer_Transaction_Fact()\nAS $$\nBEGIN\n\n"
                                + FACT_LOAD_BODY + "\nEND;\n$$ LANGUAGE plpgsql")


def _change(event: str, transaction: str, image: dict[str, Any] | None) -> dict[str, Any]:
    """A DYNAMODB_CHANGE of the transaction TRANSACTION#<transaction>#CUST_345 with this NewImage."""
    change = json.loads(json.dumps(DYNAMODB_CHANGE))
    change["eventName"] = event
    change["dynamodb"]["Keys"]["sk"]["S"] = f"TRANSACTION#{transaction}#CUST_345"
    if image is None:
        del change["dynamodb"]["NewImage"]
    else:
        change["dynamodb"]["NewImage"] = {**{k: v for k, v in change["dynamodb"]["NewImage"].items()
                                              if k == "calculationRequirements"}, **image}
    return change


def _fact_load(warehouse: Warehouse, engine: Any) -> None:
    """The seed's fact load: CALL of its procedure on PostgreSQL; its body statement by statement on DuckDB
    (which refuses stored procedures), each as the post writes it."""
    from shiftflow.sql.splitter import split_statements

    from shiftflow.local.cloud.client import wait_until

    # GETDATE() has whole seconds (Redshift's): the load ends in a later second than the records arrived, or the
    # next load, reading past the truncated EndDate, would read them again.
    arrived = int(time.time())
    assert wait_until(lambda: int(time.time()) > arrived, timeout=2)
    warehouse.ok("REFRESH MATERIALIZED VIEW demo_stream_vw")
    if engine.name == "postgres":
        warehouse.ok("call SP_Customer_Transaction_Fact();")
        return
    for statement in split_statements(FACT_LOAD_BODY):
        warehouse.ok(statement.text)


def test_sp_customer_transaction_fact_merges_the_latest_non_null_values(warehouse: Warehouse, engine: Any) -> None:
    """The Kinesis / DynamoDB post's fact load: per Transaction_ID the latest non-null value of each column among
    the records that arrived since the last load's EndDate (REMOVE records left out), the impacted rows replaced."""
    from shiftflow.local.cloud.client import wait_until

    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="demo-data-stream", ShardCount=1)
    warehouse.ok("CREATE EXTERNAL SCHEMA demo_schema\nFROM KINESIS\nIAM_ROLE default;")
    warehouse.ok("SET enable_case_sensitive_identifier TO true")
    warehouse.ok("""CREATE MATERIALIZED VIEW demo_stream_vw AS
    SELECT approximate_arrival_timestamp, partition_key, shard_id, sequence_number,
    json_parse(kinesis_data) as payload
    FROM demo_schema."demo-data-stream";""")
    warehouse.ok("CREATE MATERIALIZED VIEW mv_demo_super_unnest AS " + UNNEST_QUERY)
    for statement in (METADATA_ETL, FACT_TABLE):
        warehouse.ok(statement)
    if engine.name == "postgres":
        warehouse.ok(SP_CUSTOMER_TRANSACTION_FACT)
    warehouse.ok(METADATA_ENTRY)
    end_date = warehouse.rows("SELECT EndDate FROM MetaData_ETL")[0][0]

    def put(change: dict[str, Any]) -> None:
        """One record, arriving a millisecond after the previous (the merge orders by arrival, to the ms)."""
        kinesis.put_record(StreamName="demo-data-stream", Data=json.dumps(change).encode(), PartitionKey="k")
        started = time.time()
        assert wait_until(lambda: time.time() >= started + 0.002, timeout=1)

    t1, t2 = "2022-07-08T23:59:59Z", "2022-07-09T10:00:00Z"
    full = {"completionDateTime": {"S": "2022-07-08T23:59:59Z"}, "OutofPockPercent": {"N": 50.00},
            "Provider": {"S": "PV-123"}, "OutofPockAmount": {"N": 1000}, "OutofPockMax": {"N": 2000}}
    put(_change("INSERT", t1, full))
    put(_change("MODIFY", t1, {"Provider": {"S": "PV-999"}, "OutofPockAmount": {"N": 1500}}))  # others absent
    put(_change("INSERT", t2, {**full, "Provider": {"S": "PV-200"}}))
    put(_change("REMOVE", t2, None))  # left out of the merge (the post's load applies no delete)
    _fact_load(warehouse, engine)

    fact = "SELECT * FROM Customer_Transaction_Fact ORDER BY Transaction_ID"
    assert warehouse.rows(fact) == [
        [f"TRANSACTION#{t1}#CUST_345", "CUST_123", "50.00", 1500, 2000, "PV-999", "2022-07-08 23:59:59"],
        [f"TRANSACTION#{t2}#CUST_345", "CUST_123", "50.00", 1000, 2000, "PV-200", "2022-07-08 23:59:59"]]
    status, new_end = warehouse.rows("SELECT Status, EndDate FROM MetaData_ETL")[0]
    assert status == "Complete" and new_end > end_date

    # The next load sees only what arrived since: t1's row is replaced by the merge of the new records alone.
    put(_change("MODIFY", t1, {"Provider": {"S": "PV-777"}}))
    _fact_load(warehouse, engine)
    assert warehouse.rows(fact) == [
        [f"TRANSACTION#{t1}#CUST_345", "CUST_123", None, None, None, "PV-777", None],
        [f"TRANSACTION#{t2}#CUST_345", "CUST_123", "50.00", 1000, 2000, "PV-200", "2022-07-08 23:59:59"]]
