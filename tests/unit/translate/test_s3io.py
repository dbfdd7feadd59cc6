"""COPY from and UNLOAD to moto's S3, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from tests.unit.translate.conftest import run_script

TABLE = "create table sales (id int, sold date, amount numeric(10,2), note varchar(50), paid boolean)"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        yield client


def put(s3, key: str, body: bytes | str) -> None:
    s3.put_object(Bucket="lake", Key=key, Body=body.encode() if isinstance(body, str) else body)


def rows(session, sql: str = "select * from sales order by id"):
    return run_script(session, sql).rows


def test_copy_csv_prefix_gzip_header_quotes_and_nulls(session, s3):
    run_script(session, TABLE)
    put(s3, "in/sales/part-1.csv.gz", gzip.compress(b'id;sold;amount;note;paid\n1;2024-01-02;10.50;"a;b";true\n'))
    put(s3, "in/sales/part-2.csv.gz", gzip.compress(b'id;sold;amount;note;paid\n2;2024-01-03;;NA;f\n3;;1;"";t\n'))
    put(s3, "in/other/ignored.csv.gz", gzip.compress(b"9;2024-01-01;1;x;t\n"))
    result = run_script(session, """
        copy sales from 's3://lake/in/sales/part-' iam_role 'arn:aws:iam::123456789012:role/load'
        format as csv delimiter ';' ignoreheader 1 null as 'NA' dateformat 'auto' timeformat 'auto'
        gzip region 'us-east-1'
    """, s3_client=s3)
    assert result.rowcount == 3
    assert rows(session) == [
        (1, dt.date(2024, 1, 2), Decimal("10.50"), "a;b", True),
        (2, dt.date(2024, 1, 3), None, None, False),
        (3, None, Decimal("1.00"), "", True),
    ]


def test_copy_default_text_format_and_column_list(session, s3):
    run_script(session, TABLE)
    put(s3, "in/text.txt", "5|hello\n6|\\N\n")
    run_script(session, "copy sales (id, note) from 's3://lake/in/text.txt' credentials 'aws_access_key_id=x'",
               s3_client=s3)
    assert rows(session, "select id, note, sold from sales order by id") == [(5, "hello", None), (6, None, None)]


def test_copy_json_auto_and_ignorecase(session, s3):
    run_script(session, TABLE)
    put(s3, "json/a.json", '{"id": 1, "sold": "2024-01-02", "amount": 2.5, "paid": true}\n'
                           '{"id": 2, "note": "x", "unknown": 1}{"id": 3}')
    run_script(session, "copy sales from 's3://lake/json/a.json' json 'auto'", s3_client=s3)
    put(s3, "json2/b.json", '{"ID": 4, "Note": "upper"}')
    run_script(session, "copy sales from 's3://lake/json2/' format as json 'auto ignorecase'", s3_client=s3)
    assert rows(session, "select id, sold, amount, note, paid from sales order by id") == [
        (1, dt.date(2024, 1, 2), Decimal("2.50"), None, True),
        (2, None, None, "x", None),
        (3, None, None, None, None),
        (4, None, None, "upper", None),
    ]


def test_unload_csv_header_parallel_off_and_copy_back(session, s3):
    run_script(session, TABLE + "; insert into sales values (1, '2024-01-02', 3.25, 'it''s, quoted', true),"
                                "(2, null, null, null, false)")
    result = run_script(session, """
        unload ('select * from sales where note like ''%quoted'' or id = :id order by id')
        to 's3://lake/out/sales_' iam_role default format csv header parallel off manifest
    """, {"id": "2"}, s3_client=s3)
    assert result.rowcount == 2
    body = s3.get_object(Bucket="lake", Key="out/sales_000")["Body"].read().decode()
    assert body.splitlines() == ["id,sold,amount,note,paid", '1,2024-01-02,3.25,"it\'s, quoted",t', "2,,,,f"]
    manifest = json.loads(s3.get_object(Bucket="lake", Key="out/sales_manifest")["Body"].read())
    assert manifest["entries"][0]["url"] == "s3://lake/out/sales_000"
    # Without ALLOWOVERWRITE a second unload to the same prefix fails, as on Redshift.
    with pytest.raises(EngineError, match="not empty"):
        run_script(session, "unload ('select 1') to 's3://lake/out/sales_' csv parallel off", s3_client=s3)
    run_script(session, "create table sales_copy (like sales);"
                        "copy sales_copy from 's3://lake/out/sales_manifest' csv ignoreheader 1 emptyasnull manifest",
               s3_client=s3)
    assert rows(session, "select * from sales_copy order by id") == rows(session)


def test_unload_parquet_and_copy_parquet_back(session, s3):
    run_script(session, TABLE + "; insert into sales values (1, '2024-01-02', 3.25, 'x', true),"
                                "(2, null, 1, 'y', null)")
    run_script(session, "unload ('select * from sales') to 's3://lake/pq/sales_' format as parquet allowoverwrite",
               s3_client=s3)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="pq/")["Contents"]]
    assert keys == ["pq/sales_0000_part_00.parquet"]
    run_script(session, "create table sales2 (like sales); copy sales2 from 's3://lake/pq/sales_' format as parquet",
               s3_client=s3)
    assert rows(session, "select * from sales2 order by id") == rows(session)


def test_unload_default_text_is_pipe_delimited(session, s3):
    run_script(session, TABLE + "; insert into sales values (1, '2024-01-02', 3.25, 'x', true)")
    run_script(session, "unload ('select id, note, paid from sales') to 's3://lake/txt/' gzip", s3_client=s3)
    body = gzip.decompress(s3.get_object(Bucket="lake", Key="txt/0000_part_00.gz")["Body"].read()).decode()
    assert body == "1|x|t\n"


def test_copy_errors_and_unsupported_options(session, s3):
    run_script(session, TABLE)
    with pytest.raises(EngineError, match="prefix 'nothing/' does not exist"):
        run_script(session, "copy sales from 's3://lake/nothing/' csv", s3_client=s3)
    put(s3, "bad.csv", "1,2024-01-01\n")
    with pytest.raises(EngineError, match="has 2 fields, the table load expects 5"):
        run_script(session, "copy sales from 's3://lake/bad.csv' csv", s3_client=s3)
    with pytest.raises(NotSupportedLocally, match="^not supported locally: COPY option FIXEDWIDTH$"):
        run_script(session, "copy sales from 's3://lake/bad.csv' fixedwidth 'a:1'", s3_client=s3)
    with pytest.raises(NotSupportedLocally, match="DATEFORMAT 'DDD/YYYY'"):
        run_script(session, "copy sales from 's3://lake/bad.csv' csv dateformat 'DDD/YYYY'", s3_client=s3)
    with pytest.raises(NotSupportedLocally, match="^not supported locally: COPY option TRUNCATECOLUMNS$"):
        run_script(session, "copy sales from 's3://lake/bad.csv' csv truncatecolumns", s3_client=s3)
    with pytest.raises(NotSupportedLocally, match="JSON 's3://lake/paths.json'"):
        run_script(session, "copy sales from 's3://lake/bad.csv' json 's3://lake/paths.json'", s3_client=s3)
    with pytest.raises(NotSupportedLocally, match="UNLOAD option PARTITION BY"):
        run_script(session, "unload ('select 1') to 's3://lake/p/' partition by (id)", s3_client=s3)
    with pytest.raises(NotSupportedLocally, match=r"COPY from 'dynamodb://t' \(only s3:// sources\)"):
        run_script(session, "copy sales from 'dynamodb://t' readratio 50", s3_client=s3)


def test_copy_into_a_temp_table_with_quoted_mixed_case_names(session, s3):
    run_script(session, 'create temp table #Stage ("Id" int, Note varchar(10))')
    put(s3, "stage.csv", "1,a\n2,b\n")
    run_script(session, "copy #stage (\"ID\", NOTE) from 's3://lake/stage.csv' csv", s3_client=s3)
    assert run_script(session, "select id, note from #STAGE order by 1").rows == [(1, "a"), (2, "b")]


def test_unload_json_and_copy_bzip2(session, s3):
    import bz2

    run_script(session, TABLE + "; insert into sales values (1, '2024-01-02', 3.25, 'x', true)")
    run_script(session, "unload ('select id, sold, amount, paid from sales') to 's3://lake/js/' format json "
                        "parallel off", s3_client=s3)
    body = s3.get_object(Bucket="lake", Key="js/000.json")["Body"].read().decode()
    assert json.loads(body) == {"id": 1, "sold": "2024-01-02", "amount": "3.25", "paid": True}
    put(s3, "bz/part.txt.bz2", bz2.compress(b"7|2024-01-05|1.5|z|f\n"))
    run_script(session, "copy sales from 's3://lake/bz/' bzip2", s3_client=s3)
    assert rows(session, "select id, note, paid from sales where id = 7") == [(7, "z", False)]


def test_copy_tab_delimiter_date_and_time_formats(session, s3):
    run_script(session, "create table ev (id int, day date, at timestamp, note varchar(20))")
    put(s3, "ev.tsv", "1\t03/31/2024\t31.03.2024 13:14:15.250\tx\n2\t12/01/2023\t01.12.2023 01:02:03\t\\N\n")
    loaded = run_script(session, "copy ev from 's3://lake/ev.tsv' delimiter '\\t' dateformat 'MM/DD/YYYY' "
                                 "timeformat 'DD.MM.YYYY HH24:MI:SS.SSS'", s3_client=s3)
    assert loaded.rowcount == 2
    assert rows(session, "select * from ev order by id") == [
        (1, dt.date(2024, 3, 31), dt.datetime(2024, 3, 31, 13, 14, 15, 250000), "x"),
        (2, dt.date(2023, 12, 1), dt.datetime(2023, 12, 1, 1, 2, 3), None)]
    put(s3, "bad.tsv", "3\t2024-03-31\t31.03.2024 13:14:15\tx\n")
    with pytest.raises(EngineError, match="Invalid date value '2024-03-31' for DATEFORMAT 'MM/DD/YYYY'"):
        run_script(session, "copy ev from 's3://lake/bad.tsv' delimiter '\\t' dateformat 'MM/DD/YYYY'", s3_client=s3)


def test_copy_epoch_timeformat_escape_and_acceptinvchars(session, s3):
    run_script(session, "create table ev (id int, at timestamp, note varchar(20))")
    put(s3, "epoch.txt", "1|1700000000|a\\|b\n2|1700000000|line\\\nbreak\n")
    run_script(session, "copy ev from 's3://lake/epoch.txt' timeformat 'epochsecs' escape", s3_client=s3)
    assert rows(session, "select * from ev order by id") == [
        (1, dt.datetime(2023, 11, 14, 22, 13, 20), "a|b"), (2, dt.datetime(2023, 11, 14, 22, 13, 20), "line\nbreak")]
    put(s3, "latin1.txt", b"3|1700000000|caf\xe9\n")
    with pytest.raises(EngineError, match="Invalid UTF-8"):
        run_script(session, "copy ev from 's3://lake/latin1.txt' timeformat 'epochsecs'", s3_client=s3)
    run_script(session, "copy ev from 's3://lake/latin1.txt' timeformat 'epochsecs' acceptinvchars as '^'", s3_client=s3)
    assert rows(session, "select note from ev where id = 3") == [("caf^",)]


def test_copy_and_unload_with_three_part_names_of_the_connected_database(session, s3):
    from shiftflow.dataapi.translate.model import CURRENT_DATABASE

    database = CURRENT_DATABASE.set("dev")  # as the runner sets the request's Database
    try:
        run_script(session, "create table dev.public.sales (id int, note varchar(50))")
        put(s3, "three/a.csv", "1,one\n2,two\n")
        run_script(session, "copy dev.public.sales from 's3://lake/three/a.csv' csv", s3_client=s3)
        run_script(session, "unload ('select id from \"dev\".\"public\".sales where dev.public.sales.id > 1')"
                            " to 's3://lake/three/out_' csv parallel off", s3_client=s3)
        with pytest.raises(EngineError, match='cross-database reference to database "prod" is not supported'):
            run_script(session, "copy prod.public.sales from 's3://lake/three/a.csv' csv", s3_client=s3)
    finally:
        CURRENT_DATABASE.reset(database)
    assert rows(session, "select * from sales order by id") == [(1, "one"), (2, "two")]
    assert s3.get_object(Bucket="lake", Key="three/out_000")["Body"].read().decode() == "2\n"
